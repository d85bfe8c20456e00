"""docs/api.md is the stable API: it lists modahub.__all__, its names exist, and plugins import nothing else from
modahub or modahub_testing."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

import modahub
from modahub_hub.scaffold import BUILTIN_MODALITIES, ScaffoldError, ScaffoldOptions, plugin_names, render
from modahub_hub.scaffold.render import FIELD_TYPES, KINDS

ROOT = Path(__file__).resolve().parents[1]
API_PAGE = ROOT / "docs" / "api.md"


def _declared() -> dict[str, set[str]]:
    """Module → names, from the page's ``## `module` `` sections and their ``- `name` —`` lines."""
    declared: dict[str, set[str]] = {}
    module = None
    for line in API_PAGE.read_text(encoding="utf-8").splitlines():
        if heading := re.fullmatch(r"## `(modahub[\w.]*)`", line):
            module = heading[1]
            declared[module] = set()
        elif module and (item := re.match(r"- `(\w+)` — ", line)):
            declared[module].add(item[1])
    return declared


API = _declared()
STABLE = ("modahub", "modahub_testing")  # the packages whose imports the page governs


def _imports(path: Path) -> list[tuple[str, str, int]]:
    """(module, name, line) of every ``from modahub… import name``, ``import modahub…`` and ``modahub.name``
    (``modahub_testing…`` too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in STABLE and not node.level:
            found += [(node.module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "", node.lineno) for alias in node.names if alias.name.split(".")[0] in STABLE]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "modahub":
            found.append(("modahub", node.attr, node.lineno))
    return found


def _offences(files: list[Path], base: Path) -> list[str]:
    offences = []
    for path in files:
        for module, name, line in _imports(path):
            if module in API and (not name or name in API[module]):
                continue
            if module == "modahub" and f"modahub.{name}" in API:  # ``from modahub import recipes``: a listed module
                continue
            offences.append(f"{path.relative_to(base)}:{line}: {module}{'.' + name if name else ''}")
    return offences


def test_the_top_level_section_is_modahub_all():
    assert API["modahub"] == set(modahub.__all__)


@pytest.mark.parametrize("module", sorted(API))
def test_every_listed_name_exists(module):
    imported = importlib.import_module(module)
    assert [name for name in sorted(API[module]) if not hasattr(imported, name)] == []


def test_first_party_plugins_import_only_the_stable_api():
    files = sorted(p for p in (ROOT / "plugins").glob("*/*/**/*.py") if "build" not in p.relative_to(ROOT).parts[2:3])
    assert len({p.relative_to(ROOT).parts[1] for p in files}) == len(list((ROOT / "plugins").glob("*/pyproject.toml")))
    assert _offences(files, ROOT) == []


def test_rendered_plugins_import_only_the_stable_api(tmp_path):
    rendered = 0
    typed = tuple((f"f_{type_}", type_) for type_ in FIELD_TYPES)  # a new modality with a field of every type
    for kind in KINDS:
        for modality, fields in [*((m, ()) for m in (*BUILTIN_MODALITIES, "*", "spectrum")), ("molecule", typed)]:
            name = f"{kind[:3]}-{modality.replace('*', 'any')}"
            try:
                options = ScaffoldOptions(plugin_names(name), kind=kind, modality=modality, fields=fields)
            except ScaffoldError:
                continue  # a combination `modahub new` refuses (e.g. an encoder of any modality)
            render(options, tmp_path / name)
            rendered += 1
    assert rendered >= len(KINDS) * 2
    assert _offences(sorted(tmp_path.rglob("*.py")), tmp_path) == []
