"""A small additive and plucked-string synthesiser: notes in, float samples out (numpy, float64 inside)."""

from __future__ import annotations

import numpy as np

from modahub_tone_generator.score import Note

# (partial ratio, amplitude) of the additive timbres; partials above Nyquist are dropped
_PARTIALS = {
    "sine": [(1.0, 1.0)],
    "square": [(k, 1.0 / k) for k in range(1, 16, 2)],
    "saw": [(k, 1.0 / k) for k in range(1, 13)],
    "triangle": [(k, (-1.0) ** ((k - 1) // 2) / k**2) for k in range(1, 10, 2)],
    "organ": [(1.0, 1.0), (2.0, 0.5), (3.0, 0.3), (4.0, 0.25), (6.0, 0.12), (8.0, 0.1)],
    "bell": [(1.0, 1.0), (2.76, 0.6), (5.40, 0.4), (8.93, 0.25)],
}
ATTACK, RELEASE, PEAK = 0.01, 0.08, 0.9


def _additive(note: Note, timbre: str, t: np.ndarray, rate: int) -> np.ndarray:
    wave = np.zeros_like(t)
    for ratio, amp in _PARTIALS[timbre]:
        if note.hz * ratio < rate / 2:
            decay = np.exp(-t * 2.5 * np.sqrt(ratio)) if timbre == "bell" else 1.0
            wave += amp * decay * np.sin(2 * np.pi * note.hz * ratio * t + note.phase * ratio)
    return wave


def _pluck(note: Note, size: int, rate: int) -> np.ndarray:
    """Karplus-Strong: a noise burst recirculated through an averaging delay line, one period per step."""
    period = max(2, round(rate / note.hz))
    wave = np.zeros(size + period + 1)
    wave[:period] = np.random.default_rng(note.grain).uniform(-1.0, 1.0, period)
    wave[period] = wave[0]
    damping = 0.996
    for start in range(period + 1, len(wave), period):
        end = min(start + period, len(wave))
        wave[start:end] = damping * 0.5 * (wave[start - period : end - period] + wave[start - period - 1 : end - period - 1])
    return wave[:size]


def _envelope(t: np.ndarray, length: float) -> np.ndarray:
    """Linear attack, hold, and a linear release after ``length`` seconds."""
    attack = np.minimum(t / ATTACK, 1.0)
    release = np.clip(1.0 - (t - length) / RELEASE, 0.0, 1.0)
    return attack * release


def render(notes: list[Note], timbre: str, rate: int) -> np.ndarray:
    """Mono float32 samples of ``notes`` at ``rate`` Hz, peak normalised to 0.9."""
    total = max(n.start + n.length for n in notes) + RELEASE
    out = np.zeros(int(np.ceil(total * rate)) + 1)
    for note in notes:
        size = int(np.ceil((note.length + RELEASE) * rate))
        t = np.arange(size) / rate
        wave = _pluck(note, size, rate) if timbre == "pluck" else _additive(note, timbre, t, rate)
        first = int(round(note.start * rate))
        out[first : first + size] += note.velocity * wave * _envelope(t, note.length)
    peak = float(np.max(np.abs(out)))
    return (out * (PEAK / peak if peak > 0 else 1.0)).astype(np.float32)
