"""A warm TUF client does not check the signatures of its stored snapshot again while nothing changed.

python-tuf's ngclient re-verifies the locally stored ``snapshot.json`` on every run; on a hub of
100,000 plugins that file lists one role per owner (~450 kB) and its canonical-JSON signature check
is most of a warm ``search`` or ``install``. The stored snapshot is taken without that check only when
all of these hold:

- the timestamp this run has just downloaded and verified (signatures, expiry, rollback) pins the
  snapshot's sha256 and length, and the stored bytes match them — so they are, byte for byte, the
  snapshot the hub's timestamp role vouches for now (a tampered or stale local file does not match
  and is verified, or re-downloaded, as ngclient always does);
- this client verified exactly those bytes before, under the root it trusts now (recorded in
  ``snapshot.verified`` after a successful refresh; a rotated root re-verifies).

Every other check of the TUF workflow still runs: the snapshot's type, its version against the
timestamp's, its expiry, rollback of the roles it lists, and the signatures of every targets role.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from modahub.files import atomic_write

RECORD = "snapshot.verified"


class SnapshotReuse:
    """Installs itself as the snapshot loader of ``updater`` (a fresh ngclient ``Updater``, before ``refresh()``).

    Call :meth:`remember` once ``refresh()`` succeeded.
    """

    def __init__(self, updater: Any, folder: Path) -> None:
        self.trusted = updater._trusted_set  # python-tuf's TrustedMetadataSet: its per-file loader is the one seam it has
        self.record = folder / RECORD
        self.known = _read(self.record)
        self.verified: str | None = None  # the sha256 of the snapshot whose signatures this run checked
        self.load = self.trusted._load_data
        self.trusted._load_data = self.load_data

    def load_data(self, role: type, data: bytes, delegator: Any = None, role_name: str | None = None) -> tuple:
        from tuf.api.metadata import Metadata, Snapshot

        if role is not Snapshot or delegator is None:
            return self.load(role, data, delegator, role_name)
        digest = hashlib.sha256(data).hexdigest()
        if _pinned(self.trusted, data, digest) and _known(self.known, self.trusted.root.version, digest):
            md = Metadata[Snapshot].from_bytes(data)
            if md.signed.type == Snapshot.type:  # else ngclient's own loader raises the error
                return md.signed, b"", md.signatures
        result = self.load(role, data, delegator, role_name)  # checks the signatures; raises when they fail
        self.verified = digest
        return result

    def remember(self) -> None:
        """Record the snapshot whose signatures this run checked, if the timestamp pins it."""
        if self.verified is None or not _pinned(self.trusted, None, self.verified):
            return
        atomic_write(self.record, json.dumps({"root_version": self.trusted.root.version, "sha256": self.verified}).encode())


def _pinned(trusted: Any, data: bytes | None, digest: str) -> bool:
    """Whether the verified timestamp pins a snapshot with this sha256 (and this length, when ``data`` is given)."""
    meta = trusted.timestamp.snapshot_meta
    pinned = (meta.hashes or {}).get("sha256")
    if pinned is None or (data is not None and meta.length is not None and meta.length != len(data)):
        return False
    return hmac.compare_digest(pinned, digest)


def _known(record: dict[str, Any] | None, root_version: int, digest: str) -> bool:
    if record is None or record.get("root_version") != root_version:
        return False
    return hmac.compare_digest(str(record.get("sha256", "")), digest)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        found = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None
