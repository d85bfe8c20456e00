"""Write a hub: create it, publish plugins to it, change a plugin's status — each change atomic and signed.

Every change is one transaction (:func:`update`): under the hub's write lock (folder) or against
its current commit (HF, ``parent_commit``), read and verify the registry, apply the change, raise
``version`` and ``expires``, and write in an order that keeps the hub consistent at every instant:
the wheel first, then the derived pages, then a signature file that holds both the old and the new
registry's signatures, then ``registry.json`` itself (the commit point), then the final signature.
"""

from __future__ import annotations

import hashlib
import secrets
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from modahub_hub.hub import HubError
from modahub_hub.hub.backends import Backend, Conflict, HfBackend, open_backend
from modahub_hub.hub.build import build_wheel
from modahub_hub.hub.config import default_key_path, default_owner_key_path, read_config
from modahub_hub.hub.layout import derived_files
from modahub_hub.hub.policy import check_new_version
from modahub_hub.hub.registry import (
    REGISTRY_FILE,
    PluginEntry,
    Registry,
    RegistryKey,
    VersionEntry,
    WeightsDownload,
    normalize,
    parse_version,
)
from modahub_hub.hub.signing import SigningKey, generate_key, load_key, parse_signatures, signature_file
from modahub_hub.hub.trust import legacy_identity, load_verified, record_seen, trust
from modahub_hub.hub.wheels import WheelInfo, inspect_wheel

MAX_ATTEMPTS = 8
Change = Callable[[Registry], str]


def writable_backend(hub: str | Backend | None) -> Backend:
    """The hub to write: the given one, else the configured default hub."""
    if isinstance(hub, Backend):
        backend = hub
    else:
        spec = hub or read_config().get("default_hub")
        if not spec:
            raise HubError("no hub given: pass --hub PATH|URL|hf://owner/repo, or set one with 'modahub hub default'")
        backend = open_backend(str(spec))
    if not backend.writable:
        raise HubError(f"{backend.hub_id} is read-only (static HTTP); publish to its folder or an hf:// repo instead")
    return backend


def owner_signing_key(key: Path | str | SigningKey | None) -> SigningKey:
    """The publisher's owner key: the given one, else ``$MODAHUB_OWNER_KEY`` or the user's ``owner.key`` (created if missing)."""
    if isinstance(key, SigningKey):
        return key
    if key:
        return load_key(Path(key))
    path = default_owner_key_path()
    return load_key(path) if path.exists() else generate_key(path)


def _signing_key(key: Path | str | SigningKey | None) -> SigningKey:
    if isinstance(key, SigningKey):
        return key
    return load_key(Path(key) if key else default_key_path())


def _restamp(registry: Registry, version: int) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    registry.version = version
    registry.generated_at = now
    registry.expires = now + timedelta(days=registry.expires_after_days)


def _writes(
    registry: Registry, key: SigningKey, staged: list[tuple[str, bytes | Path]], old: tuple[bytes, bytes] | None
) -> list[tuple[str, bytes | Path]]:
    data = registry.to_bytes()
    new_sig = key.sign(data)
    writes = [*staged, *derived_files(registry)]
    if old is not None:
        old_bytes, old_sig = old
        digest = hashlib.sha256(old_bytes).hexdigest()
        keep = [e for e in parse_signatures(old_sig, source=registry.signature_path) if e.get("sha256") == digest]
        writes.append((registry.signature_path, signature_file([new_sig, *keep])))
    writes += [(REGISTRY_FILE, data), (registry.signature_path, signature_file([new_sig]))]
    return writes


def _record_seen(backend: Backend, registry: Registry) -> None:
    record_seen(legacy_identity(registry, backend.hub_id), registry.version, hashlib.sha256(registry.to_bytes()).hexdigest())


def update(
    hub: str | Backend | None,
    change: Change,
    *,
    key: Path | str | SigningKey | None = None,
    staged: Callable[[Registry], list[tuple[str, bytes | Path]]] = lambda r: [],
) -> Registry:
    """Apply ``change`` (which edits the registry in place and returns a commit message) atomically."""
    backend = writable_backend(hub)
    _refuse_tuf(backend)
    signing = _signing_key(key)
    for _ in range(MAX_ATTEMPTS):
        try:
            with backend.write_lock():
                parent = backend.head()
                current = load_verified(backend, extra_keys=[signing.public])
                old_bytes = current.to_bytes()
                old_sig = backend.read(current.signature_path) or b'{"signatures": []}'
                if signing.public.keyid not in {k.keyid for k in current.keys}:
                    raise HubError(
                        f"key {signing.public.keyid} ({signing.path}) is not a signing key of {backend.hub_id} "
                        f"(its keys: {', '.join(k.keyid for k in current.keys)}); use the hub's key with --key"
                    )
                registry = current.model_copy(deep=True)
                message = change(registry)
                _restamp(registry, current.version + 1)
                backend.commit(_writes(registry, signing, staged(registry), (old_bytes, old_sig)), parent=parent, message=message)
                _record_seen(backend, registry)
                return registry
        except Conflict:
            continue
    raise HubError(f"{backend.hub_id}: {MAX_ATTEMPTS} attempts conflicted with concurrent publishes; try again")


def _refuse_tuf(backend: Backend) -> None:
    from modahub_hub.hub.tuf_client import has_tuf

    if has_tuf(backend):
        raise HubError(f"{backend.hub_id} is a TUF hub: its legacy registry.json is frozen; change it with the TUF commands")


def init_hub(
    hub: str | Backend,
    *,
    key: Path | str | SigningKey | None = None,
    files_dir: str = "",
    start_version: int = 1,
    expires_after_days: int = 90,
    name: str | None = None,
) -> Registry:
    """Create an empty, signed hub at ``hub`` (refusing one that exists) and trust its key locally.

    ``name`` is who the hub is wherever it is served (default: a new random one).
    """
    backend = writable_backend(hub)
    signing = _signing_key(key)
    if isinstance(backend, HfBackend):
        backend.create()
    with backend.write_lock():
        parent = backend.head()
        if backend.read(REGISTRY_FILE) is not None:
            raise HubError(f"{backend.url(REGISTRY_FILE)} already exists; this is a hub already")
        registry = Registry(
            name=name or f"hub-{secrets.token_hex(8)}",
            version=start_version,
            generated_at=datetime.now(UTC),
            expires=datetime.now(UTC),
            expires_after_days=expires_after_days,
            files_dir=files_dir,
            keys=[RegistryKey(keyid=signing.public.keyid, public=signing.public.text)],
        )
        _restamp(registry, start_version)
        backend.commit(_writes(registry, signing, [], None), parent=parent, message="create modahub hub")
    trust(legacy_identity(registry, backend.hub_id), signing.public)
    _record_seen(backend, registry)
    return registry


def _check_owner(registry: Registry, info: WheelInfo, owner: str) -> None:
    existing = registry.get(info.name)
    if existing is not None and existing.owner != owner:
        raise HubError(f"{info.name} belongs to owner {existing.owner!r}; you publish as {owner!r} (name policy)")


def _check_contract(wheel: Path) -> None:
    from modahub_hub.contract import ContractRunError, run_contract

    try:
        report = run_contract(wheel)
    except ContractRunError as exc:
        raise HubError(f"executor contract check: {exc}") from None
    if not report.ok:
        broken = "; ".join([*(f"{r.executor}: [{r.rule}] {r.message}" for r in report.failures), *report.errors])
        raise HubError(f"executor contract check failed for {wheel.name}: {broken}. Run 'modahub test' on it and fix these")


def publish(
    path: Path | str,
    hub: str | Backend | None = None,
    *,
    key: Path | str | SigningKey | None = None,
    owner: str | None = None,
    weights: list[WeightsDownload] | None = None,
    container: str | None = None,
    contract: bool = True,
    allow_lookalike: bool = False,
    owner_key: Path | str | SigningKey | list[Path | str | SigningKey] | None = None,
) -> VersionEntry:
    """Publish a plugin folder (built with pip) or a ``.whl`` file to ``hub``; return the new version's entry.

    The executor contract (:func:`modahub_hub.contract.run_contract`) runs on the wheel first, in a
    separate interpreter; a plugin that breaks it is refused. ``contract=False`` is for tests of the
    hub's own mechanics only.

    ``hub`` is a folder path, an ``hf://owner/repo`` or a backend (default: the configured hub).
    ``key`` is the hub's private signing key (default: ``$MODAHUB_HUB_KEY`` or the user's ``hub.key``).
    ``owner`` defaults to the wheel's author. ``allow_lookalike`` lets a new name fold to the look-alike
    skeleton of an existing one (an owner's deliberate sibling). Raises :class:`HubError` with the failed check.
    On a TUF hub the owner is a key: ``owner_key`` (default: the user's owner key) signs the plugin,
    and the first publish of a name binds the name to that key.
    """
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="modahub-publish-") as tmp:
        wheel = build_wheel(path, Path(tmp)) if path.is_dir() else path
        if wheel.suffix != ".whl" or not wheel.is_file():
            raise HubError(f"{path}: pass a plugin folder (with pyproject.toml) or an existing .whl file")
        info = inspect_wheel(wheel)
        parse_version(info.version)
        signing = _signing_key(key)
        backend = writable_backend(hub)
        from modahub_hub.hub.tuf_client import has_tuf

        tuf = has_tuf(backend)
        if tuf and owner:
            raise HubError(f"{backend.hub_id} is a TUF hub: an owner is a key, not a name; pass --owner-key instead of --owner")
        if contract:
            _check_contract(wheel)
        if tuf:
            from modahub_hub.hub.tuf_ops import publish_wheel

            owners = [owner_signing_key(k) for k in owner_key] if isinstance(owner_key, list) else [owner_signing_key(owner_key)]
            return publish_wheel(backend, wheel, info, hub_keys=[signing], owner=owners,
                                 weights=weights, container=container, allow_lookalike=allow_lookalike)
        who = owner or info.author or "unknown"
        published: dict[str, VersionEntry] = {}

        def change(registry: Registry) -> str:
            _check_owner(registry, info, who)
            version = check_new_version(
                registry.plugins, info.name, info.version, owner=who, allow_lookalike=allow_lookalike
            )
            rel = registry.file(f"artifacts/{wheel.name}")
            entry = VersionEntry.published_now(info, version, rel, weights=weights, container=container)
            plugin = registry.plugins.setdefault(normalize(info.name), PluginEntry(name=info.name, owner=who))
            plugin.summary, plugin.license, plugin.homepage = info.summary, info.license, info.homepage
            plugin.versions[version] = entry
            latest = max((v for v in plugin.sorted_versions() if not v.yanked), key=lambda v: parse_version(v.version))
            plugin.dist_tags["latest"] = latest.version
            published["entry"] = entry
            return f"publish {info.name} {version}"

        update(backend, change, key=signing, staged=lambda r: [(r.file(f"artifacts/{wheel.name}"), wheel)])
        return published["entry"]


def set_status(
    hub: str | Backend | None, name: str, status: str, *, reason: str | None = None, key: Path | str | None = None
) -> Registry:
    """Mark a plugin active, deprecated or quarantined (installs of a quarantined one are refused)."""

    def change(registry: Registry) -> str:
        plugin = _plugin(registry, name)
        plugin.status, plugin.status_reason = status, reason  # type: ignore[assignment]
        return f"{name}: status {status}"

    return update(hub, change, key=key)


def yank(
    hub: str | Backend | None, name: str, version: str, *, reason: str | None = None, key: Path | str | None = None
) -> Registry:
    """Yank one version: it stays downloadable by exact pin but is never chosen by resolution."""

    def change(registry: Registry) -> str:
        plugin = _plugin(registry, name)
        entry = plugin.find(version)
        if entry is None:
            raise HubError(f"{name} has no version {version} (published: {', '.join(plugin.versions)})")
        entry.yanked, entry.yanked_reason = True, reason
        remaining = [v for v in plugin.sorted_versions() if not v.yanked]
        plugin.dist_tags.pop("latest", None)
        if remaining:
            plugin.dist_tags["latest"] = remaining[0].version
        return f"yank {name} {version}"

    return update(hub, change, key=key)


def refresh(hub: str | Backend | None, *, key: Path | str | None = None) -> Registry:
    """Re-sign the registry unchanged but for a new version and expiry (keeps an idle hub from expiring)."""
    return update(hub, lambda registry: "refresh expiry", key=key)


def _plugin(registry: Registry, name: str) -> PluginEntry:
    plugin = registry.get(name)
    if plugin is None:
        raise HubError(f"no plugin {name!r} in this hub (it has: {', '.join(sorted(registry.plugins)) or 'none'})")
    return plugin
