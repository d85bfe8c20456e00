"""Commands that inspect what is installed: plugins, list, info, doctor."""

from __future__ import annotations

import platform
import sys
from typing import Any

import click

from modahub_hub.output import CommandFailed, UserError, emit_result, json_option, print_table


def _manager() -> Any:
    from modahub.plugins import PluginError, manager

    try:
        return manager()
    except PluginError as exc:  # strict mode
        raise UserError(str(exc)) from None


def _load_all(mgr: Any) -> list[Any]:
    from modahub.plugins import PluginError

    try:
        return mgr.load_all()
    except PluginError as exc:  # strict mode
        raise UserError(str(exc)) from None


def _record_json(record: Any) -> dict[str, Any]:
    return {
        "name": record.name,
        "distribution": record.dist,
        "version": record.version,
        "module": record.module,
        "status": record.status,
        "error": record.error,
        "fix": record.fix,
        "executors": [s.name for s in record.manifest.executors] if record.manifest else [],
    }


@click.command("plugins")
@json_option
def plugins(as_json: bool) -> None:
    """Installed plugins, versions and status (loads each in its own guard)."""
    records = _load_all(_manager())
    if as_json:
        emit_result([_record_json(r) for r in records])
        return
    if not records:
        click.echo("No plugins installed. Find some with 'modahub search' and install with 'modahub install'.")
        return
    print_table(
        "Installed plugins",
        ["plugin", "distribution", "version", "status", "error"],
        [(r.name, r.dist, r.version, r.status, r.error) for r in records],
    )


def _spec_json(record: Any, spec: Any) -> dict[str, Any]:
    return {
        "name": spec.name,
        "kind": spec.kind,
        "modalities": spec.modalities,
        "space": spec.space,
        "dim": spec.dim,
        "output_modality": spec.output_modality,
        "summary": spec.summary,
        "plugin": record.name,
        "distribution": record.dist,
        "version": record.version,
    }


@click.command("list")
@json_option
@click.option("--kind", type=click.Choice(["encoder", "indexer", "text-indexer", "segmenter", "generator"]),
              help="Only this kind.")
@click.option("--modality", help="Only executors accepting this modality.")
def list_executors(as_json: bool, kind: str | None, modality: str | None) -> None:
    """Executors of installed plugins, read from their manifests (no plugin code runs)."""
    specs = sorted(
        (
            _spec_json(r, s)
            for r, s in _manager().executor_specs()
            if (kind is None or s.kind == kind) and (modality is None or modality in s.modalities or "*" in s.modalities)
        ),
        key=lambda spec: (spec["kind"], spec["name"]),
    )
    if as_json:
        emit_result(specs)
        return
    print_table(
        "Executors",
        ["name", "kind", "modalities", "space", "dim", "plugin"],
        [(s["name"], s["kind"], ", ".join(s["modalities"]), s["space"], s["dim"], s["distribution"]) for s in specs],
    )


def _hub_info(name: str, hub: str | None) -> dict[str, Any]:
    """A plugin that is not installed, as the hub's registry describes it."""
    from modahub_hub.hub import HubError
    from modahub_hub.hub.client import Hub, is_plugin_installed, plugin_row

    try:
        found = Hub.open(hub)
        plugin = found.plugin(name)
    except HubError as exc:
        raise UserError(f"{name!r} is neither installed nor in hub: {exc}",
                        hint="'modahub list' shows what is installed, 'modahub search' what the hub offers") from None
    return {"name": name, "found": "hub", "installed": is_plugin_installed(plugin.name), "hub": found.backend.hub_id,
            "plugin": plugin_row(plugin), "executor": None}


def _info(name: str, hub: str | None) -> dict[str, Any]:
    """NAME as an installed executor, else an installed plugin, else a plugin of the hub: one shape for all three."""
    from modahub.plugins import UnknownExecutorError

    mgr = _manager()
    try:
        record, spec = mgr.find_executor(name)
    except UnknownExecutorError:
        record = mgr.records.get(name) or next((r for r in mgr.records.values() if r.dist == name), None)
        if record is None:
            return _hub_info(name, hub)
        return {"name": name, "found": "plugin", "installed": record.version, "hub": None,
                "plugin": _record_json(record), "executor": None}
    return {"name": name, "found": "executor", "installed": record.version, "hub": None,
            "plugin": _record_json(record), "executor": _spec_json(record, spec) | {"extras": spec.extras}}


@click.command("info")
@click.argument("name")
@json_option
@click.option("--hub", help="Hub to look NAME up in when it is not installed (default: the configured, else the bundled hub).")
def info(name: str, as_json: bool, hub: str | None) -> None:
    """Details of an installed executor or plugin NAME, else of plugin NAME in the hub.

    The JSON holds name, found ('executor', 'plugin' or 'hub'), installed (the installed version or
    null), hub, plugin and executor (null unless NAME is an executor).
    """
    data = _info(name, hub)
    if as_json:
        emit_result(data)
        return
    shown = data["executor"] or data["plugin"]
    for key, value in [*shown.items(), ("installed", data["installed"]), *([("hub", data["hub"])] if data["hub"] else [])]:
        click.echo(f"{key:>16}: {value}")


def _hub_flags(records: list[Any]) -> tuple[list[dict[str, str]], str | None]:
    """Installed plugins the default hub quarantines or whose installed version it yanked."""
    from modahub_hub.hub import HubError
    from modahub_hub.hub.client import Hub

    try:
        opened = Hub.open()
    except HubError as exc:
        return [], str(exc)
    flagged: list[dict[str, str]] = []
    for record in records:
        try:
            plugin = opened.find(record.dist)
        except HubError as exc:
            return flagged, str(exc)
        if plugin is None:
            continue
        entry = plugin.find(record.version)
        if plugin.status == "quarantined":
            problem = f"quarantined by the hub: {plugin.status_reason or 'no reason given'}"
        elif entry is not None and entry.yanked:
            problem = f"version yanked by the hub: {entry.yanked_reason or 'no reason given'}"
        else:
            continue
        flagged.append({"distribution": record.dist, "version": record.version, "problem": problem})
    return flagged, None


@click.command("doctor")
@json_option
@click.option("--repair", is_flag=True, help="Finish or undo an interrupted install/uninstall and remove pip's leftovers.")
def doctor(as_json: bool, repair: bool) -> None:
    """Check the environment and report broken plugins with the reason and a fix."""
    import modahub

    if repair:
        from modahub_hub.hub import journal

        done = journal.recover(wait=True)
        leftovers = journal.clean_pip_leftovers()
        for line in [*done, *([f"removed pip leftovers: {', '.join(leftovers)}"] if leftovers else [])] or ["nothing to repair"]:
            click.echo(f"repair: {line}", err=True)

    mgr = _manager()
    records = _load_all(mgr)
    broken = [r for r in records if r.status == "broken"]
    flagged, hub_problem = _hub_flags(records)
    report = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "executable": sys.executable,
        "modahub_core": modahub.__version__,
        "strict": mgr.strict,
        "plugins": len(records),
        "broken": [_record_json(r) for r in broken],
        "hub_flags": flagged,
        "hub_problem": hub_problem,
    }
    if not as_json:
        _print_doctor(report, broken, flagged)
    if broken or flagged:  # doctor fails when something is broken; the JSON report rides on the error
        names = [r.dist for r in broken] + [item["distribution"] for item in flagged]
        raise CommandFailed(f"{len(names)} plugin(s) need attention: {', '.join(names)}", data=report,
                            hint="see each plugin's fix" + ("" if as_json else " above"))
    if as_json:
        emit_result(report)


def _print_doctor(report: dict[str, Any], broken: list[Any], flagged: list[dict[str, str]]) -> None:
    from modahub.plugins import LOAD_ENV, STRICT_ENV

    for key in ("python", "platform", "executable", "modahub_core", "strict", "plugins"):
        click.echo(f"{key:>13}: {report[key]}")
    click.echo(f"{'environment':>13}: {STRICT_ENV}=1 makes plugin failures fatal; {LOAD_ENV} selects plugins")
    for r in broken:
        click.secho(f"BROKEN {r.name} ({r.dist} {r.version}): {r.error}", fg="red", err=True)
        click.echo(f"   fix: {r.fix}", err=True)
    for item in flagged:
        click.secho(f"FLAGGED {item['distribution']} {item['version']}: {item['problem']}", fg="red", err=True)
        click.echo(f"   fix: modahub uninstall {item['distribution']}", err=True)
    if report["hub_problem"]:
        click.echo(f"{'hub':>13}: not checked ({report['hub_problem']})")
    if not broken:
        click.secho("All plugins load.", fg="green")
