"""Read a TUF hub with python-tuf's ngclient: every file a client uses is checked by the TUF workflow
(root chain, timestamp, snapshot, targets, delegations; signatures, thresholds, versions, expiry).

A hub backend is ngclient's transport (:class:`BackendFetcher`), so folders, static HTTP hosts and
HF repos all work. The trust anchor is the hub's root: the first time, its ``root.json`` is accepted
only if a key the user trusts for that hub (``modahub hub trust``, or the bundled hub's shipped key)
signed it; from then on the pinned root in the user's config dir is the anchor, and root rotations
are followed by the TUF chain. Once a hub's root is pinned, the legacy single-file registry of that
hub is never read again (no downgrade).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path
from typing import Any

from modahub_hub.hub import HubError
from modahub_hub.hub.backends import Backend
from modahub_hub.hub.config import config_dir
from modahub_hub.hub.tuf_layout import INDEX_TARGET, METADATA_DIR, STATUS_TARGET, TARGETS_DIR, raw_public
from modahub_hub.hub.tuf_verified import SnapshotReuse

URL_PREFIX = "modahub-hub:/"
INDEX_SCHEMA = "v2"
"""The layout of the local SQLite copy of the search index (part of its file name: a new layout builds a new copy)."""


def state_dir(hub_id: str) -> Path:
    """Where this user keeps a hub's trusted TUF metadata and cached targets."""
    return config_dir() / "tuf" / hashlib.sha256(hub_id.encode()).hexdigest()[:16]


def is_pinned(hub_id: str) -> bool:
    return (state_dir(hub_id) / "metadata" / "root.json").exists()


def has_tuf(backend: Backend) -> bool:
    """Whether to read ``backend`` as a TUF hub: its root is pinned here, or the hub publishes one."""
    return is_pinned(backend.hub_id) or backend.read(f"{METADATA_DIR}/root.json") is not None


def _fetcher_class() -> type:
    from tuf.api import exceptions as tex
    from tuf.api.exceptions import DownloadHTTPError, DownloadLengthMismatchError
    from tuf.ngclient import FetcherInterface

    class BackendFetcher(FetcherInterface):
        """ngclient's transport over a hub backend: each read stops at the length TUF allows for that file."""

        def __init__(self, backend: Backend) -> None:
            self.backend = backend

        def _fetch(self, url: str, limit: int | None = None) -> Iterator[bytes]:
            path = url.removeprefix(URL_PREFIX)
            try:
                data = self.backend.read(path, limit=limit)
            except HubError as exc:
                if "size check failed" in str(exc):
                    raise DownloadLengthMismatchError(str(exc)) from None
                raise
            if data is None:
                raise DownloadHTTPError(f"{self.backend.url(path)} not found", 404)
            return iter([data])

        @contextlib.contextmanager
        def download_file(self, url: str, max_length: int) -> Iterator[Any]:
            with tempfile.TemporaryFile() as out:
                try:
                    out.writelines(self._fetch(url, max_length))
                except (DownloadHTTPError, DownloadLengthMismatchError):
                    raise
                except Exception as exc:  # the interface's contract: everything else is a DownloadError
                    raise tex.DownloadError(f"failed to download {url}: {exc}") from None
                out.seek(0)
                yield out

    return BackendFetcher


def check_anchor(hub_id: str, root_bytes: bytes) -> None:
    """Accept a hub's root as the first trust anchor only if a key the user trusts for the hub signed it."""
    from tuf.api.metadata import Metadata, Root

    from modahub_hub.hub.trust import trusted_keys

    try:
        root = Metadata[Root].from_bytes(root_bytes)
        root.signed.verify_delegate("root", root.signed_bytes, root.signatures)
    except Exception as exc:  # malformed or unsigned root: tuf raises several types
        raise HubError(f"signature check failed: {hub_id}: its TUF root is not valid ({exc})") from None
    trusted = {k.raw for k in trusted_keys(hub_id)}
    root_keys = {k: root.signed.keys[k] for k in root.signed.roles["root"].keyids}
    for keyid, key in root_keys.items():
        sig = root.signatures.get(keyid)
        if raw_public(key) in trusted and sig is not None:
            with contextlib.suppress(Exception):
                key.verify_signature(sig, root.signed_bytes)
                return
    from modahub_hub.hub.signing import PublicKey
    from modahub_hub.hub.trust import UntrustedHub

    raise UntrustedHub(hub_id, [PublicKey(raw_public(k)) for k in root_keys.values()])


def _tuf_errors(hub_id: str, exc: Exception) -> HubError:
    from tuf.api import exceptions as tex

    if isinstance(exc, tex.ExpiredMetadataError):
        return HubError(f"{hub_id}: freeze check failed: {exc}; the hub's key holder must run 'modahub hub refresh'")
    if isinstance(exc, tex.BadVersionNumberError):
        return HubError(f"{hub_id}: rollback check failed: {exc}; someone may be serving a stale copy")
    if isinstance(exc, tex.UnsignedMetadataError):
        return HubError(f"{hub_id}: signature check failed: {exc}")
    if isinstance(exc, tex.LengthOrHashMismatchError):
        return HubError(f"{hub_id}: hash check failed: {exc} (altered or corrupt file)")
    if isinstance(exc, tex.DownloadError):
        return HubError(f"{hub_id}: download failed: {exc}")
    return HubError(f"{hub_id}: TUF check failed: {exc}")


class TufReader:
    """A TUF hub's verified files: targets by path, the statuses, the search index.

    It imports neither the registry schema nor the resolver, so ``modahub search`` starts fast.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.updater  # noqa: B018  refresh now, so trust errors surface at open

    @cached_property
    def fetcher(self) -> Any:
        return _fetcher_class()(self.backend)

    @cached_property
    def updater(self) -> Any:
        from tuf.api.exceptions import RepositoryError
        from tuf.ngclient import Updater

        folder = state_dir(self.backend.hub_id)
        metadata = folder / "metadata"
        bootstrap = None
        if not (metadata / "root.json").exists():
            bootstrap = self.backend.read(f"{METADATA_DIR}/root.json")
            if bootstrap is None:
                raise HubError(f"{self.backend.hub_id} has no TUF metadata ({METADATA_DIR}/root.json)")
            check_anchor(self.backend.hub_id, bootstrap)
            metadata.mkdir(parents=True, exist_ok=True)
        try:
            updater = Updater(
                str(metadata),
                f"{URL_PREFIX}{METADATA_DIR}/",
                str(folder / "targets"),
                f"{URL_PREFIX}{TARGETS_DIR}/",
                fetcher=self.fetcher,
                bootstrap=bootstrap,
            )
            reuse = SnapshotReuse(updater, folder)
            updater.refresh()
            reuse.remember()
        except (RepositoryError, OSError) as exc:
            raise _tuf_errors(self.backend.hub_id, exc) from None
        except Exception as exc:  # DownloadError and tuf's other errors share no base we could name narrower
            raise _tuf_errors(self.backend.hub_id, exc) from None
        return updater

    @cached_property
    def digits(self) -> int:
        targets = json.loads((state_dir(self.backend.hub_id) / "metadata" / "targets.json").read_bytes())
        return int(targets["signed"].get("x-modahub", {}).get("bin_digits", 1))

    def target(self, path: str) -> bytes | None:
        """The verified bytes of target ``path`` (cached locally while its hashes still match)."""
        from tuf.api.exceptions import RepositoryError

        try:
            try:
                info = self.updater.get_targetinfo(path)
            except RepositoryError as exc:
                if "not part of snapshot" in str(exc):  # delegated to an owner who has not published yet
                    return None
                raise
            if info is None:
                return None
            local = self.updater.find_cached_target(info) or self.updater.download_target(info)
        except Exception as exc:  # tuf's RepositoryError / DownloadError
            raise _tuf_errors(self.backend.hub_id, exc) from None
        return Path(local).read_bytes()

    @cached_property
    def statuses(self) -> dict[str, dict[str, str]]:
        data = self.target(STATUS_TARGET)
        return json.loads(data) if data else {}

    def _index(self) -> sqlite3.Connection:
        """The signed search index, as a local SQLite table built once per index version."""
        try:
            info = self.updater.get_targetinfo(INDEX_TARGET)
        except Exception as exc:
            raise _tuf_errors(self.backend.hub_id, exc) from None
        if info is None:
            raise HubError(f"{self.backend.hub_id}: the hub's targets list no search index ({INDEX_TARGET})")
        db = state_dir(self.backend.hub_id) / f"index-{INDEX_SCHEMA}-{info.hashes['sha256'][:16]}.sqlite"
        if not db.exists():
            rows = [_indexed(line) for line in gzip.decompress(self.target(INDEX_TARGET) or b"").decode().splitlines()]
            tmp = db.with_name(f".{db.name}.{os.getpid()}.tmp")
            con = sqlite3.connect(tmp)
            # what a search filters on apart from the rows it returns: a search reads ~1/5 of the file
            con.execute("CREATE TABLE plugins (key TEXT PRIMARY KEY, text TEXT, mods TEXT, kinds TEXT) WITHOUT ROWID")
            con.execute("CREATE TABLE rows (key TEXT PRIMARY KEY, row TEXT) WITHOUT ROWID")
            con.executemany("INSERT INTO plugins VALUES (?, ?, ?, ?)", (r[:4] for r in rows))
            con.executemany("INSERT INTO rows VALUES (?, ?)", ((r[0], r[4]) for r in rows))
            con.commit()
            con.close()
            os.replace(tmp, db)
            for old in db.parent.glob("index-*.sqlite"):
                if old != db:
                    old.unlink(missing_ok=True)
        return sqlite3.connect(f"file:{db}?mode=ro", uri=True)

    def rows(self, query: str = "", *, modality: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        """Search rows (see :func:`~modahub_hub.hub.tuf_repo.index_row`) whose text holds every word of ``query``."""
        clauses, params = [], []
        for word in query.lower().split():
            clauses.append("instr(text, ?) > 0")
            params.append(word)
        if modality:
            clauses.append("(instr(mods, ?) > 0 OR instr(mods, '|*|') > 0)")
            params.append(f"|{modality}|")
        if kind:
            clauses.append("instr(kinds, ?) > 0")
            params.append(f"|{kind}|")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        con = self._index()
        try:
            found = con.execute(f"SELECT rows.row FROM plugins JOIN rows USING (key) {where} ORDER BY key", params)
            return [json.loads(r) for (r,) in found]
        finally:
            con.close()


def _indexed(line: str) -> tuple[str, str, str, str, str]:
    row = json.loads(line)
    text = " ".join([row["key"], row["summary"] or "", *(f"{e['name']} {e.get('summary', '')}" for e in row["executors"])])
    return (row["key"], text.lower(), f"|{'|'.join(row['modalities'])}|", f"|{'|'.join(row['kinds'])}|", line)
