"""A plugin's manifest as its code states it, to check (or write) its ``modahub.toml`` against the code.

The manifest is generated from the code (``modahub manifest --write``); a plugin's tests compare
:func:`manifest_from_code` with the manifest it ships, so a stale one fails.
"""

from __future__ import annotations

import importlib
from typing import Any

import pluggy

from modahub import hookspecs
from modahub.executors import Executor
from modahub.manifest import ExecutorSpec, Manifest, ModalitySpec
from modahub.modalities import Modality


def manifest_from_code(module: str, existing: Manifest | None = None) -> Manifest:
    """The manifest of what the plugin whose hooks live in ``module`` registers (this imports it).

    Executors (name, kind, modalities, an encoder's class-level space and dim, a generator's output
    modality) and modalities (name, description, file extensions) come from its hooks. What the
    code does not state is kept from ``existing``: each executor's ``summary`` (for a new executor,
    the first paragraph of its class docstring) and ``extras``, and the plugin's ``commands``.
    ``modahub manifest --write`` writes the result.
    """
    pm = pluggy.PluginManager("modahub")
    pm.add_hookspecs(hookspecs)
    pm.register(importlib.import_module(module.split(":")[0]))
    pm.check_pending()
    registered: list[Modality] = []
    classes: list[type[Executor]] = []
    pm.hook.register_modalities(register=registered.append)
    pm.hook.register_executors(register=classes.append)
    kept = {e.name: e for e in existing.executors} if existing else {}
    return Manifest(
        executors=[_spec_of(cls, kept.get(cls.name)) for cls in classes],
        modalities=[ModalitySpec(name=m.name, description=m.description, extensions=list(m.extensions)) for m in registered],
        commands=existing.commands if existing else [],
    )


def _spec_of(cls: type[Executor], kept: ExecutorSpec | None) -> ExecutorSpec:
    doc = " ".join((cls.__dict__.get("__doc__") or "").strip().split("\n\n")[0].split())
    facts: dict[str, Any] = {"name": cls.name, "kind": cls.kind, "modalities": list(cls.modalities),
                             "summary": kept.summary if kept else doc, "extras": kept.extras if kept else []}
    space, dim = getattr(cls, "space", ""), getattr(cls, "dim", 0)
    if cls.kind == "encoder" and space and dim:
        facts |= {"space": space, "dim": dim}
    if cls.kind == "generator":
        facts["output_modality"] = getattr(cls, "output_modality", None)
    return ExecutorSpec(**facts)
