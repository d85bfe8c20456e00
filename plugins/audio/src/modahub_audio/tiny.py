"""A tiny randomly initialised CLAP saved as safetensors: test weights for ``clap-audio`` and ``clap-text`` (no download).

Needs the ``clap`` extra (torch, transformers); import this module only where it is used.
"""

from __future__ import annotations

from pathlib import Path

RATE = 16000
"""The tiny model's feature extractor rate (Hz)."""
MAX_SECONDS = 2
"""Longest input of the tiny model's feature extractor."""
PROJECTION_DIM = 16
"""The tiny model's embedding dimension."""


def tiny_clap(folder: Path, seed: int = 0) -> Path:
    """Save a 2-layer CLAP (HTSAT on 16 mel bins, 2-layer RoBERTa; projection_dim 16), weights drawn with
    ``seed``, its feature extractor (16 kHz, 2 s) and a character-level RoBERTa tokenizer in ``folder``."""
    import json
    import tempfile

    import torch
    import transformers

    config = transformers.ClapConfig(
        text_config=dict(vocab_size=99, hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
                         max_position_embeddings=66, projection_dim=PROJECTION_DIM, pad_token_id=1, bos_token_id=0,
                         eos_token_id=2),
        audio_config=dict(spec_size=64, num_mel_bins=16, window_size=4, patch_size=2, patch_stride=2, hidden_size=32,
                          projection_dim=PROJECTION_DIM, depths=[2, 2], num_attention_heads=[2, 2],
                          patch_embeds_hidden_size=16, enable_fusion=False),
        projection_dim=PROJECTION_DIM,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = transformers.ClapModel(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    transformers.ClapFeatureExtractor(feature_size=16, sampling_rate=RATE, hop_length=160, max_length_s=MAX_SECONDS,
                                      fft_window_size=400, frequency_max=RATE // 2, truncation="rand_trunc",
                                      padding="repeatpad").save_pretrained(folder)
    chars = "abcdefghijklmnopqrstuvwxyz0123456789.,'"
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, "Ġ": 4} | {c: 5 + i for i, c in enumerate(chars)}
    vocab["<mask>"] = len(vocab)  # 45 < the tiny vocab_size 99; no merges: one token per character
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "vocab.json").write_text(json.dumps(vocab))
        (Path(tmp) / "merges.txt").write_text("#version: 0.2\n")
        transformers.RobertaTokenizer(str(Path(tmp) / "vocab.json"), str(Path(tmp) / "merges.txt")).save_pretrained(folder)
    return folder
