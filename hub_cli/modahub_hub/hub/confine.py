"""A plugin's files stay its own: what a wheel may install, and what an uninstall may delete.

A wheel installs under site-packages (its top-level packages and its ``.dist-info``; ``.data/purelib``
and ``.data/platlib`` land there too) and may add console scripts. :func:`check_wheel_layout` (at
publish, and again before pip at install) refuses entries that escape (absolute, ``..``, backslashes),
``.data/data`` and ``.data/headers`` (they write under the environment's prefix), ``.pth`` files and
``sitecustomize``/``usercustomize`` (they run code at every interpreter start), another
distribution's ``.dist-info``, modahub's own packages and scripts, and a RECORD that lists a path
outside the wheel. :func:`check_no_takeover` (at install) refuses a wheel whose files, top-level
packages or scripts belong to another installed distribution. :func:`confined_record` says which
RECORD entries of an installed distribution an uninstall may delete.
"""

from __future__ import annotations

import configparser
import csv
import functools
import importlib.metadata as md
import io
import os
import posixpath
import re
import sysconfig
import zipfile
from collections.abc import Set
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from modahub_hub.hub import HubError
from modahub_hub.hub.registry import normalize

HUB_TOP_LEVEL = frozenset({"modahub", "modahub_hub"})
HUB_SCRIPTS = frozenset({"modahub"})
_STARTUP = frozenset({"sitecustomize", "usercustomize"})
_DIST_INFO = re.compile(r"^(?P<name>[^-/]+)-(?P<version>[^-/]+)\.(dist-info|data)$")
_SCRIPT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class WheelLayout:
    """Where a checked wheel's files go: paths relative to site-packages, top-level names, and script names."""

    files: list[str]
    top_level: set[str]
    scripts: set[str]


def _confined(path: str) -> bool:
    pure = PurePosixPath(path)
    return bool(path) and not path.startswith("/") and "\\" not in path and ":" not in pure.parts[0] and ".." not in pure.parts


def _scripts_of(entry_points: str, where: str) -> set[str]:
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(entry_points)
    except configparser.Error as exc:
        raise HubError(f"{where}: entry_points.txt is not valid: {str(exc).splitlines()[0]}") from None
    return {name for group in ("console_scripts", "gui_scripts") if parser.has_section(group) for name in parser[group]}


def check_wheel_layout(zf: zipfile.ZipFile, dist: str, version: str, *, where: str) -> WheelLayout:
    """Check where every entry of wheel ``zf`` (distribution ``dist`` ``version``) would be installed."""
    files: list[str] = []
    scripts: set[str] = set()
    problems: list[str] = []
    for name in zf.namelist():
        if name.endswith("/"):
            continue
        if not _confined(name):
            problems.append(f"{name!r} would be installed outside site-packages")
            continue
        parts = PurePosixPath(name).parts
        match = _DIST_INFO.match(parts[0])
        if match and (normalize(match["name"]) != normalize(dist) or match["version"] != version):
            problems.append(f"{name!r} belongs to another distribution's metadata folder")
            continue
        if match and parts[0].endswith(".data"):
            scheme = parts[1] if len(parts) > 2 else ""
            if scheme in ("purelib", "platlib"):
                files.append("/".join(parts[2:]))
            elif scheme == "scripts" and len(parts) == 3:
                scripts.add(parts[2])
            else:
                problems.append(f"{name!r} would be written outside site-packages (.data/{scheme or '?'} is refused)")
            continue
        files.append(name)
    top_level = {PurePosixPath(f).parts[0] for f in files}
    for top in sorted(top_level):
        stem = top.split(".")[0]
        if top.endswith(".pth") or stem in _STARTUP:
            problems.append(f"{top!r} would run code at every Python start-up")
        elif stem in HUB_TOP_LEVEL:
            problems.append(f"{top!r} is modahub's own package")
    info = f"{normalize(dist).replace('-', '_')}-{version}.dist-info"
    ep_name = next((n for n in zf.namelist() if n.lower() == f"{info}/entry_points.txt".lower()), None)
    if ep_name:
        scripts |= _scripts_of(zf.read(ep_name).decode("utf-8", "replace"), where)
    for script in sorted(scripts):
        if not _SCRIPT_NAME.match(script):
            problems.append(f"script name {script!r} is not a plain file name")
        elif script in HUB_SCRIPTS:
            problems.append(f"script {script!r} is modahub's own command")
    record = next((n for n in zf.namelist() if n.lower() == f"{info}/RECORD".lower()), None)
    if record:
        problems += _record_problems(zf.read(record), set(zf.namelist()))
    if problems:
        raise HubError(f"{where}: refused, the plugin would reach beyond its own files: {'; '.join(problems[:4])}")
    return WheelLayout(files, top_level, scripts)


def check_wheel_file(path: Path, installed: dict[str, md.Distribution]) -> list[Path]:
    """Both checks on a downloaded wheel, right before it is installed; returns the paths it will write."""
    from packaging.utils import parse_wheel_filename

    dist, version, _, _ = parse_wheel_filename(path.name)
    try:
        with zipfile.ZipFile(path) as zf:
            info = next((n.split("/")[0] for n in zf.namelist() if n.endswith(".dist-info/METADATA")), None)
            match = _DIST_INFO.match(info or "")
            if match is None or normalize(match["name"]) != dist:
                raise HubError(f"{path.name}: no .dist-info folder of {dist}")
            layout = check_wheel_layout(zf, dist, match["version"], where=path.name)
    except (zipfile.BadZipFile, OSError) as exc:
        raise HubError(f"{path.name}: not a readable wheel: {exc}") from None
    check_no_takeover(layout, dist, installed, where=path.name)
    site, bin_dir = site_dirs()
    dist_info = [site / top for top in layout.top_level if top.endswith(".dist-info")]
    return [*dist_info, *(site / rel for rel in layout.files), *(bin_dir / script for script in sorted(layout.scripts))]


def restrict_record(dist: md.Distribution, keep: list[str]) -> None:
    """Rewrite ``dist``'s RECORD so that it lists only the entries ``keep``: all that pip uninstall may delete."""
    from modahub.files import atomic_write

    record = next((f for f in dist.files or [] if str(f) in keep and PurePosixPath(str(f)).name == "RECORD"), None)
    if record is None:
        raise HubError(f"{_name_of(dist)}: its RECORD does not list itself inside its own files; uninstall it by hand")
    record_path = Path(str(dist.locate_file(record)))
    allowed = set(keep)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in csv.reader(io.StringIO(record_path.read_text(encoding="utf-8"))):
        if row and row[0] in allowed:
            writer.writerow(row)
    atomic_write(record_path, out.getvalue().encode())


def _record_rows(data: bytes) -> list[str]:
    try:
        return [row[0] for row in csv.reader(io.StringIO(data.decode("utf-8"))) if row]
    except (UnicodeDecodeError, csv.Error):
        raise HubError("RECORD is not UTF-8 CSV") from None


def _record_problems(data: bytes, members: set[str]) -> list[str]:
    return [f"RECORD lists {path!r}, which is not a file of the wheel" for path in _record_rows(data) if path not in members]


@functools.cache
def site_dirs() -> tuple[Path, Path]:
    """This interpreter's site-packages and scripts folders (resolved)."""
    paths = sysconfig.get_paths()
    return Path(paths["purelib"]).resolve(), Path(paths["scripts"]).resolve()


@dataclass
class Owners:
    """Who installed what, read from every distribution's RECORD as plain strings (fast for hundreds of them)."""

    files: dict[str, str]  # path relative to site-packages -> distribution (only the paths asked about)
    tops: dict[str, str]  # top-level package or module -> distribution
    scripts: dict[str, str]  # script name -> distribution

    @classmethod
    def of(cls, installed: dict[str, md.Distribution], *, skip: str | None = None, files: Set[str] = frozenset()) -> Owners:
        """The owners of every top-level name and script, and of the site-packages paths in ``files``."""
        site, bin_dir = site_dirs()
        bin_rel = os.path.relpath(bin_dir, site).replace(os.sep, "/")
        owners = cls({}, {}, {})
        for name, dist in installed.items():
            if name == skip:
                continue
            paths = _record_paths(dist)
            for rel in paths:
                if rel.startswith("../") and posixpath.dirname(rel) == bin_rel:
                    owners.scripts.setdefault(posixpath.basename(rel), name)
            for rel in files & set(paths):
                owners.files.setdefault(rel, name)
            for top in {r.split("/", 1)[0] if "/" in r else r.removesuffix(".py") for r in paths if not r.startswith("../")}:
                if top != "__pycache__" and not top.endswith((".dist-info", ".data", ".pth")):
                    owners.tops.setdefault(top, name)
        return owners


def _record_paths(dist: md.Distribution) -> list[str]:
    """RECORD entries of ``dist`` as paths relative to site-packages (posix; '../' when outside)."""
    text = dist.read_text("RECORD") or ""
    base = getattr(dist, "_path", None)
    site, _ = site_dirs()
    prefix = ""
    if base is not None and Path(base).parent.resolve() != site:  # a distribution installed elsewhere (editable, user site)
        prefix = os.path.relpath(Path(base).parent.resolve(), site).replace(os.sep, "/") + "/"
    try:
        rows = [row[0] for row in csv.reader(io.StringIO(text)) if row]
    except csv.Error:
        return []
    return [posixpath.normpath(prefix + r) if prefix or ".." in r else r for r in rows]


def check_no_takeover(layout: WheelLayout, dist: str, installed: dict[str, md.Distribution], *, where: str) -> None:
    """Refuse a wheel that would write into another installed distribution's packages, files or scripts."""
    owners = Owners.of(installed, skip=normalize(dist), files=set(layout.files))
    problems = []
    for top in sorted(layout.top_level):
        key = top.removesuffix(".py")
        if key in owners.tops and not top.endswith((".dist-info", ".data")):
            problems.append(f"package {top!r} belongs to {owners.tops[key]}")
    for script in sorted(layout.scripts):
        if script in owners.scripts:
            problems.append(f"script {script!r} belongs to {owners.scripts[script]}")
    for rel in layout.files:
        if rel in owners.files and rel.split("/", 1)[0].removesuffix(".py") not in owners.tops:
            problems.append(f"file {rel!r} belongs to {owners.files[rel]}")
    if problems:
        raise HubError(f"{where}: refused, it would replace what other distributions installed: {'; '.join(problems[:4])}")


def confined_record(dist: md.Distribution, installed: dict[str, md.Distribution]) -> tuple[list[str], list[str]]:
    """The RECORD entries of installed ``dist`` that an uninstall may delete, and those it must not.

    Deletable: inside site-packages (not in modahub's own packages) or one of the distribution's own
    entry-point scripts in the scripts folder, and not a file of another distribution.
    """
    site, bin_dir = site_dirs()
    own_scripts = {ep.name for ep in dist.entry_points if ep.group in ("console_scripts", "gui_scripts")}
    owners = Owners.of(installed, skip=normalize(_name_of(dist)), files=set(_record_paths(dist)))
    bin_rel = os.path.relpath(bin_dir, site).replace(os.sep, "/")
    keep: list[str] = []
    refused: list[str] = []
    for raw, rel in zip(_raw_record(dist), _record_paths(dist), strict=True):
        if rel.startswith("/") or rel in (".", "..") or rel.split("/", 1)[0] in HUB_TOP_LEVEL:
            refused.append(raw)
        elif rel.startswith("../"):
            script = posixpath.basename(rel)
            is_script = posixpath.dirname(rel) == bin_rel and script in own_scripts and script not in owners.scripts
            (keep if is_script else refused).append(raw)
        elif rel in owners.files:
            refused.append(raw)
        else:
            keep.append(raw)
    return keep, refused


def _raw_record(dist: md.Distribution) -> list[str]:
    try:
        return [row[0] for row in csv.reader(io.StringIO(dist.read_text("RECORD") or "")) if row]
    except csv.Error:
        return []


def _name_of(dist: md.Distribution) -> str:
    from modahub_hub.hub.pipenv import dist_name

    return dist_name(dist) or ""
