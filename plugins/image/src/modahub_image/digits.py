"""``digits-image``: images of handwritten digits into the all-MiniLM-L6-v2 text space, numpy only."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import numpy as np

from modahub.documents import Document
from modahub.executors import Encoder
from modahub.weights import WeightsError
from modahub_image.head import ProjectionHead, load_head
from modahub_image.pixels import digit_grid, document_pixels

SPACE, DIM = "all-minilm-l6-v2", 384
WEIGHTS = "digits-image.safetensors"


def default_weights() -> Path:
    """The weights shipped inside the package."""
    return Path(str(files("modahub_image") / "weights" / WEIGHTS))


class DigitsImageEncoder(Encoder):
    """A 64→256→384 MLP over the 8×8 ink grid (see :mod:`modahub_image.pixels`), trained on
    scikit-learn's digits to land next to the text embedding of each digit's name."""

    name = "digits-image"
    modalities = ("image",)
    space = SPACE
    dim = DIM

    def __init__(self, weights: str | Path | None = None, batch_size: int = 256) -> None:
        self.weights = Path(weights) if weights is not None else default_weights()
        self.batch_size = batch_size
        self.head: ProjectionHead | None = None

    def _load(self) -> None:
        head = load_head(self.weights, what=self.name)
        if (head.in_dim, head.out_dim) != (64, self.dim):
            raise WeightsError(f"{self.name}: {self.weights} maps {head.in_dim}→{head.out_dim}, expected 64→{self.dim}")
        self.head = head

    def _encode(self, docs: list[Document]) -> np.ndarray:
        assert self.head is not None
        grids = np.stack([digit_grid(document_pixels(self.name, i, d)) for i, d in enumerate(docs)])
        return self.head(grids)
