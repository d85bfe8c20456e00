"""``modahub manifest``: modahub.toml is generated from the code (--write) and a stale one fails the check (exit 3)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from modahub.manifest import parse_manifest
from modahub_hub.cli import cli, main
from modahub_hub.commands.manifest import generate
from modahub_hub.scaffold import ScaffoldOptions, plugin_names, render


def _plugin(tmp_path):
    folder = tmp_path / "modahub-mol-fp"
    render(ScaffoldOptions(plugin_names("mol-fp"), modality="molecule", fields=(("smiles", "str"),),
                           extensions=(".smi",)), folder)
    return folder, folder / "src" / "modahub_mol_fp" / "modahub.toml"


def _manifest(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["manifest", *args], standalone_mode=False, catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return getattr(result.exception, "exit_code", 1), str(result.exception)
    return result.exit_code, result.output


def test_a_scaffolded_manifest_is_what_its_code_registers(tmp_path):
    folder, toml = _plugin(tmp_path)
    code, out = _manifest(str(folder))
    assert code == 0 and "is up to date" in out, out
    (spec,) = parse_manifest(toml.read_text(), source="m").modalities
    assert (spec.name, spec.extensions) == ("molecule", [".smi"])


def test_a_stale_manifest_fails_naming_the_difference_and_write_fixes_it(tmp_path, capsys):
    folder, toml = _plugin(tmp_path)
    encoder = folder / "src" / "modahub_mol_fp" / "encoder.py"
    encoder.write_text(encoder.read_text().replace("    dim = 64\n", "    dim = 32\n"))
    plugin = folder / "src" / "modahub_mol_fp" / "plugin.py"
    plugin.write_text(plugin.read_text().replace('extensions = (".smi",)', 'extensions = (".smi", ".smiles")'))
    code, out = _manifest(str(folder))
    assert code == 3
    assert "executor 'mol-fp': dim: 64 in the file, 32 in the code" in out
    assert "modality 'molecule': extensions: ['.smi'] in the file, ['.smi', '.smiles'] in the code" in out
    assert _manifest(str(folder), "--write")[0] == 0
    written = parse_manifest(toml.read_text(), source="m")
    assert written.executors[0].dim == 32 and written.modalities[0].extensions == [".smi", ".smiles"]
    assert _manifest(str(folder))[0] == 0


def test_the_cli_prints_one_line_and_exits_3_when_stale(tmp_path, capsys, monkeypatch):
    folder, toml = _plugin(tmp_path)
    toml.write_text(toml.read_text().replace("dim = 64", "dim = 65"))
    monkeypatch.setattr("sys.argv", ["modahub", "manifest", str(folder)])
    try:
        main()
    except SystemExit as exc:
        assert exc.code == 3
    err = capsys.readouterr().err
    assert err.startswith("Error: modahub.toml differs from the code") and len(err.strip().splitlines()) == 1, err


def test_json_reports_each_manifest_and_a_stale_one_in_the_error_envelope(tmp_path):
    from modahub_hub.output import read_envelope

    folder, toml = _plugin(tmp_path)
    fresh = CliRunner().invoke(cli, ["manifest", str(folder), "--json"])
    assert fresh.exit_code == 0 and read_envelope(fresh.stdout)["data"] == {"written": [], "up_to_date": [str(toml)],
                                                                             "stale": []}
    toml.write_text(toml.read_text().replace("dim = 64", "dim = 65"))
    stale = CliRunner().invoke(cli, ["manifest", str(folder), "--json"])
    out = read_envelope(stale.stdout)
    assert stale.exit_code == out["error"]["code"] == 3 and "dim: 65 in the file, 64 in the code" in out["data"]["stale"][0]
    assert out["error"]["hint"] == "run 'modahub manifest --write' and review the change"


FIRST_PARTY = sorted(p.parent for p in (Path(__file__).resolve().parents[2] / "plugins").glob("*/pyproject.toml"))


@pytest.mark.parametrize("folder", FIRST_PARTY, ids=[p.name for p in FIRST_PARTY])
def test_every_first_party_manifest_is_what_its_code_registers(folder):
    for path, declared, generated in generate(folder):
        assert declared == generated, f"{path} is stale: run 'modahub manifest --write {folder}'"
