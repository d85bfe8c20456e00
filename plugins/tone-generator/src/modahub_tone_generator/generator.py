"""The tone generator: prompt → score (seeded) → samples."""

from __future__ import annotations

from typing import Any

from modahub.documents import Document
from modahub.executors import ExecutorError, Generator
from modahub.recipes import document_rng, document_seeds, make_document
from modahub_tone_generator.score import compose, parse
from modahub_tone_generator.synth import render


class ToneGenerator(Generator):
    """Synthesises tones, chords and melodies: ``generate(["a C major chord on an organ"])`` → mono audio.

    Procedural (no weights): the prompt fixes pitches, timbre, tempo and length; the seed draws what
    it leaves open (a melody's notes and rhythm, each note's loudness and phase, a pluck's noise).
    """

    name = "tone-generator"
    modalities = ("text",)
    output_modality = "audio"
    example_prompts = ("a fast melody in A minor", "a C major chord on an organ", "440 Hz for 2 s", "C4 E4 G4 on a guitar")
    batch_size = 64

    def __init__(self, sample_rate: int = 16000) -> None:
        if not isinstance(sample_rate, int) or not 8000 <= sample_rate <= 96000:
            raise ExecutorError(f"{self.name}: sample_rate must be an integer from 8000 to 96000 Hz, got {sample_rate!r}")
        self.sample_rate = sample_rate

    def parameters(self) -> dict[str, Any]:
        return {"sample_rate": self.sample_rate}

    def _generate(self, prompts: list[str], n: int, seed: int) -> list[Document]:
        requests = [parse(p) for p in prompts]  # all prompts checked before any work
        for prompt, request in zip(prompts, requests, strict=True):
            too_high = [f for f in request.frequencies if f >= self.sample_rate / 2]
            if too_high:
                raise ExecutorError(
                    f"{self.name}: prompt {prompt!r} asks for {too_high[0]:g} Hz, above the Nyquist frequency "
                    f"{self.sample_rate / 2:g} Hz of sample_rate {self.sample_rate}; raise sample_rate"
                )
        docs = []
        for prompt, request in zip(prompts, requests, strict=True):
            for s in document_seeds(seed, n):
                notes = compose(request, document_rng(prompt, s))
                samples = render(notes, request.timbre, self.sample_rate)
                tags = {
                    "notes": " ".join(n.label for n in notes),
                    "timbre": request.timbre,
                    "shape": request.shape,
                    "seconds": round(len(samples) / self.sample_rate, 3),
                }
                payload = {"samples": samples, "sample_rate": self.sample_rate}
                docs.append(make_document(self, payload=payload, prompt=prompt, seed=s, weights=None, tags=tags))
        return docs
