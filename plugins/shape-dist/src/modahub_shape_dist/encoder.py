"""ShapeDistEncoder: rotation-invariant shape distributions (D1, D2, A3, D3 histograms) of meshes
and point clouds, one space for both.

Osada et al.'s shape distributions: sample points on the surface (area-weighted, through
trimesh) or take the cloud's points, then histogram functions of random points that no rotation
or translation changes: D1 (distance to the centroid), D2 (distance between two points), A3 (angle
between three points) and D3 (square root of a triangle's area). Lengths are divided by the mean
distance to the centroid, so scale does not matter either. Each histogram is square-rooted and the
blocks are weighted equally, so the inner product of two vectors is the mean Bhattacharyya
coefficient of their distributions (1 for identical shapes). Sampling uses fixed seeds: the same
shape always gets the same vector.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from modahub.documents import Document
from modahub.executors import Encoder, ExecutorError

SAMPLE_SEED = 20240501
POINTS = 2048
"""Surface points sampled per mesh (or kept per cloud)."""
TRIPLES = 8192
"""Random point pairs and triples per histogram."""
BLOCKS = (("d1", 16, 3.0), ("d2", 32, 4.0), ("a3", 24, np.pi), ("d3", 24, 2.5))
"""(name, bins, upper end of the range) of each histogram; lengths are in units of the mean radius."""
FEATURES = sum(bins for _, bins, _ in BLOCKS)


def surface_points(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """POINTS points on the mesh surface, area-weighted (trimesh); the vertices when it has no area."""
    import trimesh

    if len(faces):
        mesh = trimesh.Trimesh(vertices=vertices, faces=faces, process=False)
        if mesh.area > 0:
            points, _ = trimesh.sample.sample_surface(mesh, POINTS, seed=SAMPLE_SEED)
            return np.asarray(points, dtype=np.float64)
    return vertices


def shape_distribution(points: np.ndarray) -> np.ndarray:
    """The FEATURES-long descriptor of a point set (see the module docstring)."""
    points = np.asarray(points, dtype=np.float64)
    if len(points) < 3 or not np.all(np.isfinite(points)):
        raise ExecutorError(f"need at least 3 finite points to describe a shape, got {len(points)}")
    rng = np.random.default_rng(SAMPLE_SEED)
    if len(points) > POINTS:
        points = points[np.sort(rng.choice(len(points), POINTS, replace=False))]
    centred = points - points.mean(axis=0)
    radius = np.linalg.norm(centred, axis=1)
    scale = radius.mean()
    if scale <= 0:
        raise ExecutorError("every point is at the same place: a shape needs extent")
    centred, radius = centred / scale, radius / scale
    a, b, c = (centred[rng.integers(0, len(centred), TRIPLES)] for _ in range(3))
    ab, ac = b - a, c - a
    cosine = np.einsum("ij,ij->i", ab, ac) / np.maximum(np.linalg.norm(ab, axis=1) * np.linalg.norm(ac, axis=1), 1e-12)
    values = {
        "d1": radius,
        "d2": np.linalg.norm(ab, axis=1),
        "a3": np.arccos(np.clip(cosine, -1.0, 1.0)),
        "d3": np.sqrt(0.5 * np.linalg.norm(np.cross(ab, ac), axis=1)),
    }
    blocks = []
    for name, bins, top in BLOCKS:
        counts = np.histogram(np.minimum(values[name], top), bins=bins, range=(0.0, top))[0]
        blocks.append(np.sqrt(counts / counts.sum()))
    return np.concatenate(blocks) / np.sqrt(len(BLOCKS))


def features(doc: Document) -> np.ndarray:
    """The descriptor of a mesh (surface samples) or point cloud (its points) document."""
    payload = doc.load().payload
    if doc.modality == "mesh":
        points = surface_points(np.asarray(payload.vertices, dtype=np.float64), np.asarray(payload.faces))  # type: ignore[attr-defined]
    else:
        points = payload.points  # type: ignore[attr-defined]
    return shape_distribution(points)


class ShapeDistEncoder(Encoder):
    """Meshes and point clouds as shape distributions: rotation, translation and scale invariant."""

    name = "shape-dist"
    modalities: ClassVar[tuple[str, ...]] = ("mesh", "pointcloud")
    space = "shape-dist-v1"
    dim = FEATURES
    batch_size = 64

    def _encode(self, docs: list[Document]) -> np.ndarray:
        table = []
        for i, doc in enumerate(docs):
            try:
                table.append(features(doc))
            except ExecutorError as exc:
                raise ExecutorError(f"{self.name}: document {i} (id {doc.id!r}): {exc}") from None
        return np.stack(table).astype(np.float32)
