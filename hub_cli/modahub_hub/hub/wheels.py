"""Read what a plugin wheel declares straight from the zip, without importing any of its code.

:func:`inspect_wheel` returns the distribution name and version (METADATA), its requirements, the
``modahub`` entry point (``entry_points.txt``) and the static manifest ``modahub.toml`` found in
the entry point's top-level package, and checks that they agree, that every file stays the plugin's
own (:mod:`~modahub_hub.hub.confine`) and that no data file can run code (:mod:`~modahub_hub.hub.pickles`).
"""

from __future__ import annotations

import configparser
import re
import zipfile
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

from modahub.files import sha256_file
from modahub.manifest import MANIFEST_FILE, Manifest, ManifestError, parse_manifest
from modahub_hub.hub import HubError
from modahub_hub.hub.confine import check_wheel_layout
from modahub_hub.hub.pickles import check_wheel_data
from modahub_hub.hub.registry import check_name, normalize

ENTRY_POINT_GROUP = "modahub"
CORE_DIST = "modahub-core"
_WHEEL_NAME = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")


@dataclass(frozen=True)
class WheelInfo:
    """What a plugin wheel declares."""

    path: Path
    name: str
    version: str
    summary: str
    license: str | None
    homepage: str | None
    author: str | None
    requires_python: str | None
    dependencies: list[str]
    requires_core: str | None
    entry_point: str
    manifest: Manifest
    sha256: str
    size: int


def _read_text(zf: zipfile.ZipFile, name: str, where: Path) -> str:
    try:
        return zf.read(name).decode("utf-8")
    except KeyError:
        raise HubError(f"{where.name}: missing {name}; is it a wheel built by a standard build backend?") from None
    except UnicodeDecodeError as exc:
        raise HubError(f"{where.name}: {name} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def inspect_wheel(path: Path) -> WheelInfo:
    """Read and check a plugin wheel; :class:`HubError` names the file and what to fix."""
    match = _WHEEL_NAME.match(path.name)
    if not match:
        raise HubError(f"{path.name}: not a wheel file name (NAME-VERSION-PY-ABI-PLATFORM.whl)")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise HubError(f"{path}: not a readable wheel: {exc}") from None
    with zf:
        names = zf.namelist()
        check_wheel_layout(zf, match["name"], match["version"], where=path.name)
        check_wheel_data(zf, where=path.name)
        dist_info = f"{match['name']}-{match['version']}.dist-info"
        meta = HeaderParser().parsestr(_read_text(zf, f"{dist_info}/METADATA", path))  # str: non-ASCII names stay intact
        eps = configparser.ConfigParser(delimiters=("=",), interpolation=None)
        eps.optionxform = str  # type: ignore[assignment,method-assign]
        if f"{dist_info}/entry_points.txt" in names:
            eps.read_string(_read_text(zf, f"{dist_info}/entry_points.txt", path))
        name, version = meta["Name"], meta["Version"]
        try:
            check_name(name or "")
        except ValueError as exc:
            raise HubError(f"{path.name}: METADATA Name: {exc}") from None
        if not name or not version or normalize(name) != normalize(match["name"]) or version != match["version"]:
            raise HubError(f"{path.name}: METADATA says {name} {version}, which does not match the file name")
        if not eps.has_section(ENTRY_POINT_GROUP) or len(eps[ENTRY_POINT_GROUP]) != 1:
            found = len(eps[ENTRY_POINT_GROUP]) if eps.has_section(ENTRY_POINT_GROUP) else 0
            raise HubError(
                f"{path.name}: a plugin declares exactly one entry point in group '{ENTRY_POINT_GROUP}' (found {found}); add "
                f'[project.entry-points.modahub] <name> = "<package>.plugin" to pyproject.toml'
            )
        (ep_name, ep_value), = eps[ENTRY_POINT_GROUP].items()
        top = ep_value.split(":")[0].strip().split(".")[0]
        manifest_name = f"{top}/{MANIFEST_FILE}"
        if manifest_name not in names:
            raise HubError(
                f"{path.name}: entry point {ep_name} = {ep_value} names package {top!r}, but {manifest_name} is not in the "
                f"wheel; add {MANIFEST_FILE} to the package data"
            )
        try:
            manifest = parse_manifest(_read_text(zf, manifest_name, path), source=f"{path.name}:{manifest_name}")
        except ManifestError as exc:
            raise HubError(str(exc)) from None
        if not (manifest.executors or manifest.modalities or manifest.commands):
            raise HubError(f"{path.name}:{manifest_name} declares no executors, modalities or commands")
    dependencies = meta.get_all("Requires-Dist") or []
    return WheelInfo(
        path=path,
        name=name,
        version=version,
        summary=meta.get("Summary") or "",
        license=meta.get("License-Expression") or meta.get("License"),
        homepage=_homepage(meta),
        author=meta.get("Author") or meta.get("Author-email"),
        requires_python=meta.get("Requires-Python"),
        dependencies=dependencies,
        requires_core=_core_range(dependencies, path),
        entry_point=f"{ep_name} = {ep_value.strip()}",
        manifest=manifest,
        sha256=sha256_file(path),
        size=path.stat().st_size,
    )


def _homepage(meta) -> str | None:
    for value in meta.get_all("Project-URL") or []:
        label, _, url = value.partition(",")
        if label.strip().lower() in ("homepage", "home", "source", "repository"):
            return url.strip()
    return meta.get("Home-page")


def _core_range(dependencies: list[str], path: Path) -> str | None:
    for dep in dependencies:
        try:
            req = Requirement(dep)
        except InvalidRequirement:
            raise HubError(f"{path.name}: invalid Requires-Dist {dep!r}") from None
        if normalize(req.name) == CORE_DIST and req.marker is None:
            return str(req.specifier) or None
    return None
