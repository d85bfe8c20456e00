"""minilm-text: the ONNX fast path gives sentence-transformers' vectors, loads without torch, errors clearly."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from modahub_text.minilm import PINS, MiniLMText, packaged_weights

import modahub
from modahub.executors import ExecutorError
from modahub.plugins import manager
from modahub.weights import WeightsError

SENTENCES = [
    "A cat sits on the mat.",
    "hello",
    "",
    "Stock markets fell sharply on Tuesday after the announcement.",
    "Ünïcödé, emoji 🙂 and CJK 漢字 are tokenised too!",
    "UPPER case and lower case give the same tokens",
    " ".join(f"word{i} and more filler text" for i in range(120)),  # > 256 tokens: truncated
    "The quick brown fox jumps over the lazy dog " * 8,
]


def test_manifest_and_registry_agree() -> None:
    _, spec = manager().find_executor("minilm-text")
    assert (spec.space, spec.dim, spec.modalities) == ("all-minilm-l6-v2", 384, ["text"])
    enc = modahub.load("minilm-text", batch_size=8)
    assert isinstance(enc, MiniLMText) and (enc.space, enc.dim, enc.batch_size) == (spec.space, spec.dim, 8)


@pytest.mark.slow
def test_vectors_match_sentence_transformers(onnx_cache: Path) -> None:
    from sentence_transformers import SentenceTransformer

    want = SentenceTransformer(str(packaged_weights()), device="cpu").encode(SENTENCES, batch_size=4, normalize_embeddings=True)
    got = MiniLMText(batch_size=3, cache_dir=onnx_cache).encode([modahub.text(s) for s in SENTENCES])
    assert got.shape == (len(SENTENCES), 384) and got.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosines = (got * want).sum(axis=1) / np.linalg.norm(want, axis=1)
    assert cosines.min() >= 0.9999, cosines
    single = MiniLMText(batch_size=1, cache_dir=onnx_cache).encode([modahub.text(s) for s in SENTENCES])
    np.testing.assert_allclose(single, got, atol=1e-5, err_msg="padding within a batch changes the vectors")


def test_similar_sentences_are_near(onnx_cache: Path) -> None:
    texts = ["a cat sleeps on the sofa", "a kitten naps on the couch", "shares fell on Wall Street"]
    cat, kitten, stocks = MiniLMText(cache_dir=onnx_cache).encode([modahub.text(t) for t in texts])
    assert cat @ kitten > 0.6 > 0.2 > cat @ stocks


@pytest.mark.slow
def test_runtime_path_imports_no_torch(onnx_cache: Path) -> None:
    code = (
        "import sys, modahub\n"
        "from modahub_text.minilm import MiniLMText\n"
        f"v = MiniLMText(cache_dir={str(onnx_cache)!r}).encode([modahub.text('hello world')])\n"
        "heavy = sorted({'torch', 'transformers', 'sentence_transformers'} & set(sys.modules))\n"
        "print(v.shape, heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "(1, 384) []", out.stdout + out.stderr


def test_cache_entry_is_keyed_by_weights_sha256(onnx_cache: Path) -> None:
    (entry,) = [p for p in (onnx_cache).iterdir() if not p.name.startswith(".")]
    assert entry.name.startswith(PINS["model.safetensors"][:16])
    assert sorted(p.name for p in entry.iterdir()) == ["model.onnx", "model.onnx.data", "source.txt", "tokenizer.json"]


def test_wrong_modality_and_empty_batch() -> None:
    enc = MiniLMText()
    with pytest.raises(ExecutorError, match="document 0 .* has modality 'image'; this executor accepts text"):
        enc.encode([modahub.image(np.zeros((4, 4, 3), np.uint8))])
    with pytest.raises(ExecutorError, match="minilm-text: empty batch"):
        enc.encode([])
    with pytest.raises(ValueError, match="batch_size must be positive"):
        MiniLMText(batch_size=0)


def weights_copy(folder: Path, skip: str = "") -> Path:
    """A folder of links to the packaged model files, leaving out ``skip``."""
    source = packaged_weights()
    for path in source.rglob("*"):
        rel = path.relative_to(source)
        if path.is_file() and rel.as_posix() != skip:
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).symlink_to(path)
    return folder


def test_missing_weights_file(tmp_path: Path) -> None:
    weights = weights_copy(tmp_path / "w", skip="model.safetensors")
    enc = MiniLMText(weights=weights, cache_dir=tmp_path / "cache")
    with pytest.raises(WeightsError, match=r"missing weights file 'model.safetensors' in .*/w \(it is pinned by sha256\)"):
        enc.encode([modahub.text("hi")])
    assert not any((tmp_path / "cache").rglob("*.onnx")), "a failed export leaves nothing in the cache"


def test_pickled_weights_file(tmp_path: Path) -> None:
    weights = weights_copy(tmp_path / "w")
    (weights / "pytorch_model.bin").write_bytes(pickle.dumps({"weight": [0.0]}))
    with pytest.raises(WeightsError, match="pytorch_model.bin: pickle-based weights .* refused"):
        MiniLMText(weights=weights, cache_dir=tmp_path / "cache").warm_up()


def test_altered_weights_are_refused(tmp_path: Path) -> None:
    weights = weights_copy(tmp_path / "w", skip="1_Pooling/config.json")
    (weights / "1_Pooling").mkdir(exist_ok=True)
    (weights / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true}')
    with pytest.raises(WeightsError, match="1_Pooling/config.json: sha256 .* does not match the pinned"):
        MiniLMText(weights=weights, cache_dir=tmp_path / "cache").warm_up()


def test_default_cache_dir_follows_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from modahub_text.cache import cache_root

    monkeypatch.setenv("MODAHUB_CACHE_DIR", str(tmp_path / "c"))
    assert cache_root() == tmp_path / "c"
    monkeypatch.delenv("MODAHUB_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_root() == tmp_path / "x" / "modahub"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert cache_root() == Path(os.path.expanduser("~")) / ".cache" / "modahub"
