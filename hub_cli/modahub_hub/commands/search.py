"""``modahub search``: find plugins in a hub's signed index (no plugin code runs, nothing is installed)."""

from __future__ import annotations

import click

from modahub_hub.commands._hubcli import hub_errors, hub_option, trust_option
from modahub_hub.output import emit_result, json_option, print_table


@click.command("search")
@click.argument("query", required=False, default="")
@click.option("--modality", help="Only plugins accepting this modality.")
@click.option("--kind", type=click.Choice(["encoder", "indexer", "text-indexer", "segmenter", "generator"]),
              help="Only plugins with this kind of executor.")
@hub_option
@trust_option
@json_option
@hub_errors
def search(query: str, modality: str | None, kind: str | None, as_json: bool, hub: str | None) -> None:
    """Find plugins whose name, summary or executors match QUERY."""
    from modahub_hub.hub.backends import open_backend
    from modahub_hub.hub.tuf_client import TufReader, has_tuf

    if hub is None:
        from modahub_hub.hub.client import default_hub_spec

        hub = default_hub_spec()
    backend = open_backend(hub)
    if has_tuf(backend):  # the signed index alone: neither the registry schema nor the resolver is imported
        found = TufReader(backend).rows(query, modality=modality, kind=kind)
    else:
        from modahub_hub.hub.client import Hub

        found = Hub(backend).rows(query, modality=modality, kind=kind)
    if as_json:
        emit_result(found)
        return
    if not found:
        click.echo("No plugins match.", err=True)
        return
    print_table(
        "Plugins",
        ["name", "version", "kinds", "modalities", "status", "summary"],
        [(p["name"], p["version"], ", ".join(p["kinds"]), ", ".join(p["modalities"]), p["status"], p["summary"]) for p in found],
    )
