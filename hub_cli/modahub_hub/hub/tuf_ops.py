"""What the hub's users do to a TUF hub: publish (owner), yank (owner), set status, delegate, revoke and
rotate (key holder), refresh (key holder, also when expired), each one :func:`~modahub_hub.hub.tuf_repo.apply`.

Who signs what: the owner's key signs its ``owner-…`` role (the plugin's ``plugin.json`` and wheel
targets); the hub's key holder signs the bins (which name belongs to which owner), ``targets`` (the
search index, plugin statuses), ``snapshot`` and ``timestamp``; root's threshold of keys signs root.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from modahub_hub.hub import HubError
from modahub_hub.hub.backends import Backend
from modahub_hub.hub.policy import check_new_version
from modahub_hub.hub.registry import PluginEntry, VersionEntry, WeightsDownload, normalize, parse_version
from modahub_hub.hub.signing import PublicKey, SigningKey
from modahub_hub.hub.tuf_layout import GENESIS_ROOT, STATUS_TARGET, TARGETS_DIR, owner_role, plugin_dir, plugin_target, tuf_key
from modahub_hub.hub.tuf_repo import (
    Keyring,
    Settings,
    Transaction,
    apply,
    drop_unused_keys,
    index_row,
    init,
    plugin_entry,
)
from modahub_hub.hub.wheels import WheelInfo


def _owned_by(tx: Transaction, name: str, owners: list[SigningKey]) -> tuple[str | None, PluginEntry | None]:
    """``name``'s owner role and entry; refuses when none of ``owners`` is one of the role's keys.

    (Whether enough of them sign, the role's threshold, is checked when the role is signed.)
    """
    role, entry = plugin_entry(tx, name)
    if role is not None and not {tuf_key(o.public).keyid for o in owners} & set(role.keyids):
        given = ", ".join(f"{o.public.keyid} ({o.path})" for o in owners)
        raise HubError(
            f"{name} belongs to {role.name}; your owner key {given} is not one of its keys, "
            "so you cannot publish or change it (delegation policy). Ask the hub's key holder to delegate it to you"
        )
    return (role.name if role else None), entry


def publish_wheel(
    backend: Backend,
    wheel: Path,
    info: WheelInfo,
    *,
    hub_keys: list[SigningKey],
    owner: SigningKey | list[SigningKey],
    weights: list[WeightsDownload] | None = None,
    container: str | None = None,
    allow_lookalike: bool = False,
) -> VersionEntry:
    """Publish one wheel as ``owner``: the first publish of a name binds it to ``owner``'s key.

    ``owner`` may be several keys, for a name delegated to a threshold of owner keys.
    """
    published: dict[str, VersionEntry] = {}
    owners = owner if isinstance(owner, list) else [owner]

    def change(tx: Transaction) -> str:
        role_name, entry = _owned_by(tx, info.name, owners)
        mine = role_name or owner_role([owners[0].public])
        version = check_new_version(_known_names(tx, entry), info.name, info.version, owner=mine, allow_lookalike=allow_lookalike)
        if role_name is None:
            role_name = tx.delegate(info.name, [owners[0].public], role_name=mine)
        plugin = entry or PluginEntry(name=info.name, owner=role_name)
        stored = f"{plugin_dir(info.name, tx.digits)}/{wheel.name}"
        tx.add_target(role_name, stored, wheel, hashed=False)
        version_entry = VersionEntry.published_now(info, version, f"{TARGETS_DIR}/{stored}", weights=weights,
                                                   container=container)
        plugin.owner = role_name
        plugin.summary, plugin.license, plugin.homepage = info.summary, info.license, info.homepage
        plugin.versions[version] = version_entry
        _retag(plugin)
        _write_plugin(tx, role_name, plugin)
        published["entry"] = version_entry
        return f"publish {info.name} {version}"

    apply(backend, change, Keyring([*hub_keys, *owners]))
    return published["entry"]


def _known_names(tx: Transaction, entry: PluginEntry | None) -> dict[str, PluginEntry]:
    """Every name of the hub with its owner (from the signed index), and ``entry`` in full: what the name policy reads."""
    known = {key: PluginEntry.model_construct(name=row["name"], owner=row["owner"], versions={})
             for key, row in ((k, json.loads(line)) for k, line in tx.index_rows().items())}
    if entry is not None:
        known[normalize(entry.name)] = entry
    return known


def _retag(plugin: PluginEntry) -> None:
    remaining = [v for v in plugin.versions.values() if not v.yanked]
    plugin.dist_tags.pop("latest", None)
    if remaining:
        plugin.dist_tags["latest"] = max(remaining, key=lambda v: parse_version(v.version)).version


def _write_plugin(tx: Transaction, role_name: str, plugin: PluginEntry) -> None:
    """Stage the owner-signed ``plugin.json``, its search row, and its PEP 503 page (for plain pip, not trusted)."""
    from modahub_hub.hub.layout import simple_pages
    from modahub_hub.hub.registry import Registry

    data = plugin.model_dump_json(exclude_none=True).encode()
    tx.add_target(role_name, plugin_target(plugin.name, tx.digits), data)
    tx.set_index_row(plugin, tx.statuses().get(normalize(plugin.name)))
    one = Registry.model_construct(files_dir=tx.pages_dir, plugins={normalize(plugin.name): plugin})  # type: ignore[call-arg]  # pages need no more
    tx.writes += simple_pages(one, index_names=tx.index_rows())


def yank(backend: Backend, name: str, version: str, *, hub_keys: list[SigningKey], owner: SigningKey,
         reason: str | None = None) -> None:
    """Yank one version (owner): it stays installable by exact pin, resolution skips it."""

    def change(tx: Transaction) -> str:
        role_name, plugin = _owned_by(tx, name, [owner])
        if role_name is None or plugin is None:
            raise HubError(f"no plugin {name!r} in {backend.hub_id}")
        entry = plugin.find(version)
        if entry is None:
            raise HubError(f"{name} has no version {version} (published: {', '.join(plugin.versions)})")
        entry.yanked, entry.yanked_reason = True, reason
        _retag(plugin)
        _write_plugin(tx, role_name, plugin)
        return f"yank {name} {version}"

    apply(backend, change, Keyring([*hub_keys, owner]))


def set_status(backend: Backend, name: str, status: str, *, hub_keys: list[SigningKey], reason: str | None = None) -> None:
    """Mark a plugin active, deprecated or quarantined (key holder; the status lives in top-level targets)."""

    def change(tx: Transaction) -> str:
        _, plugin = plugin_entry(tx, name)
        if plugin is None:
            raise HubError(f"no plugin {name!r} in {backend.hub_id}")
        statuses = tx.statuses()
        statuses[normalize(name)] = {"status": status, **({"reason": reason} if reason else {})}
        tx.add_target("targets", STATUS_TARGET, json.dumps(statuses, sort_keys=True).encode())
        tx.set_index_row(plugin, statuses[normalize(name)])
        return f"{name}: status {status}"

    apply(backend, change, Keyring(hub_keys))


def delegate(backend: Backend, name: str, owner_keys: list[PublicKey], *, hub_keys: list[SigningKey], threshold: int = 1,
             owner_signers: list[SigningKey] | None = None) -> str:
    """Bind ``name`` to ``owner_keys`` (key holder): a transfer or a reservation. Returns the owner role.

    With ``owner_signers`` (the new owner's private keys, enough for the threshold, when the key holder
    holds them: its own names after a migration, or a handover done together) the name's published
    versions are re-signed into the new role and stay installable. Without them, the former owner's
    files stay in its role but no client reaches them: the new owner publishes next.
    """
    result: dict[str, str] = {}
    signers = owner_signers or []
    given = {k.keyid for k in owner_keys}
    if any(s.public.keyid not in given for s in signers):
        raise HubError("an --owner-key that re-signs must be one of the owner keys the name is delegated to")

    def change(tx: Transaction) -> str:
        if threshold > len(owner_keys):
            raise HubError(f"threshold {threshold} is more than the {len(owner_keys)} owner key(s) given")
        former, plugin = plugin_entry(tx, name)
        result["role"] = tx.delegate(name, owner_keys, threshold)
        if plugin is not None and signers:
            tx.relist(former.name, result["role"], f"{plugin_dir(name, tx.digits)}/")
            plugin.owner = result["role"]
            _write_plugin(tx, result["role"], plugin)
            return f"delegate {name} to {result['role']}, its {len(plugin.versions)} versions re-signed"
        rows = tx.index_rows()
        if normalize(name) in rows:
            del rows[normalize(name)]
            tx.write_index(rows)
        return f"delegate {name} to {result['role']}"

    apply(backend, change, Keyring([*hub_keys, *signers]))
    return result["role"]


def revoke(backend: Backend, name: str, *, hub_keys: list[SigningKey]) -> str:
    """Take ``name`` away from its owner (key holder): clients no longer find it until it is delegated again."""
    result: dict[str, str] = {}

    def change(tx: Transaction) -> str:
        former = tx.revoke(name)
        if former is None:
            raise HubError(f"{name} is not delegated to anyone in {backend.hub_id}")
        result["role"] = former
        rows = tx.index_rows()
        rows.pop(normalize(name), None)
        tx.write_index(rows)
        return f"revoke {name} from {former}"

    apply(backend, change, Keyring(hub_keys))
    return result["role"]


def rotate_owner(backend: Backend, old: PublicKey, new: SigningKey, *, hub_keys: list[SigningKey]) -> list[str]:
    """Replace owner key ``old`` by ``new`` in every delegation (key holder) and re-sign the owner's roles
    with ``new`` (so the new key must be at hand). Returns the roles that changed."""
    changed: list[str] = []
    old_id, new_key = tuf_key(old).keyid, tuf_key(new.public)

    def change(tx: Transaction) -> str:
        changed.clear()
        for bin_name in list(tx.targets.signed.delegations.roles):
            delegations = tx.role(bin_name).signed.delegations
            for role in list(delegations.roles.values()):
                if old_id not in role.keyids:
                    continue
                tx.parents.setdefault(role.name, bin_name)
                tx.role(role.name)  # checked against the old keys before the delegation changes
                role.keyids = [new_key.keyid if k == old_id else k for k in role.keyids]
                delegations.keys[new_key.keyid] = new_key
                tx.changed.update({bin_name, role.name})
                if role.name not in changed:
                    changed.append(role.name)
            drop_unused_keys(delegations)
        if not changed:
            raise HubError(f"no name in {backend.hub_id} is owned by key {old.keyid}")
        return f"rotate owner key {old.keyid} -> {new.public.keyid}"

    apply(backend, change, Keyring([*hub_keys, new]))
    return changed


def rotate_root(
    backend: Backend, *, keys: list[SigningKey], root_keys: list[PublicKey], threshold: int,
    online_keys: list[PublicKey] | None = None,
) -> int:
    """A new root version with ``root_keys`` (threshold) and optionally new keys for timestamp, snapshot and
    targets; signed by the old root's threshold and the new one's. Returns the new root version."""
    from copy import deepcopy

    if threshold > len(root_keys):
        raise HubError(f"threshold {threshold} is more than the {len(root_keys)} root key(s) given")
    result: dict[str, int] = {}

    def change(tx: Transaction) -> str:
        old = deepcopy(tx.root.signed)
        root = tx.root.signed
        for keyid in list(root.roles["root"].keyids):
            root.revoke_key(keyid, "root")
        for key in root_keys:
            root.add_key(tuf_key(key), "root")
        root.roles["root"].threshold = threshold
        if online_keys:
            for role in ("timestamp", "snapshot", "targets"):
                for keyid in list(root.roles[role].keyids):
                    root.revoke_key(keyid, role)
                for key in online_keys:
                    root.add_key(tuf_key(key), role)
            tx.changed.add("targets")
        tx.sign_root(Keyring(keys), old)
        result["version"] = root.version
        return f"root version {root.version}"

    apply(backend, change, Keyring(keys))
    return result["version"]


def refresh(backend: Backend, *, hub_keys: list[SigningKey]) -> datetime:
    """Re-sign timestamp, snapshot and targets with fresh expiry (the key holder's recovery of an expired
    hub: the current metadata is read without the expiry check). Returns the new timestamp expiry."""

    def change(tx: Transaction) -> str:
        tx.changed.add("targets")
        if tx.root.signed.is_expired():
            tx.sign_root(Keyring(hub_keys), None)
        return "refresh expiry"

    tx = apply(backend, change, Keyring(hub_keys))
    return tx.timestamp.signed.expires


def create(backend: Backend, hub_keys: list[SigningKey], settings: Settings | None = None) -> None:
    """Create an empty TUF hub at ``backend`` (refusing one that exists) and trust its root keys here."""
    from modahub_hub.hub.backends import HfBackend
    from modahub_hub.hub.trust import trust
    from modahub_hub.hub.tuf_client import served_identity

    if isinstance(backend, HfBackend):
        backend.create()
    with backend.write_lock():
        parent = backend.head()
        init(backend, hub_keys, settings).commit(Keyring(hub_keys), "create modahub hub (TUF)", parent=parent)
    hub = served_identity(backend)
    if hub is None:
        raise HubError(f"{backend.hub_id}: the hub just created has no {GENESIS_ROOT}")
    for key in hub_keys:
        trust(hub, key.public)


def migrate(backend: Backend, hub_key: SigningKey, settings: Settings | None = None) -> int:
    """Turn a legacy hub (one signed ``registry.json``) into a TUF hub; returns the number of plugins moved.

    The legacy registry is verified first. Its owners were free text, so every name is delegated to the
    migrating key holder's own owner role; ``modahub hub delegate`` hands names to their owners' keys.
    Wheels stay where they are: each plugin's owner-signed ``plugin.json`` pins their size and sha256.
    """
    from modahub_hub.hub.registry import REGISTRY_FILE
    from modahub_hub.hub.trust import load_verified

    if backend.read(REGISTRY_FILE) is None:
        raise HubError(f"{backend.url(REGISTRY_FILE)} not found: nothing to migrate (create a hub with 'modahub hub init')")
    registry = load_verified(backend, extra_keys=[hub_key.public])
    if hub_key.public.keyid not in {k.keyid for k in registry.keys}:
        raise HubError(f"key {hub_key.public.keyid} ({hub_key.path}) does not sign {backend.hub_id}; migrate with the hub's key")
    settings = settings or Settings(expires_days=registry.expires_after_days)
    settings.pages_dir = registry.files_dir  # simple/ and index.html stay where the legacy hub had them
    role = owner_role([hub_key.public])
    with backend.write_lock():
        parent = backend.head()
        tx = init(backend, [hub_key], settings)
        rows, statuses = {}, {}
        for key, legacy in sorted(registry.plugins.items()):
            plugin = legacy.model_copy(deep=True)
            plugin.owner = tx.delegate(plugin.name, [hub_key.public], role_name=role)
            if plugin.status != "active":
                statuses[key] = {"status": plugin.status, **({"reason": plugin.status_reason} if plugin.status_reason else {})}
            plugin.status, plugin.status_reason = "active", None
            tx.add_target(role, plugin_target(plugin.name, tx.digits), plugin.model_dump_json(exclude_none=True).encode())
            rows[key] = json.dumps(index_row(plugin, statuses.get(key)), separators=(",", ":"), ensure_ascii=False)
        tx.write_index(rows)
        tx.add_target("targets", STATUS_TARGET, json.dumps(statuses, sort_keys=True).encode())
        tx.commit(Keyring([hub_key]), f"migrate {len(rows)} plugins to TUF", parent=parent)
    return len(rows)
