"""From a prompt to a score: which pitches, when, how long, on which timbre.

:func:`parse` reads what the prompt says (no randomness); :func:`compose` turns it into notes,
drawing what the prompt leaves open (the melody, dynamics, phases) from a seeded generator.

Understood words: a frequency (``440 Hz``), note names with an octave (``C4 E4 G4``, ``Bb3``),
a key (``A minor``, ``D dorian``, ``C pentatonic``; ``sad`` / ``happy`` pick minor / major),
``chord``, ``arpeggio``, ``melody``, ``N notes``, ``N bpm`` / ``slow`` / ``fast``, a length
(``2 s``, ``1.5 seconds``), ``low`` / ``high``, and a timbre (``sine``, ``square``, ``saw``,
``triangle``, ``organ``, ``bell``, ``pluck``, or an instrument word mapped to one of them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from modahub.executors import ExecutorError

TIMBRES = ("sine", "square", "saw", "triangle", "organ", "bell", "pluck")
_TIMBRE_WORDS = {
    **{t: t for t in TIMBRES},
    "pure": "sine", "whistle": "sine", "chiptune": "square", "8-bit": "square", "retro": "square",
    "sawtooth": "saw", "buzzy": "saw", "brass": "saw", "flute": "triangle", "soft": "triangle",
    "chime": "bell", "chimes": "bell", "glockenspiel": "bell", "bells": "bell",
    "guitar": "pluck", "harp": "pluck", "piano": "pluck", "plucked": "pluck", "strings": "pluck",
}
SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "pentatonic": (0, 2, 4, 7, 9),
    "blues": (0, 3, 5, 6, 7, 10),
}
_PITCH_CLASS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_ACCIDENTAL = {"": 0, "#": 1, "♯": 1, "b": -1, "♭": -1}
_NOTE = re.compile(r"(?<![\w#])([a-g])(#|♯|b|♭)?(\d)(?![\w.])")
_KEY = re.compile(r"(?<![\w#])([a-g])(#|♯|b|♭)?\s+(" + "|".join(SCALES) + r")\b")
_HZ = re.compile(r"(\d+(?:\.\d+)?)\s*(?:hz|hertz)\b")
_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:s|sec|secs|second|seconds)\b")
_BPM = re.compile(r"(\d+)\s*bpm\b")
_COUNT = re.compile(r"(\d+)\s*notes?\b")
_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
MAX_SECONDS = 30.0


def midi_to_hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69) / 12)


def note_name(midi: int) -> str:
    return f"{_NAMES[midi % 12]}{midi // 12 - 1}"


def _midi(letter: str, accidental: str | None, octave: int) -> int:
    return 12 * (octave + 1) + _PITCH_CLASS[letter] + _ACCIDENTAL[accidental or ""]


@dataclass(frozen=True)
class Request:
    """What a prompt asks for."""

    timbre: str
    tempo: int
    octave: int
    frequencies: tuple[float, ...]
    midis: tuple[int, ...]
    tonic: int
    scale: str
    shape: str  # "melody", "chord", "arpeggio", "tone" (given pitches, one after another) or "sustain"
    count: int
    seconds: float | None


@dataclass(frozen=True)
class Note:
    """One sounding note; ``grain`` seeds its noise (pluck), ``phase`` its start phase."""

    hz: float
    start: float
    length: float
    velocity: float
    phase: float
    grain: int
    label: str


def _bounded(what: str, value: float, low: float, high: float, prompt: str) -> float:
    if not low <= value <= high:
        raise ExecutorError(f"tone-generator: prompt {prompt!r}: {what} {value:g} is out of range [{low:g}, {high:g}]")
    return value


def parse(prompt: str) -> Request:
    """Read a prompt; raises :class:`ExecutorError` naming the value out of range."""
    text = prompt.casefold()
    words = re.findall(r"[\w#♯♭-]+", text)
    timbre = next((_TIMBRE_WORDS[w] for w in words if w in _TIMBRE_WORDS), "sine")
    tempo = 160 if {"fast", "quick", "lively"} & set(words) else 70 if {"slow", "calm", "gentle"} & set(words) else 120
    if m := _BPM.search(text):
        tempo = int(_bounded("tempo", int(m.group(1)), 20, 400, prompt))
    octave = 3 if "low" in words else 5 if "high" in words else 4
    frequencies = tuple(_bounded("frequency", float(m.group(1)), 20.0, 8000.0, prompt) for m in _HZ.finditer(text))
    without_keys = _KEY.sub(" ", text)
    midis = tuple(_midi(m.group(1), m.group(2), int(m.group(3))) for m in _NOTE.finditer(without_keys))
    named = [w for w in words if w in SCALES]
    scale = named[0] if named else "minor" if {"sad", "dark"} & set(words) else "major"
    # without a tonic: C, or A below it for minor (the same register)
    tonic = _midi("a", None, octave - 1) if scale == "minor" else _midi("c", None, octave)
    if m := _KEY.search(text):
        tonic, scale = _midi(m.group(1), m.group(2), octave), m.group(3)
    count = int(_bounded("number of notes", int(m.group(1)), 1, 64, prompt)) if (m := _COUNT.search(text)) else 8
    m = _SECONDS.search(text)
    seconds = _bounded("length in seconds", float(m.group(1)), 0.05, MAX_SECONDS, prompt) if m else None
    if "chord" in words:
        shape = "chord"
    elif "arpeggio" in words or "arpeggiated" in words:
        shape = "arpeggio"
    elif frequencies or midis:
        shape = "sustain" if len(frequencies) + len(midis) == 1 else "tone"
    else:
        shape = "melody"
    return Request(timbre, tempo, octave, frequencies, midis, tonic, scale, shape, count, seconds)


def _walk(request: Request, rng: np.random.Generator) -> list[int]:
    """A seeded melody: a random walk over the scale that starts and ends on the tonic."""
    steps = SCALES[request.scale]
    degree, degrees = 0, [0]
    for _ in range(request.count - 2):
        degree = int(np.clip(degree + rng.choice([-2, -1, -1, 0, 1, 1, 2]), -len(steps), 2 * len(steps)))
        degrees.append(degree)
    if request.count > 1:
        degrees.append(0 if abs(degree) < len(steps) else len(steps) * int(np.sign(degree)))
    return [request.tonic + 12 * (d // len(steps)) + steps[d % len(steps)] for d in degrees]


def compose(request: Request, rng: np.random.Generator) -> list[Note]:
    """The notes of a request; everything the prompt leaves open comes from ``rng``."""
    beat = 60.0 / request.tempo
    given = [(midi_to_hz(m), note_name(m)) for m in request.midis] + [(f, f"{f:g}Hz") for f in request.frequencies]
    steps = SCALES[request.scale]
    triad = [request.tonic + steps[0], request.tonic + steps[2 % len(steps)], request.tonic + steps[4 % len(steps)]]
    if request.shape in ("chord", "sustain"):
        pitches = given or [(midi_to_hz(m), note_name(m)) for m in triad]
        length = request.seconds or 1.5
        timing = [(0.0, length)] * len(pitches)
    else:
        if request.shape == "arpeggio":
            midis = [*triad, triad[0] + 12, *reversed(triad)] if not given else []
            pitches, unit = given or [(midi_to_hz(m), note_name(m)) for m in midis], 0.5 * beat
        elif request.shape == "tone":
            pitches, unit = given, beat
        else:
            midis = _walk(request, rng)
            pitches, unit = [(midi_to_hz(m), note_name(m)) for m in midis], beat
        lengths = [unit * float(rng.choice([0.5, 1.0, 1.0, 2.0])) if request.shape == "melody" else unit for _ in pitches]
        if request.seconds:  # stretch to the asked length
            lengths = [x * request.seconds / sum(lengths) for x in lengths]
        starts = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
        timing = list(zip(starts.tolist(), lengths, strict=True))
    return [
        Note(hz, start, length, float(rng.uniform(0.75, 1.0)), float(rng.uniform(0, 2 * np.pi)),
             int(rng.integers(2**31)), label)
        for (hz, label), (start, length) in zip(pitches, timing, strict=True)
    ]
