"""``whisper-audio``: speech transcribed by a Whisper model whose weights you provide, embedded by ``minilm-text``.

The higher-quality alternative to ``speech-audio`` for users who can fetch Whisper weights: a local
folder or a Hugging Face repo at a pinned 40-hex revision (sha256-verified safetensors, pickle
refused; ``HF_HUB_OFFLINE=1`` serves from the cache) holding ``config.json``,
``generation_config.json``, ``*.safetensors``, ``preprocessor_config.json`` and the tokenizer.
Decoding is transformers' own ``WhisperForConditionalGeneration.generate``, greedy, one sound at a
time (a document's transcript never depends on its batch). Sounds longer than the model's window
(30 s for real Whisper models) are cut into consecutive windows whose transcripts are joined.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from modahub.documents import Document
from modahub.executors import ExecutorError
from modahub.reading import ReadingEncoder
from modahub.weights import WeightsError, resolve_weights
from modahub_speech.encoder import spoken_samples
from modahub_speech.recogniser import mono_at

NEEDED = ("config.json", "generation_config.json", "preprocessor_config.json")


class Whisper:
    """A Whisper model, its feature extractor and tokenizer, loaded from a verified folder (torch, transformers)."""

    def __init__(self, folder: Path, language: str | None, max_new_tokens: int, device: str) -> None:
        from transformers import AutoTokenizer, WhisperFeatureExtractor, WhisperForConditionalGeneration

        self._model = WhisperForConditionalGeneration.from_pretrained(
            folder, use_safetensors=True, local_files_only=True).eval().to(device)
        self._features = WhisperFeatureExtractor.from_pretrained(folder, local_files_only=True)
        self._tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        self.language, self.max_new_tokens, self.device = language, max_new_tokens, device

    @property
    def rate(self) -> int:
        """The sample rate the feature extractor expects (16 kHz for Whisper)."""
        return int(self._features.sampling_rate)

    def windows(self, samples: np.ndarray, rate: int) -> list[np.ndarray]:
        """Mono float32 at the model's rate, cut into windows of the model's input length (none for no samples)."""
        x = mono_at(samples, rate, self.rate).astype(np.float32)
        size = int(self._features.n_samples)
        return [x[start : start + size] for start in range(0, len(x), size)]

    def tokens(self, samples: np.ndarray, rate: int) -> list[list[int]]:
        """The greedy decoding of each window of ``samples`` (token ids, special tokens included)."""
        import torch

        out = []
        options: dict[str, Any] = {"language": self.language} if self.language else {}
        for window in self.windows(samples, rate):
            features = self._features(window, sampling_rate=self.rate, return_tensors="pt").input_features
            with torch.inference_mode():
                ids = self._model.generate(features.to(self.device), do_sample=False, num_beams=1,
                                           max_new_tokens=self.max_new_tokens, **options)
            out.append([int(i) for i in ids[0]])
        return out

    def transcribe(self, samples: np.ndarray, rate: int) -> str:
        """The words heard in ``samples``: each window's decoding without special tokens, joined by spaces."""
        texts = self._tokenizer.batch_decode(self.tokens(samples, rate), skip_special_tokens=True)
        return " ".join(" ".join(texts).split())


class WhisperAudioEncoder(ReadingEncoder):
    """A spoken sentence transcribed by Whisper lands beside its text in the all-MiniLM-L6-v2 space;
    the transcript is kept in tags['text']."""

    name: ClassVar[str] = "whisper-audio"
    modalities: ClassVar[tuple[str, ...]] = ("audio",)
    space = "all-minilm-l6-v2"
    dim = 384
    batch_size = 8

    def __init__(
        self,
        model: str | Path,
        revision: str | None = None,
        sha256: Mapping[str, str] | None = None,
        language: str | None = None,
        max_new_tokens: int = 128,
        device: str = "cpu",
        text_encoder: str = "minilm-text",
        **text_params: Any,
    ) -> None:
        """``model``: a folder or a Hugging Face repo id (with ``revision``, a 40-hex commit, and ``sha256`` pins);
        ``language``: e.g. 'en' for multilingual models (None: the model's own choice);
        ``max_new_tokens``: longest transcript of one window; ``text_encoder``: embeds the transcript."""
        if not isinstance(max_new_tokens, int) or not 1 <= max_new_tokens <= 448:
            raise ExecutorError(f"{self.name}: max_new_tokens must be an integer from 1 to 448, got {max_new_tokens!r}")
        super().__init__(text_encoder, **text_params)
        self.model_source, self.revision, self.sha256 = str(model), revision, dict(sha256 or {})
        self.language, self.max_new_tokens, self.device = language, max_new_tokens, device

    @classmethod
    def contract_params(cls, workdir: Path) -> dict[str, Any]:
        """A tiny random Whisper built in ``workdir`` (needs the ``whisper`` extra; nothing is downloaded)."""
        from modahub_speech.tiny import tiny_whisper

        return {"model": str(tiny_whisper(workdir / "tiny-whisper")), "max_new_tokens": 8}

    def folder(self) -> Path:
        """The verified local folder of the weights (no torch import)."""
        folder = resolve_weights(self.model_source, revision=self.revision, sha256=self.sha256)
        missing = [name for name in NEEDED if not (folder / name).is_file()]
        if not any(folder.glob("*.safetensors")):
            missing.append("*.safetensors")
        if not any((folder / name).is_file() for name in ("tokenizer.json", "vocab.json")):
            missing.append("tokenizer.json")
        if missing:
            raise WeightsError(
                f"{self.name}: {folder} lacks {', '.join(missing)}; save the model, its processor and its "
                "generation config with save_pretrained(..., safe_serialization=True)"
            )
        return folder

    def _load_reader(self) -> None:
        self._whisper = Whisper(self.folder(), self.language, self.max_new_tokens, self.device)

    def _read(self, index: int, doc: Document) -> str:
        return self._whisper.transcribe(*spoken_samples(self.name, index, doc))
