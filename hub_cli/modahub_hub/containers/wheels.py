"""Gather every wheel an image needs into one folder, so that the image installs with ``pip --no-index``.

- plugins come from a hub (downloaded and verified against its signed registry), with the modahub
  plugins they depend on;
- modahub-core, modahub-testing and modahub are built from the folder they were installed from (editable or local
  installs), else downloaded by exact version;
- third-party dependencies are binary wheels for the base image's Python, glibc and machine, kept
  in a cache (``~/.cache/modahub/wheels/<target>``) that later builds use offline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from email.parser import Parser
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from modahub_hub.containers.engine import ContainerError

OWN_DISTS = ("modahub-core", "modahub-testing", "modahub")
"""Distributions that come from this modahub installation, never from a package index."""
PROBE = "import platform, sys; print('%d.%d' % sys.version_info[:2], platform.libc_ver()[1], platform.machine())"


@dataclass(frozen=True)
class PythonTarget:
    """The base image's Python: version (``3.11``), glibc (``2.36``) and machine (``x86_64``)."""

    version: str
    glibc: str
    machine: str

    @property
    def label(self) -> str:
        return f"cp{self.version.replace('.', '')}-glibc{self.glibc}-{self.machine}"

    def platforms(self) -> list[str]:
        """Every manylinux tag this glibc runs, newest first (pip expands none of the ``manylinux_2_x`` ones)."""
        major, minor = (int(p) for p in self.glibc.split(".")[:2])
        tags = [f"manylinux_{major}_{m}_{self.machine}" for m in range(minor, 4, -1)]
        legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
        return tags + [f"{name}_{self.machine}" for m, name in legacy.items() if minor >= m]

    def pip_args(self) -> list[str]:
        """pip options that select wheels for this target (binary only)."""
        args = ["--only-binary=:all:", "--implementation", "cp", "--python-version", self.version]
        for platform in self.platforms():
            args += ["--platform", platform]
        return args

    def environment(self) -> dict[str, str]:
        """Marker environment of the target, for evaluating ``Requires-Dist`` markers."""
        env = {marker: str(value) for marker, value in default_environment().items()}
        env.update(python_version=self.version, python_full_version=f"{self.version}.0", platform_machine=self.machine,
                   sys_platform="linux", platform_system="Linux", os_name="posix", implementation_name="cpython",
                   platform_python_implementation="CPython")
        return env


def probe(client: Any, image: str) -> PythonTarget:
    """Ask ``image``'s ``python3`` what it is (in a throw-away container with no network)."""
    try:
        out = client.containers.run(image, ["python3", "-c", PROBE], remove=True, network_mode="none",
                                    cap_drop=["ALL"], read_only=True, user="65534:65534")
    except Exception as exc:
        raise ContainerError(f"base image {image!r} has no working python3 ({exc}); use an image with python3 and venv") from None
    version, glibc, machine = out.decode().split()
    if not glibc:
        raise ContainerError(f"base image {image!r} is not glibc-based; manylinux wheels need glibc")
    return PythonTarget(version, glibc, machine)


def wheel_metadata(wheel: Path) -> tuple[str, str, list[Requirement]]:
    """Name, version and requirements (``Requires-Dist``) read from a wheel file, without installing it."""
    name, version, _, _ = parse_wheel_filename(wheel.name)
    with zipfile.ZipFile(wheel) as zf:
        meta_path = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
        meta = Parser().parsestr(zf.read(meta_path).decode("utf-8"))
    return str(name), str(version), [Requirement(r) for r in meta.get_all("Requires-Dist") or []]


def needed(reqs: list[Requirement], target: PythonTarget, extras: tuple[str, ...] = ("",)) -> list[Requirement]:
    """The requirements whose markers hold on ``target`` (for the given extras)."""
    env = target.environment()
    return [r for r in reqs if r.marker is None or any(r.marker.evaluate({**env, "extra": e}) for e in extras)]


def _pip(*args: str) -> subprocess.CompletedProcess[str]:
    # a fixed SOURCE_DATE_EPOCH makes wheels built from unchanged sources byte-identical, so the engine's
    # layer cache skips the install step of a rebuild
    env = {**os.environ, "PIP_NO_INPUT": "1", "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "315532800")}
    return subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, env=env)


def own_wheel(dist: str, dest: Path) -> Path:
    """A wheel of an installed modahub distribution: built from its source folder, else downloaded by version."""
    try:
        installed = metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        raise ContainerError(f"{dist} is not installed here; pip install {dist}") from None
    source = _source_folder(installed)
    if source is not None:
        done = _pip("wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", str(dest), str(source))
    else:
        done = _pip("download", "--no-deps", "--only-binary=:all:", "--dest", str(dest), f"{dist}=={installed.version}")
    found = [p for p in dest.glob("*.whl") if canonicalize_name(parse_wheel_filename(p.name)[0]) == canonicalize_name(dist)]
    if done.returncode != 0 or not found:
        raise ContainerError(f"could not get a wheel of {dist} {installed.version}: {done.stderr.strip()[-800:]}")
    return found[0]


def _source_folder(dist: metadata.Distribution) -> Path | None:
    text = dist.read_text("direct_url.json")
    if not text:
        return None
    url = json.loads(text).get("url", "")
    parsed = urlparse(url)
    if parsed.scheme != "file":
        return None
    folder = Path(unquote(parsed.path))
    return folder if (folder / "pyproject.toml").exists() else None


def hub_wheels(names: list[str], dest: Path, hub: str | None = None) -> list[Path]:
    """Verified wheels of plugins ``names`` (registry, dist or executor names) and the modahub plugins they need."""
    from modahub_hub.hub import HubError
    from modahub_hub.hub.client import Hub

    try:
        opened = Hub.open(hub)
        todo, done, wheels = list(names), set(), []
        while todo:
            plugin, entry = opened.resolve(todo.pop())
            key = canonicalize_name(plugin.name)
            if key in done:
                continue
            done.add(key)
            wheel = opened.download(entry, dest)
            wheels.append(wheel)
            for req in wheel_metadata(wheel)[2]:
                dep = canonicalize_name(req.name)
                if dep.startswith("modahub-") and dep not in OWN_DISTS and dep not in done and req.marker is None:
                    todo.append(str(req))
    except HubError as exc:
        raise ContainerError(f"hub: {exc}") from None
    return wheels


def third_party(local: list[Path], target: PythonTarget) -> list[str]:
    """The requirements of the local wheels that a package index must provide."""
    ours = {canonicalize_name(wheel_metadata(w)[0]) for w in local}
    out: list[str] = []
    for wheel in local:
        for req in needed(wheel_metadata(wheel)[2], target):
            name = canonicalize_name(req.name)
            if name in ours:
                continue
            if name.startswith("modahub"):
                raise ContainerError(
                    f"{wheel.name} needs {req}, which is neither in the hub nor installed here; publish it to the hub first"
                )
            plain = Requirement(str(req))
            plain.marker = None  # already evaluated for the target
            out.append(str(plain))
    return sorted(set(out))


def cache_dir(target: PythonTarget) -> Path:
    base = Path(os.environ.get("MODAHUB_WHEEL_CACHE") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
                / "modahub" / "wheels")
    return base / target.label


def host_pins() -> list[str]:
    """``name==version`` of the third-party distributions installed here, so that an image gets what was tested."""
    pins = set()
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name and not canonicalize_name(name).startswith("modahub") and _source_folder(dist) is None:
            pins.add(f"{canonicalize_name(name)}=={dist.version}")
    return sorted(pins)


def gather(local: list[Path], deps: Path, target: PythonTarget) -> list[str]:
    """Put the binary wheels of all dependencies of the ``local`` wheels in ``deps``; returns their pins.

    Versions follow this environment where it has the package (so the image computes what was tested
    here), else the newest that fits. The cache alone is tried first (offline); only what is missing
    there is fetched from the package index. The local wheels stay where they are: an image installs
    the dependencies in one layer (rarely changing, so cached) and the local wheels in the next.
    """
    pins = [f"{n}=={v}" for n, v, _ in (wheel_metadata(w) for w in local)]
    constraints = deps.parent / "constraints.txt"
    constraints.write_text("\n".join(host_pins()) + "\n", encoding="utf-8")
    errors = []
    for pinned in (True, False):
        extra = ["--constraint", str(constraints)] if pinned else []
        done = _fill(local, deps, target, pins, extra)
        if done.returncode == 0:
            break
        errors.append(done.stderr.strip()[-1200:])
    else:
        raise ContainerError(f"the image's packages do not resolve from the gathered wheels: {errors[-1]}")
    ours = {canonicalize_name(wheel_metadata(w)[0]) for w in local}
    found = []
    for wheel in sorted(deps.glob("*.whl")):
        name, version, _, _ = parse_wheel_filename(wheel.name)
        if canonicalize_name(name) in ours:
            wheel.unlink()
        else:
            found.append(f"{name}=={version}")
    return found


def _fill(local: list[Path], deps: Path, target: PythonTarget, pins: list[str],
          extra: list[str]) -> subprocess.CompletedProcess[str]:
    """Resolve ``pins`` into ``deps`` from the cache; fetch into the cache what is missing, then resolve again."""
    for old in deps.glob("*.whl"):
        old.unlink()
    cache = cache_dir(target)
    cache.mkdir(parents=True, exist_ok=True)
    links = sorted({str(w.parent) for w in local}) + [str(cache)]
    resolve = ["download", *target.pip_args(), *extra, "--dest", str(deps), "--no-index",
               *(f"--find-links={x}" for x in links), *pins]
    done = _pip(*resolve)
    if done.returncode == 0:
        return done
    wanted = third_party(local, target)
    if wanted:
        fetched = _pip("download", *target.pip_args(), *extra, "--dest", str(cache), *wanted)
        if fetched.returncode != 0:
            return fetched
    return _pip(*resolve)
