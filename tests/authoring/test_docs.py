"""docs/authoring.md documents every hookspec with its exact arguments, and every contract rule."""

from __future__ import annotations

import re
from pathlib import Path

import pluggy
import pytest

from modahub import hookspecs
from modahub_testing.rules import RULES

DOC = Path(__file__).resolve().parents[2] / "docs" / "authoring.md"


def _hookspecs() -> list[tuple[str, tuple[str, ...]]]:
    pm = pluggy.PluginManager("modahub")
    pm.add_hookspecs(hookspecs)
    return [(name, getattr(pm.hook, name).spec.argnames) for name in sorted(vars(pm.hook)) if not name.startswith("_")]


def _reference() -> dict[str, tuple[str, ...]]:
    text = DOC.read_text(encoding="utf-8").split("## Hook reference", 1)[1]
    return {
        m.group(1): tuple(a.strip() for a in m.group(2).split(",") if a.strip())
        for m in re.finditer(r"^### `(\w+)\(([^)]*)\)`", text, re.M)
    }


def test_there_are_hookspecs_to_check():
    assert len(_hookspecs()) >= 3


@pytest.mark.parametrize(("hook", "argnames"), _hookspecs())
def test_every_hookspec_and_its_arguments_are_in_the_reference(hook, argnames):
    reference = _reference()
    assert hook in reference, f"hookspec {hook} is missing from the hook reference in {DOC}"
    assert reference[hook] == argnames, f"{hook}: documented arguments {reference[hook]}, hookspec has {argnames}"


def test_the_reference_documents_no_hook_that_does_not_exist():
    assert set(_reference()) == {name for name, _ in _hookspecs()}


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_every_contract_rule_is_documented(rule):
    assert f"| `{rule.id}` | {rule.kind} | {rule.summary} |" in DOC.read_text(encoding="utf-8")
