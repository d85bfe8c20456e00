"""App and pipeline files from anyone: bounded aliases, bounded messages, no recursion, duplicate keys refused."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from modahub.pipeline import App, Pipeline, PipelineError

LAUGHS = """\
name: lol
encoders:
  - uses: toy-text
index: {uses: exact-index}
segmenters:
  - uses: text-passages
    with:
      words: &l9 [&l8 [&l7 [&l6 [&l5 [&l4 [&l3 [&l2 [&l1 [&l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol],
""" + "".join(f"         *l{i}, *l{i}, *l{i}, *l{i}, *l{i}, *l{i}, *l{i}, *l{i}, *l{i}],\n" for i in range(8)) + """\
         *l8, *l8, *l8, *l8, *l8, *l8, *l8, *l8, *l8]
"""


def _load(tmp_path, text: str) -> App:
    path = tmp_path / "app.yml"
    path.write_text(text)
    return App.from_yaml(path)


def test_a_billion_laughs_is_refused_at_once_with_a_short_message(toys, tmp_path):
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.raises(PipelineError, match=r"line \d+: expands to more than 100,000 values") as caught:
        _load(tmp_path, LAUGHS)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(str(caught.value)) < 300
    assert peak < 50 * 2**20, peak  # the expansion (10**9 values) never happens
    assert elapsed < 30  # generous: the point is seconds, not the 37 s and 4.4 GB of the expansion


def test_a_small_alias_still_works_and_is_rendered_briefly_when_rejected(toys, tmp_path):
    app = _load(tmp_path, "name: ok\nencoders:\n  - &enc {uses: toy-text}\nsegmenters:\n  - uses: text-passages\n"
                          "    with: {words: 8}\n")
    assert app.describe()["modalities"] == ["text"]
    big = "x" * 1_000_000
    with pytest.raises(PipelineError) as caught:
        _load(tmp_path, f"name: ok\nencoders:\n  - uses: toy-text\nindex: {{uses: exact-index}}\nsegmenters:\n"
                        f"  - uses: text-passages\n    with: {{words: {big}}}\n")
    assert "bad parameters" in str(caught.value) and len(str(caught.value)) < 1000
    with pytest.raises(PipelineError) as caught:
        many = ", ".join(f"unknown{i}: 1" for i in range(20_000))
        _load(tmp_path, f"name: ok\nencoders:\n  - uses: toy-text\n    with: {{{many}}}\n")
    assert "unknown parameter" in str(caught.value) and len(str(caught.value)) < 1000
    with pytest.raises(PipelineError) as caught:
        _load(tmp_path, f"name: ok\nencoders:\n  - uses: {big}\n")
    assert len(str(caught.value)) < 1000


@pytest.mark.parametrize(("text", "message"), [
    ("a: &x [1, *x]\n", r"line 1: alias \*x refers to itself"),
    ("a: " + "[" * 200 + "]" * 200 + "\n", r"line 1: nested deeper than 64 levels"),
    ("name: a\nencoders: []\nname: b\n", r"line 3: duplicate key 'name' \(first on line 1\)"),
    ("encoders:\n  - {uses: toy-text, uses: other-text}\n", r"line 2: duplicate key 'uses' \(first on line 2\)"),
])
def test_yaml_that_safe_load_would_accept_is_refused_with_its_line(toys, tmp_path, text, message):
    with pytest.raises(PipelineError, match=message):
        _load(tmp_path, text)


@pytest.mark.parametrize(("text", "message"), [
    ("name: a\nencoders: !!set x\n", r"expected a mapping node, but found scalar"),
    ("name: a\nencoders: !!set [1]\n", r"expected a mapping node, but found sequence"),
    ("name: !!int x\n", r"cannot read a tag:yaml.org,2002:int value"),
    ("name: !!timestamp x\n", r"cannot read a tag:yaml.org,2002:timestamp value"),
    ("name: [1, !!bool x]\n", r"cannot read a tag:yaml.org,2002:bool value"),
])
def test_a_tag_that_does_not_fit_its_value_is_a_pipeline_error(toys, tmp_path, text, message):
    with pytest.raises(PipelineError, match=message):
        _load(tmp_path, text)


def test_merge_keys_override_without_being_duplicates():
    from modahub.pipeline.yamlfile import load_yaml

    assert load_yaml("base: &b {a: 1, b: 2}\nc:\n  <<: *b\n  b: 3\n")["c"] == {"a": 1, "b": 3}


def _chain(n: int, *, cycle: bool = False) -> dict:
    """``n`` text-passages steps, each reading the one before, listed last first."""
    steps = [{"name": f"s{i}", "uses": "text-passages", "with": {"words": 8},
              "needs": [f"s{i - 1}"] if i else ([f"s{n - 1}"] if cycle else [])} for i in range(n)]
    return {"name": "long", "steps": steps[::-1]}


def test_a_3000_step_pipeline_listed_last_first_builds_without_recursion():
    pipe = Pipeline.from_dict(_chain(3000)).build()
    assert pipe.order[:3] == ["s0", "s1", "s2"] and pipe.order[-1] == "s2999"
    with pytest.raises(PipelineError, match=r"has a cycle: s\d+ -> .*…") as caught:
        Pipeline.from_dict(_chain(3000, cycle=True)).build()
    assert len(str(caught.value)) < 500
