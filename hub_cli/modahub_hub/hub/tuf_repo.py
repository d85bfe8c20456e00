"""Write a TUF hub: create it, publish under an owner's delegated role, delegate and revoke names,
rotate root and owner keys, refresh expiry — each change one transaction that adds files and ends by
replacing ``timestamp.json``.

A :class:`Transaction` reads the hub's current metadata and checks every signature against its
delegator, but not expiry: the key holder must be able to recover an expired hub. It signs only
with keys the caller holds and names the missing ones otherwise, so a publisher without a name's
owner key cannot publish it, whatever other keys it holds.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from modahub_hub.hub import HubError
from modahub_hub.hub.backends import Backend, Conflict, Write
from modahub_hub.hub.client import plugin_row
from modahub_hub.hub.registry import PluginEntry, normalize
from modahub_hub.hub.signing import PublicKey, SigningKey
from modahub_hub.hub.tuf_layout import (
    HUB_ID_FIELD,
    INDEX_TARGET,
    METADATA_DIR,
    OWNER_PREFIX,
    STATUS_TARGET,
    TARGETS_DIR,
    bin_of,
    bin_pattern,
    bin_role,
    name_pattern,
    owner_role,
    plugin_dir,
    plugin_target,
    raw_public,
    signer,
    tuf_key,
)

MAX_ATTEMPTS = 8
SETTINGS = "x-modahub"
ROOT_DAYS = 365
ROLE_DAYS = 365
OWNER_DAYS = 5 * 365  # snapshot versions (short expiry) already stop an owner role from being frozen
TOP_ROLES = ("root", "timestamp", "snapshot", "targets")


def _expiry(days: int) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(days=days)


@dataclass
class Keyring:
    """The private keys the caller holds, matched to roles by TUF key id."""

    keys: list[SigningKey]

    def __post_init__(self) -> None:
        self._by_id = {tuf_key(k.public).keyid: k for k in self.keys}

    def signers_for(self, role: str, keyids: Iterable[str], threshold: int) -> list[Any]:
        held = [self._by_id[k] for k in keyids if k in self._by_id]
        if len(held) < threshold:
            raise HubError(
                f"signing {role} needs {threshold} of its keys ({', '.join(k[:16] for k in keyids)}); you hold "
                f"{len(held)}: pass the right key with --key / --owner-key"
            )
        return [signer(k) for k in held[:max(threshold, 1)]]


@dataclass
class Transaction:
    """The current metadata of a TUF hub, changed in memory and written by :meth:`commit`."""

    backend: Backend
    root: Any
    timestamp: Any
    snapshot: Any
    targets: Any
    roles: dict[str, Any] = field(default_factory=dict)
    parents: dict[str, str] = field(default_factory=dict, repr=False)
    _patterns: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)
    _rows: dict[str, str] | None = field(default=None, repr=False)
    _page_due: bool = field(default=False, repr=False)
    changed: set[str] = field(default_factory=set)
    root_changed: bool = False
    writes: list[Write] = field(default_factory=list)

    # ---- reading -------------------------------------------------------------------------------
    @classmethod
    def load(cls, backend: Backend) -> Transaction:
        from tuf.api.metadata import Metadata

        root_bytes = backend.read(f"{METADATA_DIR}/root.json")
        if root_bytes is None:
            raise HubError(
                f"{backend.hub_id} has no TUF metadata ({METADATA_DIR}/root.json); "
                "create one with 'modahub hub init' or 'modahub hub migrate'"
            )
        root = _parse(Metadata, root_bytes, "root.json")
        _verify(root, root, "root")
        timestamp = _parse(Metadata, _read(backend, "timestamp.json"), "timestamp.json")
        _verify(root, timestamp, "timestamp")
        snap_v = timestamp.signed.snapshot_meta.version
        snapshot = _parse(Metadata, _read(backend, f"{snap_v}.snapshot.json"), "snapshot")
        _verify(root, snapshot, "snapshot")
        tgt_v = snapshot.signed.meta["targets.json"].version
        targets = _parse(Metadata, _read(backend, f"{tgt_v}.targets.json"), "targets")
        _verify(root, targets, "targets")
        return cls(backend, root, timestamp, snapshot, targets)

    @property
    def settings(self) -> dict[str, Any]:
        return self.targets.signed.unrecognized_fields.setdefault(SETTINGS, {})

    @property
    def digits(self) -> int:
        return int(self.settings.get("bin_digits", 1))

    @property
    def pages_dir(self) -> str:
        """The folder (relative to the hub) of the pages for plain pip and browsers: ``simple/``, ``index.html``."""
        return str(self.settings.get("pages_dir", ""))

    def role(self, name: str) -> Any:
        """A delegated role's metadata (bins and owners), loaded once and verified against its delegator.

        An owner role that was delegated but never published yet starts empty.
        """
        from tuf.api.metadata import Metadata, Targets

        if name not in self.roles:
            meta = self.snapshot.signed.meta.get(f"{name}.json")
            if meta is None and name.startswith(OWNER_PREFIX):
                self.roles[name] = Metadata(Targets(expires=_expiry(OWNER_DAYS)))  # delegated, never published yet
                self.roles[name].signed.version = 0  # signing raises it to 1
                return self.roles[name]
            if meta is None:
                raise HubError(f"{self.backend.hub_id}: role {name} is delegated but missing from snapshot")
            loaded = _parse(Metadata, _read(self.backend, f"{meta.version}.{name}.json"), name)
            _verify(self.targets if name.startswith("bin-") else self.role(self._parent(name)), loaded, name)
            self.roles[name] = loaded
        return self.roles[name]

    def _parent(self, name: str) -> str:
        """The bin that delegates owner role ``name`` (remembered from :meth:`owner_of`, else searched)."""
        if name not in self.parents:
            for prefix in self._bins():
                if name in self.role(bin_role(prefix)).signed.delegations.roles:
                    self.parents[name] = bin_role(prefix)
                    break
            else:
                raise HubError(f"role {name} is not delegated by any bin")
        return self.parents[name]

    def _bins(self) -> list[str]:
        return [r.removeprefix("bin-") for r in self.targets.signed.delegations.roles]

    def owner_of(self, name: str) -> Any | None:
        """The DelegatedRole that owns plugin ``name`` (None when the name is free)."""
        return self._owners(bin_role(bin_of(name, self.digits))).get(name_pattern(name, self.digits))

    def _owners(self, bin_name: str) -> dict[str, Any]:
        """A bin's delegations by name pattern (built once per bin; :meth:`delegate` and :meth:`revoke` keep it)."""
        if bin_name not in self._patterns:
            roles = self.role(bin_name).signed.delegations.roles.values()
            self._patterns[bin_name] = {path: role for role in roles for path in role.paths or []}
            for role in roles:
                self.parents.setdefault(role.name, bin_name)
        return self._patterns[bin_name]

    def read_target(self, role: Any, path: str) -> bytes | None:
        """A target's bytes, checked against the hashes ``role`` signed (None when it lists no such target)."""
        info = role.signed.targets.get(path)
        if info is None:
            return None
        data = _read_file(self.backend, _stored(path, info.hashes["sha256"]))
        info.verify_length_and_hashes(data)
        return data

    def index_rows(self) -> dict[str, str]:
        """The search index: one JSON line per plugin, by normalised name (as staged by :meth:`write_index`)."""
        if self._rows is None:
            data = self.read_target(self.targets, INDEX_TARGET)
            lines = gzip.decompress(data).decode().splitlines() if data else []
            self._rows = {json.loads(line)["key"]: line for line in lines}
        return self._rows

    def statuses(self) -> dict[str, dict[str, str]]:
        data = self.read_target(self.targets, STATUS_TARGET)
        return json.loads(data) if data else {}

    # ---- changing ------------------------------------------------------------------------------
    def add_target(self, role_name: str, path: str, content: bytes | Path, *, hashed: bool = True) -> Any:
        """Stage a target file and list it in ``role_name``'s metadata.

        Targets are stored as ``DIR/<sha256>.NAME`` (consistent snapshots), except with ``hashed=False``
        for a file whose name never gets other bytes (a wheel: a published version is never overwritten),
        so that pip, which reads the wheel's name from its URL, can install it from the ``simple/`` pages.
        """
        from tuf.api.metadata import TargetFile

        info = TargetFile.from_file(path, str(content)) if isinstance(content, Path) else TargetFile.from_data(path, content)
        info.hashes = {"sha256": info.hashes["sha256"]}
        stored = _stored(path, info.hashes["sha256"]) if hashed else path
        self.writes.append((f"{TARGETS_DIR}/{stored}", content))
        meta = self.targets if role_name == "targets" else self.role(role_name)
        meta.signed.targets[path] = info
        self.changed.add(role_name)
        return info

    def set_index_row(self, plugin: PluginEntry, status: dict[str, str] | None = None) -> None:
        rows = self.index_rows()
        rows[normalize(plugin.name)] = json.dumps(index_row(plugin, status), separators=(",", ":"), ensure_ascii=False)
        self.write_index(rows)

    def write_index(self, rows: dict[str, str]) -> None:
        self._rows = rows
        self._page_due = True
        body = "".join(f"{rows[k]}\n" for k in sorted(rows)).encode()
        self.add_target("targets", INDEX_TARGET, gzip.compress(body, compresslevel=6, mtime=0))

    def delegate(self, name: str, owner_keys: list[PublicKey], threshold: int = 1, role_name: str | None = None) -> str:
        """Bind plugin ``name`` to the owner role of ``owner_keys``; returns the role.

        The role's own metadata appears when its owner first signs it (a publish).
        """
        from tuf.api.metadata import DelegatedRole

        self.revoke(name)
        role_name = role_name or owner_role(owner_keys, threshold)
        bin_name = bin_role(bin_of(name, self.digits))
        bin_meta = self.role(bin_name).signed
        keys = [tuf_key(k) for k in owner_keys]
        existing = bin_meta.delegations.roles.get(role_name)
        if existing is not None and (set(existing.keyids) != {k.keyid for k in keys} or existing.threshold != threshold):
            raise HubError(f"role {role_name} is delegated with other keys or another threshold; delegate to a new role")
        if existing is None:
            existing = DelegatedRole(role_name, [k.keyid for k in keys], threshold, True, paths=[])
            bin_meta.delegations.roles[role_name] = existing
            for key in keys:
                bin_meta.delegations.keys[key.keyid] = key
        existing.paths.append(name_pattern(name, self.digits))
        self._owners(bin_name)[name_pattern(name, self.digits)] = existing
        self.parents.setdefault(role_name, bin_name)
        self.changed.add(bin_name)
        return role_name

    def relist(self, source: str, dest: str, prefix: str) -> None:
        """List in role ``dest`` the targets of role ``source`` under ``prefix`` (their files stay where they are)."""
        listed = {p: info for p, info in self.role(source).signed.targets.items() if p.startswith(prefix)}
        self.role(dest).signed.targets.update(listed)
        self.changed.add(dest)

    def revoke(self, name: str) -> str | None:
        """Remove ``name``'s delegation (its files stay but no client reaches them); returns the former role."""
        role = self.owner_of(name)
        if role is None:
            return None
        bin_name = bin_role(bin_of(name, self.digits))
        bin_meta = self.role(bin_name).signed
        role.paths.remove(name_pattern(name, self.digits))
        del self._owners(bin_name)[name_pattern(name, self.digits)]
        if not role.paths:
            del bin_meta.delegations.roles[role.name]
            drop_unused_keys(bin_meta.delegations)
        self.changed.add(bin_name)
        return role.name

    # ---- writing -------------------------------------------------------------------------------
    def commit(self, keyring: Keyring, message: str, *, parent: str | None) -> None:
        """Sign every changed role (children before parents), then snapshot and timestamp; write them all."""
        from tuf.api.metadata import MetaFile

        days = int(self.settings.get("expires_days", 90))
        owners = sorted(r for r in self.changed if r.startswith(OWNER_PREFIX))
        bins = sorted(r for r in self.changed if r.startswith("bin-"))
        for name in [*owners, *bins]:
            meta = self.roles[name]
            delegation = self._delegation_of(name)
            self._sign(meta, keyring, name, delegation.keyids, delegation.threshold, OWNER_DAYS if name in owners else ROLE_DAYS)
        if "targets" in self.changed or self.root_changed:
            role = self.root.signed.roles["targets"]
            self._sign(self.targets, keyring, "targets", role.keyids, role.threshold, ROLE_DAYS)
        for name in [*owners, *bins, *(["targets"] if "targets" in self.changed or self.root_changed else [])]:
            meta = self.targets if name == "targets" else self.roles[name]
            self.writes.append((f"{METADATA_DIR}/{meta.signed.version}.{name}.json", meta.to_bytes()))
            self.snapshot.signed.meta[f"{name}.json"] = MetaFile(meta.signed.version)
        role = self.root.signed.roles["snapshot"]
        self._sign(self.snapshot, keyring, "snapshot", role.keyids, role.threshold, days)
        if self._page_due:
            self.writes.append(self._directory_page())
        snap_bytes = self.snapshot.to_bytes()
        self.writes.append((f"{METADATA_DIR}/{self.snapshot.signed.version}.snapshot.json", snap_bytes))
        self.timestamp.signed.snapshot_meta = MetaFile(
            self.snapshot.signed.version, len(snap_bytes), {"sha256": hashlib.sha256(snap_bytes).hexdigest()}
        )
        role = self.root.signed.roles["timestamp"]
        self._sign(self.timestamp, keyring, "timestamp", role.keyids, role.threshold, days)
        self.writes.append((f"{METADATA_DIR}/timestamp.json", self.timestamp.to_bytes()))
        self.backend.commit(self.writes, parent=parent, message=message)

    def _directory_page(self) -> Write:
        """The browsable ``index.html`` of the hub, from the search index (as of this snapshot)."""
        from modahub_hub.hub.layout import INDEX_PAGE, render_directory, search_row_to_page

        rows = [search_row_to_page(json.loads(line)) for _, line in sorted(self.index_rows().items())]
        page = render_directory(rows, self.snapshot.signed.version, datetime.now(UTC))
        return (f"{self.pages_dir}/{INDEX_PAGE}" if self.pages_dir else INDEX_PAGE, page)

    def _delegation_of(self, name: str) -> Any:
        if name.startswith("bin-"):
            return self.targets.signed.delegations.roles[name]
        return self.role(self._parent(name)).signed.delegations.roles[name]

    def _sign(self, meta: Any, keyring: Keyring, name: str, keyids: list[str], threshold: int, days: int) -> None:
        meta.signed.version += 1
        meta.signed.expires = _expiry(days)
        meta.signatures.clear()
        for each in keyring.signers_for(name, keyids, threshold):
            meta.sign(each, append=True)

    def sign_root(self, keyring: Keyring, old_root: Any | None) -> None:
        """Sign a new root version with the threshold of its own keys and (on rotation) of the previous root's."""
        root = self.root.signed
        root.version += 1
        root.expires = _expiry(ROOT_DAYS)
        self.root.signatures.clear()
        need = [(root.roles["root"].keyids, root.roles["root"].threshold)]
        if old_root is not None:
            need.append((old_root.roles["root"].keyids, old_root.roles["root"].threshold))
        signers: dict[str, Any] = {}
        for keyids, threshold in need:
            for each in keyring.signers_for("root", keyids, threshold):
                signers[each.public_key.keyid] = each
        for each in signers.values():
            self.root.sign(each, append=True)
        data = self.root.to_bytes()
        self.writes += [(f"{METADATA_DIR}/{root.version}.root.json", data), (f"{METADATA_DIR}/root.json", data)]
        self.root_changed = True


def index_row(plugin: PluginEntry, status: dict[str, str] | None = None) -> dict[str, Any]:
    """One line of the signed search index: what ``modahub search`` shows, plus what finds a plugin by entry point."""
    latest = plugin.latest()
    entry_point = latest.entry_point.split("=")[0].strip() if latest else ""
    row = plugin_row(plugin) | {"key": normalize(plugin.name), "entry_point": entry_point}
    if status:
        row["status"] = status["status"]
    return row


def drop_unused_keys(delegations: Any) -> None:
    used = {k for r in delegations.roles.values() for k in r.keyids}
    for keyid in [k for k in delegations.keys if k not in used]:
        del delegations.keys[keyid]


def _stored(path: str, sha256: str) -> str:
    folder, sep, name = path.rpartition("/")
    return f"{folder}{sep}{sha256}.{name}"


def _read(backend: Backend, name: str) -> bytes:
    return _read_file(backend, f"{METADATA_DIR}/{name}", where=METADATA_DIR)


def _read_file(backend: Backend, path: str, where: str = TARGETS_DIR) -> bytes:
    data = backend.read(path if path.startswith(where) else f"{where}/{path}")
    if data is None:
        raise HubError(f"{backend.url(path)} is missing: the hub's TUF metadata is incomplete")
    return data


def _parse(cls: Any, data: bytes, what: str) -> Any:
    try:
        return cls.from_bytes(data)
    except Exception as exc:  # tuf raises DeserializationError, ValueError, KeyError... for malformed files
        raise HubError(f"{what} is not valid TUF metadata: {exc}") from None


def _verify(delegator: Any, delegate: Any, name: str) -> None:
    from tuf.api.exceptions import UnsignedMetadataError

    try:
        delegator.signed.verify_delegate(name, delegate.signed_bytes, delegate.signatures)
    except UnsignedMetadataError as exc:
        raise HubError(f"signature check failed: {name} metadata of this hub: {exc}") from None
    except ValueError as exc:
        raise HubError(f"signature check failed: {name}: {exc}") from None


@dataclass
class Settings:
    """Choices made when a TUF hub is created."""

    bin_digits: int = 1
    expires_days: int = 90
    root_threshold: int = 1
    pages_dir: str = ""  # the folder of simple/ and index.html (a migrated hub keeps its legacy files_dir)


def apply(backend: Backend, change: Callable[[Transaction], str], keyring: Keyring) -> Transaction:
    """Run ``change`` on the hub's current metadata and commit it, retrying when a concurrent publish won."""
    for _ in range(MAX_ATTEMPTS):
        try:
            with backend.write_lock():
                parent = backend.head()
                tx = Transaction.load(backend)
                tx.commit(keyring, change(tx), parent=parent)
                return tx
        except Conflict:
            continue
    raise HubError(f"{backend.hub_id}: {MAX_ATTEMPTS} attempts conflicted with concurrent publishes; try again")


def init(backend: Backend, root_keys: list[SigningKey], settings: Settings | None = None) -> Transaction:
    """Stage a new TUF hub whose root, timestamp, snapshot, targets and bins are signed by ``root_keys``.

    The caller adds what it wants (a migration adds every plugin) and calls :meth:`Transaction.commit`.
    """
    from tuf.api.metadata import DelegatedRole, Delegations, Metadata, Root, Snapshot, Targets, Timestamp

    settings = settings or Settings()

    if backend.read(f"{METADATA_DIR}/root.json") is not None:
        raise HubError(f"{backend.url(METADATA_DIR)} already holds a TUF hub")
    keys = [tuf_key(k.public) for k in root_keys]
    root = Root(expires=_expiry(ROOT_DAYS), consistent_snapshot=True, unrecognized_fields={HUB_ID_FIELD: secrets.token_hex(16)})
    for role in TOP_ROLES:
        for key in keys:
            root.add_key(key, role)
    root.roles["root"].threshold = settings.root_threshold
    prefixes = [f"{i:0{settings.bin_digits}x}" for i in range(16**settings.bin_digits)]
    bins = {
        bin_role(p): DelegatedRole(bin_role(p), [keys[0].keyid], 1, True, paths=[bin_pattern(p)]) for p in prefixes
    }
    targets = Targets(
        delegations=Delegations({keys[0].keyid: keys[0]}, roles=bins),
        unrecognized_fields={SETTINGS: {"bin_digits": settings.bin_digits, "expires_days": settings.expires_days,
                                        **({"pages_dir": settings.pages_dir} if settings.pages_dir else {})}},
    )
    tx = Transaction(backend, Metadata(root), Metadata(Timestamp()), Metadata(Snapshot(meta={})), Metadata(targets))
    for name in bins:
        tx.roles[name] = Metadata(Targets(delegations=Delegations({}, roles={})))
        tx.changed.add(name)
    for meta in [tx.root, tx.timestamp, tx.snapshot, tx.targets, *tx.roles.values()]:
        meta.signed.version = 0  # signing raises every version to 1
    tx.changed.add("targets")
    tx.write_index({})
    tx.add_target("targets", STATUS_TARGET, b"{}")
    tx.sign_root(Keyring(root_keys), None)
    return tx


def raw_keys(role: Any, keys: dict[str, Any]) -> list[bytes]:
    """The raw ed25519 public keys of a role (to show or compare with hub keys)."""
    return [raw_public(keys[k]) for k in role.keyids if k in keys]


def plugin_entry(tx: Transaction, name: str) -> tuple[Any, PluginEntry | None]:
    """The owner role of ``name`` and its signed PluginEntry (None when nothing is published yet)."""
    role = tx.owner_of(name)
    if role is None:
        return None, None
    meta = tx.role(role.name)
    data = tx.read_target(meta, plugin_target(name, tx.digits))
    return role, (PluginEntry.model_validate_json(data) if data else None)


__all__ = [
    "Keyring",
    "Settings",
    "Transaction",
    "index_row",
    "init",
    "plugin_dir",
    "plugin_entry",
    "apply",
]
