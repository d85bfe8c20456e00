"""``--json`` on the commands that inspect installed plugins or scaffold one: one envelope each,
``{"ok", "data", "error"}``, also when the command fails (the hub commands: tests/hub/test_cli_json.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from modahub_hub.cli import cli
from modahub_hub.output import read_envelope


def run_json(*args: str, code: int = 0) -> dict[str, Any]:
    """``modahub ARGS --json`` through the CLI's boundary: its envelope, checked against the exit code."""
    result = CliRunner().invoke(cli, [*args, "--json"])
    out = read_envelope(result.stdout)
    assert result.exit_code == code and out["ok"] == (code == 0), (result.exit_code, result.output)
    assert out["error"] is None or out["error"]["code"] == code
    return out


def test_plugins_and_list(toy) -> None:
    plugins = run_json("plugins")["data"]
    toy_row = next(p for p in plugins if p["distribution"] == "toy-plugin")
    assert toy_row["status"] == "loaded" and toy_row["executors"] == ["toy-text"]
    listed = {row["name"]: row for row in run_json("list", "--kind", "encoder")["data"]}
    assert listed["toy-text"]["space"] == "toy" and {row["kind"] for row in listed.values()} == {"encoder"}


def test_info_has_one_shape_for_an_executor_and_a_plugin(toy) -> None:
    executor = run_json("info", "toy-text")["data"]
    plugin = run_json("info", "toy-plugin")["data"]
    missing = run_json("info", "nothing-like-this", code=2)
    assert set(executor) == set(plugin) == {"name", "found", "installed", "hub", "plugin", "executor"}
    assert (executor["found"], executor["executor"]["dim"], executor["plugin"]["distribution"]) == ("executor", 4, "toy-plugin")
    assert (plugin["found"], plugin["executor"], plugin["installed"]) == ("plugin", None, "0.1.0")
    assert missing["data"] is None and "neither installed nor in hub" in missing["error"]["message"]
    assert "modahub search" in missing["error"]["hint"]


def test_doctor_reports_in_data_and_fails_with_the_broken_plugins(toy, zoo) -> None:
    out = run_json("doctor", code=1)
    broken = {b["distribution"] for b in out["data"]["broken"]}
    assert {"boom-import", "boom-hook"} <= broken and out["data"]["plugins"] >= 5
    assert "need attention" in out["error"]["message"] and "boom-import" in out["error"]["message"]


def test_doctor_passes_when_all_load(toy) -> None:
    out = run_json("doctor")
    assert out["data"]["broken"] == [] and out["data"]["modahub_core"]


def test_new_lists_what_it_wrote(tmp_path: Path) -> None:
    dest = tmp_path / "modahub-json-enc"
    data = run_json("new", "json-enc", "--directory", str(dest), "--modality", "text")["data"]
    assert (data["distribution"], data["kind"], data["modality"], data["new_modality"]) == ("modahub-json-enc", "encoder",
                                                                                           "text", False)
    assert "modahub.toml" in {Path(f).name for f in data["files"]} and all((dest / f).is_file() for f in data["files"])
    again = run_json("new", "json-enc", "--directory", str(dest), code=2)
    assert "already exists" in again["error"]["message"]
