"""Shared CLI output: rich tables for people, one JSON envelope for scripts, errors on stderr.

Every command that lists or changes state takes ``--json`` (:data:`json_option`) and then prints
exactly one JSON document on stdout, the envelope ``{"ok": bool, "data": …, "error": null |
{"message", "hint", "code"}}``: :func:`emit_result` on success, :func:`report_error` (called by the
CLI's one error boundary) on failure, where ``code`` is the process's exit code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from modahub.errors import EXIT_FAILURE, EXIT_VERIFICATION, ModahubError, ModahubInputError

json_option = click.option(
    "--json", "as_json", is_flag=True,
    help='Print one JSON envelope on stdout: {"ok": bool, "data": …, "error": null or {"message", "hint", "code"}}.',
)


def envelope(data: Any = None, error: dict[str, Any] | None = None) -> str:
    """The JSON envelope of a command's result (``error`` None: it succeeded)."""
    return json.dumps({"ok": error is None, "data": data, "error": error}, indent=2, sort_keys=True, default=str)


def read_envelope(text: str) -> dict[str, Any]:
    """Parse the ``--json`` output of a modahub command, checking it is one envelope (for scripts and tests).

    Raises ``ValueError`` when ``text`` is not exactly one envelope: keys ok, data and error, with an
    error (message, hint, code) exactly when ok is false.
    """
    out = json.loads(text)
    if not isinstance(out, dict) or set(out) != {"ok", "data", "error"} or not isinstance(out["ok"], bool):
        raise ValueError(f"not a modahub --json envelope: {text[:200]!r}")
    error = out["error"]
    if out["ok"] != (error is None) or not (error is None or set(error) == {"message", "hint", "code"}):
        raise ValueError(f"an envelope's error must be null exactly when ok: {text[:200]!r}")
    return out


def emit_result(data: Any) -> None:
    """Print a successful command's ``data`` in the envelope on stdout."""
    click.echo(envelope(data))


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a table with rich (imported only here)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console().print(table)


def warn(message: str) -> None:
    """A warning on stderr."""
    click.secho(f"warning: {message}", fg="yellow", err=True)


class UserError(ModahubInputError):
    """A mistake in the command or its input: one 'Error: …' line on stderr, exit code 2, no traceback."""


class CommandFailed(ModahubError):
    """A command ran and found a failure (e.g. broken plugins): exit code 1.

    ``data`` is the command's report, still printed in the ``--json`` envelope beside the error.
    """

    def __init__(self, message: str, *, data: Any = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.data = data


class VerificationFailed(CommandFailed):
    """A check the command ran did not pass (the executor contract, a replayed recipe): exit code 3."""

    exit_code = EXIT_VERIFICATION


def describe_error(exc: BaseException) -> tuple[str, str | None, int]:
    """What went wrong, how to fix it (None when the message says it) and the exit code, for ``exc``.

    A :class:`modahub.ModahubError` (core's, the hub's and the CLI's errors) carries its exit code and
    hint; click's usage errors keep theirs (2); anything else is a bug, reported as such.
    """
    if isinstance(exc, ModahubError):
        return str(exc), getattr(exc, "hint", None), exc.exit_code  # a subclass may skip our __init__
    if isinstance(exc, click.ClickException):
        hint = None
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f"see '{exc.ctx.command_path} --help'"
        return exc.format_message(), hint, exc.exit_code
    if isinstance(exc, click.Abort):
        return "aborted", None, EXIT_FAILURE
    return (f"unexpected {type(exc).__name__}: {exc}", "run again with --debug for the traceback, and report it",
            EXIT_FAILURE)


def report_error(exc: BaseException, *, as_json: bool = False) -> int:
    """Print ``exc`` as one ``Error: what — how to fix`` line on stderr (and, with ``as_json``, as the
    envelope on stdout); the exit code for it."""
    message, hint, code = describe_error(exc)
    message = " ".join(message.split())
    if as_json:
        data = exc.data if isinstance(exc, CommandFailed) else None
        click.echo(envelope(data, {"message": message, "hint": hint, "code": code}))
    click.echo("Error: " + message + (f" — {hint}" if hint else ""), err=True)
    return code
