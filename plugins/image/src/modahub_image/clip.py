"""``clip-image`` and ``clip-text``: the image and text towers of a CLIP model whose weights you provide.

Weights as in :mod:`modahub_image.pretrained` (local folder or pinned Hugging Face revision,
verified safetensors). The folder holds ``config.json`` (a CLIP, CLIP-vision or CLIP-text config),
``*.safetensors`` and, optionally, ``preprocessor_config.json`` and the tokenizer files. Only the
two towers of the same CLIP model share a space.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from modahub.documents import Document
from modahub.weights import WeightsError
from modahub_image.pixels import document_pixels
from modahub_image.pretrained import PretrainedTower

_TOWER_PREFIXES = ("vision_model.", "visual_projection.")
_TEXT_PREFIXES = ("text_model.", "text_projection.")


def to_rgb(pixels: np.ndarray) -> np.ndarray:
    """H×W×C uint8 (C = 1, 3, 4) → H×W×3 uint8; alpha is composited over white."""
    if pixels.shape[2] == 1:
        return np.repeat(pixels, 3, axis=2)
    if pixels.shape[2] == 4:
        alpha = pixels[..., 3:].astype(np.float32) / 255.0
        return np.round(pixels[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return pixels


class _ClipTower(PretrainedTower):
    """The CLIP towers: the space is ``clip:<model>@<revision>``; the contract runs on a tiny random CLIP."""

    family = "clip"
    _config_types: tuple[str, ...] = ("clip",)

    @classmethod
    def contract_params(cls, workdir: Path) -> dict[str, Any]:
        """A tiny random CLIP built in ``workdir`` (needs the ``clip`` extra; nothing is downloaded)."""
        from modahub_image.tiny import tiny_clip

        return {"model": str(tiny_clip(workdir / "tiny-clip"))}


class ClipImageEncoder(_ClipTower):
    """CLIP image embeddings (L2-normalised) from transformers' CLIP vision tower, on CPU by default."""

    name = "clip-image"
    modalities = ("image",)
    _config_types = ("clip", "clip_vision_model")

    def _load(self) -> None:
        from transformers import CLIPConfig, CLIPVisionConfig, CLIPVisionModelWithProjection

        folder, dim = self.folder(), self.dim
        config = self._config()
        if config["model_type"] == "clip":
            vision = CLIPConfig.from_pretrained(folder).vision_config
        else:
            vision = CLIPVisionConfig.from_pretrained(folder)
        vision.projection_dim = dim
        self._model = self._tower(_TOWER_PREFIXES, CLIPVisionModelWithProjection(vision))
        self._processor = self._make_processor(folder, vision.image_size)

    @staticmethod
    def _make_processor(folder: Path, image_size: int) -> Any:
        import transformers

        cls = getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor
        if (folder / "preprocessor_config.json").is_file():
            return cls.from_pretrained(folder)
        return cls(size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size})

    def _encode(self, docs: list[Document]) -> np.ndarray:
        import torch

        images = [to_rgb(document_pixels(self.name, i, d, min_side=1)) for i, d in enumerate(docs)]
        out = []
        for start in range(0, len(images), self.batch_size):
            batch = self._processor(images=images[start : start + self.batch_size], return_tensors="pt")
            with torch.inference_mode():
                embeds = self._model(pixel_values=batch["pixel_values"].to(self.device)).image_embeds
            out.append(torch.nn.functional.normalize(embeds, dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)


class ClipTextEncoder(_ClipTower):
    """CLIP text embeddings (L2-normalised) from transformers' CLIP text tower: the same space as ``clip-image``
    of the same model and revision, so a text finds images."""

    name = "clip-text"
    modalities = ("text",)
    _config_types = ("clip", "clip_text_model")

    def _load(self) -> None:
        from transformers import CLIPConfig, CLIPTextConfig, CLIPTextModelWithProjection, CLIPTokenizer

        folder, dim = self.folder(), self.dim
        config = self._config()
        if config["model_type"] == "clip":
            text = CLIPConfig.from_pretrained(folder).text_config
        else:
            text = CLIPTextConfig.from_pretrained(folder)
        text.projection_dim = dim
        self._model = self._tower(_TEXT_PREFIXES, CLIPTextModelWithProjection(text))
        if not any((folder / name).is_file() for name in ("tokenizer.json", "vocab.json")):
            raise WeightsError(f"{self.name}: {folder} has no CLIP tokenizer (tokenizer.json or vocab.json + merges.txt)")
        self._tokenizer = CLIPTokenizer.from_pretrained(folder)
        self._max_tokens = int(text.max_position_embeddings)

    def _encode(self, docs: list[Document]) -> np.ndarray:
        import torch

        texts = [d.payload.load().text or "" for d in docs]  # type: ignore[union-attr]
        out = []
        for start in range(0, len(texts), self.batch_size):
            batch = self._tokenizer(texts[start : start + self.batch_size], padding=True, truncation=True,
                                    max_length=self._max_tokens, return_tensors="pt")
            with torch.inference_mode():
                embeds = self._model(input_ids=batch["input_ids"].to(self.device),
                                     attention_mask=batch["attention_mask"].to(self.device)).text_embeds
            out.append(torch.nn.functional.normalize(embeds, dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32)
