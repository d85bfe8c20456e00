"""``modahub pull | install | uninstall | upgrade``: plugins from a hub, verified before anything runs."""

from __future__ import annotations

from pathlib import Path

import click

from modahub_hub.commands._hubcli import hub_errors, hub_option, rich_progress, trust_option
from modahub_hub.output import UserError, emit_result, json_option


@click.command("pull")
@click.argument("requirement", metavar="NAME[==VERSION]")
@click.option("-d", "--dest", type=click.Path(file_okay=False, path_type=Path), default=Path("."), help="Download folder.")
@hub_option
@trust_option
@json_option
@hub_errors
def pull(requirement: str, dest: Path, hub: str | None, as_json: bool) -> None:
    """Download and verify a plugin's wheel without installing it."""
    from modahub_hub.hub.install import Request
    from modahub_hub.hub.install import pull as do_pull

    wheel = do_pull(Request(requirement, hub), dest, progress=rich_progress)
    if as_json:
        emit_result({"wheel": str(wheel)})
    else:
        click.echo(wheel)


@click.command("install")
@click.argument("requirements", nargs=-1, metavar="NAME[==VERSION]...")
@click.option("-r", "--requirement", "files", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Install the plugins listed in FILE (e.g. the plugin lock).")
@click.option("--force", is_flag=True, help="Reinstall plugins that are already at the chosen version.")
@hub_option
@trust_option
@json_option
@hub_errors
def install(requirements: tuple[str, ...], files: tuple[Path, ...], force: bool, hub: str | None, as_json: bool) -> None:
    """Install plugins from a hub into this environment, all or nothing."""
    from modahub_hub.hub.install import Request, read_requests
    from modahub_hub.hub.install import install as do_install

    requests = [Request(r, hub) for r in requirements]
    for path in files:
        requests += [Request(r.requirement, hub or r.hub, r.sha256) for r in read_requests(path)]
    if not requests:
        raise UserError("nothing to install: name plugins (modahub install NAME) or pass -r FILE")
    done = do_install(requests, progress=rich_progress, force=force)
    if as_json:
        emit_result({"installed": [{"name": item.plugin.name, "version": item.entry.version} for item in done]})
        return
    for item in done:
        click.echo(f"installed {item.plugin.name} {item.entry.version}")
    if not done:
        click.echo("already installed; nothing to do (use --force to reinstall)")


@click.command("uninstall")
@click.argument("names", nargs=-1, required=True, metavar="NAME...")
@json_option
@hub_errors
def uninstall(names: tuple[str, ...], as_json: bool) -> None:
    """Uninstall plugins and remove them from the plugin lock."""
    from modahub_hub.hub.install import uninstall as do_uninstall

    kept = do_uninstall(list(names))
    for entry in kept:
        click.echo(f"warning: kept {entry}: its RECORD lists a file outside its own files", err=True)
    if as_json:
        emit_result({"uninstalled": list(names), "kept": [str(entry) for entry in kept]})
        return
    for name in names:
        click.echo(f"uninstalled {name}")


@click.command("upgrade")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@hub_option
@trust_option
@json_option
@hub_errors
def upgrade(names: tuple[str, ...], hub: str | None, as_json: bool) -> None:
    """Upgrade plugins (default: all in the plugin lock) to their newest compatible version."""
    from modahub_hub.hub.install import upgrade as do_upgrade

    done = do_upgrade(list(names), hub, progress=rich_progress)
    if as_json:
        emit_result({"upgraded": [{"name": item.plugin.name, "version": item.entry.version} for item in done]})
        return
    for item in done:
        click.echo(f"upgraded {item.plugin.name} to {item.entry.version}")
    if not done:
        click.echo("everything is up to date")
