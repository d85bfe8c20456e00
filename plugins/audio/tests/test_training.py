"""The retraining script runs on one voice variant (slow: runs espeak-ng and loads the text encoder)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from modahub_audio.encoder import DigitsAudioEncoder
from modahub_image.head import load_head

import modahub

SCRIPT = Path(__file__).parents[1] / "train" / "train_digits_audio.py"
WAV = next((Path(__file__).parent / "data").glob("seven_*.wav"))


@pytest.mark.slow
def test_training_script_runs_on_one_variant(tmp_path):
    out = tmp_path / "audio.safetensors"
    done = subprocess.run([sys.executable, str(SCRIPT), "--variants", "1", "--epochs", "2", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "trained on 70 clips (210 with noise)" in done.stdout
    meta = load_head(out, what="test").metadata
    assert len(meta["train_variants"]) == 1 and not set(meta["train_variants"]) & set(meta["test_variants"])
    assert DigitsAudioEncoder(weights=out).encode([modahub.audio(uri=str(WAV))]).shape == (1, 384)
