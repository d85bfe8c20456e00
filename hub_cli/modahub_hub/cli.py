"""The ``modahub`` command line: a click group whose commands are imported only when invoked.

``modahub --help`` imports click and nothing else of weight; each command lives in its own module
under :mod:`modahub_hub.commands`. Commands that plugins add (declared in their manifests) are
resolved through the plugin manager on first use.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

DEBUG_ENV = "MODAHUB_DEBUG"

# name -> (module:attribute, one-line help shown by --help without importing the module)
COMMANDS: dict[str, tuple[str, str]] = {
    "plugins": ("modahub_hub.commands.inspect:plugins", "Installed plugins, versions and status."),
    "list": ("modahub_hub.commands.inspect:list_executors", "Executors of installed plugins (no plugin code runs)."),
    "info": ("modahub_hub.commands.inspect:info", "Details of an installed executor or plugin."),
    "doctor": ("modahub_hub.commands.inspect:doctor", "Check the environment and report broken plugins."),
    "new": ("modahub_hub.commands.authoring:new", "Create a plugin from a template, or --add an executor to one."),
    "test": ("modahub_hub.commands.authoring:test", "Run the executor contract on a plugin folder or installed plugin."),
    "manifest": ("modahub_hub.commands.manifest:manifest", "Write a plugin folder's modahub.toml from its code, or check it."),
    "hub": ("modahub_hub.commands.hub_admin:hub", "Create and administer hubs: init, keygen, trust, default, status, yank."),
    "search": ("modahub_hub.commands.search:search", "Find plugins in a hub by name, summary, modality and kind."),
    "pull": ("modahub_hub.commands.install:pull", "Download and verify a plugin's wheel without installing it."),
    "install": ("modahub_hub.commands.install:install", "Install plugins from a hub (verified, all or nothing)."),
    "uninstall": ("modahub_hub.commands.install:uninstall", "Uninstall plugins and drop them from the plugin lock."),
    "upgrade": ("modahub_hub.commands.install:upgrade", "Upgrade installed plugins to their newest compatible version."),
    "publish": ("modahub_hub.commands.publish:publish", "Build, check, sign and publish a plugin to a hub."),
    "run": ("modahub_hub.commands.run:run", "Run an app's index, search, generate or encode pipeline in process."),
    "serve": ("modahub_hub.commands.serve:serve", "Serve an app over HTTP (FastAPI + uvicorn, 127.0.0.1 by default)."),
    "image": ("modahub_hub.commands.image:image", "Build container images of apps and plugins (docker SDK, no registry)."),
    "demo": ("modahub_hub.commands.demo:demo", "The main job: cross-modal search and generation on digits, with a report."),
    "regenerate": ("modahub_hub.commands.regenerate:regenerate", "Rebuild generated documents from their recipes, bit-exact."),
}


# commands that change or list installed plugins: an interrupted install/uninstall is finished or undone first
RECOVER_FIRST = frozenset({"install", "uninstall", "upgrade", "plugins", "list", "info", "doctor", "run", "serve", "demo"})


def recover_interrupted() -> None:
    """Finish or undo an install/uninstall that a crash interrupted (one stat when there is none)."""
    from modahub_hub.hub import journal

    if journal.pending():
        for line in journal.recover():
            click.echo(f"modahub: {line}", err=True)


def json_requested(args: Sequence[str]) -> bool:
    """Whether the command line asks for the ``--json`` envelope (before a ``--`` that ends the options)."""
    return "--json" in args[: args.index("--")] if "--" in args else "--json" in args


def _debugging() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0")


class LazyGroup(click.Group):
    """A group that imports each command's module only when that command runs or shows help.

    Its :meth:`main` is the CLI's one error boundary (for ``modahub`` and for click's test runner
    alike): any error becomes one ``Error: what — how to fix`` line on stderr, and with ``--json``
    also the envelope on stdout, and the exit code of its class (0 ok, 1 failure, 2 a mistake in
    the command or its input, 3 a failed verification); ``--debug`` re-raises it instead.
    """

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        argv = list(sys.argv[1:] if args is None else args)
        try:
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except Exception as exc:  # click.Abort included; SystemExit passes
            if _debugging():
                raise
            from modahub_hub.output import report_error

            code = report_error(exc, as_json=json_requested(argv))
        sys.exit(code if type(code) is int else 0)  # without standalone mode click returns ctx.exit()'s code

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        if name in COMMANDS:
            if name in RECOVER_FIRST and not ctx.resilient_parsing:
                recover_interrupted()
            module, attr = COMMANDS[name][0].split(":")
            return getattr(importlib.import_module(module), attr)
        return self._plugin_command(name)

    def _plugin_command(self, name: str) -> click.Command | None:
        from modahub.plugins import PluginError, manager

        provider = next((r for r in manager().active() if name in r.manifest.commands), None)  # type: ignore[union-attr]
        if provider is None:
            return None
        record = manager().load(provider)
        if record.status != "loaded":
            raise PluginError(f"command {name!r} comes from plugin {record.dist}, which is broken: {record.error}",
                              hint=record.fix)
        manager().call_hook_of(record.name, "register_commands", cli=self)
        return self.commands.get(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, help_) in sorted(COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _debug(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if value:
        os.environ[DEBUG_ENV] = "1"


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="modahub", prog_name="modahub")
@click.option("--debug", is_flag=True, expose_value=False, is_eager=True, callback=_debug,
              help=f"Show the traceback of an error (also {DEBUG_ENV}=1).")
def cli() -> None:
    """modahub: share and reuse multimodal AI executors (encode, index, generate).

    Exit codes: 0 success, 1 failure, 2 a mistake in the command or its input, 3 a failed
    verification (executor contract, replayed recipe, a hub's signature, rollback, freeze, size or
    sha256 check). --json: one envelope {"ok", "data", "error"} on stdout (docs/cli.md).
    """


def main() -> None:
    """Console-script entry point (errors become a line on stderr and an exit code in :meth:`LazyGroup.main`)."""
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    cli.main(prog_name="modahub")
