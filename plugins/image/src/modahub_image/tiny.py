"""A tiny randomly initialised CLIP saved as safetensors: test weights for ``clip-image`` and ``clip-text`` (no download).

Needs the ``clip`` extra (torch, transformers); import this module only where it is used.
"""

from __future__ import annotations

from pathlib import Path

IMAGE_SIZE = 32
"""The tiny model's image side (pixels)."""
PROJECTION_DIM = 24
"""The tiny model's embedding dimension."""


def tiny_clip(folder: Path, seed: int = 0) -> Path:
    """Save a 2-layer CLIP (projection_dim 24, 32×32 images), weights drawn with ``seed``, its image processor
    and a character-level CLIP tokenizer in ``folder``."""
    import json
    import tempfile

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
    chars = "abcdefghijklmnopqrstuvwxyz0123456789.,'"
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1} | {c: 2 + i for i, c in enumerate(chars)}
    vocab |= {f"{c}</w>": 2 + len(chars) + i for i, c in enumerate(chars)}  # 80 < the tiny vocab_size 99
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "vocab.json").write_text(json.dumps(vocab))
        (Path(tmp) / "merges.txt").write_text("#version: 0.2\n")  # no merges: one token per character
        tokenizer = transformers.CLIPTokenizer(str(Path(tmp) / "vocab.json"), str(Path(tmp) / "merges.txt"),
                                               unk_token="<|endoftext|>", pad_token="<|endoftext|>")
        tokenizer.save_pretrained(folder)
    return folder
