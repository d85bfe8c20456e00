"""digits-audio on committed held-out-voice sounds: shape, structure, invariances, errors."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from modahub_audio.encoder import DigitsAudioEncoder
from modahub_audio.espeak import read_wav
from modahub_audio.features import resample
from modahub_image.words import DIGIT_WORDS

import modahub
from modahub.executors import ExecutorError
from modahub.weights import WeightsError

DATA = Path(__file__).parent / "data"
WAVS = sorted(DATA.glob("*.wav"))


def _label(path: Path) -> int:
    return DIGIT_WORDS.index(path.name.split("_")[0])


@pytest.fixture(scope="module")
def encoded() -> tuple[np.ndarray, np.ndarray]:
    vecs = DigitsAudioEncoder().encode([modahub.audio(uri=str(p), id=p.stem) for p in WAVS])
    return vecs, np.array([_label(p) for p in WAVS])


def test_committed_sounds_cover_every_digit():
    assert len(WAVS) == 30 and sorted({_label(p) for p in WAVS}) == list(range(10))


def test_loads_by_name_with_the_declared_space():
    enc = modahub.load("digits-audio")
    assert (enc.space, enc.dim) == ("all-minilm-l6-v2", 384)


def test_vectors_are_unit_length_and_deterministic(encoded):
    vecs, _ = encoded
    assert vecs.shape == (30, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    again = DigitsAudioEncoder().encode([modahub.audio(*read_wav(WAVS[0]))])
    np.testing.assert_allclose(again[0], vecs[0], atol=1e-6)


def test_same_word_in_other_accents_is_nearest(encoded):
    vecs, labels = encoded
    sims = vecs @ vecs.T
    np.fill_diagonal(sims, -np.inf)
    assert np.mean(labels[np.argmax(sims, axis=1)] == labels) >= 0.8


def test_gain_channels_and_sample_rate_barely_matter():
    samples, rate = read_wav(WAVS[7])
    enc = DigitsAudioEncoder()
    base = enc.encode([modahub.audio(samples, rate)])[0]
    variants = [
        modahub.audio(samples * 0.05, rate),
        modahub.audio(np.stack([samples, samples * 0.5], axis=1), rate),
        modahub.audio(resample(samples.astype(np.float64), rate, 44_100), 44_100),
        modahub.audio(resample(samples.astype(np.float64), rate, 8_000).astype(np.float32), 8_000),
        modahub.audio(np.concatenate([np.zeros(rate // 2, np.float32), samples, np.zeros(rate // 3, np.float32)]), rate),
    ]
    cos = enc.encode(variants) @ base
    assert cos.min() > 0.9, cos


def test_wrong_modality():
    with pytest.raises(ExecutorError, match=r"modality 'image'.*accepts audio"):
        DigitsAudioEncoder().encode([modahub.image(np.zeros((8, 8, 1), np.uint8))])


def test_wrong_shape():
    doc = modahub.audio(np.zeros(16000, np.float32), 16000)
    doc.payload.samples = np.zeros((2, 3, 4), np.float32)  # assignment skips validation
    with pytest.raises(ExecutorError, match=r"samples \[2, 3, 4\]; expected float samples"):
        DigitsAudioEncoder().encode([doc])
    with pytest.raises(ExecutorError, match=r"0.010 s long"):
        DigitsAudioEncoder().encode([modahub.audio(np.zeros(160, np.float32), 16000)])
    with pytest.raises(ExecutorError, match=r"60.000 s long.*cut long recordings"):
        DigitsAudioEncoder().encode([modahub.audio(np.zeros(60 * 8000, np.float32), 8000)])


def test_empty_batch():
    with pytest.raises(ExecutorError, match="empty batch"):
        DigitsAudioEncoder().encode([])


def test_missing_weights_file(tmp_path):
    with pytest.raises(WeightsError, match="is missing"):
        DigitsAudioEncoder(weights=tmp_path / "gone.safetensors").encode([modahub.audio(uri=str(WAVS[0]))])


def test_pickled_weights_file(tmp_path):
    bad = tmp_path / "digits-audio.safetensors"
    bad.write_bytes(pickle.dumps({"layer0.weight": np.zeros(3)}))
    with pytest.raises(WeightsError, match="pickle"):
        DigitsAudioEncoder(weights=bad).encode([modahub.audio(uri=str(WAVS[0]))])
