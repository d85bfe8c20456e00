"""Fixtures of the image plugin's tests: a tiny random CLIP saved as safetensors, held-out digits."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer CLIP (projection_dim 24, 32×32 images) saved with save_pretrained."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    config = transformers.CLIPConfig(
        text_config=dict(vocab_size=99, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                         max_position_embeddings=64, bos_token_id=0, eos_token_id=1, pad_token_id=2),
        vision_config=dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                           image_size=32, patch_size=8),
        projection_dim=24,
    )
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("weights") / "tiny-clip"
    transformers.CLIPModel(config).eval().save_pretrained(folder, safe_serialization=True)
    processor = getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor
    processor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


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
