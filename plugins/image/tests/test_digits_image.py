"""digits-image: shape, determinism, class structure, robustness to how an image is given, errors."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from modahub_image.digits import DigitsImageEncoder
from modahub_image.pixels import digit_grid

import modahub
from modahub.executors import ExecutorError
from modahub.weights import WeightsError


def _docs(pixels: np.ndarray) -> list:
    return [modahub.image(p, id=f"img{i}") for i, p in enumerate(pixels)]


def test_loads_by_name_with_the_declared_space():
    enc = modahub.load("digits-image")
    assert (enc.space, enc.dim) == ("all-minilm-l6-v2", 384)


def test_vectors_are_unit_length_and_deterministic(held_out_digits):
    pixels, _ = held_out_digits
    enc = DigitsImageEncoder()
    a = enc.encode(_docs(pixels))
    assert a.shape == (len(pixels), 384) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(a, DigitsImageEncoder().encode(_docs(pixels)))


def test_held_out_images_cluster_by_digit(held_out_digits):
    pixels, labels = held_out_digits
    vecs = DigitsImageEncoder().encode(_docs(pixels))
    sims = vecs @ vecs.T
    np.fill_diagonal(sims, -np.inf)
    nearest = labels[np.argmax(sims, axis=1)]
    assert np.mean(nearest == labels) >= 0.9


def test_scaled_inverted_coloured_copies_embed_like_the_original(held_out_digits):
    pixels, _ = held_out_digits
    enc = DigitsImageEncoder()
    grey = pixels[:10, :, :, 0]
    big = np.kron(grey, np.ones((1, 4, 4), dtype=np.uint8))  # 32×32
    inverted_rgb = np.repeat((255 - big)[..., None], 3, axis=3)  # dark ink on white paper, RGB
    padded = np.pad(big, ((0, 0), (6, 2), (3, 9)))[..., None]
    rgba = np.concatenate([inverted_rgb, np.full(big.shape + (1,), 255, np.uint8)], axis=3)
    base = enc.encode(_docs(pixels[:10]))
    for variant in (big[..., None], inverted_rgb, padded, rgba):
        cos = np.sum(base * enc.encode(_docs(variant)), axis=1)
        assert cos.min() > 0.8, cos


def test_reads_images_from_files(tmp_path, held_out_digits):
    from PIL import Image

    pixels, _ = held_out_digits
    path = tmp_path / "digit.png"
    Image.fromarray(np.kron(pixels[0, :, :, 0], np.ones((4, 4), dtype=np.uint8))).save(path)
    enc = DigitsImageEncoder()
    from_file = enc.encode([modahub.image(uri=str(path))])
    inline = enc.encode([modahub.image(np.kron(pixels[0], np.ones((4, 4, 1), dtype=np.uint8)))])
    np.testing.assert_allclose(from_file, inline, atol=1e-6)


def test_blank_image_does_not_crash():
    assert digit_grid(np.zeros((10, 10, 1), np.uint8)).shape == (64,)


def test_wrong_modality():
    with pytest.raises(ExecutorError, match=r"modality 'text'.*accepts image"):
        DigitsImageEncoder().encode([modahub.text("seven")])


def test_wrong_shape(held_out_digits):
    doc = modahub.image(held_out_digits[0][0])
    doc.payload.pixels = held_out_digits[0][0][..., 0]  # assignment skips validation: a 2-D array
    with pytest.raises(ExecutorError, match=r"pixels \[8, 8\].*H×W×C uint8"):
        DigitsImageEncoder().encode([doc])
    with pytest.raises(ExecutorError, match=r"2×2 pixels.*at least 4×4"):
        DigitsImageEncoder().encode([modahub.image(np.zeros((2, 2, 1), np.uint8))])


def test_empty_batch():
    with pytest.raises(ExecutorError, match="empty batch"):
        DigitsImageEncoder().encode([])


def test_missing_weights_file(tmp_path, held_out_digits):
    enc = DigitsImageEncoder(weights=tmp_path / "nope.safetensors")
    with pytest.raises(WeightsError, match=r"nope.safetensors is missing"):
        enc.encode(_docs(held_out_digits[0][:1]))


def test_pickled_weights_file(tmp_path, held_out_digits):
    docs = _docs(held_out_digits[0][:1])
    disguised = tmp_path / "digits-image.safetensors"
    disguised.write_bytes(pickle.dumps({"layer0.weight": [1.0]}))
    with pytest.raises(WeightsError, match="pickle"):
        DigitsImageEncoder(weights=disguised).encode(docs)
    torch_style = tmp_path / "weights.pt"
    torch_style.write_bytes(pickle.dumps([1.0]))
    with pytest.raises(WeightsError, match="pickle-based"):
        DigitsImageEncoder(weights=torch_style).encode(docs)
