"""tone-generator: prompts are honoured, determinism, provenance, clear errors."""

from __future__ import annotations

from importlib import metadata

import numpy as np
import pytest

import modahub
from modahub.executors import ExecutorError
from modahub_testing import GeneratorContract


@pytest.fixture(scope="module")
def generator():
    return modahub.load("tone-generator")


def _peaks(samples: np.ndarray, rate: int, count: int) -> list[float]:
    """The ``count`` strongest spectral peaks in Hz (local maxima of the magnitude spectrum)."""
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    freqs = np.fft.rfftfreq(len(samples), 1 / rate)
    local = np.flatnonzero((spectrum[1:-1] > spectrum[:-2]) & (spectrum[1:-1] >= spectrum[2:])) + 1
    return sorted(freqs[local[np.argsort(-spectrum[local])[:count]]].tolist())


def test_a_frequency_and_a_length(generator):
    doc = generator.generate(["440 Hz for 2 s"], seed=0)[0]
    audio = doc.payload
    assert doc.modality == "audio" and audio.samples.dtype == np.float32 and audio.sample_rate == 16000
    assert 2.0 <= len(audio.samples) / audio.sample_rate <= 2.2
    assert _peaks(audio.samples, 16000, 1)[0] == pytest.approx(440.0, abs=1.0)
    assert float(np.max(np.abs(audio.samples))) == pytest.approx(0.9, abs=1e-6)


def test_a_chord_sounds_its_three_notes(generator):
    doc = generator.generate(["a C major chord on an organ"], seed=3)[0]
    assert doc.tags["notes"] == "C4 E4 G4" and doc.tags["timbre"] == "organ"
    assert _peaks(doc.payload.samples, 16000, 3) == pytest.approx([261.63, 329.63, 392.0], abs=1.5)


@pytest.mark.parametrize(("prompt", "allowed"), [
    ("a melody in A minor, 16 notes", {"A", "B", "C", "D", "E", "F", "G"}),
    ("a melody in E major, 16 notes", {"E", "F#", "G#", "A", "B", "C#", "D#"}),
    ("a D pentatonic melody, 16 notes", {"D", "E", "F#", "A", "B"}),
])
def test_melodies_keep_to_their_key(generator, prompt, allowed):
    for doc in generator.generate([prompt], n=5, seed=11):
        names = doc.tags["notes"].split()
        assert len(names) == 16
        assert {n.rstrip("0123456789") for n in names} <= allowed


def test_tempo_words_change_the_length(generator):
    slow, fast, bpm = (generator.generate([f"C4 D4 E4 F4 G4 {w}"], seed=5)[0] for w in ("slow", "fast", "at 240 bpm"))
    assert slow.tags["notes"] == fast.tags["notes"] == "C4 D4 E4 F4 G4"
    assert len(slow.payload.samples) > 1.8 * len(fast.payload.samples)  # one beat per note: 70 vs 160 bpm
    assert len(fast.payload.samples) > len(bpm.payload.samples)


def test_different_prompts_with_one_seed_differ(generator):
    happy, cheerful = (generator.generate([p], seed=5)[0] for p in ("a happy tune", "a cheerful tune"))
    assert happy.payload.samples.tobytes() != cheerful.payload.samples.tobytes()


def test_given_notes_are_played_in_order_on_the_named_timbre(generator):
    doc = generator.generate(["C4 E4 G4 on a guitar"], seed=1)[0]
    assert (doc.tags["notes"], doc.tags["timbre"], doc.tags["shape"]) == ("C4 E4 G4", "pluck", "tone")


def test_same_seed_same_bytes_different_seed_different_audio(generator):
    for prompt in ("a fast melody in A minor", "440 Hz", "C4 on a harp"):
        first, again, other = (generator.generate([prompt], seed=s)[0] for s in (7, 7, 8))
        assert first.payload.samples.tobytes() == again.payload.samples.tobytes()
        assert first.id == again.id
        assert first.payload.samples.tobytes() != other.payload.samples.tobytes()


def test_sample_j_is_the_document_of_seed_plus_j(generator):
    batch = generator.generate(["a bell melody", "a saw arpeggio in G major"], n=3, seed=20)
    alone = generator.generate(["a saw arpeggio in G major"], n=1, seed=22)[0]
    assert batch[5].payload.samples.tobytes() == alone.payload.samples.tobytes()
    assert batch[5].provenance == alone.provenance


def test_provenance_is_a_complete_recipe():
    doc = modahub.load("tone-generator", sample_rate=22050).generate(["a happy tune"], seed=9)[0]
    prov = doc.provenance
    assert (prov.plugin, prov.executor) == ("modahub-tone-generator", "tone-generator")
    assert prov.plugin_version == metadata.version("modahub-tone-generator")
    assert prov.weights is None  # procedural: nothing to pin
    assert (prov.seed, prov.prompt, prov.parameters) == (9, "a happy tune", {"sample_rate": 22050})
    assert doc.payload.sample_rate == 22050


@pytest.mark.parametrize(("prompt", "message"), [
    ("30000 Hz", "frequency 30000 is out of range"),
    ("a melody for 100 s", "length in seconds 100 is out of range"),
    ("a melody at 1000 bpm", "tempo 1000 is out of range"),
    ("a melody of 500 notes", "number of notes 500 is out of range"),
])
def test_values_out_of_range_are_refused(generator, prompt, message):
    with pytest.raises(ExecutorError, match=message):
        generator.generate([prompt], seed=0)


def test_frequency_above_nyquist_is_refused():
    with pytest.raises(ExecutorError, match="above the Nyquist frequency 4000 Hz"):
        modahub.load("tone-generator", sample_rate=8000).generate(["5000 Hz"], seed=0)


@pytest.mark.parametrize("rate", [100, 44100.0])
def test_bad_sample_rate_is_refused(rate):
    with pytest.raises(ExecutorError, match="sample_rate"):
        modahub.load("tone-generator", sample_rate=rate)


class TestGeneratorContract(GeneratorContract):
    executor = "tone-generator"


def test_negative_seed_is_refused(generator):
    with pytest.raises(ExecutorError, match="seed -1 is out of range"):
        generator.generate(["440 Hz"], seed=-1)
