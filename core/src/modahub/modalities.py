"""The open set of modalities: a name, a payload schema and a description.

Built-in modalities and those of plugins are registered through the same
``register_modalities`` hook. An unknown name makes the registry ask the plugin manager for a
plugin whose static manifest declares it, and load that plugin once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from modahub.payloads import Payload

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


class UnknownModalityError(ValueError):
    """No installed plugin provides the requested modality."""


@dataclass(frozen=True)
class Modality:
    """A modality: its name, the pydantic model of its payload and a one-line description."""

    name: str
    payload: type[Payload]
    description: str = ""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"modality name {self.name!r} must match {_NAME.pattern}")
        if not (isinstance(self.payload, type) and issubclass(self.payload, Payload)):
            raise TypeError(f"modality {self.name!r}: payload must be a subclass of modahub.Payload")


_registry: dict[str, Modality] = {}


def register(modality: Modality) -> None:
    """Add a modality; registering a different schema under a taken name is an error."""
    existing = _registry.get(modality.name)
    if existing is not None and existing.payload is not modality.payload:
        raise ValueError(
            f"modality {modality.name!r} is already registered with payload "
            f"{existing.payload.__module__}.{existing.payload.__qualname__}"
        )
    _registry[modality.name] = modality


def get(name: str) -> Modality:
    """The modality called ``name``, loading the plugin that declares it if needed."""
    if name not in _registry:
        from modahub.plugins import manager

        manager().load_modality_provider(name)
    try:
        return _registry[name]
    except KeyError:
        raise UnknownModalityError(
            f"unknown modality {name!r}; known: {', '.join(sorted(_registry))}. "
            "Install a plugin that provides it (modahub search --modality NAME)"
        ) from None


def known() -> dict[str, Modality]:
    """All modalities registered so far (built-ins after the plugin manager starts)."""
    from modahub.plugins import manager

    manager()
    return dict(_registry)
