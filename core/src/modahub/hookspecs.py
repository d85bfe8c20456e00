"""The pluggy hook specifications every modahub plugin implements a subset of."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("modahub")
hookimpl = pluggy.HookimplMarker("modahub")


@hookspec
def register_modalities(register: Callable[[Any], None]) -> None:
    """Register new modalities: call ``register(Modality(name, payload_model, description))``."""


@hookspec
def register_executors(register: Callable[[type], None]) -> None:
    """Register executor classes (Encoder, Indexer or Generator subclasses) declared in the manifest."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add click commands to the ``modahub`` CLI group ``cli`` (names declared in the manifest)."""
