"""Helpers shared by the hub commands: error translation, download progress, the --hub option."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import click

from modahub_hub.output import UserError

hub_option = click.option(
    "--hub",
    "hub",
    metavar="HUB",
    help="A hub folder, an http(s) URL, or hf://owner/repo (default: the configured hub, else the bundled one).",
)


def hub_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a :class:`HubError` into 'Error: …' on stderr with exit code 1 and no traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from modahub_hub.hub import HubError

        try:
            return func(*args, **kwargs)
        except HubError as exc:
            raise UserError(str(exc)) from None

    return wrapper


@contextmanager
def rich_progress(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A rich download bar on stderr for one file."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)
