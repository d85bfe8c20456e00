"""Deterministic sample documents of every built-in modality, for the contract kit.

A plugin that registers a new modality lets the kit make samples by giving its payload model a
classmethod ``example(rng: numpy.random.Generator) -> Payload`` (the scaffold generates one).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from modahub.documents import Document
from modahub.errors import ModahubError

_WORDS = (
    "river stone light orbit signal violet harbor maple engine quiet ember lattice cedar pulse "
    "meadow copper drift falcon prism canyon thunder glacier velvet spiral"
).split()


def _text(rng: np.random.Generator) -> dict[str, Any]:
    return {"text": " ".join(rng.choice(_WORDS, size=int(rng.integers(4, 12))))}


def _image(rng: np.random.Generator) -> dict[str, Any]:
    h, w = int(rng.integers(12, 24)), int(rng.integers(12, 24))
    base = rng.integers(0, 256, size=3)
    ramp = np.linspace(0, 1, w)[None, :, None] * rng.integers(0, 128, size=3)
    noise = rng.integers(0, 64, size=(h, w, 3))
    return {"pixels": np.clip(base + ramp + noise, 0, 255).astype(np.uint8)}


def _audio(rng: np.random.Generator) -> dict[str, Any]:
    rate = 8000
    t = np.arange(int(rate * rng.uniform(0.2, 0.4))) / rate
    tone = np.sin(2 * np.pi * rng.uniform(100, 2000) * t) + 0.1 * rng.standard_normal(t.size)
    return {"samples": (0.5 * tone).astype(np.float32), "sample_rate": rate}


def _video(rng: np.random.Generator) -> dict[str, Any]:
    frames = np.stack([_image(np.random.default_rng(int(rng.integers(2**31))))["pixels"][:12, :12] for _ in range(4)])
    return {"frames": frames, "fps": 8.0}


def _mesh(rng: np.random.Generator) -> dict[str, Any]:
    vertices = rng.standard_normal((4 + int(rng.integers(0, 4)), 3))
    faces = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]], dtype=np.int64)
    return {"vertices": vertices, "faces": faces}


def _pointcloud(rng: np.random.Generator) -> dict[str, Any]:
    return {"points": rng.standard_normal((int(rng.integers(32, 96)), 3)) * rng.uniform(0.5, 2.0, size=3)}


def _timeseries(rng: np.random.Generator) -> dict[str, Any]:
    steps = int(rng.integers(40, 80))
    t = np.arange(steps)[:, None]
    values = np.sin(t / rng.uniform(2, 9, size=2)) + 0.2 * rng.standard_normal((steps, 2))
    return {"values": values}


BUILTIN_SAMPLES: dict[str, Callable[[np.random.Generator], dict[str, Any]]] = {
    "text": _text,
    "image": _image,
    "audio": _audio,
    "video": _video,
    "mesh": _mesh,
    "pointcloud": _pointcloud,
    "timeseries": _timeseries,
}


class NoSamplesError(ModahubError, LookupError):
    """The kit cannot make sample documents of a modality."""


def sample_payload(modality: str, rng: np.random.Generator) -> Any:
    """One payload of ``modality``: a built-in factory, or the payload model's ``example(rng)``."""
    if modality in BUILTIN_SAMPLES:
        return BUILTIN_SAMPLES[modality](rng)
    from modahub import modalities

    payload_cls = modalities.get(modality).payload
    example = getattr(payload_cls, "example", None)
    if example is None:
        raise NoSamplesError(
            f"modality {modality!r}: the contract kit cannot make sample documents; give "
            f"{payload_cls.__name__} a classmethod example(rng) returning a payload, or override sample_documents()"
        )
    return example(rng)


def sample_documents(modality: str, n: int, seed: int = 0) -> list[Document]:
    """``n`` different documents of ``modality``, the same for the same seed; tagged by group and index."""
    rng = np.random.default_rng(seed)
    return [
        Document(
            id=f"{modality}-{seed}-{i}",
            modality=modality,
            payload=sample_payload(modality, rng),
            tags={"group": "even" if i % 2 == 0 else "odd", "i": i},
        )
        for i in range(n)
    ]
