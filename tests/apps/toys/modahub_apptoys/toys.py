"""The toy executors (see the package docstring)."""

from __future__ import annotations

import hashlib
import threading
import time

import numpy as np
from pydantic import Field

from modahub.documents import Document, Provenance
from modahub.executors import Encoder, Generator
from modahub.payloads import Payload

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def digit_of_text(text: str) -> int | None:
    """The first digit word or numeral in ``text``."""
    for token in text.lower().replace(",", " ").split():
        if token in WORDS:
            return WORDS.index(token)
        if token in "0123456789" and len(token) == 1:
            return int(token)
    return None


def _vector(digit: int | None, content: bytes, dim: int = 10) -> np.ndarray:
    noise = np.frombuffer(hashlib.sha256(content).digest()[: dim * 2], dtype=np.uint16).astype(np.float32) / 65535.0
    vec = 0.1 * noise
    if digit is not None:
        vec[digit] += 1.0
    return vec / np.linalg.norm(vec)


class ToyText(Encoder):
    name = "toy-text"
    modalities = ("text",)
    space, dim = "toy-digits", 10
    batch_size = 4

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = float(delay)
        self.calls: list[int] = []
        self.gate: threading.Event | None = None
        """When set by a test, encoding waits for it (to hold requests in a server's queue)."""

    def _encode(self, docs: list[Document]) -> np.ndarray:
        self.calls.append(len(docs))
        if self.delay:
            time.sleep(self.delay)
        if self.gate is not None:
            self.gate.wait(30)
        texts = [d.payload.text for d in docs]
        return np.stack([_vector(digit_of_text(t), t.encode()) for t in texts])


class ToyImage(Encoder):
    name = "toy-image"
    modalities = ("image",)
    space, dim = "toy-digits", 10
    batch_size = 3

    def _encode(self, docs: list[Document]) -> np.ndarray:
        pixels = [d.payload.pixels for d in docs]
        return np.stack([_vector(min(int(round(p.mean() / 25)), 9), p.tobytes()) for p in pixels])


class ToyAudio(Encoder):
    name = "toy-audio"
    modalities = ("audio",)
    space, dim = "toy-digits", 10

    def _encode(self, docs: list[Document]) -> np.ndarray:
        out = []
        for doc in docs:
            samples = np.asarray(doc.payload.samples, dtype=np.float64).reshape(len(doc.payload.samples), -1)[:, 0]
            spectrum = np.abs(np.fft.rfft(samples))
            freq = np.argmax(spectrum) * doc.payload.sample_rate / len(samples)
            out.append(_vector(min(max(int(round(freq / 100)) - 1, 0), 9), samples.tobytes()))
        return np.stack(out)


class OtherText(Encoder):
    name = "other-text"
    modalities = ("text",)
    space, dim = "other", 8

    def _encode(self, docs: list[Document]) -> np.ndarray:
        return np.stack([_vector(None, d.payload.text.encode(), 8) for d in docs])


class ToyDraw(Generator):
    name = "toy-draw"
    output_modality = "image"
    batch_size = 2

    def _generate(self, prompts: list[str], n: int, seed: int) -> list[Document]:
        rng = np.random.default_rng(seed)
        docs = []
        for prompt in prompts:
            digit = digit_of_text(prompt) or 0
            for _ in range(n):
                pixels = np.full((8, 8, 1), digit * 25, dtype=np.uint8) + rng.integers(0, 3, (8, 8, 1), dtype=np.uint8)
                docs.append(Document(
                    modality="image", payload={"pixels": pixels}, tags={"prompt": prompt},
                    provenance=Provenance(plugin="modahub-apptoys", plugin_version="0.1.0", executor=self.name,
                                          seed=seed, prompt=prompt),
                ))
        return docs


class TallyPayload(Payload):
    """A plugin modality's payload: a count and who counted."""

    data_fields = ("count",)
    count: int | None = Field(default=None, ge=0, le=1000)
    counter: str = ""


class ToyTally(Encoder):
    name = "toy-tally"
    modalities = ("tally",)
    space, dim = "toy-digits", 10

    def _encode(self, docs: list[Document]) -> np.ndarray:
        return np.stack([_vector(d.payload.count % 10, f"{d.payload.count}{d.payload.counter}".encode()) for d in docs])


class ToySeries(Encoder):
    name = "toy-series"
    modalities = ("timeseries",)
    space, dim = "toy-digits", 10

    def _encode(self, docs: list[Document]) -> np.ndarray:
        values = [np.asarray(d.payload.values, dtype=np.float64) for d in docs]
        return np.stack([_vector(int(np.clip(round(v.mean()), 0, 9)), v.tobytes()) for v in values])
