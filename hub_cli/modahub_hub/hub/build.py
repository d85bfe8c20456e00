"""Reproducible wheel builds: an unchanged source folder always builds to the same bytes.

The folder is copied without build leftovers (a stale ``build/lib`` would ship deleted modules),
file modes are normalised (a checkout's umask must not reach the zip entries), and the archive
timestamps come from ``SOURCE_DATE_EPOCH`` (a fixed date unless the caller sets one).
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

from modahub_hub.hub import HubError

FIXED_EPOCH = "315532800"  # 1980-01-01, the earliest time a zip entry can hold
_LEFTOVERS = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache",
                                    ".ruff_cache", "*.pyc", ".modahub-hub.lock")


def _normalise_modes(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        executable = path.is_dir() or mode & stat.S_IXUSR
        path.chmod(0o755 if executable else 0o644)


def _installed(requirement: str) -> bool:
    req = Requirement(requirement)
    try:
        return req.specifier.contains(importlib.metadata.version(req.name), prereleases=True)
    except importlib.metadata.PackageNotFoundError:
        return False


def build_wheel(folder: Path, out_dir: Path) -> Path:
    """Build ``folder``'s wheel into ``out_dir`` with pip, reproducibly; returns the wheel.

    Build isolation is skipped when the declared build backend is already installed (offline,
    and the same backend every time).
    """
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        raise HubError(f"{folder} has no pyproject.toml; pass a plugin folder or a .whl file")
    try:
        requires = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("build-system", {}).get("requires", [])
    except tomllib.TOMLDecodeError as exc:
        raise HubError(f"{pyproject}: not valid TOML: {exc}") from None
    isolation = ["--no-build-isolation"] if all(_installed(r) for r in requires) else []
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="modahub-build-") as tmp:
        source = Path(tmp) / folder.resolve().name
        shutil.copytree(folder, source, ignore=_LEFTOVERS)  # links followed: the copy stands alone
        _normalise_modes(source)
        wheels = Path(tmp) / "wheels"
        cmd = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check", *isolation,
               "-w", str(wheels), str(source)]
        env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", FIXED_EPOCH)}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            raise HubError(f"building the wheel of {folder} failed:\n{proc.stderr.strip() or proc.stdout.strip()}")
        built = sorted(wheels.glob("*.whl"))
        if len(built) != 1:
            raise HubError(f"building {folder} produced {len(built)} wheels, expected one")
        return Path(shutil.copy2(built[0], out_dir / built[0].name))
