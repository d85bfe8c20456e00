"""Videos written with PyAV from scikit-learn digits: sampling, timed chunks, pooling and locating a hit."""

import numpy as np
import pytest
from modahub_video_frames.encoder import VideoFramesEncoder
from modahub_video_frames.frames import locate, sample, video_document, write_video
from sklearn.datasets import load_digits

import modahub
from modahub.documents import Document
from modahub.executors import ExecutorError

FPS, HOLD, SIDE = 4.0, 4, 48


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    return {d: data.images[np.flatnonzero(data.target == d)[:5]] for d in range(10)}


def digit_frames(digits, sequence, jitter_seed=0):
    """HOLD frames per digit (white ink on black, SIDE×SIDE RGB) with a little pixel noise."""
    rng = np.random.default_rng(jitter_seed)
    frames = []
    for n, d in enumerate(sequence):
        image = digits[d][n % len(digits[d])] / 16.0
        big = np.kron(image, np.ones((SIDE // 8, SIDE // 8)))
        for _ in range(HOLD):
            noisy = np.clip(big * 255 + rng.normal(0, 4, big.shape), 0, 255).astype(np.uint8)
            frames.append(np.repeat(noisy[..., None], 3, axis=2))
    return np.stack(frames)


@pytest.fixture(scope="module")
def video_file(tmp_path_factory, digits):
    path = tmp_path_factory.mktemp("videos") / "three-seven-one.mp4"
    write_video(str(path), digit_frames(digits, [3, 7, 1]), FPS)
    return str(path)


def test_scene_sampling_finds_each_cut_at_its_time(video_file):
    doc = video_document(video_file, sampling="scene", frames=8, id="v")
    assert [c.tags["t"] for c in doc.chunks] == pytest.approx([0.0, HOLD / FPS, 2 * HOLD / FPS])
    assert [c.tags["frame"] for c in doc.chunks] == [0, HOLD, 2 * HOLD]
    assert all(c.tags["parent"] == "v" and c.id == f"v@{c.tags['frame']}" for c in doc.chunks)


def test_uniform_sampling_spans_the_video(video_file):
    picked = sample(Document(modality="video", payload={"uri": video_file}).payload, "uniform", frames=4)
    assert [f.index for f in picked] == [0, 4, 7, 11]
    assert picked[-1].time == pytest.approx(11 / FPS)


def test_an_image_of_a_digit_finds_the_video_and_the_moment(video_file, digits, tmp_path):
    other = str(tmp_path / "zero-five.mp4")
    write_video(other, digit_frames(digits, [0, 5], jitter_seed=1), FPS)
    encoder = VideoFramesEncoder(sampling="scene")
    videos = [Document(id=name, modality="video", payload={"uri": path}) for name, path in (("371", video_file), ("05", other))]
    vectors = encoder.encode(videos)
    assert vectors.shape == (2, 384)
    assert all(len(v.chunks) == n for v, n in zip(videos, (3, 2), strict=True))  # chunks attached by the encoder

    query_pixels = np.repeat((np.kron(digits[7][4] / 16.0, np.ones((4, 4))) * 255).astype(np.uint8)[..., None], 3, axis=2)
    query = modahub.load("digits-image").encode([modahub.image(query_pixels)])[0]
    assert int(np.argmax(vectors @ query)) == 0
    best = locate(videos[0], query)[0]
    assert (best.frame, best.time) == (HOLD, pytest.approx(HOLD / FPS))


def test_pooled_vector_is_the_mean_of_its_frames(digits):
    doc = video_document(digit_frames(digits, [2, 2, 9]), fps=FPS, sampling="uniform", frames=6)
    vector = VideoFramesEncoder().encode([doc])[0]
    frames = np.stack([c.embedding for c in doc.chunks])
    mean = frames.mean(axis=0)
    np.testing.assert_allclose(vector, mean / np.linalg.norm(mean), atol=1e-6)


def test_bad_input_is_refused_with_a_reason(tmp_path):
    with pytest.raises(ExecutorError, match="sampling 'smart'"):
        VideoFramesEncoder(sampling="smart")
    bogus = tmp_path / "not-a-video.mp4"
    bogus.write_bytes(b"no video here")
    with pytest.raises(ExecutorError, match="cannot open it as a video"):
        VideoFramesEncoder().encode([Document(modality="video", payload={"uri": str(bogus)})])
    with pytest.raises(ExecutorError, match="no embedded frame chunks"):
        locate(Document(modality="video", payload={"frames": np.zeros((2, 8, 8, 3), np.uint8), "fps": 1.0}), np.ones(384))
