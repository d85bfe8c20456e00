"""``modahub hub …``: create or migrate a hub, make and trust keys, delegate names, rotate keys, change plugin status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from modahub_hub.commands._hubcli import hub_errors, hub_option
from modahub_hub.output import emit_result, json_option

if TYPE_CHECKING:
    from modahub_hub.hub.backends import Backend
    from modahub_hub.hub.signing import PublicKey, SigningKey

def _done(as_json: bool, line: str, data: dict[str, Any]) -> None:
    """Report a finished hub command: ``line`` for people, ``data`` in the ``--json`` envelope."""
    if as_json:
        emit_result(data)
    else:
        click.echo(line)


key_option = click.option(
    "--key",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The hub's private signing key (default: $MODAHUB_HUB_KEY or ~/.config/modahub/keys/hub.key).",
)


@click.group("hub")
def hub() -> None:
    """Create and administer hubs (folders, static hosts, hf:// repos)."""


@hub.command("keygen")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
@json_option
@hub_errors
def keygen(path: Path | None, as_json: bool) -> None:
    """Create an ed25519 signing key at PATH (default: the user's hub.key); prints the public key."""
    from modahub_hub.hub.config import default_key_path
    from modahub_hub.hub.signing import generate_key

    key = generate_key(path or default_key_path())
    click.echo(f"private key: {key.path} (keep it secret; never commit it)", err=True)
    _done(as_json, key.public.text, {"private_key": str(key.path), "public_key": key.public.text, "keyid": key.public.keyid})


bins_option = click.option(
    "--bin-digits", default=1, show_default=True, type=click.IntRange(1, 3),
    help="Hex digits of the hash bins (16, 256 or 4096 bins); 2 suits ~10,000+ plugins.",
)


def _hub_key(key: Path | None) -> SigningKey:
    """``--key``, else the user's default hub key (created if there is none yet)."""
    from modahub_hub.hub.config import default_key_path
    from modahub_hub.hub.signing import generate_key, load_key

    if key is None and not default_key_path().exists():
        generate_key(default_key_path())
        click.echo(f"created signing key {default_key_path()}", err=True)
    return load_key(key or default_key_path())


def _tuf_backend(hub_spec: str | None) -> Backend | None:
    """The writable hub ``hub_spec`` when it is a TUF hub, else None (a legacy hub)."""
    from modahub_hub.hub.publish import writable_backend
    from modahub_hub.hub.tuf_client import has_tuf

    backend = writable_backend(hub_spec)
    return backend if has_tuf(backend) else None


@hub.command("init")
@click.argument("hub_spec", metavar="HUB")
@key_option
@click.option("--legacy", is_flag=True, help="Create a single-file registry hub (before TUF; owners are free text).")
@click.option("--files-dir", default="", help="Legacy hubs: folder (relative to registry.json) for the other hub files.")
@click.option("--start-version", default=1, show_default=True, type=click.IntRange(min=1), help="Legacy hubs: first version.")
@click.option(
    "--expires-days", default=90, show_default=True, type=click.IntRange(min=1),
    help="Each change re-signs timestamp and snapshot for this long.",
)
@bins_option
@json_option
@hub_errors
def init(hub_spec: str, key: Path | None, legacy: bool, files_dir: str, start_version: int, expires_days: int,
         bin_digits: int, as_json: bool) -> None:
    """Create an empty signed hub at HUB (a folder or hf://owner/repo) and trust its key here.

    The hub is a TUF repository: root, timestamp, snapshot and targets signed by the hub's key (--key,
    default: the user's hub key, created if missing), one delegated role per owner key.
    """
    from modahub_hub.hub.backends import open_backend
    from modahub_hub.hub.publish import init_hub
    from modahub_hub.hub.tuf_ops import create
    from modahub_hub.hub.tuf_repo import Settings

    signing = _hub_key(key)
    if legacy:
        registry = init_hub(hub_spec, key=signing, files_dir=files_dir, start_version=start_version,
                            expires_after_days=expires_days)
        _done(as_json, f"created hub {hub_spec} (registry version {registry.version}, signed by key {registry.keys[0].keyid})",
              {"hub": hub_spec, "format": "legacy", "version": registry.version, "keys": [registry.keys[0].public]})
        return
    create(open_backend(hub_spec), [signing], Settings(bin_digits=bin_digits, expires_days=expires_days))
    _done(as_json, f"created TUF hub {hub_spec} (root keys: {signing.public.text})",
          {"hub": hub_spec, "format": "tuf", "version": 1, "keys": [signing.public.text]})


@hub.command("migrate")
@click.argument("hub_spec", metavar="HUB")
@key_option
@bins_option
@json_option
@hub_errors
def migrate_cmd(hub_spec: str, key: Path | None, bin_digits: int, as_json: bool) -> None:
    """Turn the legacy hub HUB (one registry.json) into a TUF hub signed by the same key.

    Every plugin is delegated to the key holder's owner role; hand names to their owners with
    'modahub hub delegate'. The legacy registry.json stays, frozen, for old clients until it expires.
    """
    from modahub_hub.hub.publish import writable_backend
    from modahub_hub.hub.tuf_ops import migrate
    from modahub_hub.hub.tuf_repo import Settings

    backend = writable_backend(hub_spec)
    signing = _hub_key(key)
    moved = migrate(backend, signing, Settings(bin_digits=bin_digits))
    _done(as_json, f"migrated {moved} plugins of {backend.hub_id} to TUF (root key {signing.public.text})",
          {"hub": backend.hub_id, "plugins": moved, "keys": [signing.public.text]})


@hub.command("delegate")
@click.argument("name")
@click.argument("owner_keys", nargs=-1, required=True, metavar="OWNER_PUBLIC_KEY...")
@click.option("--threshold", default=1, show_default=True, type=click.IntRange(min=1), help="Owner keys that must sign.")
@click.option("--owner-key", "owner_signers", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="A private key of the new owner (repeat for a threshold): re-signs NAME's published versions for "
                   "the new owner, so they stay installable (without it they are hidden until the new owner publishes).")
@hub_option
@key_option
@json_option
@hub_errors
def delegate_cmd(name: str, owner_keys: tuple[str, ...], threshold: int, owner_signers: tuple[Path, ...], hub: str | None,
                 key: Path | None, as_json: bool) -> None:
    """Bind plugin NAME to the owner key(s) OWNER_PUBLIC_KEY ('ed25519:…' or a .pub file): a transfer or a reservation."""
    from modahub_hub.hub.signing import load_key
    from modahub_hub.hub.tuf_ops import delegate

    backend = _require_tuf(hub)
    role = delegate(backend, name, [_public(k) for k in owner_keys], hub_keys=[_hub_key(key)], threshold=threshold,
                    owner_signers=[load_key(p) for p in owner_signers])
    _done(as_json, f"{name} now belongs to {role}" + (" (its published versions re-signed)" if owner_signers else ""),
          {"name": name, "role": role, "resigned": bool(owner_signers)})


@hub.command("revoke")
@click.argument("name")
@hub_option
@key_option
@json_option
@hub_errors
def revoke_cmd(name: str, hub: str | None, key: Path | None, as_json: bool) -> None:
    """Take plugin NAME away from its owner: clients stop finding it until it is delegated again."""
    from modahub_hub.hub.tuf_ops import revoke

    former = revoke(_require_tuf(hub), name, hub_keys=[_hub_key(key)])
    _done(as_json, f"{name} revoked from {former}", {"name": name, "former_role": former})


@hub.command("rotate-owner")
@click.argument("old_key", metavar="OLD_OWNER_PUBLIC_KEY")
@click.option("--new-owner-key", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The owner's new private key (it re-signs the owner's roles).")
@hub_option
@key_option
@json_option
@hub_errors
def rotate_owner_cmd(old_key: str, new_owner_key: Path, hub: str | None, key: Path | None, as_json: bool) -> None:
    """Replace an owner's key everywhere it is delegated (the hub's key holder, with the owner's new key)."""
    from modahub_hub.hub.signing import load_key
    from modahub_hub.hub.tuf_ops import rotate_owner

    roles = rotate_owner(_require_tuf(hub), _public(old_key), load_key(new_owner_key), hub_keys=[_hub_key(key)])
    new_key = load_key(new_owner_key).public
    _done(as_json, f"rotated {', '.join(roles)} to key {new_key.keyid}", {"roles": roles, "key": new_key.text})


@hub.command("rotate-root")
@click.option("--root-key", "root_keys", multiple=True, required=True, help="A public key of the new root (repeat).")
@click.option("--threshold", default=1, show_default=True, type=click.IntRange(min=1), help="Root keys that must sign.")
@click.option("--online-key", "online_keys", multiple=True,
              help="New public key(s) for timestamp, snapshot and targets (default: unchanged).")
@click.option("--key", "keys", multiple=True, required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Private keys that sign: a threshold of the old root's and of the new root's (repeat).")
@hub_option
@json_option
@hub_errors
def rotate_root_cmd(root_keys: tuple[str, ...], threshold: int, online_keys: tuple[str, ...], keys: tuple[Path, ...],
                    hub: str | None, as_json: bool) -> None:
    """Publish a new root version: new root keys and threshold; clients follow the chain without breaking."""
    from modahub_hub.hub.signing import load_key
    from modahub_hub.hub.tuf_ops import rotate_root

    version = rotate_root(_require_tuf(hub), keys=[load_key(k) for k in keys], root_keys=[_public(k) for k in root_keys],
                          threshold=threshold, online_keys=[_public(k) for k in online_keys] or None)
    _done(as_json, f"root version {version}: {threshold} of {len(root_keys)} key(s)",
          {"root_version": version, "threshold": threshold, "root_keys": list(root_keys)})


def _require_tuf(hub_spec: str | None) -> Backend:
    backend = _tuf_backend(hub_spec)
    if backend is None:
        from modahub_hub.hub import HubError

        raise HubError(f"{hub_spec or 'the default hub'} is a legacy hub; run 'modahub hub migrate' first")
    return backend


def _public(text: str) -> PublicKey:
    from modahub_hub.hub.signing import PublicKey

    return PublicKey.parse(Path(text).read_text(encoding="utf-8") if Path(text).is_file() else text, source=text)


@hub.command("trust")
@click.argument("hub_spec", metavar="HUB")
@click.argument("public_key")
@json_option
@hub_errors
def trust_cmd(hub_spec: str, public_key: str, as_json: bool) -> None:
    """Trust PUBLIC_KEY ('ed25519:…', or a .pub file) to sign the hub at HUB.

    Trust belongs to the hub, not to HUB's location: the same hub served elsewhere is trusted too.
    The key must sign the hub now. Also the one way to accept a different hub at a location used before.
    """
    from modahub_hub.hub.backends import open_backend
    from modahub_hub.hub.trust import trust_hub

    key = _public(public_key)
    identity = trust_hub(open_backend(hub_spec), key)
    _done(as_json, f"trusting key {key.keyid} for the hub {identity} (at {hub_spec} and wherever it is served)",
          {"hub": hub_spec, "identity": identity, "key": key.text})


@hub.command("default")
@click.argument("hub_spec", metavar="HUB", required=False)
@json_option
@hub_errors
def default(hub_spec: str | None, as_json: bool) -> None:
    """Set the hub used when --hub is not given (without HUB: show it)."""
    from modahub_hub.hub.client import default_hub_spec
    from modahub_hub.hub.config import updating

    if hub_spec:
        with updating("config.json") as config:
            config["default_hub"] = hub_spec
    _done(as_json, default_hub_spec(), {"default_hub": default_hub_spec()})


@hub.command("status")
@click.argument("name")
@click.argument("status", type=click.Choice(["active", "deprecated", "quarantined"]))
@click.option("--reason", help="Shown to users (e.g. why it is quarantined).")
@hub_option
@key_option
@json_option
@hub_errors
def status(name: str, status: str, reason: str | None, hub: str | None, key: Path | None, as_json: bool) -> None:
    """Set plugin NAME's status; installing a quarantined plugin is refused."""
    from modahub_hub.hub.publish import set_status
    from modahub_hub.hub.tuf_ops import set_status as set_tuf_status

    backend = _tuf_backend(hub)
    if backend is not None:
        set_tuf_status(backend, name, status, hub_keys=[_hub_key(key)], reason=reason)
        _done(as_json, f"{name} is {status}", {"name": name, "status": status, "reason": reason})
        return
    registry = set_status(hub, name, status, reason=reason, key=key)
    _done(as_json, f"{name} is {status} (registry version {registry.version})",
          {"name": name, "status": status, "reason": reason, "registry_version": registry.version})


@hub.command("yank")
@click.argument("name")
@click.argument("version")
@click.option("--reason", help="Shown to users.")
@click.option("--owner-key", type=click.Path(dir_okay=False, path_type=Path),
              help="TUF hubs: the plugin owner's private key (default: $MODAHUB_OWNER_KEY or the user's owner.key).")
@hub_option
@key_option
@json_option
@hub_errors
def yank_cmd(name: str, version: str, reason: str | None, owner_key: Path | None,
             hub: str | None, key: Path | None, as_json: bool) -> None:
    """Yank VERSION of NAME: resolution skips it, an exact pin still gets it."""
    from modahub_hub.hub.publish import owner_signing_key, yank
    from modahub_hub.hub.tuf_ops import yank as yank_tuf

    backend = _tuf_backend(hub)
    if backend is not None:
        yank_tuf(backend, name, version, hub_keys=[_hub_key(key)], owner=owner_signing_key(owner_key), reason=reason)
        _done(as_json, f"yanked {name} {version}", {"name": name, "version": version, "reason": reason})
        return
    registry = yank(hub, name, version, reason=reason, key=key)
    _done(as_json, f"yanked {name} {version} (registry version {registry.version})",
          {"name": name, "version": version, "reason": reason, "registry_version": registry.version})


@hub.command("refresh")
@hub_option
@key_option
@json_option
@hub_errors
def refresh_cmd(hub: str | None, key: Path | None, as_json: bool) -> None:
    """Re-sign with a new version and expiry (an idle hub would otherwise expire); also recovers an expired hub."""
    from modahub_hub.hub.publish import refresh
    from modahub_hub.hub.tuf_ops import refresh as refresh_tuf

    backend = _tuf_backend(hub)
    if backend is not None:
        expires = refresh_tuf(backend, hub_keys=[_hub_key(key)])
        _done(as_json, f"timestamp and snapshot re-signed, expire {expires.isoformat()}", {"expires": expires.isoformat()})
        return

    registry = refresh(hub, key=key)
    _done(as_json, f"registry version {registry.version}, expires {registry.expires.isoformat()}",
          {"expires": registry.expires.isoformat(), "registry_version": registry.version})


@hub.command("schema")
def schema() -> None:
    """Print the JSON Schema of registry.json."""
    from modahub_hub.hub.registry import Registry

    click.echo(json.dumps(Registry.model_json_schema(), indent=2, sort_keys=True))
