"""Retrain the weights of ``digits-audio`` from speech that espeak-ng synthesises (reproducible).

Data: the words "zero" … "nine" spoken by espeak-ng in 7 English accents × 100 voice variants,
each clip at a seeded random speed (120-230 words/min) and pitch (15-85). Split by voice: every
fifth variant (20 of 100, all accents) is held out for testing; the training clips also appear
with added noise (white or brown, 5-30 dB SNR), random gain and silence padding. Features and
head are those of :mod:`modahub_audio.features` and :mod:`modahub_image.head`; targets are the same
digit anchors as digits-image's, so images and sounds meet at their words.

    .venv/bin/python plugins/audio/train/train_digits_audio.py                 # writes the shipped weights
    .venv/bin/python plugins/audio/train/train_digits_audio.py --variants 2 --epochs 2 --out /tmp/a.safetensors
    .venv/bin/python plugins/audio/train/train_digits_audio.py --test-wavs plugins/audio/tests/data   # test sounds only
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from modahub_audio.encoder import DIM, SPACE, default_weights
from modahub_audio.espeak import VARIANTS, Voice, speak, voice_grid, write_wav
from modahub_audio.features import RATE, resample, utterance_features
from modahub_image.head import save_head
from modahub_image.training import accuracy, digit_anchors, train_head
from modahub_image.words import ANCHOR_TEMPLATES, DIGIT_WORDS

SEED, TEST_SEED, NOISY_COPIES = 0, 1, 2
TEST_VARIANTS = VARIANTS[2::5]
TRAIN_VARIANTS = tuple(v for v in VARIANTS if v not in TEST_VARIANTS)
TEST_WAV_VOICES = ("en-us", "en-gb-x-rp", "en-029")


def noisy(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``x`` with random silence padding, gain, and white or brown noise at 5-30 dB SNR."""
    pad = rng.integers(0, int(0.3 * RATE), size=2)
    x = np.pad(x, (int(pad[0]), int(pad[1]))) * rng.uniform(0.1, 1.0)
    noise = rng.normal(size=len(x))
    if rng.random() < 0.5:
        noise = np.cumsum(noise)
        noise -= np.convolve(noise, np.ones(401) / 401, mode="same")  # brown, without drift
    speech_power = np.mean(x[np.abs(x) > 0.01 * np.abs(x).max()] ** 2)
    snr = 10 ** (rng.uniform(5, 30) / 10)
    return x + noise * np.sqrt(speech_power / snr / np.mean(noise**2))


def synthesise(grid: list[tuple[Voice, int]]) -> list[np.ndarray]:
    """16 kHz samples of every (voice, digit) in ``grid`` (two espeak-ng processes at a time)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda item: resample(*speak(DIGIT_WORDS[item[1]], item[0])), grid))


def write_test_wavs(folder: Path) -> None:
    """The committed test sounds: 10 digits in 3 held-out voices, 16 kHz, peak-normalised, as espeak-ng says them."""
    folder.mkdir(parents=True, exist_ok=True)
    grid = [(v, d) for v, d in voice_grid(TEST_VARIANTS[:1], TEST_SEED) if v.accent in TEST_WAV_VOICES]
    for (voice, digit), x in zip(grid, synthesise(grid), strict=True):
        write_wav(folder / f"{DIGIT_WORDS[digit]}_{voice.accent}_{voice.variant}.wav", x * 0.9 / np.abs(x).max(), RATE)
    print(f"wrote {len(grid)} test sounds to {folder}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=default_weights())
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--variants", type=int, default=None, help="use only the first N training variants (smoke test)")
    parser.add_argument("--test-wavs", type=Path, default=None, help="only write the test sounds to this folder")
    args = parser.parse_args()
    if args.test_wavs:
        write_test_wavs(args.test_wavs)
        return
    started = time.perf_counter()
    variants = TRAIN_VARIANTS[: args.variants] if args.variants else TRAIN_VARIANTS
    grid = voice_grid(variants, SEED)
    clips = synthesise(grid)
    rng = np.random.default_rng(SEED)
    feats, labels = [], []
    for (_, digit), x in zip(grid, clips, strict=True):
        for version in [x] + [noisy(x, rng) for _ in range(NOISY_COPIES)]:
            feats.append(utterance_features(version, RATE))
            labels.append(digit)
    test_grid = voice_grid(TEST_VARIANTS[: args.variants] if args.variants else TEST_VARIANTS, TEST_SEED)
    test_x = np.stack([utterance_features(x, RATE) for x in synthesise(test_grid)])
    test_y = np.array([d for _, d in test_grid])
    anchors = digit_anchors()
    meta = {
        "space": SPACE,
        "dim": DIM,
        "data": "espeak-ng speech of the words zero-nine (see modahub_audio.espeak.voice_grid)",
        "accents": sorted({v.accent for v, _ in grid}),
        "train_variants": list(variants),
        "train_seed": SEED,
        "test_variants": list(TEST_VARIANTS),
        "test_seed": TEST_SEED,
        "noisy_copies": NOISY_COPIES,
        "anchor_templates": list(ANCHOR_TEMPLATES),
        "epochs": args.epochs,
    }
    head = train_head(np.stack(feats), np.array(labels), anchors, epochs=args.epochs, seed=SEED, metadata=meta)
    acc = accuracy(head, test_x, test_y, anchors)
    head.metadata["test_accuracy"] = round(acc, 4)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_head(head, args.out)
    print(f"trained on {len(grid)} clips ({len(feats)} with noise) in {time.perf_counter() - started:.1f} s; "
          f"held-out-voice nearest-anchor accuracy {acc:.4f} on {len(test_grid)} clips; wrote {args.out}")


if __name__ == "__main__":
    main()
