"""``clip-image`` and ``clip-text``: the image and text towers of a CLIP model whose weights you provide.

Weights come from a local folder or a Hugging Face repo id at a pinned 40-hex revision, through
:func:`modahub.weights.resolve_weights` (sha256 pins verified, pickled files refused). The folder
holds ``config.json`` (a CLIP or CLIP-vision config), one or more ``*.safetensors`` files and,
optionally, ``preprocessor_config.json``. The space is named after the model and revision, so only
encoders of the same CLIP model (its two towers) share it; the dimension is the model's
``projection_dim``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from modahub.documents import Document
from modahub.executors import Encoder
from modahub.weights import WeightsError, resolve_weights
from modahub_image.pixels import document_pixels

_TOWER_PREFIXES = ("vision_model.", "visual_projection.")
_TEXT_PREFIXES = ("text_model.", "text_projection.")


def clip_space(model: str | Path, revision: str | None) -> str:
    """The space name of a CLIP model: ``clip:<repo id or folder name>@<revision or 'local'>``."""
    source = Path(model).expanduser()
    name = source.resolve().name if source.is_dir() else str(model)
    return f"clip:{name}@{revision or 'local'}"


def to_rgb(pixels: np.ndarray) -> np.ndarray:
    """H×W×C uint8 (C = 1, 3, 4) → H×W×3 uint8; alpha is composited over white."""
    if pixels.shape[2] == 1:
        return np.repeat(pixels, 3, axis=2)
    if pixels.shape[2] == 4:
        alpha = pixels[..., 3:].astype(np.float32) / 255.0
        return np.round(pixels[..., :3] * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return pixels


class _ClipTower(Encoder):
    """What the CLIP towers share: verified weights folder, space named after the model, dim from its config."""

    _config_types: tuple[str, ...] = ("clip",)

    def __init__(
        self,
        model: str | Path,
        revision: str | None = None,
        sha256: Mapping[str, str] | None = None,
        space: str | None = None,
        batch_size: int = 16,
        device: str = "cpu",
    ) -> None:
        self.model_source, self.revision = str(model), revision
        self.sha256 = dict(sha256 or {})
        self.space = space or clip_space(model, revision)
        self.batch_size, self.device = batch_size, device
        self._folder: Path | None = None
        self._dim: int | None = None
        self._model: Any = None
        self._processor: Any = None

    @classmethod
    def contract_params(cls, workdir: Path) -> dict[str, Any]:
        """A tiny random CLIP built in ``workdir`` (needs the ``clip`` extra; nothing is downloaded)."""
        from modahub_image.tiny import tiny_clip

        return {"model": str(tiny_clip(workdir / "tiny-clip"))}

    def folder(self) -> Path:
        """The verified local folder of the weights (fetched once; no torch import)."""
        if self._folder is None:
            folder = resolve_weights(self.model_source, revision=self.revision, sha256=self.sha256)
            if not (folder / "config.json").is_file():
                raise WeightsError(f"{self.name}: {folder} has no config.json; save the model with save_pretrained()")
            if not any(folder.glob("*.safetensors")):
                raise WeightsError(
                    f"{self.name}: no *.safetensors weights file in {folder}; save the model with "
                    "save_pretrained(..., safe_serialization=True)"
                )
            self._folder = folder
        return self._folder

    def _config(self) -> dict[str, Any]:
        return json.loads((self.folder() / "config.json").read_text(encoding="utf-8"))

    @property  # type: ignore[override]
    def dim(self) -> int:
        """The model's ``projection_dim`` (read from config.json)."""
        if self._dim is None:
            config = self._config()
            if config.get("model_type") not in self._config_types or "projection_dim" not in config:
                raise WeightsError(
                    f"{self.name}: {self.folder()}/config.json is not a CLIP config with a projection_dim "
                    f"(model_type {config.get('model_type')!r})"
                )
            self._dim = int(config["projection_dim"])
        return self._dim

    def _tower(self, prefixes: tuple[str, ...], model: Any) -> Any:
        """``model`` (a tower of the CLIP) with the weights under ``prefixes`` loaded from the folder, in eval mode."""
        from safetensors.torch import load_file

        folder, state = self.folder(), {}
        for path in sorted(folder.glob("*.safetensors")):
            state.update({k: v for k, v in load_file(str(path)).items() if k.startswith(prefixes)})
        missing, _ = model.load_state_dict(state, strict=False)
        if missing:
            raise WeightsError(
                f"{self.name}: weights in {folder} lack {len(missing)} tensors of the CLIP {prefixes[0][:-1]}, e.g. {missing[0]}"
            )
        return model.eval().to(self.device)


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
