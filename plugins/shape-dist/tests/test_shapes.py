"""Shape retrieval under random rotation, scale and noise; point clouds find meshes; recipes replay."""

import numpy as np
import pytest
from modahub_shape_dist.encoder import ShapeDistEncoder
from modahub_shape_dist.generator import SHAPES, ShapeGenerator, random_rotation

from modahub.documents import Document
from modahub.executors import ExecutorError
from modahub.recipes import verify


@pytest.fixture(scope="module")
def encoder():
    return ShapeDistEncoder()


@pytest.fixture(scope="module")
def gallery(encoder):
    """One clean, unrotated-by-us example of each shape (the generator still poses it at random)."""
    docs = ShapeGenerator(noise=0.0).generate([f"a {s}" for s in SHAPES], n=1, seed=1)
    return docs, encoder.encode(docs)


def test_rotation_does_not_change_the_vector(encoder):
    (doc,) = ShapeGenerator(noise=0.0).generate(["a cone"], seed=3)
    rng = np.random.default_rng(0)
    turned = [
        Document(modality="mesh", payload={"vertices": doc.payload.vertices @ random_rotation(rng).T, "faces": doc.payload.faces})
        for _ in range(5)
    ]
    vectors = encoder.encode([doc, *turned])
    np.testing.assert_allclose(vectors[1:], np.repeat(vectors[:1], 5, axis=0), atol=1e-5)


def test_noisy_rotated_rescaled_shapes_find_their_kind(encoder, gallery):
    docs, vectors = gallery
    queries = ShapeGenerator(noise=0.02).generate([f"a {s}" for s in SHAPES], n=4, seed=100)
    hits = np.argmax(encoder.encode(queries) @ vectors.T, axis=1)
    found = [docs[h].tags["shape"] for h in hits]
    wanted = [q.tags["shape"] for q in queries]
    accuracy = np.mean([f == w for f, w in zip(found, wanted, strict=True)])
    assert accuracy >= 0.9, list(zip(wanted, found, strict=True))


def test_a_point_cloud_finds_its_mesh(encoder, gallery):
    import trimesh

    docs, vectors = gallery
    for doc in docs:
        mesh = trimesh.Trimesh(doc.payload.vertices, doc.payload.faces, process=False)
        points, _ = trimesh.sample.sample_surface(mesh, 1500, seed=7)
        rng = np.random.default_rng(1)
        cloud = (points @ random_rotation(rng).T) * 3.0 + rng.normal(0, 0.01, points.shape)
        query = encoder.encode([Document(modality="pointcloud", payload={"points": cloud})])[0]
        assert docs[int(np.argmax(vectors @ query))].tags["shape"] == doc.tags["shape"]


def test_generated_shapes_carry_recipes_that_replay():
    (doc,) = ShapeGenerator(detail=1, noise=0.05).generate(["a small torus"], seed=11)
    assert doc.provenance.parameters == {"detail": 1, "noise": 0.05}
    assert doc.tags == {"shape": "torus"}
    assert verify(doc).id == doc.id


def test_bad_prompts_and_shapes_are_refused(encoder):
    with pytest.raises(ExecutorError, match="names no shape"):
        ShapeGenerator().generate(["a teapot"])
    with pytest.raises(ExecutorError, match="several shapes"):
        ShapeGenerator().generate(["a box and a ball"])
    flat = Document(modality="pointcloud", payload={"points": np.zeros((10, 3))})
    with pytest.raises(ExecutorError, match="needs extent"):
        encoder.encode([flat])
