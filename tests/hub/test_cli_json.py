"""``--json`` on the hub commands: keygen, init, publish, search, info, pull, install, upgrade, uninstall and
the hub's administration, each one envelope ``{"ok", "data", "error"}`` on stdout, errors included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from modahub_hub.cli import cli
from modahub_hub.hub import install as install_module
from modahub_hub.output import read_envelope


def run_json(*args: str, code: int = 0) -> dict[str, Any]:
    """``modahub ARGS --json``: its envelope, checked against the exit code."""
    result = CliRunner().invoke(cli, [*args, "--json"])
    out = read_envelope(result.stdout)
    assert result.exit_code == code and out["ok"] == (code == 0), (result.exit_code, result.output)
    assert out["error"] is None or out["error"]["code"] == code
    return out


def test_a_tuf_hub_from_keygen_to_refresh(tmp_path: Path, wheel, exact_index_wheel) -> None:
    hub, hub_key, owner_key = str(tmp_path / "tuf"), tmp_path / "k" / "hub.key", tmp_path / "k" / "owner.key"
    made = run_json("hub", "keygen", str(hub_key))["data"]
    assert made["public_key"].startswith("ed25519:") and made["private_key"] == str(hub_key)
    assert run_json("hub", "keygen", str(owner_key))["data"]["public_key"] != made["public_key"]
    created = run_json("hub", "init", hub, "--key", str(hub_key))["data"]
    assert created == {"hub": hub, "format": "tuf", "version": 1, "keys": [made["public_key"]]}
    published = run_json("publish", str(exact_index_wheel), "--hub", hub, "--key", str(hub_key),
                         "--owner-key", str(owner_key))["data"]
    version = published["version"]
    assert published["filename"] == exact_index_wheel.name and len(published["sha256"]) == 64
    assert [row["name"] for row in run_json("search", "exact", "--hub", hub)["data"]] == ["modahub-exact-index"]
    status = run_json("hub", "status", "modahub-exact-index", "deprecated", "--reason", "use another", "--hub", hub,
                      "--key", str(hub_key))["data"]
    assert status == {"name": "modahub-exact-index", "status": "deprecated", "reason": "use another"}
    yanked = run_json("hub", "yank", "modahub-exact-index", version, "--hub", hub, "--key", str(hub_key),
                      "--owner-key", str(owner_key))
    assert yanked["data"] == {"name": "modahub-exact-index", "version": version, "reason": None}
    assert run_json("hub", "refresh", "--hub", hub, "--key", str(hub_key))["data"]["expires"]
    refused = run_json("publish", str(wheel("modahub-toy")), "--hub", hub, "--key", str(hub_key), "--owner", "acme", code=1)
    assert refused["data"] is None and "an owner is a key" in refused["error"]["message"]


def test_install_pull_upgrade_uninstall_and_the_default_hub(hub_dir, key, wheel, tmp_path, monkeypatch) -> None:
    from hub_wheels import publish_unchecked

    publish_unchecked(wheel("modahub-toy"), str(hub_dir), key=key, owner="acme")
    reached_pip: list[list[Path]] = []
    monkeypatch.setattr(install_module, "pip_install", lambda wheels, reqs, txn, weights=(): reached_pip.append(wheels))
    pulled = run_json("pull", "modahub-toy", "--hub", str(hub_dir), "-d", str(tmp_path / "dl"))["data"]
    assert Path(pulled["wheel"]).is_file() and Path(pulled["wheel"]).parent == tmp_path / "dl"
    installed = run_json("install", "modahub-toy", "--hub", str(hub_dir))["data"]
    assert installed == {"installed": [{"name": "modahub-toy", "version": "0.1.0"}]} and len(reached_pip) == 1
    unknown = run_json("install", "nosuch", "--hub", str(hub_dir), code=2)
    assert unknown["error"]["message"] == f"no plugin 'nosuch' in {hub_dir.resolve()}"
    assert "modahub search" in unknown["error"]["hint"]
    not_installed = run_json("uninstall", "modahub-toy", code=1)  # pip was a recorder: nothing is installed
    assert "not installed: modahub-toy" in not_installed["error"]["message"]
    assert run_json("hub", "default", str(hub_dir))["data"] == {"default_hub": str(hub_dir)}
    trusted = run_json("hub", "trust", str(hub_dir), key.public.text)["data"]
    assert (trusted["hub"], trusted["key"]) == (str(hub_dir), key.public.text) and trusted["identity"]
    info = run_json("info", "modahub-toy")["data"]
    assert (info["found"], info["installed"], info["plugin"]["name"]) == ("hub", None, "modahub-toy")
