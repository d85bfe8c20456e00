"""All-or-nothing pip installs into the running interpreter.

Before pip runs, every installed distribution that the install could replace is stashed (a copy
of the files its RECORD lists); if pip fails or is interrupted, whatever it added is uninstalled
and the stashed files are put back, so the environment is exactly as before. Which distributions
could be replaced: the wheels' own names, plus (only when some requirement of theirs is not
already satisfied) whatever a ``pip install --dry-run --report`` says it would install.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from modahub_hub.hub import HubError
from modahub_hub.hub.registry import normalize

PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check"]


def _dist_name(dist: md.Distribution) -> str | None:
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
        name = _dist_name(dist)
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


class _Stash:
    """Copies of the files of some installed distributions, to put back after a failed install."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.saved: dict[str, tuple[str, list[tuple[Path, Path]]]] = {}

    def save(self, name: str, dist: md.Distribution) -> None:
        pairs = []
        for i, rel in enumerate(dist.files or []):
            src = Path(dist.locate_file(rel)).resolve()
            if src.is_file():
                copy = self.root / name / str(i)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, copy)
                pairs.append((src, copy))
        self.saved[name] = (dist.version, pairs)

    def restore(self, name: str) -> None:
        for src, copy in self.saved[name][1]:
            src.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(copy, src)


def pip_install(wheels: list[Path], requirements: list[str]) -> None:
    """pip install ``wheels`` (whose Requires-Dist are ``requirements``), all or nothing."""
    before = installed()
    own = {normalize(wheel.name.split("-")[0]) for wheel in wheels}
    touched = set(own)
    if _unsatisfied(requirements, before, own):
        touched |= _would_install(wheels)
    with tempfile.TemporaryDirectory(prefix="modahub-stash-") as tmp:
        stash = _Stash(Path(tmp))
        for name in sorted(touched & before.keys()):
            stash.save(name, before[name])
        try:
            proc = subprocess.run([*PIP, "install", "-q", *map(str, wheels)], capture_output=True, text=True)
        except BaseException:
            _rollback(before, stash)
            raise
        if proc.returncode != 0:
            problems = _rollback(before, stash)
            detail = (proc.stderr or proc.stdout).strip()
            tail = f"\nrollback incomplete: {'; '.join(problems)}" if problems else "\nthe environment was restored as it was"
            raise HubError(f"pip install failed:\n{detail}{tail}")


def _rollback(before: dict[str, md.Distribution], stash: _Stash) -> list[str]:
    """Undo a partial install; returns what could not be restored."""
    importlib.invalidate_caches()
    after = installed()
    added = sorted(set(after) - set(before))
    changed = sorted(n for n in stash.saved if n not in after or after[n].version != stash.saved[n][0])
    remove = added + [n for n in changed if n in after]
    if remove:
        subprocess.run([*PIP, "uninstall", "-y", "-q", *remove], capture_output=True, text=True)
    for name in changed:
        stash.restore(name)
    importlib.invalidate_caches()
    now = installed()
    problems = [f"{n} is still installed" for n in added if n in now]
    for name in changed:
        version = stash.saved[name][0]
        if name not in now or now[name].version != version:
            problems.append(f"{name} is not back at {version}")
    return problems


def pip_uninstall(names: list[str]) -> None:
    proc = subprocess.run([*PIP, "uninstall", "-y", "-q", *names], capture_output=True, text=True)
    if proc.returncode != 0:
        raise HubError(f"pip uninstall {' '.join(names)} failed:\n{(proc.stderr or proc.stdout).strip()}")
