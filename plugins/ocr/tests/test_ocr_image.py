"""ocr-image: the packaged PP-OCR models read rendered sentences well enough to find them among texts."""

from __future__ import annotations

import numpy as np
import pytest
from modahub_ocr.render import render_text

import modahub
from modahub.documents import Document
from modahub.executors import ExecutorError
from modahub_testing import EncoderContract


def character_error_rate(truth: str, read: str) -> float:
    """Levenshtein distance over characters, divided by the length of the truth."""
    previous = list(range(len(read) + 1))
    for i, a in enumerate(truth, 1):
        current = [i]
        for j, b in enumerate(read, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1] / len(truth)


@pytest.fixture(scope="module")
def ocr():
    return modahub.load("ocr-image")


def test_rendered_sentences_are_read_and_found_by_their_text(ocr, sentences, rendered):
    images = [modahub.image(pixels, id=f"img{i}") for i, pixels in enumerate(rendered)]
    vectors = ocr.encode(images)
    errors = [character_error_rate(s.lower(), d.tags["text"].lower()) for s, d in zip(sentences, images, strict=True)]
    assert np.mean(errors) < 0.1, [d.tags["text"] for d in images]
    texts = modahub.load("minilm-text").encode([modahub.text(s) for s in sentences])
    hits = np.argmax(texts @ vectors.T, axis=1)  # text -> image
    assert (hits == np.arange(len(sentences))).mean() >= 5 / 6  # chance is 1/6
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_word_too_tight_to_detect_is_still_read(ocr):
    tight = render_text("harvest", size=32)[26:-26, 28:-28]  # almost no margin around the ink
    doc = modahub.image(tight)
    ocr.encode([doc])
    assert doc.tags["text"].lower() == "harvest"


def test_alpha_and_grey_images_are_read(ocr):
    rgb = render_text("Seven ships")
    grey = rgb[..., :1]
    rgba = np.concatenate([np.zeros_like(rgb), 255 - rgb[..., :1]], axis=2)  # black ink only in the alpha channel
    docs = [modahub.image(grey), modahub.image(rgba)]
    ocr.encode(docs)
    assert [d.tags["text"] for d in docs] == ["Seven ships", "Seven ships"]


def test_bad_parameters_and_inputs_are_refused():
    with pytest.raises(ExecutorError, match="max_side"):
        modahub.load("ocr-image", max_side=8)
    with pytest.raises(ExecutorError, match="min_score"):
        modahub.load("ocr-image", min_score=2)
    with pytest.raises(ExecutorError, match="accepts image"):
        modahub.load("ocr-image").encode([modahub.text("not an image")])
    with pytest.raises(ExecutorError, match="at least 4×4"):
        modahub.load("ocr-image").encode([Document(modality="image", payload={"pixels": np.zeros((2, 9, 3), np.uint8)})])


class TestOcrImageContract(EncoderContract):
    executor = "ocr-image"
