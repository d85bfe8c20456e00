"""Fixtures of the text plugin's tests: one ONNX export per session, a tiny random BERT, an HF cache."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # torch_export, the reference of test_graph

REV = "89abcdef0123456789abcdef0123456789abcdef"


@pytest.fixture(scope="session")
def onnx_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding the minilm-text export (made once per test session)."""
    from modahub_text.minilm import MiniLMText

    cache = tmp_path_factory.mktemp("modahub-cache")
    MiniLMText(cache_dir=cache).exported()
    return cache


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 2-layer BERT (hidden 32) with a word-piece vocabulary, saved as safetensors."""
    from modahub_text.tiny import tiny_bert

    return tiny_bert(tmp_path_factory.mktemp("weights") / "tiny-bert")


def pins(folder: Path) -> dict[str, str]:
    """sha256 pins of every safetensors file in ``folder``."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.safetensors")}


@pytest.fixture
def hf_home(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An offline Hugging Face cache (HF_HOME) serving ``tiny_model`` as repo tiny/bert at ``REV``."""
    repo = tmp_path / "hub" / "models--tiny--bert"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(REV)
    (repo / "blobs").mkdir()
    for path in tiny_model.iterdir():
        blob = repo / "blobs" / hashlib.sha256(path.read_bytes()).hexdigest()
        blob.write_bytes(path.read_bytes())
        link = repo / "snapshots" / REV / path.name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(blob)
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return tmp_path
