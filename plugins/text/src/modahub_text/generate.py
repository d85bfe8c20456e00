"""``text-generator``: text continued by a causal language model whose weights you provide (GPT-2 and the like).

Weights: a local folder or a Hugging Face repo at a pinned 40-hex revision (sha256-verified
safetensors, pickle refused; ``HF_HUB_OFFLINE=1`` serves from the cache) with ``config.json``,
``*.safetensors`` and the tokenizer. The model is transformers' ``AutoModelForCausalLM``; decoding
is this module's own loop over its cached forward pass: greedy at ``temperature`` 0 (the same
tokens as transformers' ``generate(do_sample=False)``), else sampling from the top ``top_k`` tokens
with numpy draws seeded by the recipe (:func:`modahub.recipes.document_rng`), so a document's recipe
(model, revision, weights sha256, prompt, seed, parameters) rebuilds it byte for byte on the same
hardware and libraries.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from modahub.documents import Document, WeightsPin
from modahub.executors import ExecutorError, Generator
from modahub.recipes import document_rng, document_seeds, make_document
from modahub.weights import WeightsError, folder_pin, resolve_weights


class TextGenerator(Generator):
    """Continues each prompt with up to ``max_new_tokens`` tokens; the document's text is the continuation."""

    name = "text-generator"
    modalities = ("text",)
    output_modality = "text"
    batch_size = 1

    def __init__(
        self,
        model: str,
        revision: str | None = None,
        sha256: Mapping[str, str] | None = None,
        max_new_tokens: int = 64,
        temperature: float = 0.8,
        top_k: int = 50,
    ) -> None:
        """``model``: a folder or a Hugging Face repo id (with ``revision``, a 40-hex commit, and ``sha256`` pins);
        ``temperature``: 0 decodes greedily; ``top_k``: sample among the k likeliest tokens (0: all)."""
        if not isinstance(max_new_tokens, int) or not 1 <= max_new_tokens <= 4096:
            raise ExecutorError(f"{self.name}: max_new_tokens must be an integer from 1 to 4096, got {max_new_tokens!r}")
        if not 0.0 <= float(temperature) <= 10.0:
            raise ExecutorError(f"{self.name}: temperature must be in [0, 10] (0: greedy), got {temperature!r}")
        if not isinstance(top_k, int) or top_k < 0:
            raise ExecutorError(f"{self.name}: top_k must be a non-negative integer (0: no limit), got {top_k!r}")
        self.model_source, self.revision, self.sha256 = str(model), revision, dict(sha256 or {})
        self.max_new_tokens, self.temperature, self.top_k = max_new_tokens, float(temperature), top_k
        self._model: Any = None
        self._tokenizer: Any = None
        self._pin: WeightsPin | None = None

    @classmethod
    def contract_params(cls, workdir: Path) -> dict[str, Any]:
        """A tiny random GPT-2 built in ``workdir`` (needs the ``generate`` extra; nothing is downloaded)."""
        from modahub_text.tiny import tiny_gpt2

        return {"model": str(tiny_gpt2(workdir / "tiny-gpt2")), "max_new_tokens": 8}

    def parameters(self) -> dict[str, Any]:
        return {"model": self.model_source, "revision": self.revision, "sha256": self.sha256,
                "max_new_tokens": self.max_new_tokens, "temperature": self.temperature, "top_k": self.top_k}

    def _load(self) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder = resolve_weights(self.model_source, revision=self.revision, sha256=self.sha256)
        if not (folder / "config.json").is_file() or not any(folder.glob("*.safetensors")):
            raise WeightsError(
                f"{self.name}: {folder} needs config.json and *.safetensors weights; save the model with "
                "save_pretrained(..., safe_serialization=True)"
            )
        self._pin = folder_pin(folder, self.model_source if self.revision else folder.name, self.revision or "local")
        self._model = AutoModelForCausalLM.from_pretrained(folder, use_safetensors=True, local_files_only=True).eval()
        self._tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)

    def tokens(self, prompt: str, rng: np.random.Generator | None = None) -> list[int]:
        """The continuation of ``prompt`` as token ids (greedy when ``rng`` is None or the temperature is 0)."""
        import torch

        self.warm_up()
        ids = self._tokenizer(prompt, return_tensors="pt").input_ids
        if ids.shape[1] == 0:
            raise ExecutorError(f"{self.name}: the prompt {prompt!r} has no tokens; give some text to continue")
        eos = self._model.config.eos_token_id
        stops, out, past = set(eos if isinstance(eos, list) else [eos]), [], None
        limit = int(getattr(self._model.config, "max_position_embeddings", 0) or getattr(self._model.config, "n_positions", 0))
        steps = min(self.max_new_tokens, limit - ids.shape[1]) if limit else self.max_new_tokens
        with torch.inference_mode():
            for _ in range(max(steps, 0)):
                result = self._model(input_ids=ids, past_key_values=past, use_cache=True)
                past, logits = result.past_key_values, result.logits[0, -1].double().numpy()
                token = self._pick(logits, rng)
                if token in stops:
                    break
                out.append(token)
                ids = torch.tensor([[token]])
        return out

    def _pick(self, logits: np.ndarray, rng: np.random.Generator | None) -> int:
        if rng is None or self.temperature == 0.0:
            return int(np.argmax(logits))
        scaled = logits / self.temperature
        if 0 < self.top_k < len(scaled):
            scaled[scaled < np.partition(scaled, -self.top_k)[-self.top_k]] = -np.inf
        weights = np.exp(scaled - scaled.max())
        cumulative = np.cumsum(weights / weights.sum())
        return int(min(np.searchsorted(cumulative, rng.random(), side="right"), len(cumulative) - 1))

    def _generate(self, prompts: list[str], n: int, seed: int) -> list[Document]:
        docs = []
        for prompt in prompts:
            for s in document_seeds(seed, n):
                tokens = self.tokens(prompt, document_rng(prompt, s))
                text = self._tokenizer.decode(tokens, skip_special_tokens=True)
                docs.append(make_document(self, payload={"text": text}, prompt=prompt, seed=s, weights=self._pin,
                                          tags={"tokens": len(tokens)}))
        return docs
