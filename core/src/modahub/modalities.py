"""The open set of modalities: a plain registry of names and payload schemas.

The built-in modalities are registered when this module is imported. Plugins add theirs when
they load (the plugin manager calls ``register``). For a name it does not know yet, the registry
asks the resolvers in :data:`modahub.lookup.modality_resolvers`, e.g. the plugin manager's "load
the plugin whose manifest declares it". This module knows nothing of plugins: building a text document scans no entry point.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from modahub import lookup
from modahub.errors import ModahubInputError
from modahub.payloads import (
    AudioPayload,
    ImagePayload,
    MeshPayload,
    Payload,
    PointCloudPayload,
    TextPayload,
    TimeSeriesPayload,
    VideoPayload,
)

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


class UnknownModalityError(ModahubInputError):
    """No registered modality, nor any resolver, knows the requested name."""


@dataclass(frozen=True)
class Modality:
    """A modality: its name, the pydantic model of its payload, a one-line description and the file
    extensions (lower case, with the dot) its payload reads from a ``uri`` (for a plugin's modality,
    modahub maps files through the manifest, which ``modahub manifest --write`` generates from this)."""

    name: str
    payload: type[Payload]
    description: str = ""
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"modality name {self.name!r} must match {_NAME.pattern}")
        if not (isinstance(self.payload, type) and issubclass(self.payload, Payload)):
            raise TypeError(f"modality {self.name!r}: payload must be a subclass of modahub.Payload")


BUILTIN_MODALITIES = (
    Modality("text", TextPayload, "Unicode text", (".txt", ".md")),
    Modality("image", ImagePayload, "H×W×C uint8 pixels, or an image file",
             (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")),
    Modality("audio", AudioPayload, "float samples and a sample rate, or a sound file", (".wav", ".flac", ".ogg", ".mp3")),
    Modality("video", VideoPayload, "T×H×W×C uint8 frames and fps, or a video file", (".mp4", ".webm", ".avi", ".mov")),
    Modality("mesh", MeshPayload, "triangle mesh: V×3 vertices and F×3 faces", (".obj", ".ply", ".stl", ".glb")),
    Modality("pointcloud", PointCloudPayload, "N×3 points"),
    Modality("timeseries", TimeSeriesPayload, "T×C values with optional timestamps", (".csv",)),
)

_registry: dict[str, Modality] = {m.name: m for m in BUILTIN_MODALITIES}


def register(modality: Modality) -> None:
    """Add a modality; registering a different payload schema under a taken name is an error."""
    existing = _registry.get(modality.name)
    if existing is not None and existing.payload is not modality.payload:
        raise ValueError(
            f"modality {modality.name!r} is already registered with payload "
            f"{existing.payload.__module__}.{existing.payload.__qualname__}; "
            "a plugin that builds on another plugin's modality depends on it instead of registering it again"
        )
    _registry[modality.name] = modality


def reset(to: Mapping[str, Modality] | None = None) -> None:
    """Keep only the modalities in ``to`` (a :func:`known` result; default: the built-ins), e.g. when
    the plugin manager is reset or a contract run ends."""
    _registry.clear()
    _registry.update({m.name: m for m in BUILTIN_MODALITIES} if to is None else to)


def get(name: str) -> Modality:
    """The modality called ``name``, asking the resolvers when it is not registered yet."""
    if name not in _registry:
        for resolver in lookup.modality_resolvers:
            resolver(name)
            if name in _registry:
                break
    try:
        return _registry[name]
    except KeyError:
        raise UnknownModalityError(
            f"unknown modality {name!r}; known: {', '.join(sorted(_registry))}. "
            "Install a plugin that provides it (modahub search --modality NAME)"
        ) from None


def known() -> dict[str, Modality]:
    """All modalities registered so far: the built-ins and those of loaded plugins."""
    return dict(_registry)
