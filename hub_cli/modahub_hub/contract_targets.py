"""Run the executor contract in this process on a plugin folder, a wheel or an installed plugin.

A folder (``src/`` or the folder itself) or an unpacked wheel is loaded through the entry points
it declares, without installing it; an installed plugin is found by entry-point or distribution
name. Each run uses its own plugin manager and restores ``sys.path``, ``sys.modules`` and the
process-wide manager afterwards.
"""

from __future__ import annotations

import configparser
import email.parser
import os
import re
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from modahub import modalities, plugins
from modahub.errors import ModahubInputError
from modahub.plugins import ENTRY_POINT_GROUP, LOAD_ENV, PluginManager, PluginRecord
from modahub_testing.rules import RuleResult, Subject, contract_params, rules_for, run_rule


class ContractTargetError(ModahubInputError, LookupError):
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


@dataclass(frozen=True)
class PluginSource:
    """Plugin code that is not installed: where it is, its entry points, distribution name and version."""

    path: Path
    eps: list[EntryPoint]
    dist: str
    version: str


def folder_source(folder: Path) -> PluginSource:
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        raise ContractTargetError(f"{folder}: no pyproject.toml; a plugin folder is what 'modahub new' makes")
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ContractTargetError(f"{pyproject}: not valid TOML: {exc}") from None
    project = data.get("project", {})
    declared = project.get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
    if not declared:
        raise ContractTargetError(
            f"{pyproject}: declares no [project.entry-points.{ENTRY_POINT_GROUP}]; add '<name> = \"<package>.plugin\"'"
        )
    code = folder / "src" if (folder / "src").is_dir() else folder
    eps = [EntryPoint(name, value, ENTRY_POINT_GROUP) for name, value in declared.items()]
    return PluginSource(code, eps, project.get("name", folder.name), _folder_version(data, code))


def _folder_version(pyproject: dict[str, Any], code: Path) -> str:
    """The version in pyproject.toml, or the ``__version__`` string its dynamic ``attr`` names (read, not imported)."""
    if "version" in pyproject.get("project", {}):
        return str(pyproject["project"]["version"])
    attr = pyproject.get("tool", {}).get("setuptools", {}).get("dynamic", {}).get("version", {}).get("attr", "")
    module, _, name = attr.rpartition(".")
    base = code.joinpath(*module.split("."))
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if module and candidate.is_file():
            found = re.search(rf"^{re.escape(name)}\s*=\s*[\"']([^\"']+)[\"']", candidate.read_text(encoding="utf-8"), re.M)
            if found:
                return found.group(1)
    return "unknown"


def _wheel_source(wheel: Path, into: Path) -> PluginSource:
    """Unpack ``wheel`` into ``into`` and read its entry points and metadata."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(into)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ContractTargetError(f"{wheel}: not a readable wheel: {exc}") from None
    info = next(into.glob("*.dist-info"), None)
    if info is None or not (info / "entry_points.txt").is_file():
        raise ContractTargetError(f"{wheel}: no .dist-info/entry_points.txt; is it a modahub plugin wheel?")
    parser = configparser.ConfigParser(delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((info / "entry_points.txt").read_text(encoding="utf-8"))
    if not parser.has_section(ENTRY_POINT_GROUP):
        raise ContractTargetError(f"{wheel}: declares no entry point in group {ENTRY_POINT_GROUP!r}")
    eps = [EntryPoint(name, value.strip(), ENTRY_POINT_GROUP) for name, value in parser.items(ENTRY_POINT_GROUP)]
    meta = email.parser.Parser().parsestr((info / "METADATA").read_text(encoding="utf-8"))
    return PluginSource(into, eps, meta.get("Name", wheel.name), meta.get("Version", "unknown"))


@contextmanager
def isolated(code: Path | None) -> Iterator[None]:
    """Import plugin code from ``code``; undo the imports, the process-wide manager and the modalities
    registered meanwhile afterwards."""
    saved_path, saved_modules, saved_manager = list(sys.path), set(sys.modules), plugins._manager
    saved_modalities = modalities.known()
    if code is not None:
        sys.path.insert(0, str(code))
    try:
        yield
    finally:
        sys.path[:] = saved_path
        plugins._manager = saved_manager
        modalities.reset(saved_modalities)
        if code is not None:
            for name in set(sys.modules) - saved_modules:
                module_file = getattr(sys.modules[name], "__file__", None) or ""
                if module_file.startswith(str(code)):
                    del sys.modules[name]


def _source_records(source: PluginSource) -> tuple[PluginManager, list[PluginRecord]]:
    """A manager with the installed plugins plus ``source`` (which wins over an installed copy of itself)."""
    for ep in source.eps:
        top = ep.value.split(":")[0].split(".")[0]
        where = getattr(sys.modules.get(top), "__file__", None) or ""
        if top in sys.modules and not where.startswith(str(source.path)):
            raise ContractTargetError(
                f"package {top!r} is already imported from {where}; run 'modahub test' in a fresh process to test {source.path}"
            )
    names = {ep.name for ep in source.eps}
    installed = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name not in names]
    selected = os.environ.get(LOAD_ENV)
    others = [ep.name for ep in installed] if selected is None else selected.split(",")
    mgr = PluginManager([*installed, *source.eps], strict=False, selection=",".join([*others, *names]))
    records = [mgr.records[name] for name in sorted(names)]
    for record in records:
        record.dist, record.version = source.dist, source.version
    return mgr, records


def _installed_records(name: str) -> tuple[PluginManager, list[PluginRecord]]:
    mgr = PluginManager(strict=False)
    wanted = canonicalize_name(name)
    found = [r for r in mgr.records.values() if wanted in (canonicalize_name(r.name), canonicalize_name(r.dist))]
    if not found:
        installed = ", ".join(sorted(mgr.records)) or "none"
        raise ContractTargetError(
            f"{name!r} is not a plugin folder, a wheel, nor an installed plugin (installed: {installed}); "
            "pass the folder that holds pyproject.toml, a .whl file, or install the plugin first"
        )
    return mgr, found


def run_here(target: str | Path, *, executors: list[str] | None = None) -> ContractReport:
    """Run every contract rule on each executor of the plugin ``target`` (a folder, a wheel, or an installed
    name) in this process; :func:`modahub_hub.contract.run_contract` runs it in another interpreter."""
    report = ContractReport(target=str(target))
    path = Path(target)
    with tempfile.TemporaryDirectory(prefix="modahub-contract-") as tmp:
        if path.is_dir():
            source: PluginSource | None = folder_source(path.resolve())
        elif path.suffix == ".whl" and path.is_file():
            source = _wheel_source(path, Path(tmp).resolve())
        else:
            source = None
        with isolated(source.path if source else None):
            mgr, records = _source_records(source) if source else _installed_records(str(target))
            plugins._manager = mgr  # documents of the plugin's own modalities validate through it
            for record in records:
                report.plugin, report.version = record.dist, record.version
                _run_record(mgr, record, executors, report, Path(tmp))
    if not report.results and not report.errors:
        report.errors.append("no executors tested: the manifest declares none" + (" of those named" if executors else ""))
    return report


def _run_record(
    mgr: PluginManager, record: PluginRecord, executors: list[str] | None, report: ContractReport, scratch: Path
) -> None:
    mgr.load(record)
    if record.status != "loaded":
        report.errors.append(f"plugin {record.name} ({record.dist}) does not load: {record.error}")
        return
    assert record.manifest is not None
    for spec in record.manifest.executors:
        if executors and spec.name not in executors:
            continue
        cls, workdir = record.executors[spec.name], scratch / "work" / spec.name
        try:
            params = contract_params(cls, workdir)
        except Exception as exc:  # plugin code: report it instead of crashing the run
            report.errors.append(f"executor {spec.name}: contract_params() raised {type(exc).__name__}: {exc}")
            continue
        subject = Subject(cls, spec, params, workdir=workdir)
        report.results.extend(run_rule(r, subject) for r in rules_for(subject.kind))
