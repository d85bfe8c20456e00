"""modahub-core: typed multimodal documents, executor interfaces and plugin discovery.

Names are imported lazily so that ``import modahub`` stays cheap (the CLI imports it on start).
The stable API is ``__all__`` plus the modules and names that docs/api.md lists (tests/test_api.py).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Literal, overload

__version__ = "0.2.1"

_EXPORTS = {
    "Document": "modahub.documents",
    "Provenance": "modahub.documents",
    "WeightsPin": "modahub.documents",
    "text": "modahub.documents",
    "image": "modahub.documents",
    "audio": "modahub.documents",
    "Payload": "modahub.payloads",
    "Modality": "modahub.modalities",
    "Encoder": "modahub.executors",
    "Indexer": "modahub.executors",
    "Generator": "modahub.executors",
    "Match": "modahub.executors",
    "ExecutorError": "modahub.executors",
    "SpaceMismatchError": "modahub.executors",
    "check_same_space": "modahub.executors",
    "hookimpl": "modahub.hookspecs",
    "ModahubError": "modahub.errors",
    "PluginError": "modahub.plugins",
    "TextIndexer": "modahub.executors",
    "Segmenter": "modahub.executors",
    "RecipeError": "modahub.recipes",
    "regenerate": "modahub.recipes",
}

if TYPE_CHECKING:
    from modahub.documents import Document, Provenance, WeightsPin, audio, image, text  # noqa: F401
    from modahub.errors import ModahubError  # noqa: F401
    from modahub.executors import (  # noqa: F401
        Encoder,
        Executor,
        ExecutorError,
        Generator,
        Indexer,
        Match,
        Segmenter,
        SpaceMismatchError,
        TextIndexer,
        check_same_space,
    )
    from modahub.hookspecs import hookimpl  # noqa: F401
    from modahub.modalities import Modality  # noqa: F401
    from modahub.payloads import Payload  # noqa: F401
    from modahub.plugins import PluginError  # noqa: F401
    from modahub.recipes import RecipeError, regenerate  # noqa: F401


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'modahub' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


@overload
def load(name: str, *, kind: Literal["encoder"], **params: Any) -> Encoder: ...
@overload
def load(name: str, *, kind: Literal["indexer"], **params: Any) -> Indexer: ...
@overload
def load(name: str, *, kind: Literal["text-indexer"], **params: Any) -> TextIndexer: ...
@overload
def load(name: str, *, kind: Literal["segmenter"], **params: Any) -> Segmenter: ...
@overload
def load(name: str, *, kind: Literal["generator"], **params: Any) -> Generator: ...
@overload
def load(name: str, *, kind: None = None, **params: Any) -> Executor: ...


def load(name: str, *, kind: str | None = None, **params: Any) -> Executor:
    """Instantiate the executor registered as ``name`` with ``params`` (imports its plugin only).

    With ``kind`` ("encoder", "indexer", "text-indexer", "segmenter" or "generator") the result is typed as that interface and an
    executor of another kind is refused.
    """
    from modahub.executors import ExecutorError
    from modahub.plugins import manager

    cls = manager().executor_class(name)
    if kind is not None and cls.kind != kind:
        raise ExecutorError(f"executor {name!r} is of kind {cls.kind}, not {kind}")
    return cls(**params)


__all__ = sorted([*_EXPORTS, "load", "__version__"])
