"""``hf-text``: any sentence-transformers / transformers text model by repo id at a pinned revision.

Weights come through :func:`modahub.weights.resolve_weights`: a local folder, or a Hugging Face
repo at a 40-hex commit (from the HF cache when offline), safetensors only and sha256-verified.
The embedding space is named after the repo and revision; the dimension is read from the
model's configuration without loading it.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from modahub.documents import Document
from modahub.executors import Encoder, ExecutorError
from modahub.weights import WeightsError, resolve_weights

CONFIG_PATTERNS = ("*.json",)
"""What is fetched on construction: configuration only (it gives the dimension)."""
MODEL_PATTERNS = ("*.json", "*.safetensors", "*.txt", "*.model")
"""What the model needs: configuration, safetensors weights, vocabularies (never pickled weights)."""
_ST_MODULES = "sentence_transformers."
EXTRA_MODULES = ("torch", "sentence_transformers", "huggingface_hub")
"""What hf-text runs on beyond modahub-text's own requirements: the extra ``modahub-text[hf]``."""


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise WeightsError(f"{path}: cannot read model configuration: {exc}") from None


def embedding_dim(folder: Path) -> int:
    """The output size of the sentence model in ``folder``, from its configuration files."""
    modules = folder / "modules.json"
    dim = None
    if modules.is_file():
        for module in _read_json(modules):
            kind = str(module.get("type", ""))
            if not kind.startswith(_ST_MODULES):
                raise WeightsError(
                    f"{modules}: module type {kind!r} is not a sentence-transformers module; "
                    "custom model code is not run, use a model made of standard modules"
                )
            if kind.endswith(".Dense"):
                dim = int(_read_json(folder / module["path"] / "config.json")["out_features"])
    if dim is not None:
        return dim
    config = folder / "config.json"
    if not config.is_file():
        raise WeightsError(f"missing weights file 'config.json' in {folder}; a transformers model folder needs one")
    settings = _read_json(config)
    for key in ("hidden_size", "d_model", "dim"):
        if isinstance(settings.get(key), int):
            return settings[key]
    raise WeightsError(f"{config}: no hidden_size, d_model or dim; cannot tell the embedding dimension")


class HFText(Encoder):
    """Sentence embeddings from a sentence-transformers or transformers model at a pinned revision."""

    name: ClassVar[str] = "hf-text"
    modalities: ClassVar[tuple[str, ...]] = ("text",)

    def __init__(
        self,
        model: str,
        revision: str | None = None,
        sha256: Mapping[str, str] | None = None,
        batch_size: int = 32,
        normalize: bool = True,
        device: str = "cpu",
    ) -> None:
        """``model``: a local folder or a HF repo id; ``revision``: its 40-hex commit (repo ids only);
        ``sha256``: file -> digest pins, required for every safetensors file of a repo."""
        if batch_size <= 0:
            raise ValueError(f"hf-text: batch_size must be positive, got {batch_size}")
        missing = [m for m in EXTRA_MODULES if importlib.util.find_spec(m) is None]
        if missing:
            raise ExecutorError(f"hf-text needs {', '.join(missing)}, which modahub-text's extra 'hf' installs: "
                                "pip install 'modahub-text[hf]'")
        self.model, self.revision = model, revision
        self.pins = dict(sha256 or {})
        self.batch_size, self.normalize, self.device = int(batch_size), normalize, device
        self.local = Path(model).expanduser().is_dir()
        folder = resolve_weights(model, revision=revision, allow_patterns=CONFIG_PATTERNS)
        self.space = f"local:{folder.resolve()}" if self.local else f"{model}@{revision}"
        self.dim = embedding_dim(folder)

    @classmethod
    def contract_params(cls, workdir: Path) -> dict[str, Any]:
        """A tiny random BERT built in ``workdir`` (nothing is downloaded)."""
        from modahub_text.tiny import tiny_bert

        return {"model": str(tiny_bert(workdir / "tiny-bert"))}

    def _load(self) -> None:
        folder = resolve_weights(self.model, revision=self.revision, sha256=self.pins, allow_patterns=MODEL_PATTERNS)
        weights = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.safetensors"))
        if not weights:
            raise WeightsError(f"missing weights file: no *.safetensors in {folder} (pickled weights are refused)")
        unpinned = [w for w in weights if w not in self.pins]
        if unpinned and not self.local:
            raise WeightsError(
                f"{self.model}@{self.revision}: weights {', '.join(unpinned)} have no sha256 pin; pass "
                "sha256={'<file>': '<hex digest>'} with the digests shown on the Hub's file pages"
            )
        from sentence_transformers import SentenceTransformer

        self._model = SentenceTransformer(str(folder), device=self.device, local_files_only=True, trust_remote_code=False)
        got = self._model.get_embedding_dimension()
        if got != self.dim:
            raise ExecutorError(f"hf-text: {self.model} produces {got}-d vectors but its configuration says {self.dim}")

    def _encode(self, docs: list[Document]) -> np.ndarray:
        texts = [doc.payload.load().text for doc in docs]
        return self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=self.normalize, convert_to_numpy=True, show_progress_bar=False
        )
