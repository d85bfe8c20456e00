"""A fuzzer for app files: any text gives an app or a PipelineError (one line, bounded), never another exception.

Two generators: app-shaped documents (the schema's keys with wrong, huge, NaN or nested values)
dumped to YAML, and such YAML with YAML syntax spliced in at random places (anchors, aliases,
merge keys, tags such as ``!!python/object``, flow brackets, document markers).
"""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modahub.pipeline import PipelineError
from modahub_hub.appfile import read_app

KEYS = ["name", "encoders", "index", "generators", "segmenters", "container", "serve", "uses", "with", "path",
        "words", "overlap", "delay", "network", "memory", "pids", "uri_dirs", "max_docs", "max_text_chars"]
EXECUTORS = ["toy-text", "toy-image", "toy-audio", "other-text", "toy-draw", "toy-tally", "exact-index",
             "text-passages", "no-such-executor"]
SYNTAX = ["&a ", "*a", "<<: *a\n", "{", "}", "[", "]", ": ", "- ", "\n", "  ", "? ", "!!python/object:os.system ",
          "!!binary ", "!!set ", "!!omap ", "---\n", "...\n", "%YAML 1.1\n", "\t", "'", '"', "#", "|\n", ">\n", ",",
          "&b [*a, *a, *a, *a]", "\x00", "\ufeff", "1e400", ".nan", "-.inf", "0x1F", "~"]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(),
    st.text(max_size=12), st.sampled_from(EXECUTORS),
)
values = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=6), kids, max_size=4),
    max_leaves=25,
)
refs = st.fixed_dictionaries({"uses": st.sampled_from(EXECUTORS)}, optional={"with": values, "name": values})
apps = st.fixed_dictionaries({}, optional={
    "name": values, "encoders": st.lists(refs | values, max_size=3), "index": refs | values,
    "generators": st.lists(refs, max_size=2) | values, "segmenters": st.lists(refs, max_size=2) | values,
    "container": values, "serve": values, "extra": values,
})


def _dump(doc: object) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = _dump(draw(apps))
    for _ in range(draw(st.integers(min_value=1, max_value=6))):
        at = draw(st.integers(min_value=0, max_value=len(text)))
        text = text[:at] + draw(st.sampled_from(SYNTAX)) + text[at:]
    return text


def _outcome(tmp_path, text: str) -> None:
    path = tmp_path / "app.yml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        read_app(path)
    except PipelineError as exc:
        assert len(str(exc)) < 4000, str(exc)[:200]


FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])


@FUZZ
@given(doc=apps)
def test_app_shaped_documents_give_an_app_or_a_pipeline_error(toys, tmp_path, doc):
    _outcome(tmp_path, _dump(doc))


@FUZZ
@given(text=mutated())
def test_app_files_with_random_yaml_syntax_give_an_app_or_a_pipeline_error(toys, tmp_path, text):
    _outcome(tmp_path, text)


@pytest.mark.parametrize("text", ["", "~", "[]", "42", "encoders: .nan",
                                  "!!python/object/apply:os.system ['true']", "\ufeffencoders: []", "a: !!binary '%%%'"])
def test_odd_app_files_give_a_pipeline_error(toys, tmp_path, text):
    with pytest.raises(PipelineError):
        read_app(_write(tmp_path, text))


def _write(tmp_path, text: str):
    path = tmp_path / "app.yml"
    path.write_text(text)
    return path


def test_the_fuzzer_reaches_valid_apps_too(toys, tmp_path):
    app = read_app(_write(tmp_path, _dump({"encoders": [{"uses": "toy-text"}], "index": {"uses": "exact-index"}})))
    assert app.describe()["modalities"] == ["text"]
