"""The CLI through click's runner and as a real subprocess."""

from __future__ import annotations

import json
import sys
from importlib.metadata import version as dist_version

from click.testing import CliRunner

from modahub_hub.cli import cli


def test_list_json_shows_executors_from_manifests(toy) -> None:
    result = CliRunner().invoke(cli, ["list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in json.loads(result.output)["data"]}
    assert rows["toy-text"] | {} == rows["toy-text"]
    assert (rows["toy-text"]["kind"], rows["toy-text"]["modalities"], rows["toy-text"]["space"], rows["toy-text"]["dim"]) == (
        "encoder",
        ["text", "smell"],
        "toy",
        4,
    )
    assert rows["exact-index"]["kind"] == "indexer" and rows["exact-index"]["distribution"] == "modahub-exact-index"


def test_list_imports_no_plugin_module_and_no_torch(toy, tmp_path) -> None:
    marker = tmp_path / "imported"
    probe = (
        "import sys; from modahub_hub.cli import cli\n"
        "try:\n    cli(['list', '--json'])\nexcept SystemExit:\n    pass\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'toy_plugin', 'modahub_exact_index'))\n"
        "sys.stderr.write('IMPORTED=' + ','.join(bad))\n"
    )
    import subprocess

    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=toy.env(TOY_IMPORT_MARKER=str(marker)), timeout=60
    )
    assert "toy-text" in result.stdout
    assert result.stderr.strip().endswith("IMPORTED="), result.stderr
    assert not marker.exists()


def test_broken_plugin_is_reported_while_other_commands_work(zoo) -> None:
    plugins_run = zoo.modahub("plugins", "--json")
    assert plugins_run.returncode == 0, plugins_run.stderr
    status = {r["distribution"]: r for r in json.loads(plugins_run.stdout)["data"]}
    assert status["boom-import"]["status"] == "broken" and "libfoo.so missing" in status["boom-import"]["error"]
    doctor = zoo.modahub("doctor")
    assert doctor.returncode == 1
    assert "BROKEN boom-import" in doctor.stderr and "libfoo.so missing" in doctor.stderr and "fix:" in doctor.stderr
    listing = zoo.modahub("list", "--json")
    assert listing.returncode == 0 and "toy-text" in listing.stdout
    assert zoo.modahub("info", "toy-text").returncode == 0
    assert zoo.modahub("greet", "ada").stdout.strip() == "hello ada from toy"


def test_strict_mode_exits_non_zero_with_the_error(zoo) -> None:
    for command in ("plugins", "doctor"):
        run = zoo.modahub(command, MODAHUB_STRICT_PLUGINS="1", MODAHUB_LOAD_PLUGINS="toy-plugin,boom-import")
        assert run.returncode != 0
        assert "libfoo.so missing" in run.stderr and "Traceback" not in run.stderr


def test_plugin_commands_and_errors(toy) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["greet", "bob"]).output.strip() == "hello bob from toy"
    unknown = runner.invoke(cli, ["no-such-command"])
    assert unknown.exit_code == 2 and "No such command" in unknown.output
    missing = runner.invoke(cli, ["info", "nothing-like-this"])
    assert missing.exit_code == 2 and "is neither installed nor in hub" in missing.output


def test_version_and_help_are_cheap() -> None:
    import subprocess

    probe = (
        "import sys; from modahub_hub.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('pydantic', 'rich', 'torch', 'numpy', 'modahub.plugins') if m in sys.modules)\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert "Commands:" in result.stdout and result.stderr.strip().endswith("HEAVY="), result.stderr
    version = CliRunner().invoke(cli, ["--version"])
    assert version.exit_code == 0 and version.output == f"modahub, version {dist_version('modahub')}\n"


FAILING_COMMANDS = '''
import click
from modahub import hookimpl
from modahub.errors import ModahubInputError


@hookimpl
def register_commands(cli):
    @cli.command("mistake")
    def mistake():
        raise ModahubInputError("weights: no file at /nope/model.safetensors; give a folder that holds it")

    @cli.command("bug")
    def bug():
        raise KeyError("oops")
'''


def test_errors_become_one_line_and_their_exit_code_at_the_boundary(site) -> None:
    site.add("failing-plugin", FAILING_COMMANDS, 'schema_version = 1\ncommands = ["mistake", "bug"]\n')
    mistake = site.modahub("mistake")
    assert mistake.returncode == 2, mistake.stderr
    assert mistake.stderr == "Error: weights: no file at /nope/model.safetensors; give a folder that holds it\n"
    bug = site.modahub("bug")
    assert bug.returncode == 1 and len(bug.stderr.splitlines()) == 1
    assert bug.stderr.startswith("Error: unexpected KeyError: 'oops' — run again with --debug")
    debug = site.modahub("--debug", "bug")
    assert debug.returncode == 1 and "Traceback" in debug.stderr and "KeyError: 'oops'" in debug.stderr
