"""A warm TUF client skips the signature check of its stored snapshot only while the freshly verified
timestamp pins those very bytes and it verified them before under the same root; tampered, stale or
re-rooted copies are checked (and replaced) as ngclient always does."""

from __future__ import annotations

import datetime
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hub_wheels import publish_unchecked
from tuf.api.metadata import Metadata, Root

from modahub_hub.hub import HubError
from modahub_hub.hub.backends import FolderBackend
from modahub_hub.hub.client import Hub
from modahub_hub.hub.signing import SigningKey, generate_key
from modahub_hub.hub.tuf_client import identity, state_dir
from modahub_hub.hub.tuf_ops import create, rotate_root
from modahub_hub.hub.tuf_verified import RECORD


@pytest.fixture
def alice(tmp_path: Path) -> SigningKey:
    return generate_key(tmp_path / "keys" / "alice.key")


@pytest.fixture
def tuf_dir(tmp_path: Path, key: SigningKey, alice: SigningKey, wheel) -> Path:
    create(FolderBackend(tmp_path / "tuf-hub"), [key])
    publish_unchecked(wheel("modahub-toy"), str(tmp_path / "tuf-hub"), key=key, owner_key=alice)
    return tmp_path / "tuf-hub"


@pytest.fixture
def snapshot_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The role names whose signatures the root checks (the snapshot's among them when it is verified)."""
    seen: list[str] = []
    real = Root.verify_delegate

    def spy(self, role, payload, signatures):
        seen.append(role)
        return real(self, role, payload, signatures)

    monkeypatch.setattr(Root, "verify_delegate", spy)
    return seen


def _version(tuf_dir: Path) -> str:
    return Hub.open(str(tuf_dir)).resolve("modahub-toy")[1].version


def _local_snapshot(tuf_dir: Path) -> Path:
    return state_dir(identity(FolderBackend(tuf_dir)) or "") / "metadata" / "snapshot.json"


def test_a_warm_client_checks_the_snapshot_signatures_once_per_snapshot(tuf_dir, key, alice, wheel, snapshot_checks):
    assert _version(tuf_dir) == "0.1.0"
    assert snapshot_checks.count("snapshot") == 1  # cold: downloaded and verified
    snapshot_checks.clear()
    assert _version(tuf_dir) == "0.1.0"
    assert snapshot_checks.count("snapshot") == 0  # warm, nothing published: the timestamp pins the stored bytes
    assert "timestamp" in snapshot_checks  # the timestamp is still downloaded and verified every run
    publish_unchecked(wheel("modahub-toy", "0.2.0"), str(tuf_dir), key=key, owner_key=alice)
    snapshot_checks.clear()
    assert _version(tuf_dir) == "0.2.0"
    assert snapshot_checks.count("snapshot") >= 1  # a new snapshot: verified again


def test_a_tampered_stored_snapshot_is_verified_and_replaced_even_with_a_matching_record(tuf_dir, snapshot_checks):
    assert _version(tuf_dir) == "0.1.0"
    local = _local_snapshot(tuf_dir)
    genuine = local.read_bytes()
    forged = Metadata.from_bytes(genuine)
    next(iter(forged.signed.meta.values())).version += 1  # a snapshot that was never signed
    local.write_bytes(forged.to_bytes())
    record = local.parent.parent / RECORD
    record.write_text(json.dumps({"root_version": 1, "sha256": hashlib.sha256(local.read_bytes()).hexdigest()}))
    snapshot_checks.clear()
    assert _version(tuf_dir) == "0.1.0"
    assert snapshot_checks.count("snapshot") >= 1
    assert local.read_bytes() == genuine  # the forged copy was refused and the hub's own snapshot downloaded again


def test_a_stored_snapshot_whose_signatures_no_longer_hold_is_refused(tuf_dir, snapshot_checks):
    """Bytes the timestamp pins but that this client never verified (no record) are verified, not trusted."""
    assert _version(tuf_dir) == "0.1.0"
    record = _local_snapshot(tuf_dir).parent.parent / RECORD
    record.unlink()
    snapshot_checks.clear()
    assert _version(tuf_dir) == "0.1.0"
    assert snapshot_checks.count("snapshot") == 1
    assert record.is_file()  # verified again, and remembered


def test_a_snapshot_verified_under_another_root_is_verified_again(tuf_dir, key, tmp_path, snapshot_checks):
    assert _version(tuf_dir) == "0.1.0"
    record = _local_snapshot(tuf_dir).parent.parent / RECORD
    record.write_text(json.dumps(json.loads(record.read_text()) | {"root_version": 7}))
    snapshot_checks.clear()
    assert _version(tuf_dir) == "0.1.0"
    assert snapshot_checks.count("snapshot") == 1
    new = generate_key(tmp_path / "keys" / "root2.key")
    assert rotate_root(FolderBackend(tuf_dir), keys=[key, new], root_keys=[key.public, new.public], threshold=1) == 2
    assert _version(tuf_dir) == "0.1.0"
    assert json.loads(record.read_text())["root_version"] == 2


def test_an_expired_snapshot_is_refused_even_when_its_bytes_are_pinned(tuf_dir, monkeypatch):
    assert _version(tuf_dir) == "0.1.0"
    snapshot = Metadata.from_bytes(_local_snapshot(tuf_dir).read_bytes())
    later = snapshot.signed.expires + datetime.timedelta(days=1)

    class Later(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return later

    monkeypatch.setattr("tuf.ngclient._internal.trusted_metadata_set.datetime.datetime", Later)
    with pytest.raises(HubError, match="freeze check failed"):
        Hub.open(str(tuf_dir))


def _heavy(code: str, modules: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    probe = f"import sys\n{code}\nsys.stderr.write('HEAVY=' + ','.join(m for m in {modules!r} if m in sys.modules))\n"
    return subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)


def test_search_and_install_load_only_what_they_use(tuf_dir):
    """A warm search imports neither the registry schema (pydantic) nor numpy nor rich; an install imports no numpy or rich."""
    command = f"from modahub_hub.cli import cli\ntry:\n    cli(['search', 'toy', '--json', '--hub', {str(tuf_dir)!r}])\n"
    command += "except SystemExit:\n    pass"
    assert '"modahub-toy"' in _heavy(command, ()).stdout  # the first use pins the hub's root (trust.py: the schema)
    search = _heavy(command, ("pydantic", "modahub_hub.hub.registry", "numpy", "rich"))
    assert '"modahub-toy"' in search.stdout and search.stderr.strip().endswith("HEAVY="), search.stderr
    install = _heavy("import modahub_hub.commands.install, modahub_hub.hub.install, modahub_hub.hub.tuf_hub", ("numpy", "rich"))
    assert install.stderr.strip().endswith("HEAVY="), install.stderr
