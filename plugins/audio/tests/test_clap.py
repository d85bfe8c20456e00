"""clap-audio and clap-text on a tiny random CLAP the test saves: equal to transformers' ClapModel, one space, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import modahub
from modahub.executors import ExecutorError
from modahub.files import sha256_file
from modahub.weights import WeightsError
from modahub_testing import EncoderContract

REV = "0123456789abcdef0123456789abcdef01234567"
TEXTS = ["a dog barks.", "rain on a tin roof", "7", "an orchestra tuning before the concert"]


@pytest.fixture(scope="module")
def tiny_clap(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    from modahub_audio.tiny import tiny_clap

    return tiny_clap(tmp_path_factory.mktemp("weights") / "tiny-clap")


def _sounds() -> list[np.ndarray]:
    """Noise, a chirp, a short tone and a clip shorter than the extractor's window, at the model's 16 kHz."""
    rng = np.random.default_rng(0)
    t = np.arange(24000) / 16000
    return [
        (0.1 * rng.standard_normal(30000)).astype(np.float32),
        (0.5 * np.sin(2 * np.pi * (200 + 900 * t) * t)).astype(np.float32),
        (0.3 * np.sin(2 * np.pi * 440 * t[:8000])).astype(np.float32),
        (0.2 * rng.standard_normal(700)).astype(np.float32),
    ]


def _reference_model(folder: Path):
    from transformers import ClapModel

    return ClapModel.from_pretrained(folder, use_safetensors=True, local_files_only=True).eval()


def test_audio_tower_matches_transformers(tiny_clap):
    import torch
    from transformers import ClapFeatureExtractor

    sounds = _sounds()
    enc = modahub.load("clap-audio", model=str(tiny_clap), batch_size=3)
    assert (enc.space, enc.dim) == ("clap:tiny-clap@local", 16)
    vecs = enc.encode([modahub.audio(s, 16000) for s in sounds])
    features = ClapFeatureExtractor.from_pretrained(tiny_clap)(sounds, sampling_rate=16000, return_tensors="pt")
    with torch.no_grad():
        reference = _reference_model(tiny_clap).get_audio_features(**features).pooler_output.numpy()
    assert vecs.shape == (4, 16)
    assert float(np.abs(vecs - reference).max()) <= 1e-5


def test_text_tower_matches_transformers_and_shares_the_audio_space(tiny_clap):
    import torch
    from transformers import AutoTokenizer

    enc = modahub.load("clap-text", model=str(tiny_clap), batch_size=3)
    assert (enc.space, enc.dim) == (modahub.load("clap-audio", model=str(tiny_clap)).space, 16)
    vecs = enc.encode([modahub.text(t) for t in TEXTS])
    batch = AutoTokenizer.from_pretrained(tiny_clap)(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        reference = _reference_model(tiny_clap).get_text_features(**batch).pooler_output.numpy()
    assert float(np.abs(vecs - reference).max()) <= 1e-5


def test_long_sounds_are_cut_not_cropped_at_random(tiny_clap):
    """A 5 s sound gives the vector of its first 2 s (the extractor's max_length_s), every time."""
    long = (0.1 * np.random.default_rng(1).standard_normal(5 * 16000)).astype(np.float32)
    enc = modahub.load("clap-audio", model=str(tiny_clap))
    first = enc.encode([modahub.audio(long, 16000)])
    again = enc.encode([modahub.audio(long, 16000)])
    head = enc.encode([modahub.audio(long[: 2 * 16000], 16000)])
    assert np.array_equal(first, again)
    assert float(np.abs(first - head).max()) <= 1e-6


def test_other_rates_and_stereo_are_resampled(tiny_clap):
    from modahub_audio.features import resample

    tone = np.sin(2 * np.pi * 330 * np.arange(48000) / 48000).astype(np.float32) * 0.4
    enc = modahub.load("clap-audio", model=str(tiny_clap))
    at_48k = enc.encode([modahub.audio(np.stack([tone, tone], axis=1), 48000)])
    at_16k = enc.encode([modahub.audio(resample(tone.astype(np.float64), 48000, 16000).astype(np.float32), 16000)])
    assert float(np.abs(at_48k - at_16k).max()) <= 1e-5


def test_repo_id_at_pinned_revision_from_the_offline_cache(tiny_clap, tmp_path, monkeypatch):
    shutil.copytree(tiny_clap, tmp_path / "hub" / "models--tiny--clap" / "snapshots" / REV)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pin = {"model.safetensors": sha256_file(tiny_clap / "model.safetensors")}
    enc = modahub.load("clap-text", model="tiny/clap", revision=REV, sha256=pin)
    assert enc.space == f"clap:tiny/clap@{REV}"
    docs = [modahub.text(t) for t in TEXTS[:2]]
    assert float(np.abs(enc.encode(docs) - modahub.load("clap-text", model=str(tiny_clap)).encode(docs)).max()) <= 1e-6
    with pytest.raises(WeightsError, match="does not match the pinned"):
        modahub.load("clap-audio", model=str(tiny_clap), sha256={"model.safetensors": "0" * 64}).encode(
            [modahub.audio(_sounds()[0], 16000)])


def test_missing_files_and_bad_input_are_named(tiny_clap, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(tiny_clap, bare, ignore=shutil.ignore_patterns("preprocessor_config.json", "tokenizer*"))
    with pytest.raises(WeightsError, match="no preprocessor_config.json"):
        modahub.load("clap-audio", model=str(bare)).encode([modahub.audio(_sounds()[0], 16000)])
    with pytest.raises(WeightsError, match="has no tokenizer"):
        modahub.load("clap-text", model=str(bare)).encode([modahub.text("a dog")])
    with pytest.raises(ExecutorError, match="modality 'text'"):
        modahub.load("clap-audio", model=str(tiny_clap)).encode([modahub.text("a dog")])


@pytest.mark.slow  # its fresh-interpreter rule imports torch in new processes
class TestClapAudioContract(EncoderContract):
    executor = "clap-audio"


@pytest.mark.slow
class TestClapTextContract(EncoderContract):
    executor = "clap-text"
