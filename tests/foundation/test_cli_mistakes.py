"""The named CLI mistakes, each a real ``modahub`` run: one ``Error: what — how to fix`` line on
stderr, no traceback, the documented exit code (docs/cli.md), and with ``--json`` the same error in
the envelope on stdout."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

EXE = Path(sys.executable).with_name("modahub")


def modahub(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The real console script, with this test's own user config (the bundled hub is the default one)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MODAHUB_", "HF_"))}
    clean |= {"MODAHUB_CONFIG_DIR": str(tmp_path / "config"), "HF_HOME": str(tmp_path / "hf")} | env
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, env=clean, cwd=tmp_path, timeout=120)


def assert_one_error_line(run: subprocess.CompletedProcess[str], code: int, *parts: str) -> str:
    """The run failed with ``code`` and printed exactly one ``Error:`` line holding ``parts``; that line."""
    assert run.returncode == code, (run.returncode, run.stderr)
    lines = run.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    for part in parts:
        assert part in lines[0], (part, lines[0])
    return lines[0]


def assert_error_envelope(run: subprocess.CompletedProcess[str], code: int) -> dict:
    """``--json``: the one envelope on stdout says not ok, no data, and the error with ``code``."""
    out = json.loads(run.stdout)
    assert set(out) == {"ok", "data", "error"} and out["ok"] is False and out["data"] is None, out
    assert set(out["error"]) == {"message", "hint", "code"} and out["error"]["code"] == code == run.returncode
    return out["error"]


def unused_port() -> int:
    """A loopback port nothing listens on (bound, read and released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_app(folder: Path, body: str) -> Path:
    app = folder / "app.yml"
    app.write_text(body, encoding="utf-8")
    return app


def test_a_bad_weights_path_in_an_app_file(tmp_path: Path) -> None:
    from PIL import Image

    Image.new("L", (8, 8)).save(tmp_path / "digit.png")
    app = write_app(tmp_path, "name: w\nencoders:\n  - uses: digits-image\n    with: {weights: /nope/model.safetensors}\n")
    run = modahub(tmp_path, "run", str(app), "encode", "-i", "digit.png")
    assert_one_error_line(run, 2, "digits-image", "/nope/model.safetensors", "is missing")


def test_an_offline_hf_hub(tmp_path: Path) -> None:
    endpoint = f"http://127.0.0.1:{unused_port()}"
    run = modahub(tmp_path, "search", "text", "--hub", "hf://someone/hub", HF_ENDPOINT=endpoint)
    line = assert_one_error_line(run, 1, "hf://someone/hub", f"cannot reach {endpoint}", " — check the network")
    assert "unexpected" not in line
    install = modahub(tmp_path, "install", "modahub-text", "--hub", "hf://someone/hub", "--json", HF_ENDPOINT=endpoint)
    error = assert_error_envelope(install, 1)
    assert f"cannot reach {endpoint}" in error["message"] and "--hub" in error["hint"]


@pytest.mark.parametrize("args", [("install", "nosuch"), ("install", "nosuch", "--json")])
def test_an_unknown_plugin_to_install(tmp_path: Path, args: tuple[str, ...]) -> None:
    run = modahub(tmp_path, *args)
    assert_one_error_line(run, 2, "no plugin 'nosuch' in", " — find plugins with 'modahub search'")
    if "--json" in args:
        assert "modahub search" in assert_error_envelope(run, 2)["hint"]
    else:
        assert run.stdout == ""


def test_an_app_naming_an_unknown_executor(tmp_path: Path) -> None:
    app = write_app(tmp_path, "name: u\nencoders:\n  - uses: nosuch-encoder\n")
    run = modahub(tmp_path, "run", str(app), "encode", "-t", "hello")
    assert_one_error_line(run, 2, "no installed plugin provides an executor named 'nosuch-encoder'", "modahub install")


def test_an_app_file_that_is_not_yaml(tmp_path: Path) -> None:
    app = write_app(tmp_path, "name: broken\nencoders: [\n  - uses: minilm-text\n")
    run = modahub(tmp_path, "run", str(app), "search", "-t", "hello")
    assert_one_error_line(run, 2, "app.yml, line", "not valid YAML", " — fix the YAML there")
    error = assert_error_envelope(modahub(tmp_path, "run", str(app), "search", "-t", "hello", "--json"), 2)
    assert "not valid YAML" in error["message"] and error["hint"].startswith("fix the YAML")


def test_a_usage_mistake_exits_2_also_in_json(tmp_path: Path) -> None:
    run = modahub(tmp_path, "plugins", "--json", "--no-such-option")
    assert_one_error_line(run, 2, "No such option '--no-such-option'", "see 'modahub plugins --help'")
    assert "--no-such-option" in assert_error_envelope(run, 2)["message"]
