"""Run the executor contract on a plugin folder or an installed plugin and collect a report.

A folder is loaded from its source (``src/`` or the folder itself) through the entry points its
``pyproject.toml`` declares, without installing it; an installed plugin is found by entry-point or
distribution name. Each run uses its own plugin manager and restores ``sys.path``, ``sys.modules``
and the modality registry afterwards, so a long-lived process (the hub's publish) can run many.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from modahub import plugins
from modahub.plugins import ENTRY_POINT_GROUP, LOAD_ENV, PluginManager, PluginRecord
from modahub.testing.rules import RuleResult, Subject, rules_for, run_rule


class ContractTargetError(LookupError):
    """The target is neither a plugin folder nor an installed plugin."""


@dataclass
class ContractReport:
    """Outcome of the contract on one plugin: a result per executor and rule, plus plugin-level errors."""

    target: str
    plugin: str = ""
    version: str = ""
    results: list[RuleResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the plugin loaded, declared executors and kept every rule."""
        return not self.errors and bool(self.results) and all(r.status == "passed" for r in self.results)

    @property
    def failures(self) -> list[RuleResult]:
        return [r for r in self.results if r.status != "passed"]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContractReport:
        return cls(
            target=data["target"],
            plugin=data.get("plugin", ""),
            version=data.get("version", ""),
            results=[RuleResult(**r) for r in data.get("results", [])],
            errors=list(data.get("errors", [])),
        )


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _folder_entry_points(folder: Path) -> tuple[list[EntryPoint], dict[str, Any]]:
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        raise ContractTargetError(f"{folder}: no pyproject.toml; a plugin folder is what 'modahub new' makes")
    try:
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    except tomllib.TOMLDecodeError as exc:
        raise ContractTargetError(f"{pyproject}: not valid TOML: {exc}") from None
    declared = project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
    if not declared:
        raise ContractTargetError(
            f"{pyproject}: declares no [project.entry-points.{ENTRY_POINT_GROUP}]; add '<name> = \"<package>.plugin\"'"
        )
    return [EntryPoint(name, value, ENTRY_POINT_GROUP) for name, value in declared.items()], project


def _folder_version(folder: Path, source: Path, project: dict[str, Any]) -> str:
    """The version in pyproject.toml, or the ``__version__`` string its dynamic ``attr`` names (read, not imported)."""
    if "version" in project:
        return str(project["version"])
    tool = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8")).get("tool", {})
    attr = tool.get("setuptools", {}).get("dynamic", {}).get("version", {}).get("attr", "")
    module, _, name = attr.rpartition(".")
    base = source.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if module and candidate.is_file():
            found = re.search(rf"^{re.escape(name)}\s*=\s*[\"']([^\"']+)[\"']", candidate.read_text(encoding="utf-8"), re.M)
            if found:
                return found.group(1)
    return "unknown"


@contextmanager
def _isolated(source: Path | None) -> Iterator[None]:
    """Import a folder's code from ``source``; undo the imports and the process-wide manager afterwards."""
    saved_path, saved_modules, saved_manager = list(sys.path), set(sys.modules), plugins._manager
    if source is not None:
        sys.path.insert(0, str(source))
    try:
        yield
    finally:
        sys.path[:] = saved_path
        plugins._manager = saved_manager
        if source is not None:
            for name in set(sys.modules) - saved_modules:
                module_file = getattr(sys.modules[name], "__file__", None) or ""
                if module_file.startswith(str(source)):
                    del sys.modules[name]


def _check_not_shadowed(eps: list[EntryPoint], source: Path) -> None:
    for ep in eps:
        top = ep.value.split(":")[0].split(".")[0]
        loaded = sys.modules.get(top)
        where = getattr(loaded, "__file__", None) or ""
        if loaded is not None and not where.startswith(str(source)):
            raise ContractTargetError(
                f"package {top!r} is already imported from {where}; run 'modahub test' in a fresh process to test {source}"
            )


def _records(target: str | Path) -> tuple[PluginManager, list[PluginRecord]]:
    path = Path(target)
    if path.is_dir():
        folder = path.resolve()
        eps, project = _folder_entry_points(folder)
        source = folder / "src" if (folder / "src").is_dir() else folder
        _check_not_shadowed(eps, source)
        names = {ep.name for ep in eps}
        installed = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in names]
        selected = os.environ.get(LOAD_ENV)
        others = [ep.name for ep in installed] if selected is None else selected.split(",")
        mgr = PluginManager([*installed, *eps], strict=False, selection=",".join([*others, *names]))
        records = [mgr.records[name] for name in sorted(names)]
        for record in records:
            record.dist, record.version = project.get("name", record.dist), _folder_version(folder, source, project)
        return mgr, records
    mgr = PluginManager(strict=False, selection=None)
    wanted = _normalise(str(target))
    found = [r for r in mgr.records.values() if wanted in (_normalise(r.name), _normalise(r.dist))]
    if not found:
        installed = ", ".join(sorted(mgr.records)) or "none"
        raise ContractTargetError(
            f"{target!r} is not a plugin folder nor an installed plugin (installed: {installed}); "
            "pass the folder that holds pyproject.toml, or install the plugin first"
        )
    return mgr, found


def run_contract(target: str | Path, *, executors: list[str] | None = None) -> ContractReport:
    """Run every contract rule on each executor of the plugin at ``target`` (a folder or an installed name)."""
    report = ContractReport(target=str(target))
    path = Path(target)
    source = (path / "src" if (path / "src").is_dir() else path).resolve() if path.is_dir() else None
    with _isolated(source):
        mgr, records = _records(target)
        plugins._manager = mgr  # documents of the plugin's own modalities validate through it
        for record in records:
            report.plugin, report.version = record.dist, record.version
            _run_record(mgr, record, executors, report)
    if not report.results and not report.errors:
        report.errors.append("no executors tested: the manifest declares none" + (" of those named" if executors else ""))
    return report


def _run_record(mgr: PluginManager, record: PluginRecord, executors: list[str] | None, report: ContractReport) -> None:
    mgr.load(record)
    if record.status != "loaded":
        report.errors.append(f"plugin {record.name} ({record.dist}) does not load: {record.error}")
        return
    assert record.manifest is not None
    for spec in record.manifest.executors:
        if executors and spec.name not in executors:
            continue
        subject = Subject(record.executors[spec.name], spec)
        report.results.extend(run_rule(r, subject) for r in rules_for(spec.kind))
