"""whisper-audio on a tiny random Whisper the test saves: the same greedy tokens as transformers, transcripts
embedded by minilm-text, windows for long sounds, pinned weights, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import modahub
from modahub.executors import ExecutorError
from modahub.files import sha256_file
from modahub.weights import WeightsError
from modahub_testing import EncoderContract, assert_vectors_close

REV = "0123456789abcdef0123456789abcdef01234567"
TOKENS = 12
"""Greedy steps per window in these tests (each costs a full decoder pass)."""


@pytest.fixture(scope="module")
def tiny_whisper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("transformers")
    from modahub_speech.tiny import tiny_whisper

    return tiny_whisper(tmp_path_factory.mktemp("weights") / "tiny-whisper")


def _sounds() -> list[np.ndarray]:
    """Noise, a chirp and a short tone at the model's 16 kHz, each within one 2 s window."""
    rng = np.random.default_rng(0)
    t = np.arange(24000) / 16000
    return [
        (0.1 * rng.standard_normal(30000)).astype(np.float32),
        (0.5 * np.sin(2 * np.pi * (200 + 900 * t) * t)).astype(np.float32),
        (0.3 * np.sin(2 * np.pi * 440 * t[:8000])).astype(np.float32),
    ]


def _reference(folder: Path, sounds: list[np.ndarray]) -> list[list[int]]:
    """transformers' own greedy decoding of each sound."""
    import torch
    from transformers import WhisperFeatureExtractor, WhisperForConditionalGeneration

    model = WhisperForConditionalGeneration.from_pretrained(folder, use_safetensors=True, local_files_only=True).eval()
    extractor = WhisperFeatureExtractor.from_pretrained(folder)
    out = []
    for sound in sounds:
        features = extractor(sound, sampling_rate=16000, return_tensors="pt").input_features
        with torch.no_grad():
            out.append(model.generate(features, do_sample=False, num_beams=1, max_new_tokens=TOKENS)[0].tolist())
    return out


def test_greedy_tokens_and_transcripts_equal_transformers(tiny_whisper):
    from modahub_speech.whisper import Whisper
    from transformers import AutoTokenizer

    whisper = Whisper(tiny_whisper, language=None, max_new_tokens=TOKENS, device="cpu")
    tokenizer = AutoTokenizer.from_pretrained(tiny_whisper)
    sounds = _sounds()
    references = _reference(tiny_whisper, sounds)
    assert len({tuple(r) for r in references}) > 1  # the tiny model's output depends on the sound
    for sound, reference in zip(sounds, references, strict=True):
        assert whisper.tokens(sound, 16000) == [reference]

    enc = modahub.load("whisper-audio", model=str(tiny_whisper), max_new_tokens=TOKENS)
    docs = [modahub.audio(s, 16000, id=f"s{i}") for i, s in enumerate(sounds)]
    vecs = enc.encode(docs)
    heard = [" ".join(tokenizer.decode(r, skip_special_tokens=True).split()) for r in references]
    assert [d.tags["text"] for d in docs] == heard
    assert_vectors_close(vecs, modahub.load("minilm-text").encode([modahub.text(t) for t in heard]))


def test_long_sounds_are_read_window_by_window(tiny_whisper):
    from modahub_speech.whisper import Whisper

    whisper = Whisper(tiny_whisper, language=None, max_new_tokens=4, device="cpu")
    first, (_, b, _) = (0.1 * np.random.default_rng(1).standard_normal(32000)).astype(np.float32), _sounds()
    long = np.concatenate([first, b[:20000]])  # one 2 s window + 1.25 s
    assert whisper.tokens(long, 16000) == whisper.tokens(first, 16000) + whisper.tokens(b[:20000], 16000)
    stereo_48k = np.repeat(np.stack([b, b], axis=1), 3, axis=0)  # a crude 48 kHz copy, resampled back to 16 kHz
    assert len(whisper.tokens(stereo_48k, 48000)) == 1


def test_repo_id_at_pinned_revision_from_the_offline_cache(tiny_whisper, tmp_path, monkeypatch):
    shutil.copytree(tiny_whisper, tmp_path / "hub" / "models--tiny--whisper" / "snapshots" / REV)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pin = {"model.safetensors": sha256_file(tiny_whisper / "model.safetensors")}
    sound = [modahub.audio(_sounds()[1], 16000)]
    pinned = modahub.load("whisper-audio", model="tiny/whisper", revision=REV, sha256=pin, max_new_tokens=4)
    local = modahub.load("whisper-audio", model=str(tiny_whisper), max_new_tokens=4)
    assert_vectors_close(pinned.encode(sound), local.encode(sound))
    with pytest.raises(WeightsError, match="pin a revision"):
        modahub.load("whisper-audio", model="tiny/whisper").encode(sound)
    with pytest.raises(WeightsError, match="does not match the pinned"):
        modahub.load("whisper-audio", model=str(tiny_whisper), sha256={"model.safetensors": "0" * 64}).encode(sound)


def test_incomplete_folders_and_bad_input_are_named(tiny_whisper, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(tiny_whisper, bare, ignore=shutil.ignore_patterns("generation_config.json", "tokenizer*"))
    sound = [modahub.audio(_sounds()[2], 16000)]
    with pytest.raises(WeightsError, match="lacks generation_config.json, tokenizer.json"):
        modahub.load("whisper-audio", model=str(bare)).encode(sound)
    with pytest.raises(ExecutorError, match="max_new_tokens must be an integer"):
        modahub.load("whisper-audio", model=str(tiny_whisper), max_new_tokens=0)
    with pytest.raises(ExecutorError, match="split audio longer than 600 s"):
        modahub.load("whisper-audio", model=str(tiny_whisper)).encode([modahub.audio(np.zeros(601 * 800, np.float32), 800)])


@pytest.mark.slow  # its fresh-interpreter rule imports torch in new processes
class TestWhisperAudioContract(EncoderContract):
    executor = "whisper-audio"
