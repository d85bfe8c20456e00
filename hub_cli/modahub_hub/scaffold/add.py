"""``modahub new --add KIND NAME``: one more executor in an existing plugin folder.

It writes the executor's module (the same baselines as a new plugin), its contract test, registers
the class in the plugin's ``register_executors`` hook, and then regenerates ``modahub.toml`` from
the code (``modahub manifest --write``), so the manifest is never edited by hand. All or nothing:
when any step fails, the folder is left as it was.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import typing
from pathlib import Path

from modahub_hub.scaffold.render import (
    ANY_MODALITY,
    BUILTIN_MODALITIES,
    ScaffoldError,
    ScaffoldOptions,
    environment,
    templates_root,
)

_HOOK = re.compile(r"^def register_executors\(.*$", re.M)


def _register_line(plugin_code: str, package: str, module: str, class_name: str) -> str:
    """``plugin_code`` with ``class_name`` imported and registered at the end of ``register_executors``."""
    found = _HOOK.search(plugin_code)
    if found is None:
        raise ScaffoldError("the plugin's hooks module has no register_executors(register) hook to add the executor to")
    lines = plugin_code[found.end() + 1 :].split("\n")
    body = next((i for i, line in enumerate(lines) if line.strip() and not line.startswith((" ", "\t"))), len(lines))
    while body > 0 and not lines[body - 1].strip():
        body -= 1
    addition = ["", f"    from {package}.{module} import {class_name}", "", f"    register({class_name})"]
    return plugin_code[: found.end() + 1] + "\n".join(lines[:body] + addition + lines[body:])


def _payload_fields(code: Path, hooks_module: str, modality: str) -> tuple[tuple[str, str], ...]:
    """The ``(name, type)`` fields of ``modality``'s payload as the plugin's code declares it (for a generator of it)."""
    import numpy as np

    from modahub.payloads import Payload
    from modahub_hub.contract_targets import isolated

    declared: list[typing.Any] = []
    with isolated(code):
        importlib.import_module(hooks_module).register_modalities(declared.append)
    payload = next(m.payload for m in declared if m.name == modality)
    scaffolded = {str: "str", int: "int", float: "float", bool: "bool", np.ndarray: "array"}
    fields = []
    for name, info in payload.model_fields.items():
        if name in Payload.model_fields:
            continue
        types = [a for a in typing.get_args(info.annotation) or (info.annotation,) if a is not type(None)]
        if len(types) == 1 and typing.get_origin(types[0]) is typing.Annotated:
            types = [typing.get_args(types[0])[0]]
        kind = scaffolded.get(types[0]) if len(types) == 1 else None
        if kind is None:
            raise ScaffoldError(f"--add generator for {modality!r}: its payload field {name} is {info.annotation}; the "
                                "scaffold generates str, int, float, bool and array fields only: write this one by hand")
        fields.append((name, kind))
    return tuple(fields)


def add_executor(folder: Path, options: ScaffoldOptions) -> list[Path]:
    """Add the executor ``options`` describes to the plugin in ``folder``; returns the files written or changed."""
    from modahub.files import atomic_write
    from modahub_hub.commands.manifest import generate, manifest_toml
    from modahub_hub.contract_targets import ContractTargetError, folder_source

    folder = folder.resolve()
    try:
        source = folder_source(folder)
    except ContractTargetError as exc:
        raise ScaffoldError(str(exc)) from None
    if len(source.eps) != 1:
        raise ScaffoldError(f"{folder}: --add needs a plugin with one modahub entry point, found {len(source.eps)}")
    hooks_module = source.eps[0].value.split(":")[0]
    package = hooks_module.split(".")[0]
    hooks = source.path.joinpath(*hooks_module.split(".")).with_suffix(".py")
    ((manifest_file, declared, _),) = generate(folder)
    taken = {e.name for e in declared.executors} if declared else set()
    own = {m.name for m in declared.modalities} if declared else set()
    names = options.names
    if names.name in taken:
        raise ScaffoldError(f"{folder} already has an executor named {names.name!r}; choose another name")
    plugin_modality = options.modality not in (*BUILTIN_MODALITIES, ANY_MODALITY)
    if plugin_modality and options.modality not in own:
        raise ScaffoldError(f"--add {options.kind} for {options.modality!r}: the scaffold adds executors of built-in "
                            "modalities and of a modality this plugin declares")
    if plugin_modality and options.kind == "generator":
        options = dataclasses.replace(options, fields=_payload_fields(source.path, hooks_module, options.modality))
    module = names.name.replace("-", "_")
    code_file, test_file = hooks.parent / f"{module}.py", folder / "tests" / f"test_{module}_contract.py"
    for path in (code_file, test_file):
        if path.exists():
            raise ScaffoldError(f"{path} already exists; choose another executor name (nothing was changed)")
    context = {**options.context(), "dist": source.dist, "package": package, "module": module,
               "baseline": "fields" if plugin_modality else options.modality}
    env = environment(templates_root())
    code = env.get_template(f"_baselines/{options.kind}.py.jinja").render(context)
    test = env.get_template("tests/test_contract.py.jinja").render(context)
    old_hooks, old_manifest = hooks.read_bytes(), manifest_file.read_bytes() if manifest_file.exists() else None
    new_hooks = _register_line(old_hooks.decode("utf-8"), package, module, str(context["class_name"]))
    try:
        test_file.parent.mkdir(exist_ok=True)
        code_file.write_text(code, encoding="utf-8")
        test_file.write_text(test, encoding="utf-8")
        atomic_write(hooks, new_hooks.encode("utf-8"))
        ((_, _, generated),) = generate(folder)
        atomic_write(manifest_file, manifest_toml(generated).encode("utf-8"))
    except BaseException:
        code_file.unlink(missing_ok=True)
        test_file.unlink(missing_ok=True)
        atomic_write(hooks, old_hooks)
        if old_manifest is not None:
            atomic_write(manifest_file, old_manifest)
        raise
    return [p.relative_to(folder) for p in (code_file, test_file, hooks, manifest_file)]
