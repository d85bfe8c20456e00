"""Fixtures of the image plugin's tests: a tiny random CLIP saved as safetensors, held-out digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer CLIP (projection_dim 24, 32×32 images) saved with save_pretrained."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from modahub_image.tiny import tiny_clip

    return tiny_clip(tmp_path_factory.mktemp("weights") / "tiny-clip")


@pytest.fixture(scope="session")
def held_out_digits() -> tuple[np.ndarray, np.ndarray]:
    """40 held-out digits images (the shipped weights' test split) as H×W×1 uint8, and their labels."""
    from modahub_image.digits import default_weights
    from modahub_image.head import load_head
    from sklearn.datasets import load_digits

    data = load_digits()
    test = np.array(load_head(default_weights(), what="test").metadata["test_indices"])[:40]
    pixels = np.round(data.images[test] * (255 / 16)).astype(np.uint8)[..., None]
    return pixels, data.target[test]
