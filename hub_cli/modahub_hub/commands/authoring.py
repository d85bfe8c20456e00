"""Authoring commands: ``modahub new`` (scaffold a plugin) and ``modahub test`` (run the executor contract)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from modahub_hub.output import UserError, VerificationFailed, emit_result, json_option, print_table

_KINDS = ("encoder", "indexer", "generator")
_MODALITY_HELP = "text, image, audio, video, mesh, pointcloud, timeseries, '*' (indexers), or a new name to register"


def _ask(value: object, interactive: bool, prompt: str, default: object, **kwargs: Any) -> object:
    """The flag's value; else, interactively, a prompt with ``default``; else the default."""
    if value is not None:
        return value
    if interactive:
        return click.prompt(prompt, default=default, **kwargs)
    return default


@click.command("new")
@click.argument("name")
@click.option("--kind", type=click.Choice(_KINDS), help="What the plugin's executor does (default encoder).")
@click.option("--modality", help=f"Modality it handles or makes: {_MODALITY_HELP}.")
@click.option("--modality-description", help="One line describing a new modality.")
@click.option("--field", "fields", multiple=True, metavar="NAME:TYPE",
              help="A field of a new modality's payload; TYPE is str, int, float, bool or array. Repeatable "
                   "(default: values:array).")
@click.option("--extension", "extensions", multiple=True, metavar=".EXT",
              help="A file extension a new modality reads (e.g. .smi). Repeatable.")
@click.option("--dim", type=int, help="Encoder vector size (default 256 for text, else 64).")
@click.option("--space", help="Encoder embedding space name (default NAME-v1).")
@click.option("--description", help="One-line summary for the manifest, README and package metadata.")
@click.option("--author", help="Author name for the package metadata.")
@click.option("--email", help="Author e-mail for the package metadata.")
@click.option("--license", "license_", help="SPDX license expression (default Apache-2.0).")
@click.option("--directory", type=click.Path(path_type=Path),
              help="Folder to create (default ./modahub-NAME); with --add, the plugin folder (default .).")
@click.option("--add", "add_kind", type=click.Choice(_KINDS),
              help="Add executor NAME of this kind to the existing plugin in --directory: code, contract test, "
                   "registration, regenerated modahub.toml.")
@click.option(
    "--interactive/--no-interactive", default=None,
    help="Prompt for choices not given as flags (default: when a terminal and not --json).",
)
@json_option
def new(
    name: str,
    kind: str | None,
    modality: str | None,
    modality_description: str | None,
    fields: tuple[str, ...],
    extensions: tuple[str, ...],
    dim: int | None,
    space: str | None,
    description: str | None,
    author: str | None,
    email: str | None,
    license_: str | None,
    directory: Path | None,
    add_kind: str | None,
    interactive: bool | None,
    as_json: bool,
) -> None:
    """Create a complete plugin NAME: executor, manifest, contract tests, README, Dockerfile, CI
    (or, with --add KIND, add executor NAME to an existing plugin)."""
    from modahub_hub.scaffold import ScaffoldError, ScaffoldOptions, plugin_names, render
    from modahub_hub.scaffold.names import PluginNameError, clash, taken_names

    ask = interactive if interactive is not None else sys.stdin.isatty() and not as_json
    try:
        names = plugin_names(name)
    except PluginNameError as exc:
        raise UserError(str(exc)) from None
    if add_kind is not None:
        from modahub_hub.scaffold.add import add_executor

        folder = directory or Path(".")
        try:
            default_modality = "*" if add_kind == "indexer" else "text"
            wanted = ScaffoldOptions(names, kind=add_kind, modality=modality or default_modality,  # type: ignore[arg-type]
                                     dim=dim, space=space, description=description or "")
            changed = add_executor(folder, wanted)
        except ScaffoldError as exc:
            raise UserError(str(exc)) from None
        if as_json:
            emit_result({"directory": str(folder), "added": {"name": names.name, "kind": add_kind},
                         "files": [p.as_posix() for p in changed]})
        else:
            click.echo(f"Added {add_kind} {names.name!r} to {folder}/: " + ", ".join(p.as_posix() for p in changed))
        return
    taken = clash(names, taken_names())
    if taken:
        kind_of = "is the name of" if taken == names.dist else "looks like"
        raise UserError(f"{names.dist!r} {kind_of} the existing plugin {taken!r} (the hub refuses look-alikes); choose another")
    dest = directory or Path(names.dist)
    if dest.exists():
        raise UserError(f"{dest} already exists; nothing was changed (choose another name or --directory)")
    kind = str(_ask(kind, ask, "Kind", "encoder", type=click.Choice(_KINDS)))
    modality = str(_ask(modality, ask, f"Modality ({_MODALITY_HELP})", "*" if kind == "indexer" else "text"))
    options = dict(
        description=_ask(description, ask, "One-line description", ""),
        author=_ask(author, ask, "Author", ""),
        email=_ask(email, ask, "E-mail", ""),
        license=_ask(license_, ask, "License", "Apache-2.0"),
    )
    from modahub_hub.scaffold.render import ANY_MODALITY, BUILTIN_MODALITIES, DEFAULT_DIM, FALLBACK_DIM

    provider = _modality_provider(modality) if modality not in (*BUILTIN_MODALITIES, ANY_MODALITY) else ""
    if provider:
        click.echo(f"{modality!r} is declared by the installed {provider}: the plugin depends on it and builds on it")
        options["modality_provider"] = provider
    elif modality not in (*BUILTIN_MODALITIES, ANY_MODALITY):
        options["modality_description"] = _ask(modality_description, ask, f"Describe the new modality {modality!r}", "")
    bad = [f for f in fields if f.count(":") != 1]
    if bad:
        raise UserError(f"--field {bad[0]!r}: write NAME:TYPE, e.g. --field smiles:str")
    options["fields"] = tuple(tuple(f.split(":")) for f in fields)
    options["extensions"] = tuple(e.lower() for e in extensions)
    if kind == "encoder":
        options["dim"] = _ask(dim, ask, "Vector size", DEFAULT_DIM.get(modality, FALLBACK_DIM), type=int)
        options["space"] = _ask(space, ask, "Embedding space", f"{names.name}-v1")
    try:
        scaffold = ScaffoldOptions(names, kind=kind, modality=modality, **options)  # type: ignore[arg-type]
        written = render(scaffold, dest)
    except ScaffoldError as exc:
        raise UserError(str(exc)) from None
    if as_json:
        emit_result({"directory": str(dest), "distribution": names.dist, "kind": kind, "modality": modality,
                     "new_modality": scaffold.new_modality, "files": [path.as_posix() for path in written]})
        return
    click.echo(f"Created {dest}/ ({len(written)} files): {names.dist}, {kind} for {modality}"
               + (f" (new modality {modality!r})" if scaffold.new_modality else ""))
    for path in written:
        click.echo(f"  {path.as_posix()}")
    click.echo(f"Next:\n  cd {dest}\n  pip install -e '.[test]' && pytest\n  modahub test .\n  modahub publish . --hub HUB")


def _modality_provider(modality: str) -> str:
    """The installed distribution whose manifest declares ``modality`` ("" when none does; no plugin code runs)."""
    from modahub.plugins import manager

    declaring = (r.dist for r in manager().active() if any(m.name == modality for m in r.manifest.modalities))  # type: ignore[union-attr]
    return next(declaring, "")


@click.command("test")
@click.argument("targets", nargs=-1, required=True, metavar="PATH|NAME...")
@click.option("--executor", "executors", multiple=True, help="Test only this executor (repeatable).")
@json_option
def test(targets: tuple[str, ...], executors: tuple[str, ...], as_json: bool) -> None:
    """Run the executor contract on plugin folders, wheels or installed plugin names; exit 3 on any failure.

    With --json, data is the list of reports, one per target.
    """
    from modahub_hub.contract_targets import ContractTargetError, run_here

    reports = []
    for target in targets:
        try:
            reports.append(run_here(target, executors=list(executors) or None))
        except ContractTargetError as exc:
            raise UserError(str(exc)) from None
    data = [r.to_dict() for r in reports]
    if not as_json:
        for report in reports:
            _print_report(report)
    failed = [r.plugin for r in reports if not r.ok]
    if failed:
        where = "" if as_json else " listed above"
        raise VerificationFailed(f"the executor contract fails for {', '.join(failed)}", data=data,
                                 hint=f"fix the failing rules{where}, then run 'modahub test' again")
    if as_json:
        emit_result(data)


def _print_report(report: Any) -> None:
    rows = [(r.executor, r.rule, "pass" if r.status == "passed" else "FAIL", r.message) for r in report.results]
    print_table(f"Contract: {report.plugin} {report.version}", ["executor", "rule", "result", "detail"], rows)
    for error in report.errors:
        click.secho(f"error: {error}", fg="red", err=True)
    failed = len(report.failures)
    summary = f"{len(report.results) - failed} passed, {failed} failed"
    summary += f", {len(report.errors)} errors" if report.errors else ""
    click.secho(summary, fg="green" if report.ok else "red", err=not report.ok)
