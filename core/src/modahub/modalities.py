"""The open set of modalities: a name, a payload schema and a description.

Built-in modalities and those of plugins are registered through the same
``register_modalities`` hook into the plugin manager's registry. An unknown name makes the
manager load the plugin whose static manifest declares it.
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


def get(name: str) -> Modality:
    """The modality called ``name``, loading the plugin that declares it if needed."""
    from modahub.plugins import manager

    return manager().modality(name)


def known() -> dict[str, Modality]:
    """All modalities registered so far: the built-ins and those of loaded plugins."""
    from modahub.plugins import manager

    return dict(manager().modalities)
