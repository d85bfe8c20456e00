"""A journal that makes install, upgrade and uninstall all-or-nothing, even across kill -9.

Before pip touches the environment, :func:`transaction` copies the files of every distribution pip
may replace or remove into ``<sys.prefix>/.modahub-txn/stash`` and writes ``journal.json`` (atomic,
fsynced): the distributions present before, the stashed copies, the files the new wheels will write,
and the plugin lock's text before and after. pip runs; when it succeeds the journal is marked
``pip-done``, the lock is written and the folder removed. Whoever finds the folder later (the next
modahub command that changes or lists plugins, via :func:`recover`, or ``modahub doctor --repair``)
finishes the job: a ``pip-done`` journal rolls forward (the lock catches up with the environment),
any other rolls back (new files deleted, half-installed distributions removed, stashed files put
back, pip's ``~…`` leftovers cleaned, the lock as it was). An exclusive lock on
``<sys.prefix>/.modahub-txn.lock`` keeps a live transaction from being recovered under its feet.

This module imports only the standard library at import time: :func:`pending` runs at CLI start-up.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

CRASH_ENV = "MODAHUB_TEST_CRASH_AT"
"""Tests only: the name of a checkpoint at which the process kills its own process group (kill -9)."""


def txn_dir() -> Path:
    return Path(sys.prefix) / ".modahub-txn"


def _lock_file() -> Path:
    return Path(sys.prefix) / ".modahub-txn.lock"


def pending() -> bool:
    """Whether an interrupted transaction waits for recovery (one stat: cheap at start-up)."""
    return os.path.isdir(txn_dir())


def checkpoint(name: str) -> None:
    """A named moment of a transaction; ``$MODAHUB_TEST_CRASH_AT=name`` kills the process group here (tests)."""
    if os.environ.get(CRASH_ENV) == name:
        os.killpg(os.getpgrp(), signal.SIGKILL)


@dataclass
class Journal:
    """What a transaction changes, written before it changes anything."""

    op: str
    before: dict[str, str] = field(default_factory=dict)  # distribution -> version, everything installed before
    stash: dict[str, list[list[str]]] = field(default_factory=dict)  # distribution -> [[original, copy], ...]
    new_files: list[str] = field(default_factory=list)  # absolute paths the new wheels write (files, scripts, dist-info)
    lock_path: str = ""
    lock_before: str | None = None
    lock_after: str | None = None
    phase: str = "started"


def _write(journal: Journal) -> None:
    from modahub.files import atomic_write

    atomic_write(txn_dir() / "journal.json", json.dumps(asdict(journal), indent=1).encode())


def _read() -> Journal | None:
    try:
        return Journal(**json.loads((txn_dir() / "journal.json").read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        return Journal(op="unreadable")  # written atomically, so only a hand-edited one; nothing to undo but leftovers


class EnvTransaction:
    """The running change of the Python environment: stash files, then :meth:`begin`; :meth:`commit` after pip succeeded."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.rolled_back = False

    def save(self, name: str, version: str, files: list[Path]) -> None:
        """Copy ``files`` of installed distribution ``name`` into the stash."""
        pairs = []
        for i, src in enumerate(files):
            if src.is_file():
                copy = txn_dir() / "stash" / name / str(i)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, copy)
                pairs.append([str(src), str(copy)])
        self.journal.stash[name] = pairs
        self.journal.before.setdefault(name, version)

    def begin(self) -> None:
        """From here on, a crash is rolled back by the next modahub command."""
        _write(self.journal)
        checkpoint("journal-written")

    def rollback(self) -> list[str]:
        """Undo now (pip failed); returns what could not be restored."""
        self.rolled_back = True
        return rollback(self.journal)

    def commit(self) -> None:
        """pip succeeded: record it, bring the lock along, and drop the journal."""
        self.journal.phase = "pip-done"
        _write(self.journal)
        checkpoint("pip-done")
        _finish_forward(self.journal)


@contextmanager
def transaction(op: str, *, before: dict[str, str], new_files: list[str], lock_path: Path, lock_after: str | None
                ) -> Iterator[EnvTransaction]:
    """Run a journaled change of the environment; an exception inside rolls it back (and re-raises)."""
    from modahub_hub.hub.config import locked

    with locked(_lock_file()):
        if pending():
            _recover_locked()
        txn_dir().mkdir(parents=True)
        lock_before = lock_path.read_text(encoding="utf-8") if lock_path.is_file() else None
        txn = EnvTransaction(Journal(op, dict(before), {}, new_files, str(lock_path), lock_before, lock_after))
        try:
            yield txn
        except BaseException:
            if (txn_dir() / "journal.json").is_file() and not txn.rolled_back:
                rollback(txn.journal)
            shutil.rmtree(txn_dir(), ignore_errors=True)
            raise


def recover(*, wait: bool = False) -> list[str]:
    """Finish or undo an interrupted transaction; returns what was done (empty when there was nothing to do).

    Without ``wait``, a transaction still running in another process is left alone.
    """
    if not pending():
        return []
    import fcntl

    _lock_file().parent.mkdir(parents=True, exist_ok=True)
    with open(_lock_file(), "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            return []
        try:
            return _recover_locked()
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _recover_locked() -> list[str]:
    journal = _read()
    done: list[str] = []
    if journal is not None and journal.phase == "pip-done":
        _finish_forward(journal)
        done.append(f"completed an interrupted {journal.op} (the environment had changed; the plugin lock now agrees)")
    elif journal is not None:
        problems = rollback(journal)
        done.append(f"rolled back an interrupted {journal.op}" + (f" ({'; '.join(problems)})" if problems else ""))
    else:
        done.append("removed an interrupted transaction that had not started changing anything")
    removed = clean_pip_leftovers()
    if removed:
        done.append(f"removed pip leftovers: {', '.join(removed)}")
    shutil.rmtree(txn_dir(), ignore_errors=True)
    return done


def _finish_forward(journal: Journal) -> None:
    _set_lock(journal, journal.lock_after)
    clean_pip_leftovers()
    shutil.rmtree(txn_dir(), ignore_errors=True)


def _set_lock(journal: Journal, text: str | None) -> None:
    from modahub.files import atomic_write

    if not journal.lock_path:
        return
    path = Path(journal.lock_path)
    if text is None:
        path.unlink(missing_ok=True)
    elif not path.is_file() or path.read_text(encoding="utf-8") != text:
        atomic_write(path, text.encode())


def rollback(journal: Journal) -> list[str]:
    """Put the environment back as the journal found it; returns what could not be restored."""
    import importlib

    from modahub_hub.hub.pipenv import installed, remove_distributions

    clean_pip_leftovers()  # pip's own '~' copies of what it was replacing: the stash below has them
    for path in map(Path, journal.new_files):  # what the new wheels wrote, even if pip died before their RECORD
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    _prune(journal.new_files)
    importlib.invalidate_caches()
    after = installed()
    added = sorted(set(after) - set(journal.before))
    changed = sorted(n for n in journal.stash if n not in after or after[n].version != journal.before.get(n))
    remove_distributions([n for n in [*added, *changed] if n in after])
    for pairs in journal.stash.values():  # every stashed file: the new wheels' paths may have overlapped the old ones
        for src, copy in pairs:
            Path(src).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(copy, src)
    _set_lock(journal, journal.lock_before)
    importlib.invalidate_caches()
    now = installed()
    problems = [f"{n} is still installed" for n in added if n in now]
    problems += [f"{n} is not back at {journal.before[n]}" for n in changed
                 if n not in now or now[n].version != journal.before[n]]
    return problems


def _prune(paths: list[str]) -> None:
    """Remove the __pycache__ folders and the folders left empty under the deleted files' parents."""
    from modahub_hub.hub.confine import site_dirs

    site, _ = site_dirs()
    for folder in sorted({Path(p).parent for p in paths}, key=lambda p: len(p.parts), reverse=True):
        while folder != site and folder.is_relative_to(site) and folder.is_dir():
            shutil.rmtree(folder / "__pycache__", ignore_errors=True)
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent


def clean_pip_leftovers() -> list[str]:
    """Delete pip's temporary ``~…`` entries in site-packages (what an interrupted pip leaves behind)."""
    from modahub_hub.hub.confine import site_dirs

    site, _ = site_dirs()
    removed = []
    for entry in os.scandir(site):
        if entry.name.startswith("~"):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
            removed.append(entry.name)
    return sorted(removed)
