"""Temporary plugins for tests: a real plugin folder written from source text, activated in-process."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from importlib.metadata import EntryPoint
from pathlib import Path

from modahub.plugins import ENTRY_POINT_GROUP


@dataclass(frozen=True)
class TmpPlugin:
    """A plugin folder written by :func:`write_plugin`."""

    name: str
    package: str
    path: Path

    @property
    def source(self) -> Path:
        return self.path / "src"

    def entry_point(self) -> EntryPoint:
        return EntryPoint(self.name, f"{self.package}.plugin", ENTRY_POINT_GROUP)


def write_plugin(root: Path, name: str, code: str, manifest: str, *, version: str = "0.1.0") -> TmpPlugin:
    """Write plugin ``name`` under ``root``: ``code`` becomes ``plugin.py`` (hooks and executors), ``manifest`` its TOML."""
    if not re.fullmatch(r"[a-z][a-z0-9-]*", name):
        raise ValueError(f"temporary plugin name {name!r}: use lowercase letters, digits and '-'")
    package = "modahub_" + name.replace("-", "_")
    folder = root / name
    pkg_dir = folder / "src" / package
    pkg_dir.mkdir(parents=True)
    (folder / "pyproject.toml").write_text(
        "[build-system]\nrequires = [\"setuptools>=77\"]\nbuild-backend = \"setuptools.build_meta\"\n\n"
        f"[project]\nname = \"modahub-{name}\"\nversion = \"{version}\"\ndependencies = [\"modahub-core\"]\n\n"
        f"[project.entry-points.{ENTRY_POINT_GROUP}]\n{name} = \"{package}.plugin\"\n\n"
        f"[tool.setuptools.package-data]\n{package} = [\"modahub.toml\"]\n",
        encoding="utf-8",
    )
    (pkg_dir / "__init__.py").write_text(f'"""Temporary test plugin {name}."""\n__version__ = "{version}"\n', encoding="utf-8")
    (pkg_dir / "plugin.py").write_text(code, encoding="utf-8")
    (pkg_dir / "modahub.toml").write_text(manifest, encoding="utf-8")
    return TmpPlugin(name, package, folder)


def forget_modules(package: str) -> None:
    """Drop ``package`` and its submodules from ``sys.modules``."""
    for module in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[module]
