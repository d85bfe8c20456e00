"""Cross-modal search in the shared all-minilm-l6-v2 space: text, images and sounds meet at words.

Real encoders (minilm-text, digits-image, digits-audio) and a real index (exact-index); the images
are held-out scikit-learn digits and the sounds held-out espeak-ng voices (committed WAVs).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import modahub

SPACE, DIM = "all-minilm-l6-v2", 384
WAVS = sorted((Path(__file__).parents[1] / "plugins" / "audio" / "tests" / "data").glob("*.wav"))
DISTRACTORS = ["cat", "a red house", "eleven", "twelve", "twenty", "one hundred", "the letter A", "a question mark",
               "banana", "thirty", "sunday", "piano", "a circle", "the alphabet", "first", "second place"]


def _text_vectors(texts: list[str]) -> np.ndarray:
    return modahub.load("minilm-text").encode([modahub.text(t) for t in texts])


@pytest.fixture(scope="module")
def words() -> list[str]:
    from modahub_image.words import DIGIT_WORDS

    return list(DIGIT_WORDS)


@pytest.fixture(scope="module")
def images() -> tuple[np.ndarray, np.ndarray]:
    """60 held-out digit images (6 per digit) encoded by digits-image, and their digits."""
    from modahub_image.digits import default_weights
    from modahub_image.head import load_head
    from sklearn.datasets import load_digits

    data = load_digits()
    test = np.array(load_head(default_weights(), what="test").metadata["test_indices"])
    chosen = np.concatenate([test[data.target[test] == d][:6] for d in range(10)])
    docs = [modahub.image(np.round(data.images[i] * (255 / 16)).astype(np.uint8)[..., None]) for i in chosen]
    return modahub.load("digits-image").encode(docs), data.target[chosen]


@pytest.fixture(scope="module")
def image_index(images):
    """An exact index of the images, tagged with their digit."""
    vectors, labels = images
    index = modahub.load("exact-index", space=SPACE, dim=DIM)
    index.add([modahub.image(np.zeros((8, 8, 1), np.uint8), id=f"img{i}", tags={"digit": int(d)}, embedding=v)
               for i, (v, d) in enumerate(zip(vectors, labels, strict=True))])
    return index


@pytest.fixture(scope="module")
def text_index(words):
    texts = words + DISTRACTORS
    vectors = _text_vectors(texts)
    index = modahub.load("exact-index", space=SPACE, dim=DIM)
    index.add([modahub.text(t, id=t, embedding=v) for t, v in zip(texts, vectors, strict=True)])
    return index


@pytest.fixture(scope="module")
def sounds(words):
    docs = [modahub.audio(uri=str(p), id=p.stem) for p in WAVS]
    labels = np.array([words.index(p.name.split("_")[0]) for p in WAVS])
    return modahub.load("digits-audio").encode(docs), labels


def test_the_three_encoders_share_one_space():
    encoders = [modahub.load(n) for n in ("minilm-text", "digits-image", "digits-audio")]
    assert {(e.space, e.dim) for e in encoders} == {(SPACE, DIM)}


def test_text_finds_images(image_index, words):
    hits = image_index.search(_text_vectors(words), k=5)
    top1 = [m[0].document.tags["digit"] for m in hits]
    assert top1 == list(range(10))
    precision = np.mean([[x.document.tags["digit"] == d for x in m] for d, m in enumerate(hits)])
    assert precision >= 0.9


def test_seven_finds_sevens_with_other_phrasings(image_index):
    for query in ("7", "the number seven", "a handwritten seven"):
        hits = image_index.search(_text_vectors([query]), k=3)[0]
        assert [m.document.tags["digit"] for m in hits] == [7, 7, 7], query


def test_sound_finds_images(image_index, sounds):
    vectors, labels = sounds
    top1 = np.array([m[0].document.tags["digit"] for m in image_index.search(vectors, k=1)])
    assert np.mean(top1 == labels) >= 0.85


def test_image_finds_its_word_among_distractors(images, text_index, words):
    vectors, labels = images
    top1 = [m[0].id for m in text_index.search(vectors, k=1)]
    assert np.mean(np.array(top1) == np.array([words[i] for i in labels])) >= 0.85


def test_sound_finds_its_word_among_distractors(text_index, sounds, words):
    vectors, labels = sounds
    top1 = [m[0].id for m in text_index.search(vectors, k=1)]
    assert np.mean(np.array(top1) == np.array([words[i] for i in labels])) >= 0.85
