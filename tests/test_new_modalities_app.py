"""Apps over the new modalities: videos, shapes (mesh and point cloud) and time series are indexed and queried.

An app has one index, and its encoders share that index's embedding space, so each space gets its
own app (built by :class:`modahub.pipeline.App` from the same dict an ``app.yml`` holds):

- videos in ``all-minilm-l6-v2`` (video-frames; frames written with PyAV from digits-generator's
  digits), queried with a digit image (digits-image); the hit says when the digit is on screen;
- shapes in ``shape-dist-v1`` (shape-dist): meshes made by the app's shape-generator, queried with
  a rotated, rescaled, noisy point cloud;
- series in ``series-rocket-v1`` (series-rocket): UCR GunPoint's training series, queried with
  its test series.
"""

from __future__ import annotations

import numpy as np
import pytest
from aeon.datasets import load_classification
from modahub_video_frames.frames import locate, write_video

import modahub
from modahub.pipeline import App

HOLD, FPS = 3, 3.0


def app(tmp_path, name: str, encoders: list[str], generators: list[str] = ()) -> App:
    spec = {
        "name": name,
        "encoders": [{"uses": e} for e in encoders],
        "index": {"uses": "exact-index", "with": {"path": f"{name}-index"}},
        "generators": [{"uses": g} for g in generators],
    }
    return App(spec, base_dir=tmp_path)


@pytest.fixture(scope="module")
def digit_images():
    """One 32×32 RGB image per digit, drawn by digits-generator."""
    docs = modahub.load("digits-generator", size=32).generate([str(d) for d in range(10)], n=1, seed=5)
    return [np.repeat(d.payload.pixels, 3, axis=2) for d in docs]


def test_videos_are_found_by_an_image_and_the_hit_says_when(tmp_path, digit_images):
    videos = {"count-up.mp4": [1, 2, 3], "seven-late.mp4": [0, 0, 7], "fours.mp4": [4, 9, 4]}
    docs = []
    for file, sequence in videos.items():
        path = tmp_path / file
        write_video(str(path), np.stack([digit_images[d] for d in sequence for _ in range(HOLD)]), FPS)
        docs.append(modahub.Document(id=file, modality="video", payload={"uri": str(path)}, tags={"kind": "digits"}))
    videos_app = app(tmp_path, "videos", ["video-frames", "digits-image"])
    assert videos_app.describe()["modalities"] == ["image", "video"]
    videos_app.index(docs)

    result = videos_app.search([modahub.image(digit_images[7])], k=3)
    (matches,) = result.matches
    assert matches[0].id == "seven-late.mp4"
    moment = locate(matches[0].document, result.queries[0].embedding)[0]
    assert moment.time == pytest.approx(2 * HOLD / FPS, abs=1 / FPS)  # the 7 comes on at 2 s
    assert {c.tags["parent"] for c in matches[0].document.chunks} == {"seven-late.mp4"}


def test_shapes_made_by_the_app_are_found_by_a_point_cloud(tmp_path):
    import trimesh

    shapes_app = app(tmp_path, "shapes", ["shape-dist"], ["shape-generator"])
    made = shapes_app.generate(["a box", "a torus", "a cone", "a sphere"], n=2, seed=3)
    assert len(made.documents) == 8 and len(shapes_app.indexer()) == 8

    probe = modahub.load("shape-generator", noise=0.0).generate(["a torus"], seed=99)[0]
    mesh = trimesh.Trimesh(probe.payload.vertices, probe.payload.faces, process=False)
    points, _ = trimesh.sample.sample_surface(mesh, 1200, seed=1)
    rng = np.random.default_rng(2)
    q, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    cloud = points @ q.T * 4.0 + rng.normal(0, 0.01, points.shape)
    (matches,) = shapes_app.search([modahub.Document(modality="pointcloud", payload={"points": cloud})], k=2).matches
    assert [m.document.tags["shape"] for m in matches] == ["torus", "torus"]


def test_series_queries_find_their_class(tmp_path):
    x_train, y_train = load_classification("GunPoint", split="train")
    x_test, y_test = load_classification("GunPoint", split="test")
    series_app = app(tmp_path, "series", ["series-rocket"])
    train = [modahub.Document(id=f"train-{i}", modality="timeseries", payload={"values": s.T}, tags={"label": str(label)})
             for i, (s, label) in enumerate(zip(x_train, y_train, strict=True))]
    series_app.index(train)
    queries = [modahub.Document(modality="timeseries", payload={"values": s.T}) for s in x_test]
    result = series_app.search(queries, k=1)
    accuracy = np.mean([m[0].document.tags["label"] == str(y) for m, y in zip(result.matches, y_test, strict=True)])
    assert accuracy >= 0.95

    (only_one,) = series_app.search(queries[:1], k=5, filter={"label": "1"}).matches
    assert {m.document.tags["label"] for m in only_one} == {"1"}
