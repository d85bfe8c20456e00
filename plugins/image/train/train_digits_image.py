"""Retrain the weights of ``digits-image`` (reproducible: fixed split, seeds and augmentation).

Data: scikit-learn's bundled digits (1,797 8×8 images, 0-16 grey levels). Split: stratified,
20 % held out (seed 0); the held-out indices are stored in the weights' metadata so that
``bench/quality.py`` evaluates on images the model never saw. Each training image also appears
in augmented forms (scaled up, padded, inverted, coloured, noisy) and every form goes through the
same preprocessing as at run time (:func:`modahub_image.pixels.digit_grid`).

    .venv/bin/python plugins/image/train/train_digits_image.py            # writes the shipped weights
    .venv/bin/python plugins/image/train/train_digits_image.py --limit 100 --epochs 2 --out /tmp/x.safetensors
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from modahub_image.digits import DIM, SPACE, default_weights
from modahub_image.head import save_head
from modahub_image.pixels import digit_grid
from modahub_image.training import accuracy, digit_anchors, train_head
from modahub_image.words import ANCHOR_TEMPLATES

SEED, TEST_SIZE, AUGMENTED_COPIES = 0, 0.2, 8


def load_split(seed: int = SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(images 0-16, labels, train indices, test indices) of scikit-learn's digits."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    idx = np.arange(len(data.target))
    train, test = train_test_split(idx, test_size=TEST_SIZE, random_state=seed, stratify=data.target)
    return data.images, data.target, np.sort(train), np.sort(test)


def as_pixels(image: np.ndarray) -> np.ndarray:
    """A digits image (8×8, 0-16) as the H×W×1 uint8 picture a user would pass."""
    return np.round(image * (255 / 16)).astype(np.uint8)[..., None]


def _linear(n_in: int, n_out: int) -> np.ndarray:
    pos = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    m = np.zeros((n_out, n_in), dtype=np.float32)
    lo = np.clip(np.floor(pos).astype(int), 0, n_in - 1)
    hi = np.clip(lo + 1, 0, n_in - 1)
    frac = np.clip(pos - lo, 0, 1)
    m[np.arange(n_out), lo] += 1 - frac
    m[np.arange(n_out), hi] += frac
    return m


def augment(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random variant of a digits image as H×W×C uint8: scaled, padded, maybe inverted and coloured, noisy."""
    scale = int(rng.integers(1, 5))
    m = _linear(8, 8 * scale)
    grey = np.clip(m @ (image / 16.0) @ m.T, 0, 1)
    pad = rng.integers(0, 3 * scale + 1, size=4)
    grey = np.pad(grey, ((pad[0], pad[1]), (pad[2], pad[3])))
    grey = grey + rng.normal(0, rng.uniform(0, 0.06), grey.shape)
    if rng.random() < 0.5:
        grey = 1.0 - grey
    if rng.random() < 0.5:
        ink, paper = rng.uniform(0, 1, 3), rng.uniform(0, 1, 3)
        rgb = paper + (ink - paper) * (1.0 - grey[..., None]) if grey.mean() > 0.5 else paper + (ink - paper) * grey[..., None]
        return np.round(np.clip(rgb, 0, 1) * 255).astype(np.uint8)
    return np.round(np.clip(grey, 0, 1) * 255).astype(np.uint8)[..., None]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=default_weights())
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N training images only (smoke test)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    started = time.perf_counter()
    images, labels, train, test = load_split(args.seed)
    used = train[: args.limit] if args.limit else train
    rng = np.random.default_rng(args.seed)
    feats, ys = [], []
    for i in used:
        feats.append(digit_grid(as_pixels(images[i])))
        ys.append(labels[i])
        for _ in range(AUGMENTED_COPIES):
            feats.append(digit_grid(augment(images[i], rng)))
            ys.append(labels[i])
    anchors = digit_anchors()
    meta = {
        "space": SPACE,
        "dim": DIM,
        "data": "sklearn.datasets.load_digits",
        "split": {"seed": args.seed, "test_size": TEST_SIZE, "stratified": True},
        "train_indices": [int(i) for i in used],
        "test_indices": [int(i) for i in test],
        "augmented_copies": AUGMENTED_COPIES,
        "anchor_templates": list(ANCHOR_TEMPLATES),
        "epochs": args.epochs,
    }
    head = train_head(np.stack(feats), np.array(ys), anchors, epochs=args.epochs, seed=args.seed, metadata=meta)
    test_x = np.stack([digit_grid(as_pixels(images[i])) for i in test])
    acc = accuracy(head, test_x, labels[test], anchors)
    head.metadata["test_accuracy"] = round(acc, 4)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_head(head, args.out)
    print(f"trained on {len(used)} images ({len(feats)} with augmentation) in {time.perf_counter() - started:.1f} s; "
          f"held-out nearest-anchor accuracy {acc:.4f} on {len(test)} images; wrote {args.out}")


if __name__ == "__main__":
    main()
