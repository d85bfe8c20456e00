"""``diffusion-image``: images drawn by a diffusers text-to-image pipeline whose weights you provide.

Weights: a local folder or a Hugging Face repo at a pinned 40-hex revision (sha256-verified
safetensors in every component folder, pickle refused; ``HF_HUB_OFFLINE=1`` serves from the
cache) saved by diffusers' ``save_pretrained`` (``model_index.json``, ``unet/``, ``vae/``,
``text_encoder/``, ``tokenizer/``, ``scheduler/``). The pipeline is diffusers' own
``AutoPipelineForText2Image``. Its noise comes from a CPU ``torch.Generator`` seeded from the
document's prompt and seed (:func:`torch_seed`), so the recipe (model, revision, sha256 of the
weights files, prompt, seed, steps, guidance, size) rebuilds the image byte for byte on the same
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


def torch_seed(prompt: str, seed: int) -> int:
    """The seed of the torch generator that draws the noise of the document (``prompt``, ``seed``)."""
    return int(document_rng(prompt, seed).integers(2**63))


class DiffusionImageGenerator(Generator):
    """Draws ``height``×``width``×3 uint8 images for text prompts with ``steps`` denoising steps."""

    name = "diffusion-image"
    modalities = ("text",)
    output_modality = "image"
    batch_size = 1

    def __init__(
        self,
        model: str,
        revision: str | None = None,
        sha256: Mapping[str, str] | None = None,
        steps: int = 25,
        guidance: float = 7.5,
        height: int | None = None,
        width: int | None = None,
    ) -> None:
        """``model``: a folder or a Hugging Face repo id (with ``revision``, a 40-hex commit, and ``sha256`` pins);
        ``guidance``: classifier-free guidance scale (1: none); ``height``/``width``: None is the model's own size."""
        if not isinstance(steps, int) or not 1 <= steps <= 1000:
            raise ExecutorError(f"{self.name}: steps must be an integer from 1 to 1000, got {steps!r}")
        if not 0.0 <= float(guidance) <= 50.0:
            raise ExecutorError(f"{self.name}: guidance must be in [0, 50], got {guidance!r}")
        for label, side in (("height", height), ("width", width)):
            if side is not None and (not isinstance(side, int) or not 8 <= side <= 4096 or side % 8):
                raise ExecutorError(f"{self.name}: {label} must be a multiple of 8 from 8 to 4096 pixels, got {side!r}")
        self.model_source, self.revision, self.sha256 = str(model), revision, dict(sha256 or {})
        self.steps, self.guidance, self.height, self.width = steps, float(guidance), height, width
        self._pipeline: Any = None
        self._pin: WeightsPin | None = None

    @classmethod
    def contract_params(cls, workdir: Path) -> dict[str, Any]:
        """A tiny random pipeline built in ``workdir`` (needs the ``diffusion`` extra; nothing is downloaded)."""
        from modahub_image.tiny import tiny_diffusion

        return {"model": str(tiny_diffusion(workdir / "tiny-diffusion")), "steps": 2}

    def parameters(self) -> dict[str, Any]:
        return {"model": self.model_source, "revision": self.revision, "sha256": self.sha256, "steps": self.steps,
                "guidance": self.guidance, "height": self.height, "width": self.width}

    def _load(self) -> None:
        from diffusers import AutoPipelineForText2Image

        folder = resolve_weights(self.model_source, revision=self.revision, sha256=self.sha256)
        if not (folder / "model_index.json").is_file() or not any(folder.rglob("*.safetensors")):
            raise WeightsError(
                f"{self.name}: {folder} needs model_index.json and *.safetensors weights; save the pipeline with "
                "save_pretrained(..., safe_serialization=True)"
            )
        self._pin = folder_pin(folder, self.model_source if self.revision else folder.name, self.revision or "local")
        self._pipeline = AutoPipelineForText2Image.from_pretrained(folder, use_safetensors=True, local_files_only=True)
        self._pipeline.set_progress_bar_config(disable=True)

    def pixels(self, prompt: str, seed: int) -> np.ndarray:
        """The pipeline's H×W×3 float output in [0, 1] for ``prompt`` and the document seed ``seed``."""
        import torch

        self.warm_up()
        generator = torch.Generator("cpu").manual_seed(torch_seed(prompt, seed))
        with torch.inference_mode():
            out = self._pipeline(prompt, num_inference_steps=self.steps, guidance_scale=self.guidance,
                                 height=self.height, width=self.width, generator=generator, output_type="np")
        return np.asarray(out.images[0], dtype=np.float32)

    def _generate(self, prompts: list[str], n: int, seed: int) -> list[Document]:
        docs = []
        for prompt in prompts:
            for s in document_seeds(seed, n):
                pixels = np.round(np.clip(self.pixels(prompt, s), 0.0, 1.0) * 255.0).astype(np.uint8)
                docs.append(make_document(self, payload={"pixels": pixels}, prompt=prompt, seed=s, weights=self._pin))
        return docs
