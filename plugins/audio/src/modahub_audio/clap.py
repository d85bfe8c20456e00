"""``clap-audio`` and ``clap-text``: the audio and text towers of a CLAP model whose weights you provide.

Weights as in :class:`modahub_image.PretrainedTower` (a local folder or a pinned Hugging Face revision,
sha256-verified safetensors): ``config.json`` (a CLAP config), ``*.safetensors``,
``preprocessor_config.json`` (the CLAP feature extractor) and the tokenizer files. Sounds are mixed
to mono and resampled to the feature extractor's rate; a sound longer than its ``max_length_s`` is
cut to its first ``max_length_s`` seconds (transformers would crop at random, and a document's
vector must not change between runs). Vectors are L2-normalised, as ``ClapModel`` returns them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from modahub_image import PretrainedTower

from modahub.documents import Document
from modahub.executors import ExecutorError
from modahub.weights import WeightsError
from modahub_audio.features import mono, resample

_AUDIO_PREFIXES = ("audio_model.", "audio_projection.")
_TEXT_PREFIXES = ("text_model.", "text_projection.")


class _ClapTower(PretrainedTower):
    """The CLAP towers: the space is ``clap:<model>@<revision>``; the contract runs on a tiny random CLAP."""

    family = "clap"
    _config_types = ("clap",)

    @classmethod
    def contract_params(cls, workdir: Path) -> dict[str, Any]:
        """A tiny random CLAP built in ``workdir`` (needs the ``clap`` extra; nothing is downloaded)."""
        from modahub_audio.tiny import tiny_clap

        return {"model": str(tiny_clap(workdir / "tiny-clap"))}


class ClapAudioEncoder(_ClapTower):
    """CLAP audio embeddings from transformers' CLAP audio tower (HTSAT), on CPU by default."""

    name = "clap-audio"
    modalities = ("audio",)

    def _load(self) -> None:
        from transformers import ClapAudioModelWithProjection, ClapConfig, ClapFeatureExtractor

        folder, dim = self.folder(), self.dim
        if not (folder / "preprocessor_config.json").is_file():
            raise WeightsError(f"{self.name}: {folder} has no preprocessor_config.json (the CLAP feature extractor)")
        audio = ClapConfig.from_pretrained(folder).audio_config
        audio.projection_dim = dim
        self._model = self._tower(_AUDIO_PREFIXES, ClapAudioModelWithProjection(audio))
        self._processor = ClapFeatureExtractor.from_pretrained(folder)

    def _sound(self, index: int, doc: Document) -> np.ndarray:
        """The document's samples as mono float32 at the extractor's rate, cut to its longest input."""
        payload = doc.payload.load()
        samples, rate = payload.samples, payload.sample_rate  # type: ignore[union-attr]
        if samples is None or not rate or len(samples) == 0:
            raise ExecutorError(f"{self.name}: document {index} (id {doc.id!r}) has no samples or no sample_rate")
        target = int(self._processor.sampling_rate)
        x = resample(mono(samples), int(rate), target)
        return x[: int(self._processor.nb_max_samples)].astype(np.float32)

    def _encode(self, docs: list[Document]) -> np.ndarray:
        import torch

        sounds = [self._sound(i, d) for i, d in enumerate(docs)]
        out = []
        for start in range(0, len(sounds), self.batch_size):
            batch = self._processor(sounds[start : start + self.batch_size], sampling_rate=self._processor.sampling_rate,
                                    return_tensors="pt")
            with torch.inference_mode():
                embeds = self._model(input_features=batch["input_features"].to(self.device),
                                     is_longer=batch["is_longer"].to(self.device)).audio_embeds
            out.append(torch.nn.functional.normalize(embeds, dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)


class ClapTextEncoder(_ClapTower):
    """CLAP text embeddings from transformers' CLAP text tower (RoBERTa): the same space as ``clap-audio``
    of the same model and revision, so a description finds its sounds."""

    name = "clap-text"
    modalities = ("text",)

    def _load(self) -> None:
        from transformers import AutoTokenizer, ClapConfig, ClapTextModelWithProjection

        folder, dim = self.folder(), self.dim
        if not any((folder / name).is_file() for name in ("tokenizer.json", "vocab.json")):
            raise WeightsError(f"{self.name}: {folder} has no tokenizer (tokenizer.json or vocab.json + merges.txt)")
        text = ClapConfig.from_pretrained(folder).text_config
        text.projection_dim = dim
        self._model = self._tower(_TEXT_PREFIXES, ClapTextModelWithProjection(text))
        self._processor = AutoTokenizer.from_pretrained(folder)
        # RoBERTa positions start after the padding index
        self._max_tokens = int(text.max_position_embeddings) - int(text.pad_token_id) - 1

    def _encode(self, docs: list[Document]) -> np.ndarray:
        import torch

        texts = [d.payload.load().text or "" for d in docs]  # type: ignore[union-attr]
        out = []
        for start in range(0, len(texts), self.batch_size):
            batch = self._processor(texts[start : start + self.batch_size], padding=True, truncation=True,
                                    max_length=self._max_tokens, return_tensors="pt")
            with torch.inference_mode():
                embeds = self._model(input_ids=batch["input_ids"].to(self.device),
                                     attention_mask=batch["attention_mask"].to(self.device)).text_embeds
            out.append(torch.nn.functional.normalize(embeds, dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)
