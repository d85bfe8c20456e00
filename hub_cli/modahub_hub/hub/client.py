"""Read a hub: pick it, verify its registry, resolve a plugin requirement, download and verify a wheel."""

from __future__ import annotations

import hmac
import importlib.metadata
import platform
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet

from modahub.files import sha256_file
from modahub_hub.hub import HubError, HubVerificationError, UnknownPlugin
from modahub_hub.hub.backends import Backend, Progress, open_backend
from modahub_hub.hub.config import read_config
from modahub_hub.hub.registry import PluginEntry, Registry, VersionEntry, check_wheel_filename, normalize
from modahub_hub.hub.trust import bundled_hub_path, load_verified
from modahub_hub.hub.wheels import CORE_DIST

ProgressFactory = Callable[[str, int], AbstractContextManager[Progress]]


@contextmanager
def no_progress(label: str, total: int) -> Iterator[Progress]:
    yield lambda n: None


def default_hub_spec() -> str:
    """The configured default hub, else the bundled hub."""
    return str(read_config().get("default_hub") or bundled_hub_path())


@dataclass
class Hub:
    """A hub whose registry has passed the signature, rollback and freeze checks."""

    backend: Backend
    _registry: Registry | None = field(default=None, repr=False)

    @classmethod
    def open(cls, spec: str | None = None) -> Hub:
        """The hub at ``spec``: read through TUF when it has TUF metadata or its root is pinned here, else its legacy registry."""
        from modahub_hub.hub.tuf_client import has_tuf
        from modahub_hub.hub.tuf_hub import TufHub

        backend = open_backend(spec or default_hub_spec())
        return TufHub.for_backend(backend) if has_tuf(backend) else Hub(backend)

    @property
    def registry(self) -> Registry:
        if self._registry is None:
            self._registry = load_verified(self.backend)
        return self._registry

    def find(self, name: str) -> PluginEntry | None:
        """The plugin whose distribution name is ``name``, or None."""
        return self.registry.get(name)

    def rows(self, query: str = "", *, modality: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        """What ``modahub search`` shows of the plugins matching ``query`` (see :func:`search`)."""
        return [plugin_row(p) for p in search(self.registry, query, modality=modality, kind=kind)]

    def plugin(self, name: str) -> PluginEntry:
        """The plugin called ``name``: its distribution name, or its entry-point or executor name."""
        found = self.registry.get(name)
        if found:
            return found
        matches = [
            p
            for p in self.registry.plugins.values()
            if (latest := p.latest())
            and (name == latest.entry_point.split("=")[0].strip() or name in {e.name for e in latest.manifest.executors})
        ]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise HubError(f"several plugins provide {name!r}: {', '.join(p.name for p in matches)}")
        raise UnknownPlugin(name, self.backend.hub_id)

    def resolve(self, requirement: str) -> tuple[PluginEntry, VersionEntry]:
        """The newest version matching ``NAME[==VER|SPEC]`` that suits the running core and Python."""
        try:
            req = Requirement(requirement)
        except InvalidRequirement as exc:
            reason = str(exc).splitlines()[0]
            raise HubError(f"{ascii(requirement)} is not NAME or NAME==VERSION (ASCII PEP 508 name): {reason}") from None
        plugin = self.plugin(req.name)
        if plugin.status == "quarantined":
            raise HubError(
                f"{plugin.name} is quarantined by the hub ({plugin.status_reason or 'no reason given'}); installing it is refused"
            )
        core, python = _core_version(), platform.python_version()
        exact = any(s.operator in ("==", "===") for s in req.specifier)
        rejected = []
        for entry in plugin.sorted_versions():
            why = None
            if not req.specifier.contains(entry.version, prereleases=exact or None):
                why = f"not {req.specifier}"
            elif entry.yanked and not exact:
                why = f"yanked ({entry.yanked_reason or 'no reason'})"
            elif entry.requires_core and not SpecifierSet(entry.requires_core).contains(core, prereleases=True):
                why = f"needs {CORE_DIST}{entry.requires_core}, you have {core}"
            elif entry.requires_python and not SpecifierSet(entry.requires_python).contains(python, prereleases=True):
                why = f"needs Python {entry.requires_python}, you have {python}"
            if why is None:
                return plugin, entry
            rejected.append(f"{entry.version}: {why}")
        raise HubError(f"no version of {plugin.name} fits: {'; '.join(rejected) or 'none published'}")

    def download(self, entry: VersionEntry, dest_dir: Path, progress: ProgressFactory = no_progress) -> Path:
        """Fetch ``entry``'s wheel into ``dest_dir`` and verify its size and sha256 before it gets its name."""
        art = entry.artifact
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / check_wheel_filename(art.filename)  # a plain file name, never a path
        with tempfile.NamedTemporaryFile(dir=dest_dir, prefix=".download-", suffix=".part", delete=False) as part:
            tmp = Path(part.name)
        try:
            with progress(art.filename, art.size) as advance:
                self.backend.fetch_any(art.url, tmp, advance, limit=art.size)
            size = tmp.stat().st_size
            if size != art.size:
                raise HubVerificationError(
                    f"size check failed: {art.filename} is {size} bytes, the registry says {art.size}; nothing installed"
                )
            digest = sha256_file(tmp)
            if not hmac.compare_digest(digest, art.sha256):
                raise HubVerificationError(
                    f"sha256 check failed: {art.filename} hashes to {digest}, the signed registry says {art.sha256}; "
                    "the file was altered or corrupted, nothing installed"
                )
            tmp.replace(dest)
        finally:
            tmp.unlink(missing_ok=True)
        return dest


def _core_version() -> str:
    try:
        return importlib.metadata.version(CORE_DIST)
    except importlib.metadata.PackageNotFoundError:
        raise HubError(f"{CORE_DIST} is not installed in this environment; pip install modahub") from None


def search(registry: Registry, query: str = "", *, modality: str | None = None, kind: str | None = None) -> list[PluginEntry]:
    """Plugins whose name, summary or executors contain ``query``, filtered by modality and kind."""
    words = query.lower().split()
    found = []
    for key, plugin in sorted(registry.plugins.items()):
        latest = plugin.latest()
        if latest is None:
            continue
        text = " ".join([key, plugin.summary, *(f"{e.name} {e.summary}" for e in latest.manifest.executors)]).lower()
        mods = latest.modalities()
        if all(w in text for w in words) and (modality is None or modality in mods or "*" in mods) and (
            kind is None or kind in latest.kinds()
        ):
            found.append(plugin)
    return found


def plugin_row(plugin: PluginEntry) -> dict[str, Any]:
    """A plugin as ``search`` and ``info`` show it (its newest version's manifest)."""
    latest = plugin.latest()
    return {
        "name": plugin.name,
        "version": latest.version if latest else None,
        "summary": plugin.summary,
        "owner": plugin.owner,
        "license": plugin.license,
        "status": plugin.status,
        "kinds": latest.kinds() if latest else [],
        "modalities": latest.modalities() if latest else [],
        "executors": [e.model_dump(mode="json", exclude_defaults=True) for e in latest.manifest.executors] if latest else [],
        "versions": [v.version + (" (yanked)" if v.yanked else "") for v in plugin.sorted_versions()],
    }


def is_plugin_installed(name: str) -> str | None:
    """The installed version of distribution ``name``, or None."""
    try:
        return importlib.metadata.version(normalize(name))
    except importlib.metadata.PackageNotFoundError:
        return None
