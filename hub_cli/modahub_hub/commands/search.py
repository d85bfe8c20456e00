"""``modahub search``: find plugins in a hub's registry (no plugin code runs, nothing is installed)."""

from __future__ import annotations

from typing import Any

import click

from modahub_hub.commands._hubcli import hub_errors, hub_option
from modahub_hub.output import emit_json, print_table


def plugin_json(plugin: Any) -> dict[str, Any]:
    """A registry plugin entry as shown by search and info."""
    latest = plugin.latest()
    return {
        "name": plugin.name,
        "version": latest.version if latest else None,
        "summary": plugin.summary,
        "owner": plugin.owner,
        "license": plugin.license,
        "status": plugin.status,
        "kinds": latest.kinds() if latest else [],
        "modalities": latest.modalities() if latest else [],
        "executors": [e.model_dump(exclude_defaults=True) for e in latest.manifest.executors] if latest else [],
        "versions": [v.version + (" (yanked)" if v.yanked else "") for v in plugin.sorted_versions()],
    }


@click.command("search")
@click.argument("query", required=False, default="")
@click.option("--modality", help="Only plugins accepting this modality.")
@click.option("--kind", type=click.Choice(["encoder", "indexer", "generator"]), help="Only plugins with this kind of executor.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@hub_option
@hub_errors
def search(query: str, modality: str | None, kind: str | None, as_json: bool, hub: str | None) -> None:
    """Find plugins whose name, summary or executors match QUERY."""
    from modahub_hub.hub.client import Hub
    from modahub_hub.hub.client import search as find

    found = [plugin_json(p) for p in find(Hub.open(hub).registry, query, modality=modality, kind=kind)]
    if as_json:
        emit_json(found)
        return
    if not found:
        click.echo("No plugins match.", err=True)
        return
    print_table(
        "Plugins",
        ["name", "version", "kinds", "modalities", "status", "summary"],
        [(p["name"], p["version"], ", ".join(p["kinds"]), ", ".join(p["modalities"]), p["status"], p["summary"]) for p in found],
    )
