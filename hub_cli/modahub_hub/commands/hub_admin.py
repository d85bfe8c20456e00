"""``modahub hub …``: create a hub, make and trust keys, pick the default hub, change plugin status."""

from __future__ import annotations

from pathlib import Path

import click

from modahub_hub.commands._hubcli import hub_errors, hub_option
from modahub_hub.output import emit_json

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
@hub_errors
def keygen(path: Path | None) -> None:
    """Create an ed25519 signing key at PATH (default: the user's hub.key); prints the public key."""
    from modahub_hub.hub.config import default_key_path
    from modahub_hub.hub.signing import generate_key

    key = generate_key(path or default_key_path())
    click.echo(f"private key: {key.path} (keep it secret; never commit it)", err=True)
    click.echo(key.public.text)


@hub.command("init")
@click.argument("hub_spec", metavar="HUB")
@key_option
@click.option("--files-dir", default="", help="Folder (relative to registry.json) for the other hub files, e.g. 'hub'.")
@click.option("--start-version", default=1, show_default=True, type=click.IntRange(min=1), help="The registry's first version.")
@click.option(
    "--expires-days", default=90, show_default=True, type=click.IntRange(min=1), help="Each publish re-signs for this long."
)
@hub_errors
def init(hub_spec: str, key: Path | None, files_dir: str, start_version: int, expires_days: int) -> None:
    """Create an empty signed hub at HUB (a folder or hf://owner/repo) and trust its key here.

    Without --key, the user's default key is used, and created if there is none yet.
    """
    from modahub_hub.hub.config import default_key_path
    from modahub_hub.hub.publish import init_hub
    from modahub_hub.hub.signing import generate_key

    if key is None and not default_key_path().exists():
        generate_key(default_key_path())
        click.echo(f"created signing key {default_key_path()}", err=True)
    registry = init_hub(hub_spec, key=key, files_dir=files_dir, start_version=start_version, expires_after_days=expires_days)
    click.echo(f"created hub {hub_spec} (registry version {registry.version}, signed by key {registry.keys[0].keyid})")


@hub.command("trust")
@click.argument("hub_spec", metavar="HUB")
@click.argument("public_key")
@hub_errors
def trust_cmd(hub_spec: str, public_key: str) -> None:
    """Trust PUBLIC_KEY ('ed25519:…', or a .pub file) to sign the registry of HUB."""
    from modahub_hub.hub.backends import open_backend
    from modahub_hub.hub.signing import PublicKey
    from modahub_hub.hub.trust import trust

    text = Path(public_key).read_text(encoding="utf-8") if Path(public_key).is_file() else public_key
    key = PublicKey.parse(text)
    backend = open_backend(hub_spec)
    trust(backend.hub_id, key)
    click.echo(f"trusting key {key.keyid} for {backend.hub_id}")


@hub.command("default")
@click.argument("hub_spec", metavar="HUB", required=False)
@hub_errors
def default(hub_spec: str | None) -> None:
    """Set the hub used when --hub is not given (without HUB: show it)."""
    from modahub_hub.hub.client import default_hub_spec
    from modahub_hub.hub.config import updating

    if hub_spec:
        with updating("config.json") as config:
            config["default_hub"] = hub_spec
    click.echo(default_hub_spec())


@hub.command("status")
@click.argument("name")
@click.argument("status", type=click.Choice(["active", "deprecated", "quarantined"]))
@click.option("--reason", help="Shown to users (e.g. why it is quarantined).")
@hub_option
@key_option
@hub_errors
def status(name: str, status: str, reason: str | None, hub: str | None, key: Path | None) -> None:
    """Set plugin NAME's status; installing a quarantined plugin is refused."""
    from modahub_hub.hub.publish import set_status

    registry = set_status(hub, name, status, reason=reason, key=key)
    click.echo(f"{name} is {status} (registry version {registry.version})")


@hub.command("yank")
@click.argument("name")
@click.argument("version")
@click.option("--reason", help="Shown to users.")
@hub_option
@key_option
@hub_errors
def yank_cmd(name: str, version: str, reason: str | None, hub: str | None, key: Path | None) -> None:
    """Yank VERSION of NAME: resolution skips it, an exact pin still gets it."""
    from modahub_hub.hub.publish import yank

    registry = yank(hub, name, version, reason=reason, key=key)
    click.echo(f"yanked {name} {version} (registry version {registry.version})")


@hub.command("refresh")
@hub_option
@key_option
@hub_errors
def refresh_cmd(hub: str | None, key: Path | None) -> None:
    """Re-sign the registry with a new version and expiry (an idle hub would otherwise expire)."""
    from modahub_hub.hub.publish import refresh

    registry = refresh(hub, key=key)
    click.echo(f"registry version {registry.version}, expires {registry.expires.isoformat()}")


@hub.command("schema")
def schema() -> None:
    """Print the JSON Schema of registry.json."""
    from modahub_hub.hub.registry import Registry

    emit_json(Registry.model_json_schema())
