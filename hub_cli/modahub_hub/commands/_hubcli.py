"""Helpers shared by the hub commands: first use of a hub, download progress, the --hub and --trust options."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

import click

from modahub_hub.output import CommandFailed, UserError

hub_option = click.option(
    "--hub",
    "hub",
    metavar="HUB",
    help="A hub folder, an http(s) URL, or hf://owner/repo (default: the configured hub, else the bundled one).",
)


trust_option = click.option(
    "--trust",
    "trust_key",
    metavar="KEY",
    help="Trust this key ('ed25519:…') for the hub if it signs the hub and no key of it is trusted yet (first use).",
)


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def _first_use(exc: Any, trust_key: str | None) -> None:
    """Trust an untrusted hub's key: the one given with --trust, else the ones the user confirms in a terminal."""
    from modahub_hub.hub.signing import PublicKey
    from modahub_hub.hub.trust import trust

    if trust_key is not None:
        key = PublicKey.parse(trust_key, source="--trust")
        if key not in exc.keys:
            signers = ", ".join(k.text for k in exc.keys)
            raise UserError(f"--trust {key.text} does not sign {exc.location} (it is signed by {signers}); "
                            "nothing trusted, nothing done. Check the key with the hub's owner")
        keys = [key]
    elif _interactive():
        click.echo(str(exc), err=True)
        if not click.confirm("Trust the hub with this key from now on?", default=False, err=True):
            raise CommandFailed("not trusted; nothing done")
        keys = exc.keys
    else:
        raise exc
    for key in keys:
        trust(exc.identity, key)
        click.echo(f"trusting key {key.keyid} for the hub at {exc.location} (wherever it is served)", err=True)


def hub_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Handle a hub used for the first time (:class:`~modahub_hub.hub.trust.UntrustedHub`).

    It is trusted with the command's ``--trust`` key, or after asking in a terminal, and the command
    runs again; otherwise it is refused with the exact command that trusts it. Other hub errors reach
    the CLI's error boundary (one line, exit code 1).
    """

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from modahub_hub.hub import HubError

        trust_key = kwargs.pop("trust_key", None)
        try:
            return func(*args, **kwargs)
        except HubError as exc:
            from modahub_hub.hub.trust import UntrustedHub  # only now: it imports the registry schema (slow)

            if not isinstance(exc, UntrustedHub):
                raise
            _first_use(exc, trust_key)
        return func(*args, **kwargs)

    return wrapper


@contextmanager
def rich_progress(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A rich download bar on stderr for one file, when stderr is a terminal (else none, and rich is not imported)."""
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=False) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)
