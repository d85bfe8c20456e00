"""The executor contract: good executors pass; each broken one fails `modahub test` naming the broken rule."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import modahub
from modahub_hub.cli import cli
from modahub_hub.contract import ContractRunError
from modahub_hub.contract import run_contract as run_isolated
from modahub_hub.contract_targets import run_here
from modahub_testing import IndexerContract, sample_documents, write_plugin
from modahub_testing.samples import BUILTIN_SAMPLES

pytest_plugins = ["pytester"]

ENCODER = '''
import numpy as np
from modahub.executors import Encoder
from modahub.hookspecs import hookimpl


def counts(docs):
    return np.stack([np.bincount([ord(c) % 8 for c in d.payload.text], minlength=8) for d in docs]).astype(np.float32)


class Toy(Encoder):
    name = "{name}"
    modalities = ("text",)
    space = "toy-space"
    dim = 8
{extra}
    def _encode(self, docs):
        return {result}


@hookimpl
def register_executors(register):
    register(Toy)
'''
ENCODER_MANIFEST = 'schema_version = 1\n[[executors]]\nname = "{name}"\nkind = "encoder"\nmodalities = ["text"]\n' \
                   'space = "toy-space"\ndim = 8\n'

INDEXER = '''
import numpy as np
from modahub.executors import Indexer, Match, matches_filter
from modahub.hookspecs import hookimpl

STORE = {{}}  # path -> docs: "persists" while the process lives


class Toy(Indexer):
    name = "{name}"

    def _load(self):
        self.docs = dict(STORE.get(self.path, {{}})) if self.path else {{}}

    def _keep(self):
        if self.path:
            STORE[self.path] = dict(self.docs)

    def _add(self, docs):
        self.docs.update({{d.id: d for d in docs}})
        self._keep()

    def _search(self, queries, k, filter):
        docs = [d for d in self.docs.values() if {filtered}]
        if not docs:
            return [[] for _ in queries]
        scores = queries @ np.stack([d.embedding for d in docs]).T
        order = np.argsort(-scores, axis=1)[:, :k]
        return [[Match(id=docs[j].id, score=float(scores[q, j])) for j in order[q]] for q in range(len(queries))]

    def _delete(self, ids):
{delete}

    def _count(self):
        return len(self.docs)


@hookimpl
def register_executors(register):
    register(Toy)
'''
GOOD_DELETE = '''        gone = [i for i in ids if self.docs.pop(i, None) is not None]
        self._keep()
        return len(gone)'''
INDEXER_MANIFEST = 'schema_version = 1\n[[executors]]\nname = "{name}"\nkind = "indexer"\nmodalities = ["*"]\n'

GENERATOR = '''
import numpy as np
from modahub.documents import Document, Provenance
from modahub.executors import Generator
from modahub.hookspecs import hookimpl


class Toy(Generator):
    name = "{name}"
    output_modality = "text"

    def _generate(self, prompts, n, seed):
        out = []
        {stream}
        for prompt in prompts:
            for j in range(n):
                {rng}
                words = " ".join(rng.choice(prompt.split(), size=6))
                prov = Provenance(plugin="toy", plugin_version="1", executor=self.name, seed=seed + j, prompt=prompt)
                out.append(Document(modality="text", payload={{"text": words}}, provenance=prov))
        return out


@hookimpl
def register_executors(register):
    register(Toy)
'''
GENERATOR_MANIFEST = 'schema_version = 1\n[[executors]]\nname = "{name}"\nkind = "generator"\nmodalities = ["text"]\n' \
                     'output_modality = "text"\n'
PER_DOC_RNG = "rng = np.random.default_rng([seed + j, len(prompt), sum(map(ord, prompt))])"

GOOD = {
    "encoder": (ENCODER, ENCODER_MANIFEST, {"extra": "", "result": "counts(docs)"}),
    "indexer": (INDEXER, INDEXER_MANIFEST, {"filtered": "matches_filter(d.tags, filter)", "delete": GOOD_DELETE}),
    "generator": (GENERATOR, GENERATOR_MANIFEST, {"stream": "", "rng": PER_DOC_RNG}),
}

BROKEN = {  # name: (kind, changes, the rules that must fail)
    "wrong-dim": ("encoder", {"result": "counts(docs)[:, :4]"}, {"dims-and-dtype", "batch-invariance", "determinism",
                                                                "fresh-interpreters", "distinct-inputs"}),
    "random-enc": ("encoder", {"result": "counts(docs) + np.random.default_rng().random((len(docs), 8))"},
                   {"determinism", "batch-invariance", "fresh-interpreters"}),
    "salted-enc": ("encoder", {"result": "counts(docs) + np.array([[hash(d.payload.text) % 97] for d in docs])"},
                   {"fresh-interpreters"}),
    "batch-enc": ("encoder", {"result": "counts(docs) - counts(docs).mean(axis=0)"}, {"batch-invariance"}),
    "zero-enc": ("encoder", {"result": "np.zeros((len(docs), 8))"}, {"distinct-inputs"}),
    "greedy-enc": ("encoder", {"extra": "\n    def check_modalities(self, docs):\n        pass\n"}, {"rejects-wrong-modality"}),
    "no-delete": ("indexer", {"delete": "        return len(ids)"}, {"delete", "persistence"}),
    "no-filter": ("indexer", {"filtered": "True"}, {"filter"}),
    "stream-gen": ("generator", {"stream": "rng = np.random.default_rng(seed)", "rng": "pass"},
                   {"regenerates-from-provenance"}),
    "random-gen": ("generator", {"rng": "rng = np.random.default_rng()"},
                   {"seeded-determinism", "regenerates-from-provenance"}),
}


def _plugin(root: Path, name: str, kind: str, changes: dict[str, str] | None = None) -> Path:
    code, manifest, parts = GOOD[kind]
    fields = {"name": name, **parts, **(changes or {})}
    return write_plugin(root, name, textwrap.dedent(code).format(**fields), manifest.format(name=name)).path


def _json_report(target: Path | str) -> tuple[int, dict]:
    """The exit code and the one report of ``modahub test TARGET --json`` (the envelope's data; failures exit 3)."""
    result = CliRunner().invoke(cli, ["test", str(target), "--json"])
    out = json.loads(result.stdout)
    (report,) = out["data"]
    assert out["ok"] == report["ok"] == (result.exit_code == 0)
    assert out["error"] is None if out["ok"] else out["error"]["code"] == result.exit_code == 3
    return result.exit_code, report


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_a_good_plugin_of_each_kind_passes(tmp_path, kind):
    code, report = _json_report(_plugin(tmp_path, f"good-{kind}", kind))
    assert code == 0 and report["ok"], report
    assert {r["status"] for r in report["results"]} == {"passed"} and len(report["results"]) >= 5


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_plugin_fails_naming_the_broken_rule(tmp_path, name):
    kind, changes, broken = BROKEN[name]
    code, report = _json_report(_plugin(tmp_path, name, kind, changes))
    assert code == 3 and not report["ok"]
    failed = {r["rule"] for r in report["results"] if r["status"] == "failed"}
    assert failed == broken, [(r["rule"], r["message"]) for r in report["results"] if r["status"] == "failed"]
    assert all(r["message"] for r in report["results"] if r["status"] == "failed")


def test_the_table_names_the_rule_and_the_reason(tmp_path):
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["test", str(_plugin(tmp_path, "wrong-dim", "encoder",
                                                                                BROKEN["wrong-dim"][1]))])
    assert result.exit_code == 3
    row = next(line for line in result.output.splitlines() if "dims-and-dtype" in line)
    assert "FAIL" in row and "produced shape [5, 4], contract is (5, 8)" in row
    assert "passed, 5 failed" in result.output


def test_a_plugin_that_does_not_load_is_an_error(tmp_path):
    manifest = ENCODER_MANIFEST.format(name="broken-import")
    folder = write_plugin(tmp_path, "broken-import", "import no_such_module\n", manifest).path
    code, report = _json_report(folder)
    assert code == 3 and "does not load" in report["errors"][0] and "no_such_module" in report["errors"][0]


def test_unknown_target_is_a_user_error():
    result = CliRunner().invoke(cli, ["test", "no-such-plugin-anywhere"])
    assert result.exit_code == 2 and "is not a plugin folder, a wheel, nor an installed plugin" in result.output


def test_an_installed_plugin_is_tested_by_name():
    code, report = _json_report("exact-index")
    assert code == 0 and report["plugin"] == "modahub-exact-index"
    assert [r["rule"] for r in report["results"]] == ["add-and-count", "search-ranks", "delete", "filter", "persistence",
                                                      "rejects-wrong-dim"]


def test_the_isolated_api_returns_the_report(tmp_path):
    report = run_isolated(_plugin(tmp_path, "no-filter", "indexer", BROKEN["no-filter"][1]))
    assert not report.ok and [f.rule for f in report.failures] == ["filter"]
    assert run_isolated(_plugin(tmp_path, "good-gen", "generator")).ok
    with pytest.raises(ContractRunError, match="not a plugin folder"):
        run_isolated(tmp_path / "missing")


def test_a_folder_run_leaves_no_trace(tmp_path):
    import sys

    before = set(sys.modules)
    assert run_here(_plugin(tmp_path, "tidy", "encoder")).ok
    assert not {m for m in set(sys.modules) - before if m.startswith("modahub_tidy")}


@pytest.mark.parametrize("modality", sorted(BUILTIN_SAMPLES))
def test_sample_documents_are_valid_different_and_reproducible(modality):
    docs = sample_documents(modality, 4, seed=3)
    dumps = [d.payload.model_dump_json() for d in docs]
    assert len(set(dumps)) == 4 and [d.modality for d in docs] == [modality] * 4
    assert dumps == [d.payload.model_dump_json() for d in sample_documents(modality, 4, seed=3)]


# --- the pytest side: contract classes and fixtures ----------------------------------------


class TestExactIndexKeepsTheContract(IndexerContract):
    executor = "exact-index"


NEW_MODALITY = '''
import numpy as np
from modahub.arrays import NDArray
from modahub.executors import Encoder
from modahub.hookspecs import hookimpl
from modahub.modalities import Modality
from modahub.payloads import Payload


class Reading(Payload):
    data_fields = ("values",)
    values: NDArray | None = None

    @classmethod
    def example(cls, rng):
        return cls(values=rng.standard_normal(16))


class Stats(Encoder):
    name = "stats"
    modalities = ("reading",)
    space = "stats"
    dim = 2

    def _encode(self, docs):
        return np.array([[d.payload.values.mean(), d.payload.values.std()] for d in docs])


@hookimpl
def register_modalities(register):
    register(Modality("reading", Reading, "sensor readings"))


@hookimpl
def register_executors(register):
    register(Stats)
'''
NEW_MODALITY_MANIFEST = '''schema_version = 1
[[executors]]
name = "stats"
kind = "encoder"
modalities = ["reading"]
space = "stats"
dim = 2
[[modalities]]
name = "reading"
'''


def test_tmp_plugin_fixture_registers_a_new_modality(modahub_tmp_plugin):
    modahub_tmp_plugin("reading-stats", NEW_MODALITY, NEW_MODALITY_MANIFEST)
    doc = modahub.Document(modality="reading", payload={"values": np.array([1.0, 3.0])})
    assert modahub.load("stats").encode([doc]).tolist() == [[2.0, 1.0]]
    assert len(sample_documents("reading", 3)) == 3


def test_contract_classes_report_the_broken_rule_in_pytest(pytester, tmp_path):
    folder = _plugin(tmp_path, "random-enc", "encoder", BROKEN["random-enc"][1])
    pytester.syspathinsert(folder / "src")
    pytester.makepyfile(textwrap.dedent('''
        from modahub_testing import EncoderContract
        from modahub_random_enc.plugin import Toy

        class TestToy(EncoderContract):
            executor = Toy
    '''))
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4, failed=3)
    result.stdout.fnmatch_lines(["*[[]determinism[]] text: encoding the same documents twice gave different vectors*"])


# --- executors that need constructor parameters: contract_params ---------------------------

SCALED = (  # an encoder that cannot be built without a file; its contract_params() make one
    "    def __init__(self, scale_file):\n"
    "        self.scale = float(open(scale_file).read())\n\n"
    "    @classmethod\n"
    "    def contract_params(cls, workdir):\n"
    "{body}"
)
WRITES_SCALE = "        (workdir / 'scale.txt').write_text('2.0')\n        return {'scale_file': str(workdir / 'scale.txt')}\n"


def _needs_params(root: Path, name: str, body: str = WRITES_SCALE) -> Path:
    return _plugin(root, name, "encoder", {"extra": SCALED.format(body=body), "result": "counts(docs) * self.scale"})


def test_modahub_test_builds_the_executor_with_its_contract_params(tmp_path):
    code, report = _json_report(_needs_params(tmp_path, "scaled"))
    assert code == 0 and report["ok"], report
    assert len(report["results"]) == 7


def test_contract_params_that_raise_are_a_plugin_error(tmp_path):
    code, report = _json_report(_needs_params(tmp_path, "bad-params", "        raise RuntimeError('no model here')\n"))
    assert code == 3 and not report["results"]
    assert report["errors"] == ["executor bad-params: contract_params() raised RuntimeError: no model here"]


def test_contract_classes_use_contract_params_under_their_own_params(pytester, tmp_path):
    folder = _needs_params(tmp_path, "scaled-py")
    pytester.syspathinsert(folder / "src")
    pytester.makepyfile(textwrap.dedent('''
        from modahub_testing import EncoderContract
        from modahub_scaled_py.plugin import Toy

        class TestToy(EncoderContract):
            executor = Toy

        class TestToyZero(EncoderContract):
            executor = Toy
            params = {"scale_file": __file__ + ".zero"}

        open(__file__ + ".zero", "w").write("0")
    '''))
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=13, failed=1)
    result.stdout.fnmatch_lines(["*[[]distinct-inputs[]] text: all-zero vectors*"])
