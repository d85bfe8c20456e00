"""Install, upgrade and uninstall plugins from hubs, keeping the user's plugin lock up to date.

install = resolve against the running core → download → verify size, sha256 and the registry
signature → one all-or-nothing pip install of every verified wheel → record each in the lock.
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from packaging.version import Version

from modahub_hub.hub import HubError, HubVerificationError
from modahub_hub.hub.client import Hub, ProgressFactory, is_plugin_installed, no_progress
from modahub_hub.hub.config import lock_path
from modahub_hub.hub.confine import check_wheel_file
from modahub_hub.hub.journal import transaction
from modahub_hub.hub.pickles import check_wheel_data
from modahub_hub.hub.pipenv import files_only, installed, pip_install, pip_uninstall, versions
from modahub_hub.hub.registry import PluginEntry, VersionEntry, normalize

_LOCK_LINE = re.compile(r"^(?P<req>[^#\s]+)\s*(#\s*hub=(?P<hub>\S+)(\s+sha256=(?P<sha>[0-9a-f]{64}))?)?\s*$")
_HEADER = "# modahub plugin lock: written by 'modahub install'; reinstall everything with 'modahub install -r <this file>'\n"


@dataclass(frozen=True)
class Request:
    """One plugin to install: a requirement and the hub to take it from (None: the default hub)."""

    requirement: str
    hub: str | None = None
    sha256: str | None = None
    """From a lock line: the wheel must hash to this, whatever the hub's registry says now."""


@dataclass(frozen=True)
class Installed:
    plugin: PluginEntry
    entry: VersionEntry
    hub: str


def read_requests(path: Path) -> list[Request]:
    """``NAME[==VER]`` lines (comments and blanks ignored); a lock line's ``# hub=…`` picks its hub."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise HubError(f"cannot read requirements file {path}: {exc}") from None
    requests = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LOCK_LINE.match(line.strip())
        if not match:
            raise HubError(f"{path}:{number}: expected 'NAME' or 'NAME==VERSION' (optionally '# hub=HUB'), got {line!r}")
        requests.append(Request(match["req"], match["hub"], match["sha"]))
    return requests


def read_lock() -> dict[str, str]:
    """The lock's lines by normalised plugin name."""
    path = lock_path()
    if not path.is_file():
        return {}
    return {normalize(r.requirement.split("==")[0]): line for r, line in _lock_lines(path)}


def _lock_lines(path: Path) -> list[tuple[Request, str]]:
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip() and not ln.startswith("#")]
    return [(r, ln) for r, ln in zip(read_requests(path), lines, strict=True)]


def _lock_text(add: Sequence[Installed] = (), remove: Sequence[str] = ()) -> str:
    """The lock as it will be once ``add`` is installed and ``remove`` uninstalled (written by the journal's commit)."""
    lines = read_lock()
    for name in remove:
        lines.pop(normalize(name), None)
    for item in add:
        lines[normalize(item.plugin.name)] = (
            f"{item.plugin.name}=={item.entry.version}  # hub={item.hub} sha256={item.entry.artifact.sha256}"
        )
    return _HEADER + "".join(f"{lines[k]}\n" for k in sorted(lines))


def _add_hub_dependencies(chosen: dict[str, tuple[Hub, PluginEntry, VersionEntry]]) -> None:
    """Add to ``chosen`` the plugins that chosen ones require and that their hub hosts (pip's index has none of them)."""
    from packaging.requirements import Requirement

    queue = list(chosen.values())
    while queue:
        hub, _, entry = queue.pop()
        for text in entry.dependencies:
            req = Requirement(text)
            name = normalize(req.name)
            if name in chosen or (req.marker and not req.marker.evaluate({"extra": ""})):
                continue
            have = is_plugin_installed(name)  # before the hub lookup: on a TUF hub that fetches a bin
            if (have is not None and req.specifier.contains(have, prereleases=True)) or hub.find(name) is None:
                continue
            plugin, found = hub.resolve(f"{req.name}{req.specifier}")
            chosen[name] = (hub, plugin, found)
            queue.append(chosen[name])


def install(requests: list[Request], *, progress: ProgressFactory = no_progress, force: bool = False) -> list[Installed]:
    """Install every request in one all-or-nothing pip run; returns what was installed.

    Already installed plugins at the resolved version are skipped unless ``force``.
    """
    hubs: dict[str | None, Hub] = {}
    chosen: dict[str, tuple[Hub, PluginEntry, VersionEntry]] = {}
    for request in requests:
        hub = hubs.setdefault(request.hub, Hub.open(request.hub))
        plugin, entry = hub.resolve(request.requirement)
        if request.sha256 is not None and entry.artifact.sha256 != request.sha256:
            raise HubVerificationError(
                f"lock check failed: {request.requirement} from {hub.backend.hub_id} is {entry.artifact.filename} with "
                f"sha256 {entry.artifact.sha256}, but the lock says sha256={request.sha256}; the published file changed "
                "since it was locked (nothing installed). Install without the sha256 only if you trust the new file"
            )
        chosen[normalize(plugin.name)] = (hub, plugin, entry)
    _add_hub_dependencies(chosen)
    todo = {k: v for k, v in chosen.items() if force or is_plugin_installed(k) != v[2].version}
    if not todo:
        return []
    done = [Installed(plugin, entry, hub.backend.hub_id) for hub, plugin, entry in todo.values()]
    with tempfile.TemporaryDirectory(prefix="modahub-install-") as tmp:
        wheels = [hub.download(entry, Path(tmp), progress) for hub, _, entry in todo.values()]
        present = installed()
        new_files = []
        for path in wheels:
            new_files += check_wheel_file(path, present)
            with zipfile.ZipFile(path) as zf:
                check_wheel_data(zf, where=path.name)
        requirements = [dep for _, _, entry in todo.values() for dep in entry.dependencies]
        before = versions(present)
        with transaction("install", before=before, new_files=[str(p) for p in new_files], lock_path=lock_path(),
                         lock_after=_lock_text(add=done)) as txn:
            pip_install(wheels, requirements, txn, files_only(requirements))
            txn.commit()
    return done


def pull(request: Request, dest: Path, *, progress: ProgressFactory = no_progress) -> Path:
    """Download and verify one plugin's wheel into ``dest`` without installing it."""
    hub = Hub.open(request.hub)
    _, entry = hub.resolve(request.requirement)
    return hub.download(entry, dest, progress)


def uninstall(names: list[str]) -> list[str]:
    """pip uninstall plugins (by distribution name) and drop them from the lock.

    Returns the RECORD entries that were left alone because they lie outside the plugin's own files.
    """
    missing = [n for n in names if is_plugin_installed(n) is None]
    if missing:
        raise HubError(f"not installed: {', '.join(missing)} (see 'modahub plugins')")
    before = versions(installed())
    with transaction("uninstall", before=before, new_files=[], lock_path=lock_path(), lock_after=_lock_text(remove=names)) as txn:
        spared = pip_uninstall(names, txn)
        txn.commit()
    return spared


def upgrade(names: list[str], hub: str | None, *, progress: ProgressFactory = no_progress) -> list[Installed]:
    """Upgrade the named plugins (default: every plugin in the lock) to their newest fitting version."""
    locked_lines = read_lock()
    targets = [normalize(n) for n in names] or sorted(locked_lines)
    requests = []
    for name in targets:
        line_hub = _LOCK_LINE.match(locked_lines[name])["hub"] if name in locked_lines else None  # type: ignore[index]
        requests.append(Request(name, hub or line_hub))
    newer = []
    for request in requests:
        current = is_plugin_installed(request.requirement)
        _, entry = Hub.open(request.hub).resolve(request.requirement)
        if current is None or Version(entry.version) > Version(current):
            newer.append(request)
    return install(newer, progress=progress)
