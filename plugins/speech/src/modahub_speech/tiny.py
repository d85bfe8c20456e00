"""A tiny randomly initialised Whisper saved as safetensors: test weights for ``whisper-audio`` (no download).

Needs the ``whisper`` extra (torch, transformers); import this module only where it is used.
"""

from __future__ import annotations

from pathlib import Path

RATE = 16000
"""The tiny model's sample rate (Hz)."""
WINDOW_SECONDS = 2
"""The tiny model's input window (real Whisper models: 30 s)."""
SPECIALS = ("<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|transcribe|>", "<|notimestamps|>")


def tiny_whisper(folder: Path, seed: int = 0) -> Path:
    """Save a 2+2-layer Whisper (16 mel bins, 2 s windows, d_model 32) whose weights are drawn with ``seed``
    (wide enough that its greedy transcript depends on the sound), its feature extractor, generation config
    and a character-level tokenizer in ``folder``."""
    import json
    import tempfile

    import torch
    import transformers

    chars = "abcdefghijklmnopqrstuvwxyz0123456789.,'"
    vocab = {"Ġ": 0} | {c: 1 + i for i, c in enumerate(chars)}  # no merges: one token per character
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "vocab.json").write_text(json.dumps(vocab))
        (Path(tmp) / "merges.txt").write_text("#version: 0.2\n")
        tokenizer = transformers.WhisperTokenizer(str(Path(tmp) / "vocab.json"), str(Path(tmp) / "merges.txt"),
                                                  unk_token=SPECIALS[0], bos_token=SPECIALS[0], eos_token=SPECIALS[0],
                                                  pad_token=SPECIALS[0])
        tokenizer.add_special_tokens({"additional_special_tokens": list(SPECIALS[1:])})
    eot, sot, *others = tokenizer.convert_tokens_to_ids(list(SPECIALS))
    config = transformers.WhisperConfig(
        vocab_size=len(tokenizer), num_mel_bins=16, encoder_layers=2, decoder_layers=2, d_model=32,
        encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37,
        max_source_positions=WINDOW_SECONDS * 50, max_target_positions=64, pad_token_id=eot, bos_token_id=eot,
        eos_token_id=eot, decoder_start_token_id=sot, begin_suppress_tokens=None, suppress_tokens=None, init_std=0.5,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = transformers.WhisperForConditionalGeneration(config).eval()
    generation = model.generation_config
    generation.decoder_start_token_id, generation.eos_token_id, generation.pad_token_id = sot, eot, eot
    generation.no_timestamps_token_id, generation.is_multilingual = others[-1], False
    generation.forced_decoder_ids, generation.begin_suppress_tokens = None, None
    generation.suppress_tokens = [sot, *others]  # a random model would repeat them
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    transformers.WhisperFeatureExtractor(feature_size=16, sampling_rate=RATE, hop_length=160, chunk_length=WINDOW_SECONDS,
                                         n_fft=400).save_pretrained(folder)
    return folder
