"""The modality registry stands alone: no entry-point scan for built-ins, no import cycle in core."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from modahub import Document, modalities
from modahub.payloads import Payload

SRC = Path(__file__).resolve().parents[1] / "src" / "modahub"

COUNT_SCANS = """
import importlib.metadata as md
import sys
scans = []
real = md.entry_points
def counting(*args, **kwargs):
    if kwargs.get("group") == "modahub":
        scans.append(1)
    return real(*args, **kwargs)
md.entry_points = counting
import modahub
doc = modahub.Document.from_json(modahub.text("x").to_json())
before = len(scans), "modahub.plugins" in sys.modules
import modahub.plugins
modahub.plugins.manager()  # the counter does count a scan
print(*before, len(scans))
"""


def test_a_text_document_scans_no_entry_point() -> None:
    out = subprocess.run([sys.executable, "-c", COUNT_SCANS], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.split() == ["0", "False", "1"]


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node, leaving out ``if TYPE_CHECKING:`` blocks (never run)."""
    found: list[ast.AST] = []
    todo = [tree]
    while todo:
        node = todo.pop()
        found.append(node)
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))
    return found


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {name for name in found if name.startswith("modahub")}


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_documents_executors_and_modalities_never_import_the_plugin_manager() -> None:
    for name in ("documents", "executors", "modalities", "payloads", "arrays", "errors", "lookup"):
        assert "modahub.plugins" not in _imports(SRC / f"{name}.py"), name


def test_core_modules_import_each_other_without_a_cycle() -> None:
    modules = {_module(p): p for p in SRC.rglob("*.py")}
    graph = {
        name: {dep for dep in _imports(path) if dep in modules and dep != name}
        for name, path in modules.items()
    }
    # a package's __init__ re-exporting its submodules is not a dependency of theirs
    graph = {name: {d for d in deps if not name.startswith(d + ".")} for name, deps in graph.items()}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for dep in sorted(graph[node]):
            if state.get(dep) == 1:
                pytest.fail("import cycle: " + " -> ".join([*path[path.index(dep):], dep]))
            if dep not in state:
                visit(dep, [*path, dep])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


class _Flavour(Payload):
    notes: str


def test_registering_a_second_schema_under_a_taken_name_is_an_error() -> None:
    modalities.register(modalities.Modality("flavour", _Flavour))
    try:
        assert Document(modality="flavour", payload={"notes": "citrus"}).payload.notes == "citrus"
        modalities.register(modalities.Modality("flavour", _Flavour))  # the same schema again is fine

        class Other(Payload):
            notes: str

        with pytest.raises(ValueError, match="already registered"):
            modalities.register(modalities.Modality("flavour", Other))
    finally:
        modalities.reset()
    with pytest.raises(modalities.UnknownModalityError, match="unknown modality 'flavour'"):
        modalities.get("flavour")
