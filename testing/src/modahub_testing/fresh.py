"""Encode documents in fresh Python interpreters, to check that vectors do not depend on the process.

Python salts ``hash()`` of str and bytes per process (``PYTHONHASHSEED``), and set iteration
order follows it: an encoder built on either gives other vectors after a restart, which silently
breaks every index built before. Each child gets a different hash seed, imports the executor class
by module and name, registers the plugin modalities the documents need, encodes the documents
(sent as JSON) and writes the vectors with ``np.save``.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from modahub import modalities
from modahub.documents import Document
from modahub.executors import Executor

_CHILD = """
import importlib, json, sys
import numpy as np
from modahub import modalities
from modahub.documents import Document
from modahub_testing.fresh import import_object

job = json.loads(sys.stdin.read())
for name, path in job["modalities"]:
    modalities.register(modalities.Modality(name, import_object(path)))
encoder = import_object(job["executor"])(**job["params"])
batches = [[Document.from_json(text) for text in batch] for batch in job["batches"]]
np.savez(job["out"], *[encoder.encode(docs) for docs in batches])
"""


class FreshInterpreterError(RuntimeError):
    """The executor could not be rebuilt or run in a fresh interpreter."""


def object_path(obj: Any) -> str:
    """``module:qualname`` of a class defined at module level (what a fresh interpreter can import)."""
    qualname = getattr(obj, "__qualname__", "")
    if "<locals>" in qualname:
        raise FreshInterpreterError(
            f"{qualname} is defined inside a function; define it at module level so that a fresh interpreter can import it"
        )
    return f"{obj.__module__}:{qualname}"


def import_object(path: str) -> Any:
    """The object named by :func:`object_path`."""
    module, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _job(cls: type[Executor], params: dict[str, Any], batches: list[list[Document]]) -> dict[str, Any]:
    builtin = {m.name for m in modalities.BUILTIN_MODALITIES}
    needed = sorted({d.modality for docs in batches for d in docs} - builtin)
    try:
        json.dumps(params)
    except TypeError as exc:
        raise FreshInterpreterError(f"constructor parameters {params!r} are not JSON ({exc}); "
                                    "return plain values from contract_params()") from None
    return {
        "executor": object_path(cls),
        "params": params,
        "modalities": [(name, object_path(modalities.get(name).payload)) for name in needed],
        "batches": [[d.to_json() for d in docs] for docs in batches],
    }


def encode_in_fresh_interpreters(
    cls: type[Executor], params: dict[str, Any], batches: list[list[Document]], hash_seeds: tuple[int, ...] = (1, 2)
) -> list[list[np.ndarray]]:
    """Per hash seed, the vectors of each batch from one fresh interpreter (the interpreters run side by side)."""
    job = _job(cls, params, batches)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    with tempfile.TemporaryDirectory(prefix="modahub-fresh-") as tmp:
        children = []
        for seed in hash_seeds:
            out = Path(tmp) / f"vectors-{seed}.npz"
            child = subprocess.Popen(
                [sys.executable, "-c", _CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True, env={**env, "PYTHONHASHSEED": str(seed)},
            )
            children.append((child, out, json.dumps({**job, "out": str(out)})))
        results = []
        for child, out, text in children:
            _, err = child.communicate(text, timeout=600)
            if child.returncode != 0:
                last = err.strip().splitlines()[-1] if err.strip() else f"exit code {child.returncode}"
                raise FreshInterpreterError(f"encoding in a fresh interpreter failed: {last}")
            with np.load(out, allow_pickle=False) as saved:
                results.append([saved[f"arr_{i}"] for i in range(len(batches))])
        return results
