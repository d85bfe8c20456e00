"""The author's journey as code, shared by the end-to-end test and bench/author.py.

A fresh virtual environment gets modahub-core, modahub-testing and modahub from wheels built from this checkout,
plus their dependencies from a wheelhouse cached across runs (downloaded once, then offline).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import venv
from dataclasses import dataclass, field
from pathlib import Path

from modahub_hub.hub.dists import tool_folders

ROOT = Path(__file__).resolve().parents[2]
EXTRA = ("pip", "pytest>=8", "setuptools>=77")  # pip for modahub install; pytest for authors; setuptools to build
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]


def wheelhouse(tmp: Path) -> Path:
    """Wheels of this checkout's modahub-core, modahub-testing and modahub, and of every dependency (cached by
    pyproject hashes)."""
    local = tmp / "local-wheels"
    folders = tool_folders(ROOT)
    subprocess.run([*PIP, "wheel", "--no-deps", "--no-build-isolation", "-w", str(local), *map(str, folders)],
                   check=True, capture_output=True)
    key = hashlib.sha256(b"".join((folder / "pyproject.toml").read_bytes() for folder in folders)
                         + repr(EXTRA).encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "modahub-tests" / f"author-deps-{key}"
    if not cache.is_dir():
        staging = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        subprocess.run([*PIP, "download", "-d", str(staging), *map(str, local.glob("*.whl")), *EXTRA],
                       check=True, capture_output=True)
        for own in staging.glob("modahub*.whl"):
            own.unlink()
        staging.rename(cache)
    house = tmp / "wheelhouse"
    shutil.copytree(cache, house)
    for built in local.glob("*.whl"):
        shutil.copy(built, house)
    return house


@dataclass
class Venv:
    """A fresh virtual environment; ``run`` calls its executables with a clean environment plus ``env``."""

    path: Path
    house: Path
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def create(cls, path: Path, house: Path, env: dict[str, str] | None = None) -> Venv:
        """A new venv with modahub installed offline; this pip installs into it (faster than ensurepip), no bytecode."""
        venv.create(path, with_pip=False)
        subprocess.run([*PIP, "--python", str(path / "bin" / "python"), "install", "--no-compile", "--no-index",
                        "--find-links", str(house), "modahub-core", "modahub", *EXTRA], check=True, capture_output=True)
        return cls(path, house, env or {})

    def run(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "MODAHUB_"))}
        env |= {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(self.house), **self.env}
        proc = subprocess.run([str(self.path / "bin" / args[0]), *args[1:]], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=600)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def modahub(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run("modahub", *args, cwd=cwd, check=check)

    def listed(self) -> set[str]:
        """Executor names that ``modahub list`` shows."""
        return {e["name"] for e in json.loads(self.modahub("list", "--json").stdout)["data"]}


def new(env: Venv, workdir: Path, name: str, kind: str, modality: str) -> Path:
    """``modahub new`` with flags only; returns the plugin folder."""
    folder = workdir / f"modahub-{name}"
    env.modahub("new", name, "--kind", kind, "--modality", modality, "--no-interactive", "--directory", str(folder),
                "--author", "Journey Tester")
    return folder


def own_tests(env: Venv, folders: list[Path]) -> str:
    """Run the plugins' generated test suites in one pytest process; returns pytest's summary line."""
    args = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--import-mode=importlib", *(str(f / "tests") for f in folders)]
    return env.run("python", *args, cwd=folders[0].parent).stdout.strip().splitlines()[-1]


def hub_init(env: Venv, hub: Path, key: Path) -> None:
    env.modahub("hub", "keygen", str(key))
    env.modahub("hub", "init", str(hub), "--key", str(key))
