"""Tiny randomly initialised models saved as safetensors: test weights for ``clip-image``, ``clip-text`` (no download).

Also a tiny random diffusers text-to-image pipeline for ``diffusion-image``. Needs the ``clip`` extra
(torch, transformers; and ``diffusion`` for the pipeline); import this module only where it is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

IMAGE_SIZE = 32
"""The tiny model's image side (pixels)."""
PROJECTION_DIM = 24
"""The tiny model's embedding dimension."""


def tiny_clip(folder: Path, seed: int = 0) -> Path:
    """Save a 2-layer CLIP (projection_dim 24, 32×32 images), weights drawn with ``seed``, its image processor
    and a character-level CLIP tokenizer in ``folder``."""
    import torch
    import transformers

    config = transformers.CLIPConfig(
        text_config=dict(vocab_size=99, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                         max_position_embeddings=64, bos_token_id=0, eos_token_id=1, pad_token_id=2),
        vision_config=dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                           image_size=IMAGE_SIZE, patch_size=8),
        projection_dim=PROJECTION_DIM,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = transformers.CLIPModel(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    processor = getattr(transformers, "CLIPImageProcessorPil", None) or transformers.CLIPImageProcessor
    processor(size={"shortest_edge": IMAGE_SIZE}, crop_size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}).save_pretrained(folder)
    char_tokenizer().save_pretrained(folder)
    return folder


def char_tokenizer() -> Any:
    """A CLIP tokenizer with one token per character (ids 0-79, within the tiny models' vocab_size 99; 64 tokens at most)."""
    import json
    import tempfile

    import transformers

    chars = "abcdefghijklmnopqrstuvwxyz0123456789.,'"
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1} | {c: 2 + i for i, c in enumerate(chars)}
    vocab |= {f"{c}</w>": 2 + len(chars) + i for i, c in enumerate(chars)}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "vocab.json").write_text(json.dumps(vocab))
        (Path(tmp) / "merges.txt").write_text("#version: 0.2\n")  # no merges: one token per character
        return transformers.CLIPTokenizer(str(Path(tmp) / "vocab.json"), str(Path(tmp) / "merges.txt"),
                                          unk_token="<|endoftext|>", pad_token="<|endoftext|>", model_max_length=64)


def tiny_diffusion(folder: Path, seed: int = 0) -> Path:
    """Save a tiny random Stable-Diffusion-style pipeline (2-block UNet and VAE, 2-layer CLIP text encoder,
    DDIM scheduler; 32×32 images) whose weights are drawn with ``seed``, with diffusers' save_pretrained."""
    import diffusers
    import torch
    import transformers

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        unet = diffusers.UNet2DConditionModel(
            block_out_channels=(8, 16), layers_per_block=1, sample_size=16, in_channels=4, out_channels=4,
            down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
            cross_attention_dim=32, norm_num_groups=4, attention_head_dim=4)
        vae = diffusers.AutoencoderKL(
            block_out_channels=(8, 16), in_channels=3, out_channels=3, latent_channels=4, norm_num_groups=4,
            down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2, sample_size=IMAGE_SIZE)
        text = transformers.CLIPTextModel(transformers.CLIPTextConfig(
            vocab_size=99, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
            max_position_embeddings=64, bos_token_id=0, eos_token_id=1, pad_token_id=1))
    scheduler = diffusers.DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                        clip_sample=False, set_alpha_to_one=False)
    pipeline = diffusers.StableDiffusionPipeline(vae=vae, text_encoder=text.eval(), tokenizer=char_tokenizer(), unet=unet,
                                                 scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                                 requires_safety_checker=False)
    pipeline.save_pretrained(folder, safe_serialization=True)
    return folder
