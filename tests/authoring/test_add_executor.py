"""``modahub new --add KIND NAME``: a further executor in an existing plugin (code, tests, registration, manifest)."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from modahub_hub.cli import cli
from modahub_hub.commands.manifest import generate
from modahub_hub.contract_targets import run_here
from modahub_hub.scaffold import ScaffoldOptions, plugin_names, render


def _new(*args: str):
    return CliRunner().invoke(cli, ["new", *args], catch_exceptions=False)


def _plugin(tmp_path):
    folder = tmp_path / "modahub-chem"
    render(ScaffoldOptions(plugin_names("chem"), modality="molecule", fields=(("smiles", "str"),), extensions=(".smi",)),
           folder)
    return folder


def test_added_executors_are_registered_declared_tested_and_pass_the_contract(tmp_path):
    folder = _plugin(tmp_path)
    for args in (["--add", "encoder", "chem-counts", "--modality", "molecule", "--dim", "32"],
                 ["--add", "indexer", "chem-index"], ["--add", "generator", "chem-words", "--modality", "text"],
                 ["--add", "generator", "chem-make", "--modality", "molecule"]):
        out = _new(args[2], *args[:2], *args[3:], "--directory", str(folder))
        assert out.exit_code == 0 and f"Added {args[1]} {args[2]!r}" in out.output, out.output
    ((_, declared, generated),) = generate(folder)
    assert declared == generated
    assert [(e.name, e.kind) for e in declared.executors] == [
        ("chem", "encoder"), ("chem-counts", "encoder"), ("chem-index", "indexer"), ("chem-words", "generator"),
        ("chem-make", "generator")]
    assert declared.executors[4].output_modality == "molecule"
    assert declared.executors[1].dim == 32 and declared.modalities[0].extensions == [".smi"]
    tests = sorted(p.name for p in (folder / "tests").glob("test_*.py"))
    assert tests == ["test_chem_counts_contract.py", "test_chem_index_contract.py", "test_chem_make_contract.py",
                     "test_chem_words_contract.py", "test_contract.py", "test_plugin.py"]
    report = run_here(folder)  # what `modahub test` runs
    assert report.ok, (report.errors, [(r.executor, r.rule, r.message) for r in report.failures])
    assert {r.executor for r in report.results} == {"chem", "chem-counts", "chem-index", "chem-words", "chem-make"}
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--isolated", "--line-length", "130",
                           "--select", "E,F,W,B,UP", str(folder)], capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout


def test_a_failed_add_changes_nothing(tmp_path):
    folder = _plugin(tmp_path)
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    taken = CliRunner().invoke(cli, ["new", "chem", "--add", "indexer", "--directory", str(folder)])
    assert taken.exit_code != 0 and "already has an executor named 'chem'" in taken.output
    foreign = CliRunner().invoke(cli, ["new", "chem-gen", "--add", "generator", "--modality", "protein",
                                       "--directory", str(folder)])
    assert foreign.exit_code != 0 and "and of a modality this plugin declares" in foreign.output
    hooks = folder / "src" / "modahub_chem" / "plugin.py"
    hooks.write_text(hooks.read_text() + "\nraise RuntimeError('broken on import')\n")
    before[hooks] = hooks.read_bytes()
    broken = CliRunner().invoke(cli, ["new", "chem-index", "--add", "indexer", "--directory", str(folder)])
    assert broken.exit_code != 0
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts} == before


def test_an_executor_is_added_from_inside_the_plugin_folder(tmp_path, monkeypatch):
    folder = _plugin(tmp_path)
    monkeypatch.chdir(folder)  # no --directory: the plugin is the current folder
    out = _new("chem-index", "--add", "indexer")
    assert out.exit_code == 0 and "tests/test_chem_index_contract.py" in out.output, out.output
    ((_, declared, generated),) = generate(folder)
    assert declared == generated and [e.name for e in declared.executors] == ["chem", "chem-index"]


def test_a_generator_of_the_plugins_modality_makes_every_payload_field(tmp_path):
    folder = tmp_path / "modahub-chem"
    render(ScaffoldOptions(plugin_names("chem"), modality="molecule",
                           fields=(("smiles", "str"), ("weight", "float"), ("atoms", "int"), ("ring", "bool"),
                                   ("charges", "array"))), folder)
    out = _new("chem-make", "--add", "generator", "--modality", "molecule", "--directory", str(folder))
    assert out.exit_code == 0, out.output
    report = run_here(folder)
    assert report.ok, (report.errors, [(r.executor, r.rule, r.message) for r in report.failures])
    assert "chem-make" in {r.executor for r in report.results}
    code = (folder / "src" / "modahub_chem" / "chem_make.py").read_text()
    assert all(f'"{name}":' in code for name in ("smiles", "weight", "atoms", "ring", "charges"))
