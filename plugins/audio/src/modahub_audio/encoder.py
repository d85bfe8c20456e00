"""``digits-audio``: spoken digit words into the all-MiniLM-L6-v2 text space, numpy only."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import numpy as np
from modahub_image import ProjectionHead, load_head

from modahub.documents import Document
from modahub.executors import Encoder, ExecutorError
from modahub.weights import WeightsError
from modahub_audio.features import FEATURES, utterance_features

SPACE, DIM = "all-minilm-l6-v2", 384
WEIGHTS = "digits-audio.safetensors"
MIN_SECONDS, MAX_SECONDS = 0.05, 30.0


def default_weights() -> Path:
    """The weights shipped inside the package."""
    return Path(str(files("modahub_audio") / "weights" / WEIGHTS))


class DigitsAudioEncoder(Encoder):
    """Log-mel features (see :mod:`modahub_audio.features`) → 1280→256→384 MLP, trained on espeak-ng
    speech so that a spoken "seven" lands next to the text embedding of "seven"."""

    name = "digits-audio"
    modalities = ("audio",)
    space = SPACE
    dim = DIM

    def __init__(self, weights: str | Path | None = None, batch_size: int = 64) -> None:
        self.weights = Path(weights) if weights is not None else default_weights()
        self.batch_size = batch_size
        self.head: ProjectionHead | None = None

    def _load(self) -> None:
        head = load_head(self.weights, what=self.name)
        if (head.in_dim, head.out_dim) != (FEATURES, self.dim):
            raise WeightsError(f"{self.name}: {self.weights} maps {head.in_dim}→{head.out_dim}, expected {FEATURES}→{self.dim}")
        self.head = head

    def _samples(self, index: int, doc: Document) -> tuple[np.ndarray, int]:
        where = f"{self.name}: document {index} (id {doc.id!r})"
        try:
            payload = doc.payload.load()
        except (OSError, ValueError, ImportError) as exc:
            raise ExecutorError(f"{where}: cannot load its sound: {exc}") from None
        samples, rate = payload.samples, payload.sample_rate
        if not isinstance(samples, np.ndarray) or samples.ndim not in (1, 2) or samples.dtype.kind != "f":
            shape = list(samples.shape) if isinstance(samples, np.ndarray) else type(samples).__name__
            raise ExecutorError(f"{where} has samples {shape}; expected float samples of shape (N,) or (N, channels)")
        if not rate or rate <= 0:
            raise ExecutorError(f"{where} has no valid sample_rate ({rate!r})")
        seconds = samples.shape[0] / rate
        if not MIN_SECONDS <= seconds <= MAX_SECONDS:
            raise ExecutorError(
                f"{where} is {seconds:.3f} s long; this encoder takes one spoken word of "
                f"{MIN_SECONDS}-{MAX_SECONDS} s (cut long recordings into words first)"
            )
        if not np.all(np.isfinite(samples)):
            raise ExecutorError(f"{where} has NaN or infinite samples")
        return samples, rate

    def _encode(self, docs: list[Document]) -> np.ndarray:
        assert self.head is not None
        feats = np.stack([utterance_features(*self._samples(i, d)) for i, d in enumerate(docs)])
        return self.head(feats)

