"""Every registry read and every download is verified: tampering, rollback, freeze, untrusted keys and
quarantine are refused with a message naming the failed check, before pip ever runs."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hub_wheels import publish_unchecked

from modahub_hub.cli import cli
from modahub_hub.hub import install as install_module
from modahub_hub.hub.backends import FolderBackend
from modahub_hub.hub.publish import publish, set_status, yank
from modahub_hub.hub.registry import Registry
from modahub_hub.hub.signing import signature_file
from modahub_hub.hub.trust import load_verified


@pytest.fixture
def published(hub_dir, key, wheel, monkeypatch):
    """A hub with one plugin; pip is replaced by a recorder that fails the test if an install reaches it."""
    publish_unchecked(wheel("modahub-toy"), str(hub_dir), key=key, owner="acme")
    calls: list[list[Path]] = []
    monkeypatch.setattr(install_module, "pip_install", lambda wheels, reqs, txn, weights=(): calls.append(wheels))
    return calls


def _install(hub_dir: Path, *args: str):
    return CliRunner().invoke(cli, ["install", *args, "--hub", str(hub_dir)])


def test_a_verified_install_reaches_pip_and_the_lock(hub_dir, published, user_config):
    result = _install(hub_dir, "modahub-toy")
    assert result.exit_code == 0, result.output
    assert [w.name for w in published[0]] == ["modahub_toy-0.1.0-py3-none-any.whl"]
    lock = (user_config / "plugins.lock").read_text()
    assert f"modahub-toy==0.1.0  # hub={hub_dir.resolve()} sha256=" in lock


def test_one_flipped_byte_in_a_wheel_is_refused(hub_dir, published):
    artifact = hub_dir / "artifacts" / "modahub_toy-0.1.0-py3-none-any.whl"
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0x01
    artifact.write_bytes(bytes(data))
    result = _install(hub_dir, "modahub-toy")
    assert result.exit_code == 3
    assert "sha256 check failed" in result.stderr and "nothing installed" in result.stderr
    assert published == []


def test_a_truncated_wheel_fails_the_size_check(hub_dir, published, tmp_path):
    artifact = hub_dir / "artifacts" / "modahub_toy-0.1.0-py3-none-any.whl"
    artifact.write_bytes(artifact.read_bytes()[:-10])
    result = CliRunner().invoke(cli, ["pull", "modahub-toy", "--hub", str(hub_dir), "-d", str(tmp_path / "dl")])
    assert result.exit_code == 3 and "size check failed" in result.stderr
    assert list((tmp_path / "dl").iterdir()) == []


def test_a_registry_with_a_bad_signature_is_refused(hub_dir, published):
    registry = hub_dir / "registry.json"
    registry.write_bytes(registry.read_bytes().replace(b"a test plugin", b"a evil plugin"))
    result = _install(hub_dir, "modahub-toy")
    assert result.exit_code == 3
    assert "signature check failed" in result.stderr and "does not match its contents" in result.stderr
    assert published == []


def test_an_older_registry_is_refused(hub_dir, key, wheel, published, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(hub_dir, old)
    publish_unchecked(wheel("modahub-toy", "0.2.0"), str(hub_dir), key=key, owner="acme")
    assert _install(hub_dir, "modahub-toy==0.2.0").exit_code == 0  # the client has now seen the newer registry
    for name in ("registry.json", "registry.json.sig"):
        shutil.copy(old / name, hub_dir / name)  # a validly signed but stale copy comes back
    result = _install(hub_dir, "modahub-toy==0.1.0", "--force")
    assert result.exit_code == 3 and "rollback check failed" in result.stderr
    assert len(published) == 1


def test_an_expired_registry_is_refused(hub_dir, key, published):
    registry = load_verified(FolderBackend(hub_dir))
    registry.version += 1
    registry.expires = datetime.now(UTC) - timedelta(minutes=1)
    data = registry.to_bytes()
    (hub_dir / "registry.json").write_bytes(data)
    (hub_dir / "registry.json.sig").write_bytes(signature_file([key.sign(data)]))
    result = _install(hub_dir, "modahub-toy")
    assert result.exit_code == 3 and "expired" in result.stderr and "freeze check" in result.stderr
    assert published == []


def test_a_hub_signed_by_an_untrusted_key_is_refused(hub_dir, key, published, monkeypatch, tmp_path):
    monkeypatch.setenv("MODAHUB_CONFIG_DIR", str(tmp_path / "someone-else"))
    result = _install(hub_dir, "modahub-toy")
    assert result.exit_code == 1 and "none of which you trust" in result.stderr
    assert CliRunner().invoke(cli, ["hub", "trust", str(hub_dir), key.public.text]).exit_code == 0
    assert _install(hub_dir, "modahub-toy").exit_code == 0


def test_a_quarantined_plugin_is_refused_and_yanked_versions_are_skipped(hub_dir, key, wheel, published):
    publish_unchecked(wheel("modahub-toy", "0.2.0"), str(hub_dir), key=key, owner="acme")
    yank(str(hub_dir), "modahub-toy", "0.2.0", reason="broken build", key=key)
    assert _install(hub_dir, "modahub-toy").exit_code == 0
    assert published[-1][0].name == "modahub_toy-0.1.0-py3-none-any.whl"
    set_status(str(hub_dir), "modahub-toy", "quarantined", reason="ships malware", key=key)
    result = _install(hub_dir, "modahub-toy", "--force")
    assert result.exit_code == 1 and "quarantined" in result.stderr and "ships malware" in result.stderr
    assert len(published) == 1


def test_incompatible_core_is_explained(hub_dir, key, wheel, published):
    publish_unchecked(wheel("modahub-future", requires=("modahub-core>=9",)), str(hub_dir), key=key, owner="acme")
    result = _install(hub_dir, "modahub-future")
    assert result.exit_code == 1 and "needs modahub-core>=9" in result.stderr


def test_doctor_flags_installed_quarantined_plugins(hub_dir, key, exact_index_wheel, user_config):
    """The dev environment has modahub-exact-index installed; a hub that quarantines it makes doctor say so."""
    publish(exact_index_wheel, str(hub_dir), key=key, owner="modahub")
    runner = CliRunner()
    assert runner.invoke(cli, ["hub", "default", str(hub_dir)]).exit_code == 0
    clean = json.loads(runner.invoke(cli, ["doctor", "--json"]).stdout)
    assert clean["ok"] and clean["data"]["hub_flags"] == [] and clean["data"]["hub_problem"] is None
    set_status(str(hub_dir), "modahub-exact-index", "quarantined", reason="test quarantine", key=key)
    report = runner.invoke(cli, ["doctor"])
    assert "FLAGGED modahub-exact-index" in report.stderr and "test quarantine" in report.stderr
    flagged = json.loads(runner.invoke(cli, ["doctor", "--json"]).stdout)
    assert flagged["data"]["hub_flags"][0]["distribution"] == "modahub-exact-index" and flagged["error"]["code"] == 1


def test_registry_schema_shipped_with_the_bundled_hub_is_current():
    from modahub_hub.hub.registry import json_schema

    root = Path(__file__).resolve().parents[2]
    registry = Registry.from_bytes((root / "registry.json").read_bytes(), source="registry.json")
    assert (root / registry.file("registry.schema.json")).read_text() == json_schema()


def test_the_bundled_hub_is_a_tuf_hub_that_verifies_with_the_key_shipped_in_modahub(tmp_path):
    from modahub.files import sha256_file
    from modahub_hub.hub.client import Hub
    from modahub_hub.hub.trust import bundled_hub_path
    from modahub_hub.hub.tuf_hub import TufHub

    root = Path(__file__).resolve().parents[2]
    hub = Hub.open()  # no --hub, no configured hub: the bundled one, found as package data, trusted by the shipped key
    assert isinstance(hub, TufHub) and Path(hub.backend.hub_id) == bundled_hub_path()
    pinned = "tuf/metadata/root.json"
    assert (bundled_hub_path() / pinned).read_bytes() == (root / pinned).read_bytes()
    names = [row["name"] for row in hub.rows()]
    assert "modahub-exact-index" in names and "modahub-video-frames" in names
    for name in names:
        for entry in hub.plugin(name).versions.values():  # owner-signed metadata pins every published wheel's bytes
            assert sha256_file(root / entry.artifact.url) == entry.artifact.sha256
    assert Hub.open(str(root)).backend.hub_id != hub.backend.hub_id  # the checkout's copy: the same hub, other place
    assert Hub.open(str(root)).plugin("modahub-exact-index").versions.keys() == hub.plugin("modahub-exact-index").versions.keys()


def _someone_else(monkeypatch, tmp_path) -> None:
    """Switch to a user who has never used this hub."""
    monkeypatch.setenv("MODAHUB_CONFIG_DIR", str(tmp_path / "someone-else"))


def test_an_untrusted_hub_without_a_terminal_is_refused_with_its_key_and_the_command(
        hub_dir, key, published, monkeypatch, tmp_path):
    _someone_else(monkeypatch, tmp_path)
    result = _install(hub_dir, "modahub-toy")
    assert result.exit_code == 1 and published == []
    assert "not trusted yet" in result.stderr and f"key {key.public.keyid}" in result.stderr
    assert f"--trust {key.public.text}" in result.stderr
    assert f"modahub hub trust {hub_dir.resolve()} {key.public.text}" in result.stderr
    assert "Traceback" not in result.output


def test_trust_on_the_command_line_installs_and_a_wrong_key_refuses(hub_dir, key, published, monkeypatch, tmp_path):
    from modahub_hub.hub.signing import generate_key

    _someone_else(monkeypatch, tmp_path)
    wrong = generate_key(tmp_path / "other.key").public.text
    refused = _install(hub_dir, "modahub-toy", "--trust", wrong)
    assert refused.exit_code == 2 and "does not sign" in refused.stderr and published == []
    assert "not trusted yet" in _install(hub_dir, "modahub-toy").stderr  # the wrong key was not kept
    done = _install(hub_dir, "modahub-toy", "--trust", key.public.text)
    assert done.exit_code == 0, done.output
    assert len(published) == 1
    assert _install(hub_dir, "modahub-toy", "--force").exit_code == 0  # trusted from now on


def test_in_a_terminal_the_user_is_asked(hub_dir, key, published, monkeypatch, tmp_path):
    from modahub_hub.commands import _hubcli

    _someone_else(monkeypatch, tmp_path)
    monkeypatch.setattr(_hubcli, "_interactive", lambda: True)
    declined = CliRunner().invoke(cli, ["install", "modahub-toy", "--hub", str(hub_dir)], input="n\n")
    assert declined.exit_code == 1 and key.public.text in declined.stderr and published == []
    accepted = CliRunner().invoke(cli, ["install", "modahub-toy", "--hub", str(hub_dir)], input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert len(published) == 1
