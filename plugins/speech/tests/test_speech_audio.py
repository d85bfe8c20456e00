"""speech-audio: the packaged pocketsphinx model transcribes espeak-ng sentences well enough to find them."""

from __future__ import annotations

import numpy as np
import pytest
from modahub_audio.espeak import Voice, speak

import modahub
from modahub.executors import ExecutorError
from modahub_testing import EncoderContract

SENTENCES = (
    "The river flooded the old mill after three days of rain.",
    "A new bridge will open to traffic next spring.",
    "The orchestra played the symphony without a conductor.",
    "Farmers expect a smaller wheat harvest this year.",
    "The museum bought a painting by a young artist.",
    "Two climbers reached the summit before the storm.",
)
"""Held-out sentences: written for these tests, never used to tune anything."""
VOICE = Voice("en-us", "f2", speed=120)


@pytest.fixture(scope="module")
def speech():
    return modahub.load("speech-audio")


@pytest.fixture(scope="module")
def spoken():
    return [modahub.audio(*speak(s, VOICE), id=f"s{i}") for i, s in enumerate(SENTENCES)]


def test_spoken_sentences_are_found_by_their_text(speech, spoken):
    vectors = speech.encode(spoken)
    heard = [d.tags["text"] for d in spoken]
    texts = modahub.load("minilm-text").encode([modahub.text(s) for s in SENTENCES])
    hits = np.argmax(texts @ vectors.T, axis=1)  # text -> sound
    assert (hits == np.arange(len(SENTENCES))).mean() >= 3 / 6, heard  # chance is 1/6
    assert all(isinstance(h, str) and h == h.lower() for h in heard)


def test_any_rate_and_stereo_is_transcribed_alike(speech, spoken):
    from modahub_speech.recogniser import to_model_rate

    samples, rate = spoken[0].payload.samples, spoken[0].payload.sample_rate
    pcm = to_model_rate(samples, rate)
    assert pcm.dtype == np.int16 and abs(len(pcm) - round(len(samples) * 16000 / rate)) <= 1
    mono, stereo = modahub.audio(samples, rate), modahub.audio(np.stack([samples, samples], axis=1), rate)
    speech.encode([mono, stereo])
    assert stereo.tags["text"] == mono.tags["text"] != ""


def test_the_dither_is_the_same_every_time_and_leaves_no_digital_silence():
    from modahub_speech.recogniser import dithered

    silence = np.zeros(16000, np.int16)
    once, again = dithered(silence), dithered(silence)
    assert np.array_equal(once, again) and set(np.unique(once)) == {-1, 0, 1} and (once != 0).mean() > 0.5
    loud, low = dithered(np.full(100, 32767, np.int16)), dithered(np.full(100, -32768, np.int16))
    assert loud.min() >= 32766 and low.max() <= -32767  # clipped at full scale, never wrapped round


def test_bad_parameters_and_inputs_are_refused(speech):
    with pytest.raises(ExecutorError, match="beam must be in"):
        modahub.load("speech-audio", beam=2.0)
    with pytest.raises(ExecutorError, match="accepts audio"):
        speech.encode([modahub.text("not a sound")])
    with pytest.raises(ExecutorError, match="split audio longer than 600 s"):
        speech.encode([modahub.audio(np.zeros(8000 * 601, np.float32), 8000)])


class TestSpeechAudioContract(EncoderContract):
    executor = "speech-audio"
