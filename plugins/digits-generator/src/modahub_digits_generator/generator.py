"""The digits generator: a conditional VAE decoder evaluated with numpy."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import numpy as np

from modahub.documents import Document, WeightsPin
from modahub.executors import ExecutorError, Generator
from modahub.recipes import document_rng, document_seeds, make_document, packaged_weights
from modahub_digits_generator.prompts import parse_digit

DISTRIBUTION = "modahub-digits-generator"
WEIGHTS_FILE = "cvae-decoder.safetensors"
SOURCE_SIDE = 8


class DigitsGenerator(Generator):
    """Draws handwritten digits: ``generate(["a seven"])`` gives a ``size``×``size``×1 uint8 image of a 7.

    ``temperature`` scales the latent noise (0 gives the model's average digit, 1 its full variety).
    """

    name = "digits-generator"
    modalities = ("text",)
    output_modality = "image"
    example_prompts = ("a seven", "a three", "7", "the digit zero")
    batch_size = 256

    def __init__(self, size: int = 32, temperature: float = 1.0) -> None:
        if not isinstance(size, int) or not 8 <= size <= 1024:
            raise ExecutorError(f"{self.name}: size must be an integer from 8 to 1024 pixels, got {size!r}")
        if not 0.0 <= float(temperature) <= 4.0:
            raise ExecutorError(f"{self.name}: temperature must be in [0, 4], got {temperature!r}")
        self.size, self.temperature = size, float(temperature)
        self._layers: list[tuple[np.ndarray, np.ndarray]] = []
        self._latent = 0
        self._pin: WeightsPin | None = None

    def parameters(self) -> dict[str, Any]:
        return {"size": self.size, "temperature": self.temperature}

    def _load(self) -> None:
        from safetensors import safe_open

        path = resources.files("modahub_digits_generator") / "weights" / WEIGHTS_FILE
        with resources.as_file(path) as file, safe_open(str(file), framework="numpy") as weights:
            config = json.loads(weights.metadata()["config"])
            count = len([k for k in weights.keys() if k.endswith(".weight")])
            self._layers = [
                (weights.get_tensor(f"decoder.{i}.weight"), weights.get_tensor(f"decoder.{i}.bias")) for i in range(count)
            ]
            self._pin = packaged_weights(DISTRIBUTION, file)
        self._latent = int(config["latent"])

    def _decode(self, z: np.ndarray, digit: int) -> np.ndarray:
        """Pixel intensities in [0, 1] of one sample, shape (8, 8).

        One sample at a time on purpose: BLAS may round differently for other batch shapes, and a
        document must not depend on the batch it was made in.
        """
        h = np.concatenate([z, np.eye(10, dtype=np.float32)[digit]])[None, :]
        for i, (weight, bias) in enumerate(self._layers):
            h = h @ weight.T + bias
            if i < len(self._layers) - 1:
                h = np.maximum(h, 0.0)
        return (1.0 / (1.0 + np.exp(-np.clip(h, -30.0, 30.0)))).reshape(SOURCE_SIDE, SOURCE_SIDE)

    def _pixels(self, probs: np.ndarray) -> np.ndarray:
        """Upscale (nearest neighbour) to size×size×1 uint8."""
        rows = np.arange(self.size) * SOURCE_SIDE // self.size
        small = np.rint(probs * 255.0).astype(np.uint8)
        return np.ascontiguousarray(small[rows][:, rows][..., None])

    def _generate(self, prompts: list[str], n: int, seed: int) -> list[Document]:
        digits = [parse_digit(p) for p in prompts]  # all prompts checked before any work
        docs = []
        for prompt, digit in zip(prompts, digits, strict=True):
            for s in document_seeds(seed, n):
                z = document_rng(prompt, s).standard_normal(self._latent).astype(np.float32)
                pixels = self._pixels(self._decode(z * np.float32(self.temperature), digit))
                docs.append(make_document(self, payload={"pixels": pixels}, prompt=prompt, seed=s, weights=self._pin,
                                          tags={"digit": digit}))
        return docs
