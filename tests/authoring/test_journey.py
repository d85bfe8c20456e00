"""End to end: render every kind with several modalities (three brand-new ones among them), publish each
to a temporary hub, install them from it into a fresh venv, run their generated tests and `modahub test`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modahub_hub.scaffold import ScaffoldOptions, plugin_names, render
from modahub_testing.rules import rules_for

sys.path.insert(0, str(Path(__file__).parent))
from journey import PIP, Venv, new, own_tests, wheelhouse  # noqa: E402

PLUGINS = [  # name, kind, modality (spectrum, lightcurve and reading are new modalities the plugins register)
    ("jt-text", "encoder", "text"),
    ("jt-image", "encoder", "image"),
    ("jt-spectrum", "encoder", "spectrum"),
    ("jt-index", "indexer", "*"),
    ("jt-text-index", "indexer", "text"),
    ("jt-reading-index", "indexer", "reading"),
    ("jt-tones", "generator", "audio"),
    ("jt-series", "generator", "timeseries"),
    ("jt-lightcurve", "generator", "lightcurve"),
    ("jt-molecule", "encoder", "molecule"),  # typed payload (smiles: str) read from .smi files, see MOLECULE_FLAGS
]
MOLECULE_FLAGS = ("--field", "smiles:str", "--extension", ".smi")
ADDED = {"jt-molecule": [("jt-molecule-counts", "encoder")]}  # `modahub new --add`: a second executor in that plugin


def kinds(name: str, kind: str) -> list[str]:
    """The kinds of a journey plugin's executors, in registration order."""
    return [kind, *(k for _, k in ADDED.get(name, []))]
PLUGIN_TESTS = 2  # tests/test_plugin.py of each generated plugin


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> tuple[Venv, list[Path]]:
    """A fresh venv with every plugin rendered, published to a temporary hub and installed from it."""
    from modahub_hub.hub.publish import init_hub, publish
    from modahub_hub.hub.signing import generate_key

    tmp = tmp_path_factory.mktemp("journey")
    config = tmp / "config"
    env = Venv.create(tmp / "venv", wheelhouse(tmp), {"MODAHUB_CONFIG_DIR": str(config)})
    (name, kind, modality), *others = PLUGINS
    folders = [new(env, tmp / "work", name, kind, modality)]  # the venv's own CLI: templates ship in the wheel
    for name, kind, modality in others:
        folders.append(tmp / "work" / f"modahub-{name}")
        if modality == "molecule":  # scaffolded by the venv's own `modahub new`, as an author would
            env.modahub("new", name, "--kind", kind, "--modality", modality, *MOLECULE_FLAGS, "--no-interactive",
                        "--directory", str(folders[-1]))
            for added, added_kind in ADDED[name]:
                env.modahub("new", added, "--add", added_kind, "--modality", modality, "--directory", str(folders[-1]))
        else:
            render(ScaffoldOptions(plugin_names(name), kind=kind, modality=modality), folders[-1])
    subprocess.run([*PIP, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp / "wheels"), *map(str, folders)],
                   check=True, capture_output=True)
    mp = pytest.MonkeyPatch()
    mp.setenv("MODAHUB_CONFIG_DIR", str(config))  # the hub's trust store, shared with the venv
    mp.delenv("MODAHUB_HUB_KEY", raising=False)
    try:
        key = generate_key(tmp / "hub.key")
        init_hub(str(tmp / "hub"), key=key)
        for wheel in sorted((tmp / "wheels").glob("*.whl")):
            publish(wheel, str(tmp / "hub"), key=key, owner="journey")
    finally:
        mp.undo()
    env.modahub("install", *(f.name for f in folders), "--hub", str(tmp / "hub"))
    return env, folders


@pytest.mark.slow
def test_installed_from_the_hub_and_listed(journey):
    env, _ = journey
    assert {name for name, _, _ in PLUGINS} <= env.listed()
    installed = {p["name"]: p["version"] for p in json.loads(env.run("python", "-m", "pip", "list", "--format", "json").stdout)}
    assert {f"modahub-{name}": "0.1.0" for name, _, _ in PLUGINS}.items() <= installed.items(), installed
    assert os.environ.get("MODAHUB_CONFIG_DIR") != env.env["MODAHUB_CONFIG_DIR"]


@pytest.mark.slow
def test_generated_tests_pass_in_the_fresh_venv(journey):
    env, folders = journey
    summary = own_tests(env, folders)
    expected = sum(len(rules_for(k)) for name, kind, _ in PLUGINS for k in kinds(name, kind)) + PLUGIN_TESTS * len(PLUGINS)
    assert summary.startswith(f"{expected} passed in"), summary  # nothing failed, skipped or errored


@pytest.mark.slow
def test_modahub_test_passes_on_every_installed_plugin(journey):
    env, _ = journey
    reports = json.loads(env.modahub("test", *(name for name, _, _ in PLUGINS), "--json").stdout)["data"]
    assert [r["plugin"] for r in reports] == [f"modahub-{name}" for name, _, _ in PLUGINS]
    for report, (name, kind, _) in zip(reports, PLUGINS, strict=True):
        expected = [r.id for k in kinds(name, kind) for r in rules_for(k)]
        assert report["ok"] and [r["rule"] for r in report["results"]] == expected, report


@pytest.mark.slow
def test_the_modahub_wheel_ships_every_template(journey):
    env, _ = journey
    listing = env.run("python", "-c", "from modahub_hub.scaffold.render import templates_root as t; "
                                      "print('\\n'.join(sorted(p.relative_to(t()).as_posix() for p in t().rglob('*.jinja'))))")
    repo = Path(__file__).resolve().parents[2] / "templates" / "plugin"
    assert listing.stdout.splitlines() == sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*.jinja"))
    assert "site-packages" in env.run("python", "-c", "import modahub_hub; print(modahub_hub.__file__)").stdout


def _data(stdout: str) -> dict:
    """A command's --json output (the data of the {ok, data, error} envelope, when the CLI writes one)."""
    out = json.loads(stdout)
    return out["data"] if isinstance(out, dict) and set(out) == {"ok", "data", "error"} else out


MOLECULES = {"ethanol": "CCO", "acetic-acid": "CC(=O)O", "benzene": "c1ccccc1", "toluene": "Cc1ccccc1",
             "pyridine": "c1ccncc1", "urea": "NC(=O)N"}


@pytest.mark.slow
def test_a_new_modality_is_indexed_from_its_files_and_queried_from_the_cli(journey, tmp_path):
    """molecule (smiles: str, .smi files), scaffolded by modahub new and installed with pip: no hand edits anywhere."""
    env, _ = journey
    mols = tmp_path / "mols"
    mols.mkdir()
    for name, smiles in MOLECULES.items():
        (mols / f"{name}.smi").write_text(smiles + "\n")
    (tmp_path / "app.yml").write_text("name: chem\nencoders:\n  - uses: jt-molecule\n"
                                      "index:\n  uses: jt-index\n  with: {path: ./index}\n")
    indexed = _data(env.modahub("run", "app.yml", "index", "-i", "mols", "--json", cwd=tmp_path).stdout)
    assert sorted(indexed["indexed"]) == sorted(f"{n}.smi" for n in MOLECULES) and indexed["index_size"] == 6

    def top(*query: str) -> str:
        found = _data(env.modahub("run", "app.yml", "search", *query, "-k", "1", "--json", cwd=tmp_path).stdout)
        (result,) = found["results"]
        return result["matches"][0]["id"]

    counts = env.modahub("run", "app.yml", "encode", "--modality", "molecule", "--text", "CCO", "--json", cwd=tmp_path)
    assert _data(counts.stdout)["space"] == "jt-molecule-v1"
    for name, smiles in MOLECULES.items():  # a molecule's own SMILES finds its file first, by either form of query
        assert top("--modality", "molecule", "--text", smiles) == f"{name}.smi"
        assert top("--doc", json.dumps({"modality": "molecule", "payload": {"smiles": smiles}})) == f"{name}.smi"
    wrong = env.modahub("run", "app.yml", "search", "--modality", "image", "--text", "CCO", cwd=tmp_path, check=False)
    assert wrong.returncode != 0 and "not a single text field" in wrong.stderr and "Traceback" not in wrong.stderr


@pytest.mark.slow
def test_modahub_regenerate_replays_what_scaffolded_generators_make(journey, tmp_path):
    env, _ = journey
    generators = [name for name, kind, _ in PLUGINS if kind == "generator"]
    make = ("import modahub, sys; print(''.join(d.model_dump_json() + '\\n' for g in sys.argv[1:] "
            "for d in modahub.load(g).generate(['a quiet harbor'], n=2, seed=11)), end='')")
    (tmp_path / "made.jsonl").write_text(env.run("python", "-c", make, *generators).stdout)
    replay = env.modahub("regenerate", str(tmp_path / "made.jsonl"), "-o", str(tmp_path / "again.jsonl"))
    assert replay.stderr.count("identical:") == 2 * len(generators) and "DIFFERS" not in replay.stderr, replay.stderr
