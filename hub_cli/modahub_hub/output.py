"""Shared CLI output: rich tables for people, JSON for scripts, errors on stderr."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout."""
    click.echo(json.dumps(data, indent=2, sort_keys=True, default=str))


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


class UserError(click.ClickException):
    """A mistake the user can fix: printed as 'Error: …' on stderr, exit code 1, no traceback."""


def report_error(exc: Exception) -> int:
    """Print ``exc`` as one ``Error: …`` line on stderr; the exit code for it.

    A :class:`modahub.ModahubError` (core's and the hub's errors) says what went wrong and how to
    fix it, and carries its exit code; anything else is a bug, reported as such.
    """
    from modahub.errors import EXIT_FAILURE, ModahubError

    if isinstance(exc, ModahubError):
        message, code = str(exc), exc.exit_code
    else:
        message = f"unexpected {type(exc).__name__}: {exc} (run again with --debug for the traceback, and report it)"
        code = EXIT_FAILURE
    click.echo("Error: " + " ".join(message.split()), err=True)
    return code
