"""The ONNX graph written without torch (modahub_text.graph) gives the torch export's vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from modahub_text.graph import INPUTS, OUTPUT
from modahub_text.minilm import MAX_TOKENS, MiniLMText, packaged_weights
from modahub_text.tokens import TokenBatches

import modahub

SENTENCES = [
    "A cat sits on the mat.",
    "",
    "Ünïcödé, emoji 🙂 and CJK 漢字 are tokenised too!",
    " ".join(f"word{i} and more filler text" for i in range(120)),  # > 256 tokens: truncated
    "The quick brown fox jumps over the lazy dog " * 8,
]


def _encode(model: Path, batch_size: int) -> np.ndarray:
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    out = np.empty((len(SENTENCES), 384), dtype=np.float32)
    for positions, inputs in TokenBatches(packaged_weights() / "tokenizer.json", MAX_TOKENS)(SENTENCES, batch_size):
        out[positions] = session.run([OUTPUT], {k: inputs[k] for k in INPUTS})[0]
    return out


@pytest.mark.slow
def test_the_torch_free_graph_matches_the_torch_export(onnx_cache: Path, tmp_path: Path) -> None:
    from torch_export import export_mean_pooled

    export_mean_pooled(packaged_weights(), tmp_path / "model.onnx")
    want = _encode(tmp_path / "model.onnx", batch_size=3)
    got = MiniLMText(batch_size=3, cache_dir=onnx_cache).encode([modahub.text(s) for s in SENTENCES])
    cosines = (got * want).sum(axis=1) / np.linalg.norm(got, axis=1) / np.linalg.norm(want, axis=1)
    assert cosines.min() >= 0.99999, cosines
    assert np.abs(got - want).max() <= 1e-5


def test_the_graph_holds_the_fused_operators_of_a_torch_export(onnx_cache: Path) -> None:
    """ONNX Runtime's optimizer recognised the graph: one fused Attention per layer, as for the torch export."""
    import onnx

    (entry,) = [p for p in onnx_cache.iterdir() if not p.name.startswith(".")]
    ops = [node.op_type for node in onnx.load(str(entry / "model.onnx"), load_external_data=False).graph.node]
    assert (ops.count("Attention"), ops.count("SkipLayerNormalization"), ops.count("BiasGelu")) == (6, 12, 6)


@pytest.mark.slow
def test_the_graph_is_built_where_torch_cannot_be_imported(tmp_path: Path) -> None:
    """A user install has no torch: writing the graph (and ONNX Runtime's fusions) must not reach for it."""
    import subprocess
    import sys

    code = (
        "import sys\nsys.modules['torch'] = None  # any import of torch fails\n"
        "import modahub\nfrom modahub_text.minilm import MiniLMText\n"
        f"print(MiniLMText(cache_dir={str(tmp_path)!r}).encode([modahub.text('hello')]).shape)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "(1, 384)", out.stderr[-2000:]
    assert "producer" not in out.stderr  # the optimizer's warning about a graph not made by torch stays quiet
