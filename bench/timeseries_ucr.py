"""1-NN accuracy of series-rocket embeddings on the UCR datasets that aeon ships, beside 1-NN ED and DTW.

Run by hand: ``.venv/bin/python bench/timeseries_ucr.py`` (needs aeon; nothing is downloaded).
Every number is computed here on the archive's own train/test split: the embedding 1-NN uses
cosine similarity of series-rocket vectors, ED is the Euclidean distance of the raw series, DTW is
full-window dynamic time warping (aeon.distances, numba). Prints a markdown table and the ratio of
the embedding's accuracy to each baseline's.
"""

from __future__ import annotations

import time

import numpy as np
from aeon.datasets import load_classification
from aeon.distances import pairwise_distance

import modahub

DATASETS = ("GunPoint", "ItalyPowerDemand", "ArrowHead", "OSULeaf", "ACSF1")


def documents(x: np.ndarray) -> list:
    """(n, channels, T) → timeseries documents of T×channels values."""
    return [modahub.Document(modality="timeseries", payload={"values": np.ascontiguousarray(s.T)}) for s in x]


def one_nn(distances: np.ndarray, y_train: np.ndarray, y_test: np.ndarray) -> float:
    """Accuracy of the nearest training series' label (rows: test series)."""
    return float(np.mean(y_train[np.argmin(distances, axis=1)] == y_test))


def main() -> None:
    encoder = modahub.load("series-rocket")
    print("| dataset | train/test × length | series-rocket 1-NN | 1-NN ED | 1-NN DTW (full window) | encode s | DTW s |")
    print("|---|---|---|---|---|---|---|")
    ratios = []
    for name in DATASETS:
        x_train, y_train = load_classification(name, split="train")
        x_test, y_test = load_classification(name, split="test")
        started = time.perf_counter()
        e_train, e_test = encoder.encode(documents(x_train)), encoder.encode(documents(x_test))
        encode_s = time.perf_counter() - started
        emb = one_nn(-e_test @ e_train.T, y_train, y_test)
        flat_train, flat_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
        ed = one_nn(((flat_test[:, None, :] - flat_train[None, :, :]) ** 2).sum(axis=2), y_train, y_test)
        started = time.perf_counter()
        dtw = one_nn(pairwise_distance(x_test, x_train, method="dtw"), y_train, y_test)
        dtw_s = time.perf_counter() - started
        ratios.append((emb / ed, emb / dtw))
        print(f"| {name} | {len(x_train)}/{len(x_test)} × {x_train.shape[2]} | {emb:.3f} | {ed:.3f} | {dtw:.3f} "
              f"| {encode_s:.2f} | {dtw_s:.1f} |")
    to_ed, to_dtw = np.mean(ratios, axis=0)
    print(f"\nmean ratio of series-rocket accuracy to 1-NN ED: {to_ed:.3f}; to 1-NN DTW: {to_dtw:.3f}")


if __name__ == "__main__":
    main()
