"""A tiny randomly initialised BERT saved as safetensors: test weights for ``hf-text`` (no download).

Imports torch and transformers when called; import this module only where it is used.
"""

from __future__ import annotations

import string
from pathlib import Path

WORDS = "the a cat dog sat on mat rug kitten stock market fell rose sun rain blue red fast slow".split()
"""Whole words of the vocabulary; any other lowercase word is spelt out letter by letter."""
HIDDEN_SIZE = 32
"""The tiny model's embedding dimension."""
_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def tiny_bert(folder: Path, seed: int = 0) -> Path:
    """Save a 2-layer BERT (hidden 32), weights drawn with ``seed``, and its word-piece tokenizer in ``folder``."""
    import torch
    import transformers

    folder.mkdir(parents=True, exist_ok=True)
    letters = list(string.ascii_lowercase)
    tokens = [*_SPECIAL, *WORDS, *letters, *(f"##{c}" for c in letters)]
    vocab = folder / "vocab.txt"
    vocab.write_text("\n".join(tokens) + "\n", encoding="utf-8")
    config = transformers.BertConfig(
        vocab_size=len(tokens), hidden_size=HIDDEN_SIZE, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = transformers.BertModel(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    transformers.BertTokenizer(vocab_file=str(vocab)).save_pretrained(folder)
    return folder


def tiny_gpt2(folder: Path, seed: int = 0) -> Path:
    """Save a 2-layer GPT-2 (n_embd 32, 64 positions) whose weights are drawn with ``seed`` (wide enough that
    its greedy continuation depends on the prompt) and a character-level GPT-2 tokenizer in ``folder``."""
    import json
    import tempfile

    import torch
    import transformers

    chars = string.ascii_lowercase + string.digits + ".,'"
    vocab = {"<|endoftext|>": 0, "Ġ": 1} | {c: 2 + i for i, c in enumerate(chars)}  # no merges: one token per character
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "vocab.json").write_text(json.dumps(vocab))
        (Path(tmp) / "merges.txt").write_text("#version: 0.2\n")
        tokenizer = transformers.GPT2Tokenizer(str(Path(tmp) / "vocab.json"), str(Path(tmp) / "merges.txt"))
    config = transformers.GPT2Config(vocab_size=len(vocab), n_positions=64, n_embd=32, n_layer=2, n_head=4,
                                     bos_token_id=0, eos_token_id=0, initializer_range=0.5)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = transformers.GPT2LMHeadModel(config).eval()
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder
