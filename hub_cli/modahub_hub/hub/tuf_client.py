"""Read a TUF hub with python-tuf's ngclient: every file a client uses is checked by the TUF workflow
(root chain, timestamp, snapshot, targets, delegations; signatures, thresholds, versions, expiry).

A hub backend is ngclient's transport (:class:`BackendFetcher`), so folders, static HTTP hosts and
HF repos all work. A hub is who it is, not where it is: its identity is the digest of its first root
(``1.root.json``, from which every later root descends), so the same hub reached as a folder, over
HTTP or on HF shares one trust anchor and one rollback state. The first time, a hub's ``root.json``
is accepted only if a key the user trusts for that identity signed it (``modahub hub trust``,
``--trust``, the bundled hub's shipped key, or the key that signs the legacy hub it was migrated
from); from then on the pinned root in the user's config dir is the anchor, and root rotations are
followed by the TUF chain. A location once read as a TUF hub stays bound to that hub: a different
hub served there later is refused (no silent re-pin; ``modahub hub trust`` rebinds it), and its
legacy single-file registry is never read again (no downgrade).
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

from modahub_hub.hub import HubError, HubVerificationError
from modahub_hub.hub.backends import Backend
from modahub_hub.hub.config import config_dir, read_state, updating
from modahub_hub.hub.tuf_layout import GENESIS_ROOT, INDEX_TARGET, METADATA_DIR, STATUS_TARGET, TARGETS_DIR, raw_public
from modahub_hub.hub.tuf_verified import SnapshotReuse

URL_PREFIX = "modahub-hub:/"
INDEX_SCHEMA = "v2"
"""The layout of the local SQLite copy of the search index (part of its file name: a new layout builds a new copy)."""
LOCATIONS = "tuf_locations"  # state.json: location -> the TUF hub read there
ROOT_LIMIT = 512 * 1024  # a root.json is a few kB; python-tuf's own default cap


def genesis_identity(genesis: bytes) -> str:
    """A TUF hub's identity: the digest of its first root's bytes."""
    return f"tuf:{hashlib.sha256(genesis).hexdigest()[:32]}"


def state_dir(identity: str) -> Path:
    """Where this user keeps a hub's trusted TUF metadata and cached targets."""
    return config_dir() / "tuf" / hashlib.sha256(identity.encode()).hexdigest()[:16]


def served_identity(backend: Backend) -> str | None:
    """The identity of the TUF hub ``backend`` serves now (None when it serves none)."""
    genesis = backend.read(GENESIS_ROOT, ROOT_LIMIT)
    return genesis_identity(genesis) if genesis is not None else None


def identity(backend: Backend) -> str | None:
    """Who the TUF hub at ``backend`` is: the hub read there before, else the one it serves; None if neither."""
    return read_state().get(LOCATIONS, {}).get(backend.hub_id) or served_identity(backend)


def has_tuf(backend: Backend) -> bool:
    """Whether to read ``backend`` as a TUF hub: it was read as one here before, or it publishes one."""
    return identity(backend) is not None


def _bind(location: str, hub: str) -> None:
    """Remember that ``location`` serves the TUF hub ``hub``."""
    if read_state().get(LOCATIONS, {}).get(location) != hub:
        with updating("state.json") as state:
            state.setdefault(LOCATIONS, {})[location] = hub


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


def _root_signers(source: str, root_bytes: bytes, raws: set[bytes]) -> tuple[bool, list[Any]]:
    """Whether one of the raw keys ``raws`` validly signed this (self-consistent) root, and the root's keys."""
    from tuf.api.metadata import Metadata, Root

    try:
        root = Metadata[Root].from_bytes(root_bytes)
        root.signed.verify_delegate("root", root.signed_bytes, root.signatures)
    except Exception as exc:  # malformed or unsigned root: tuf raises several types
        raise HubVerificationError(f"signature check failed: {source}: its TUF root is not valid ({exc})") from None
    root_keys = {k: root.signed.keys[k] for k in root.signed.roles["root"].keyids}
    for keyid, key in root_keys.items():
        sig = root.signatures.get(keyid)
        if raw_public(key) in raws and sig is not None:
            with contextlib.suppress(Exception):
                key.verify_signature(sig, root.signed_bytes)
                return True, list(root_keys.values())
    return False, list(root_keys.values())


def _migrated_trust(backend: Backend) -> list[Any]:
    """The keys the user trusts for the legacy hub at the same place (whose key holder migrated it to TUF)."""
    from modahub_hub.hub.trust import legacy_identity, load_verified, trusted_keys

    try:
        return trusted_keys(legacy_identity(load_verified(backend), backend.hub_id))
    except HubError:  # no legacy registry there, or one the user does not trust
        return []


def check_anchor(backend: Backend, hub: str, root_bytes: bytes) -> None:
    """Accept a hub's root as the first trust anchor only if a key the user trusts for hub ``hub`` signed it."""
    from modahub_hub.hub.signing import PublicKey
    from modahub_hub.hub.trust import UntrustedHub, trusted_keys

    trusted = {k.raw for k in trusted_keys(hub)}
    signed, root_keys = _root_signers(backend.hub_id, root_bytes, trusted)
    if not signed and backend.read("registry.json") is not None:
        signed, _ = _root_signers(backend.hub_id, root_bytes, {k.raw for k in _migrated_trust(backend)})
    if not signed:
        raise UntrustedHub(backend.hub_id, [PublicKey(raw_public(k)) for k in root_keys], hub)


def trust_tuf_hub(backend: Backend, key: Any) -> str:
    """Trust ``key`` (a hub PublicKey) for the TUF hub ``backend`` serves, once checked to sign its root; returns its identity."""
    from modahub_hub.hub.trust import trust

    hub = served_identity(backend)
    root_bytes = backend.read(f"{METADATA_DIR}/root.json", ROOT_LIMIT)
    if hub is None or root_bytes is None:
        raise HubError(f"{backend.hub_id} has no TUF metadata ({GENESIS_ROOT})")
    if not _root_signers(backend.hub_id, root_bytes, {key.raw})[0]:
        raise HubError(f"key {key.keyid} does not sign the root of {backend.hub_id}; nothing trusted. "
                       "Check the key with the hub's owner")
    trust(hub, key)
    _bind(backend.hub_id, hub)  # rebinding a location to another hub takes this explicit step
    return hub


def _tuf_errors(hub_id: str, exc: Exception) -> HubError:
    from tuf.api import exceptions as tex

    if isinstance(exc, tex.ExpiredMetadataError):
        return HubVerificationError(f"{hub_id}: freeze check failed: {exc}; the hub's key holder must run 'modahub hub refresh'")
    if isinstance(exc, tex.BadVersionNumberError):
        return HubVerificationError(f"{hub_id}: rollback check failed: {exc}; someone may be serving a stale copy")
    if isinstance(exc, tex.UnsignedMetadataError):
        return HubVerificationError(f"{hub_id}: signature check failed: {exc}")
    if isinstance(exc, tex.LengthOrHashMismatchError):
        return HubVerificationError(f"{hub_id}: hash check failed: {exc} (altered or corrupt file)")
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
    def identity(self) -> str:
        found = identity(self.backend)
        if found is None:
            raise HubError(f"{self.backend.hub_id} has no TUF metadata ({GENESIS_ROOT})")
        return found

    def _refused(self, exc: Exception) -> HubError:
        """The error for a failed refresh; a location now serving another hub than before says so."""
        now = served_identity(self.backend)
        if now is not None and now != self.identity:
            return HubError(
                f"{self.backend.hub_id} now serves a different hub than the one you used there before; refused "
                f"(nothing trusted, nothing installed). If the hub was replaced on purpose, check its key with its "
                f"owner and run: modahub hub trust {self.backend.hub_id} KEY"
            )
        return _tuf_errors(self.backend.hub_id, exc)

    @cached_property
    def fetcher(self) -> Any:
        return _fetcher_class()(self.backend)

    @cached_property
    def updater(self) -> Any:
        from tuf.api.exceptions import RepositoryError
        from tuf.ngclient import Updater

        folder = state_dir(self.identity)
        metadata = folder / "metadata"
        bootstrap = None
        if not (metadata / "root.json").exists():
            bootstrap = self.backend.read(f"{METADATA_DIR}/root.json", ROOT_LIMIT)
            if bootstrap is None:
                raise HubError(f"{self.backend.hub_id} has no TUF metadata ({METADATA_DIR}/root.json)")
            check_anchor(self.backend, self.identity, bootstrap)
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
            raise self._refused(exc) from None
        except Exception as exc:  # DownloadError and tuf's other errors share no base we could name narrower
            raise self._refused(exc) from None
        _bind(self.backend.hub_id, self.identity)
        return updater

    @cached_property
    def digits(self) -> int:
        targets = json.loads((state_dir(self.identity) / "metadata" / "targets.json").read_bytes())
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
        db = state_dir(self.identity) / f"index-{INDEX_SCHEMA}-{info.hashes['sha256'][:16]}.sqlite"
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
