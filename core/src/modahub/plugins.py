"""Plugin discovery and loading: entry points, static manifests, pluggy hooks, per-plugin guards.

Discovery reads entry points (group ``modahub``) and each plugin's manifest without importing
plugin code. A plugin's module is imported only when one of its executors, modalities or
commands is needed, or when every plugin is checked (``modahub plugins`` / ``doctor``). Each
load runs in its own guard: a failure is recorded on the plugin and the rest keep working, unless
strict mode (``MODAHUB_STRICT_PLUGINS=1``) turns it into a :class:`PluginError`.
``MODAHUB_LOAD_PLUGINS`` (comma-separated entry point or distribution names; empty for none)
selects which installed plugins are used.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, Literal

import pluggy

from modahub import hookspecs, lookup
from modahub.errors import ModahubError, ModahubInputError
from modahub.manifest import ExecutorSpec, Manifest, ManifestError, read_manifest

if TYPE_CHECKING:
    from modahub.executors import Executor
    from modahub.modalities import Modality

ENTRY_POINT_GROUP = "modahub"
STRICT_ENV = "MODAHUB_STRICT_PLUGINS"
LOAD_ENV = "MODAHUB_LOAD_PLUGINS"
PluginStatus = Literal["available", "loaded", "broken", "disabled"]


class PluginError(ModahubError, RuntimeError):
    """A plugin failed to load (raised in strict mode or when its executor is requested)."""


class UnknownExecutorError(ModahubInputError, LookupError):
    """No installed plugin declares an executor of that name."""


@dataclass
class PluginRecord:
    """What is known about one installed plugin."""

    name: str
    dist: str
    version: str
    module: str
    manifest: Manifest | None = None
    status: PluginStatus = "available"
    error: str | None = None
    fix: str | None = None
    executors: dict[str, type[Executor]] = field(default_factory=dict)

    def fail(self, error: str, fix: str) -> None:
        self.status, self.error, self.fix = "broken", error, fix


def _fix_for(record: PluginRecord) -> str:
    return (
        f"reinstall it (pip install --force-reinstall {record.dist}), uninstall it "
        f"(pip uninstall {record.dist}), or leave it out with {LOAD_ENV}"
    )


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


class PluginManager:
    """The registry of installed plugins, their manifests and executors; plugin modalities go to
    :mod:`modahub.modalities` when their plugin loads."""

    def __init__(
        self,
        eps: Iterable[EntryPoint] | None = None,
        *,
        strict: bool | None = None,
        selection: str | None = None,
    ) -> None:
        self.strict = _env_flag(STRICT_ENV) if strict is None else strict
        selection = os.environ.get(LOAD_ENV) if selection is None else selection
        self._selected = None if selection is None else {s.strip() for s in selection.split(",") if s.strip()}
        self.pm = pluggy.PluginManager("modahub")
        self.pm.add_hookspecs(hookspecs)
        self.records: dict[str, PluginRecord] = {}
        for ep in entry_points(group=ENTRY_POINT_GROUP) if eps is None else eps:
            self._discover(ep)

    def call_hook_of(self, plugin_name: str, hook: str, **kwargs: Any) -> None:
        """Call ``hook`` on one registered plugin only."""
        others = [p for n, p in self.pm.list_name_plugin() if n != plugin_name]
        self.pm.subset_hook_caller(hook, others)(**kwargs)

    def _discover(self, ep: EntryPoint) -> None:
        dist = ep.dist
        record = PluginRecord(
            name=ep.name,
            dist=dist.name if dist else ep.name,
            version=dist.version if dist else "?",
            module=ep.value,
        )
        if ep.name in self.records:
            other = self.records[ep.name]
            record.fail(f"plugin name {ep.name!r} is also used by {other.dist}", f"uninstall one of {other.dist}, {record.dist}")
        elif self._selected is not None and not ({record.name, record.dist} & self._selected):
            record.status = "disabled"
        else:
            try:
                record.manifest = read_manifest(ep.value)
            except ManifestError as exc:
                record.fail(f"bad manifest: {exc}", "fix modahub.toml (see docs/authoring.md) or " + _fix_for(record))
        self.records.setdefault(ep.name, record)
        if record.status == "broken":
            self._report(record)

    def _report(self, record: PluginRecord) -> None:
        if self.strict:
            raise PluginError(f"plugin {record.name} ({record.dist} {record.version}): {record.error}")

    # --- static view (no plugin code runs) -------------------------------------------------

    def active(self) -> list[PluginRecord]:
        """Plugins that are selected and whose manifest is valid."""
        return [r for r in self.records.values() if r.status in ("available", "loaded")]

    def executor_specs(self) -> list[tuple[PluginRecord, ExecutorSpec]]:
        """Every executor declared by an active plugin's manifest."""
        return [(r, spec) for r in self.active() for spec in r.manifest.executors]  # type: ignore[union-attr]

    def find_executor(self, name: str) -> tuple[PluginRecord, ExecutorSpec]:
        """The plugin and manifest entry declaring executor ``name``; a broken provider is an error."""
        found = [
            (r, s)
            for r in self.records.values()
            if r.manifest is not None and r.status != "disabled"
            for s in r.manifest.executors
            if s.name == name
        ]
        if not found:
            known = ", ".join(sorted(s.name for _, s in self.executor_specs())) or "none installed"
            raise UnknownExecutorError(
                f"no installed plugin provides an executor named {name!r} (known: {known}); "
                "find one with 'modahub search' and install it with 'modahub install'"
            )
        if len(found) > 1:
            raise PluginError(
                f"executor {name!r} is declared by several plugins: {', '.join(r.dist for r, _ in found)}; "
                "uninstall all but one"
            )
        return found[0]

    # --- loading (plugin code runs here, guarded) ------------------------------------------

    def load(self, record: PluginRecord) -> PluginRecord:
        """Import one plugin and call its hooks, recording any failure on the record."""
        if record.status != "available":
            return record
        try:
            module = importlib.import_module(record.module.split(":")[0])
            self.pm.register(module, name=record.name)
        except (Exception, SystemExit) as exc:  # a broken plugin must not break modahub
            record.fail(f"import failed: {type(exc).__name__}: {exc}", _fix_for(record))
            self._report(record)
            return record
        try:
            self.pm.check_pending()
            self.call_hook_of(record.name, "register_modalities", register=self._modality_registrar(record))
            self.call_hook_of(record.name, "register_executors", register=self._executor_registrar(record))
            self._check_against_manifest(record)
        except (Exception, SystemExit) as exc:
            self.pm.unregister(name=record.name)
            record.executors.clear()
            record.fail(f"{type(exc).__name__}: {exc}", _fix_for(record))
            self._report(record)
            return record
        record.status = "loaded"
        return record

    def load_all(self) -> list[PluginRecord]:
        """Load every selected plugin (for ``modahub plugins`` and ``doctor``)."""
        for record in list(self.records.values()):
            self.load(record)
        return list(self.records.values())

    def _modality_registrar(self, record: PluginRecord) -> Any:
        declared = {m.name for m in record.manifest.modalities}  # type: ignore[union-attr]

        def register(modality: Modality) -> None:
            from modahub import modalities

            if modality.name not in declared:
                raise ManifestError(f"registers modality {modality.name!r} that its manifest does not declare")
            modalities.register(modality)

        return register

    def _executor_registrar(self, record: PluginRecord) -> Any:
        def register(cls: type) -> None:
            from modahub.executors import Executor

            if not (isinstance(cls, type) and issubclass(cls, Executor)):
                raise TypeError(f"register_executors got {cls!r}, expected an Encoder/Indexer/Generator subclass")
            record.executors[cls.name] = cls

        return register

    def _check_against_manifest(self, record: PluginRecord) -> None:
        manifest = record.manifest
        assert manifest is not None
        declared = {s.name: s for s in manifest.executors}
        extra = sorted(set(record.executors) - set(declared))
        missing = sorted(set(declared) - set(record.executors))
        if extra or missing:
            raise ManifestError(
                f"code and manifest disagree: registered but not declared {extra}, declared but not registered {missing}"
            )
        for name, cls in record.executors.items():
            spec = declared[name]
            wrong = [
                f"{attr}: manifest {getattr(spec, attr)!r}, code {getattr(cls, attr, None)!r}"
                for attr in ("kind", "space", "dim")
                if getattr(spec, attr) is not None and getattr(cls, attr, None) != getattr(spec, attr)
            ]
            if wrong:
                raise ManifestError(f"executor {name!r} differs from its manifest: {'; '.join(wrong)}")

    def executor_class(self, name: str) -> type[Executor]:
        """The executor class called ``name``, importing only the plugin that provides it."""
        record, _ = self.find_executor(name)
        self.load(record)
        if record.status != "loaded":
            raise PluginError(
                f"executor {name!r} is unavailable: plugin {record.dist} is broken: {record.error}. Fix: {record.fix}"
            )
        return record.executors[name]

    def load_modality_provider(self, modality: str) -> None:
        """Load the plugins whose manifest declares ``modality`` (no-op when none does)."""
        for record in self.active():
            if any(m.name == modality for m in record.manifest.modalities):  # type: ignore[union-attr]
                self.load(record)


_manager: PluginManager | None = None


def manager() -> PluginManager:
    """The process-wide plugin manager, created on first use."""
    global _manager
    if _manager is None:
        _manager = PluginManager()
    return _manager


def reset_manager() -> None:
    """Forget the process-wide manager and the modalities its plugins registered (tests, or after
    installing a plugin)."""
    global _manager
    _manager = None
    if "modahub.modalities" in sys.modules:  # else no plugin registered one
        sys.modules["modahub.modalities"].reset()


def _load_modality_provider(name: str) -> None:
    """The modality registry's resolver: load the plugin whose manifest declares ``name``."""
    manager().load_modality_provider(name)


lookup.modality_resolvers.append(_load_modality_provider)
