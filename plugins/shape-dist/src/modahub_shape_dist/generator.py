"""ShapeGenerator: procedural shapes from prompts (a box, a torus, ...): trimesh primitives under
seeded random rotation, scale and noise.

Each document is drawn from a random generator seeded by its own seed and the prompt
(:func:`modahub.recipes.document_rng`), so its provenance (prompt, seed, parameters) regenerates
it exactly; document ``j`` of a prompt gets seed ``seed + j`` and an id derived from its recipe.
The prompt names one shape (see ``SHAPES``); its proportions, orientation, size, position and
vertex noise are drawn at random.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from modahub.documents import Document
from modahub.executors import ExecutorError, Generator
from modahub.recipes import document_rng, document_seeds, make_document

MAX_DETAIL = 6


def _box(rng: np.random.Generator, detail: int) -> Any:
    import trimesh

    return trimesh.creation.box(extents=rng.uniform(0.8, 1.2, 3)).subdivide_to_size(0.5 / detail)


def _sphere(rng: np.random.Generator, detail: int) -> Any:
    import trimesh

    return trimesh.creation.icosphere(subdivisions=min(detail, 4), radius=rng.uniform(0.9, 1.1))


def _cylinder(rng: np.random.Generator, detail: int) -> Any:
    import trimesh

    return trimesh.creation.cylinder(radius=rng.uniform(0.4, 0.6), height=rng.uniform(1.8, 2.2), sections=8 * detail)


def _cone(rng: np.random.Generator, detail: int) -> Any:
    import trimesh

    return trimesh.creation.cone(radius=rng.uniform(0.5, 0.7), height=rng.uniform(1.4, 1.8), sections=8 * detail)


def _capsule(rng: np.random.Generator, detail: int) -> Any:
    import trimesh

    return trimesh.creation.capsule(height=rng.uniform(1.6, 2.0), radius=rng.uniform(0.35, 0.45), count=[8 * detail] * 2)


def _torus(rng: np.random.Generator, detail: int) -> Any:
    import trimesh

    return trimesh.creation.torus(major_radius=1.0, minor_radius=rng.uniform(0.2, 0.3),
                                  major_sections=8 * detail, minor_sections=4 * detail)


SHAPES: dict[str, Callable[[np.random.Generator, int], Any]] = {
    "box": _box, "sphere": _sphere, "cylinder": _cylinder, "cone": _cone, "capsule": _capsule, "torus": _torus,
}
SYNONYMS = {"cube": "box", "ball": "sphere", "tube": "cylinder", "pill": "capsule", "ring": "torus", "donut": "torus"}


def shape_of(prompt: str) -> str:
    """The one shape a prompt names ('a small torus' -> 'torus'); ExecutorError otherwise."""
    words = {SYNONYMS.get(w, w) for w in re.findall(r"[a-z]+", prompt.lower())}
    named = sorted(words & SHAPES.keys())
    if len(named) != 1:
        what = "names no shape" if not named else f"names several shapes ({', '.join(named)})"
        choices = ", ".join([*SHAPES, *SYNONYMS])
        raise ExecutorError(f"shape-generator: prompt {prompt!r} {what}; name one of {choices}")
    return named[0]


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random 3×3 rotation (QR of a Gaussian matrix, signs fixed, determinant +1)."""
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def make(prompt: str, rng: np.random.Generator, detail: int, noise: float) -> dict[str, np.ndarray]:
    """The prompt's shape with random proportions, rotated, scaled (0.5-2), moved and with vertex noise."""
    mesh = SHAPES[shape_of(prompt)](rng, detail)
    scale = rng.uniform(0.5, 2.0)
    vertices = np.asarray(mesh.vertices) @ random_rotation(rng).T * scale + rng.uniform(-5, 5, 3)
    vertices = vertices + rng.normal(0.0, noise * scale, vertices.shape)
    return {"vertices": vertices, "faces": np.asarray(mesh.faces, dtype=np.int64)}


class ShapeGenerator(Generator):
    """Meshes of the shape a prompt names, at a random pose and size, with ``noise`` (relative to size)."""

    name = "shape-generator"
    modalities: ClassVar[tuple[str, ...]] = ("text",)
    output_modality = "mesh"
    example_prompts = ("a box", "a torus", "a cone", "a small sphere", "a capsule", "a cylinder")

    def __init__(self, detail: int = 2, noise: float = 0.01) -> None:
        if not 1 <= int(detail) <= MAX_DETAIL:
            raise ExecutorError(f"{self.name}: detail must be between 1 and {MAX_DETAIL}, got {detail}")
        if not 0.0 <= float(noise) <= 0.2:
            raise ExecutorError(f"{self.name}: noise must be between 0 and 0.2 (of the shape's size), got {noise}")
        self.detail, self.noise = int(detail), float(noise)

    def parameters(self) -> dict[str, Any]:
        return {"detail": self.detail, "noise": self.noise}

    def _generate(self, prompts: list[str], n: int, seed: int) -> list[Document]:
        shapes = [shape_of(p) for p in prompts]  # every prompt checked before any work
        docs = []
        for prompt, shape in zip(prompts, shapes, strict=True):
            for s in document_seeds(seed, n):
                payload = make(prompt, document_rng(prompt, s), self.detail, self.noise)
                docs.append(make_document(self, payload=payload, prompt=prompt, seed=s, weights=None, tags={"shape": shape}))
        return docs
