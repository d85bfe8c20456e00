"""Spoken digit words synthesised offline with espeak-ng (the training and test sounds).

Needs the ``espeak-ng`` program (Debian/Ubuntu: ``apt-get install espeak-ng``). A voice is an
English accent plus one of espeak-ng's voice variants, spoken at a speed and pitch, with an optional
pause between words.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ACCENTS = ("en", "en-us", "en-gb-scotland", "en-gb-x-gbclan", "en-gb-x-rp", "en-gb-x-gbcwmd", "en-029")
VARIANTS = (
    "Alex Alicia Andrea Andy Annie AnxiousAndy Demonic Denis Diogo Gene Gene2 Henrique Hugo Jacky Lee Marco Mario "
    "Michael Mike Nguyen RicishayMax RicishayMax2 RicishayMax3 Storm Tweaky UniRobot adam anika anikaRobot announcer "
    "antonio aunty belinda benjamin boris caleb croak david ed edward edward2 f1 f2 f3 f4 f5 fast grandma grandpa "
    "gustave iven iven2 iven3 iven4 john kaukovalta klatt klatt2 klatt3 klatt4 klatt5 klatt6 linda m1 m2 m3 m4 m5 m6 "
    "m7 m8 marcelo max michel miguel norbert pablo paul pedro quincy rob robert robosoft robosoft2 robosoft3 robosoft4 "
    "robosoft5 robosoft6 robosoft7 robosoft8 sandro shelby steph steph2 steph3 travis victor whisper whisperf zac"
).split()
"""espeak-ng 1.51's voice variants (``espeak-ng-data/voices/!v``), in a fixed order."""


@dataclass(frozen=True)
class Voice:
    accent: str
    variant: str
    speed: int = 170
    pitch: int = 50
    gap: int = 0
    """Extra pause between words (espeak-ng's ``-g``: nominally 10 ms units; at 160 words/min 3 adds about 80 ms)."""

    @property
    def name(self) -> str:
        """espeak-ng's voice name: the accent, plus the variant when there is one."""
        return f"{self.accent}+{self.variant}" if self.variant else self.accent


def espeak_program() -> str:
    """Path of espeak-ng; a clear error when it is not installed."""
    found = shutil.which("espeak-ng")
    if found is None:
        raise FileNotFoundError("espeak-ng is not installed; install it with 'apt-get install espeak-ng'")
    return found


def speak(text: str, voice: Voice) -> tuple[np.ndarray, int]:
    """Float32 mono samples in [-1, 1] and the sample rate of ``text`` spoken by ``voice``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "speech.wav"
        cmd = [espeak_program(), "-v", voice.name, "-s", str(voice.speed), "-p", str(voice.pitch), "-g", str(voice.gap),
               "-w", str(out), text]
        subprocess.run(cmd, check=True, capture_output=True, timeout=30)
        return read_wav(out)


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """A 16-bit PCM WAV file as float32 mono samples and its rate."""
    with wave.open(str(path)) as w:
        raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
        channels, rate = w.getnchannels(), w.getframerate()
    return (raw.reshape(-1, channels).mean(axis=1) if channels > 1 else raw), rate


def write_wav(path: str | Path, samples: np.ndarray, rate: int) -> None:
    """Write float samples in [-1, 1] as a mono 16-bit PCM WAV file."""
    pcm = np.round(np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def voice_grid(variants: list[str] | tuple[str, ...], seed: int, *, speeds: tuple[int, int] = (120, 230),
               pitches: tuple[int, int] = (15, 85)) -> list[tuple[Voice, int]]:
    """Every accent × variant × digit, each with its own seeded random speed and pitch."""
    rng = np.random.default_rng(seed)
    grid = []
    for accent in ACCENTS:
        for variant in variants:
            for digit in range(10):
                speed, pitch = int(rng.integers(*speeds, endpoint=True)), int(rng.integers(*pitches, endpoint=True))
                grid.append((Voice(accent, variant, speed, pitch), digit))
    return grid
