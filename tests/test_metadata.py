"""Every package's metadata installs anywhere: true requirements, one range per dependency, a true build floor."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
import venv
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = {ROOT: ROOT / "hub_cli", ROOT / "core": ROOT / "core" / "src",
            **{p.parent: p.parent / "src" for p in sorted((ROOT / "plugins").glob("*/pyproject.toml"))}}
NEEDED_WITHOUT_AN_IMPORT = {"python-multipart": "FastAPI parses modahub serve's multipart uploads with it",
                            "sympy": "ONNX Runtime's transformer optimizer (modahub_text.graph) infers shapes with it"}


def _project(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))


def _imports(source: Path) -> set[str]:
    """Top-level names of every module imported anywhere under ``source``."""
    found = set()
    for path in source.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def test_every_package_needs_python_311_and_setuptools_77():
    for folder in PACKAGES:
        data = _project(folder)
        assert data["project"]["requires-python"] == ">=3.11", folder  # tomllib, datetime.UTC
        assert data["build-system"]["requires"] == ["setuptools>=77"], folder  # SPDX license = "..."
        assert isinstance(data["project"]["license"], str), folder


def test_every_plugin_folder_is_named_like_its_distribution():
    """plugins/<name>/ holds the distribution modahub-<name>: the folder says what `modahub install` takes."""
    misnamed = {folder.name: _project(folder)["project"]["name"] for folder in PACKAGES
                if folder.parent == ROOT / "plugins" and _project(folder)["project"]["name"] != f"modahub-{folder.name}"}
    assert misnamed == {}


def test_one_version_range_per_third_party_package_across_all_packages():
    ranges: dict[str, set[str]] = {}
    for folder in PACKAGES:
        project = _project(folder)["project"]
        requirements = [*project.get("dependencies", []), *sum(project.get("optional-dependencies", {}).values(), [])]
        for text in requirements:
            req = Requirement(text)
            if not canonicalize_name(req.name).startswith("modahub"):
                ranges.setdefault(canonicalize_name(req.name), set()).add(str(req.specifier))
    assert {name: specs for name, specs in ranges.items() if len(specs) > 1} == {}


def test_every_declared_requirement_is_imported_by_its_package():
    by_dist: dict[str, set[str]] = {}
    for module, dists in packages_distributions().items():
        for dist in dists:
            by_dist.setdefault(canonicalize_name(dist), set()).add(module)
    unused = []
    for folder, source in PACKAGES.items():
        imported = _imports(source)
        for text in _project(folder)["project"].get("dependencies", []):
            name = canonicalize_name(Requirement(text).name)
            if name.startswith("modahub") or name in NEEDED_WITHOUT_AN_IMPORT:
                continue
            if not by_dist.get(name, set()) & imported:
                unused.append(f"{folder.name}: {name}")
    assert unused == []


def test_no_plugin_imports_another_plugins_internals():
    """A plugin may use another plugin it requires through that plugin's top-level package (its public API) only."""
    packages = {p.parent.name for p in (ROOT / "plugins").glob("*/src/*/__init__.py")}
    offences = []
    for folder, source in PACKAGES.items():
        if folder.parent != ROOT / "plugins":
            continue
        own = {p.parent.name for p in source.glob("*/__init__.py")}
        for path in source.rglob("*.py"):
            for match in re.finditer(r"^\s*(?:from|import) (modahub_[a-z_]+)\.([a-z_]+)", path.read_text(), re.M):
                if match[1] in packages - own:
                    offences.append(f"{path.relative_to(ROOT)}: {match[0].strip()}")
    assert offences == []


@pytest.mark.slow
def test_every_package_builds_without_isolation_on_the_setuptools_floor(tmp_path):
    """`pip wheel --no-build-isolation` uses the setuptools that is installed: the declared floor must be enough."""
    env = tmp_path / "floor"
    venv.create(env, with_pip=False)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q", "--python", str(env / "bin" / "python")]
    subprocess.run([*pip, "install", "setuptools==77.0.1"], check=True, capture_output=True)  # the first release >=77
    for folder in PACKAGES:
        built = subprocess.run([*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "wheels"),
                                str(folder)], capture_output=True, text=True)
        assert built.returncode == 0, f"{folder}:\n{built.stderr}"
    assert len(list((tmp_path / "wheels").glob("*.whl"))) == len(PACKAGES)
