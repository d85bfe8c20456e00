"""``modahub publish``: build, check, sign and upload a plugin to a hub, atomically."""

from __future__ import annotations

import json
from pathlib import Path

import click

from modahub_hub.commands._hubcli import hub_errors, hub_option
from modahub_hub.output import UserError, emit_result, json_option


@click.command("publish")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@hub_option
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path), help="The hub's private signing key.")
@click.option("--owner", help="Legacy hubs only: who publishes (free text; default: the wheel's author).")
@click.option("--owner-key", "owner_keys", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="TUF hubs: your owner key, which signs the plugin; a name belongs to the key that first published it "
                   "(default: $MODAHUB_OWNER_KEY or ~/.config/modahub/keys/owner.key, created if missing). Repeat it for "
                   "a name delegated to a threshold of owner keys.")
@click.option("--weights", "weights_file", type=click.Path(dir_okay=False, path_type=Path),
              help="JSON list of weights pins: [{repo_id, revision, files: [{path, sha256}]}].")
@click.option("--container", help="Container image pinned by digest (name@sha256:…).")
@click.option("--allow-lookalike", is_flag=True,
              help="Publish a new name that folds to an existing one's look-alike skeleton (your own sibling plugin).")
@json_option
@hub_errors
def publish(path: Path, hub: str | None, key: Path | None, owner: str | None, owner_keys: tuple[Path, ...],
            weights_file: Path | None, container: str | None, allow_lookalike: bool, as_json: bool) -> None:
    """Publish the plugin folder or wheel PATH to a hub (refuses to overwrite a published version)."""
    from pydantic import TypeAdapter, ValidationError

    from modahub_hub.hub.publish import publish as do_publish
    from modahub_hub.hub.registry import WeightsDownload

    weights = None
    if weights_file is not None:
        try:
            weights = TypeAdapter(list[WeightsDownload]).validate_python(json.loads(weights_file.read_text(encoding="utf-8")))
        except (ValueError, ValidationError) as exc:
            raise UserError(f"{weights_file}: not a list of weights pins: {exc}") from None
    entry = do_publish(path, hub, key=key, owner=owner, weights=weights, container=container, owner_key=list(owner_keys) or None,
                       allow_lookalike=allow_lookalike)
    if as_json:
        emit_result({"version": entry.version, "filename": entry.artifact.filename, "sha256": entry.artifact.sha256})
    else:
        click.echo(f"published {entry.artifact.filename} (sha256 {entry.artifact.sha256[:16]}…)")
