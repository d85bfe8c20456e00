"""The retraining script runs on a tiny subset and is reproducible (slow: loads the text encoder)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from modahub_image.digits import DigitsImageEncoder
from modahub_image.head import load_head

import modahub

SCRIPT = Path(__file__).parents[1] / "train" / "train_digits_image.py"


@pytest.mark.slow
def test_training_script_is_reproducible_and_records_its_split(tmp_path):
    outs = [tmp_path / "a.safetensors", tmp_path / "b.safetensors"]
    for out in outs:
        done = subprocess.run([sys.executable, str(SCRIPT), "--limit", "40", "--epochs", "2", "--out", str(out)],
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "held-out nearest-anchor accuracy" in done.stdout
    first, second = (load_head(o, what="test") for o in outs)
    assert first.metadata == second.metadata
    for a, b in zip(first.tensors().values(), second.tensors().values(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-4)  # equal up to float rounding in the text encoder's anchors
    meta = first.metadata
    assert len(meta["train_indices"]) == 40 and len(meta["test_indices"]) == 360
    assert not set(meta["train_indices"]) & set(meta["test_indices"])
    vec = DigitsImageEncoder(weights=outs[0]).encode([modahub.image(np.eye(8, dtype=np.uint8)[..., None] * 255)])
    assert vec.shape == (1, 384)
