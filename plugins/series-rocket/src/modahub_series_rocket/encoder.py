"""SeriesRocketEncoder: time series as MiniRocket-style convolution features (fixed kernels,
dilations and biases, proportion of positive values), pooled over channels.

Each channel is z-normalised and resampled to ``LENGTH`` steps, then convolved with MiniRocket's 84
kernels of length 9 (weights -1, three of them 2) at ``DILATIONS``. A feature is the proportion of
positive values (PPV) of one convolution output minus one bias. MiniRocket fits its biases on the
training set of each task; here they are fixed once, as quantiles of the convolution outputs of
seeded random walks (computed in ``_load``), so the encoder needs no data and no weights and every
series lands in one space. Features are averaged over channels, centred, mapped to 256 dimensions by
a fixed random projection and L2-normalised, so inner product is cosine similarity.
"""

from __future__ import annotations

from itertools import combinations
from typing import ClassVar

import numpy as np

from modahub.documents import Document
from modahub.executors import Encoder, ExecutorError

PROJECTION_SEED = 20240501
CALIBRATION_SEED, CALIBRATION_SERIES = 7, 64
LENGTH = 128
DILATIONS = (1, 2, 3, 4, 6, 8, 11, 16)
QUANTILES = (0.25, 0.5, 0.75)
KERNELS = np.array([[2.0 if i in chosen else -1.0 for i in range(9)] for chosen in combinations(range(9), 3)])
FEATURES = len(QUANTILES) * len(DILATIONS) * len(KERNELS)
_WINDOWS = [np.arange(LENGTH)[:, None] + np.arange(9)[None, :] * d for d in DILATIONS]


def _znorm(x: np.ndarray) -> np.ndarray:
    std = x.std()
    return (x - x.mean()) / std if std > 1e-8 else np.zeros_like(x)


def standardise(x: np.ndarray) -> np.ndarray:
    """z-normalised, resampled (linearly) to LENGTH steps."""
    x = _znorm(np.asarray(x, dtype=np.float64))
    if len(x) != LENGTH:
        x = np.interp(np.linspace(0.0, 1.0, LENGTH), np.linspace(0.0, 1.0, len(x)), x) if len(x) > 1 else np.zeros(LENGTH)
    return _znorm(x)


def convolutions(x: np.ndarray) -> np.ndarray:
    """(dilations, LENGTH, kernels) outputs for one standardised channel, zero-padded to keep LENGTH."""
    pad = 4 * DILATIONS[-1]
    padded = np.pad(x, pad)
    return np.stack([padded[w + pad - 4 * d] @ KERNELS.T for w, d in zip(_WINDOWS, DILATIONS, strict=True)])


def calibrate() -> np.ndarray:
    """Biases (quantiles, dilations, kernels): quantiles of the convolutions of seeded random walks."""
    rng = np.random.default_rng(CALIBRATION_SEED)
    outputs = [convolutions(standardise(np.cumsum(rng.standard_normal(LENGTH)))) for _ in range(CALIBRATION_SERIES)]
    return np.quantile(np.concatenate(outputs, axis=1), QUANTILES, axis=1)


def features(values: np.ndarray, biases: np.ndarray) -> np.ndarray:
    """PPV features of a T×C series, averaged over channels and centred on 0 (FEATURES long)."""
    if not np.all(np.isfinite(values)):
        raise ExecutorError("values contain NaN or infinity; fill or drop the missing steps first")
    per_channel = [
        (convolutions(standardise(values[:, c]))[None] > biases[:, :, None, :]).mean(axis=2).ravel()
        for c in range(values.shape[1])
    ]
    return np.mean(per_channel, axis=0) - 0.5


class SeriesRocketEncoder(Encoder):
    """Univariate or multivariate series of any length as fixed MiniRocket-style features."""

    name = "series-rocket"
    modalities: ClassVar[tuple[str, ...]] = ("timeseries",)
    space = "series-rocket-v1"
    dim = 256
    batch_size = 64

    def _load(self) -> None:
        rng = np.random.default_rng(PROJECTION_SEED)
        self._projection = rng.standard_normal((FEATURES, self.dim)) / np.sqrt(self.dim)
        self._biases = calibrate()

    def _encode(self, docs: list[Document]) -> np.ndarray:
        rows = []
        for i, doc in enumerate(docs):
            try:
                rows.append(features(np.asarray(doc.load().payload.values, dtype=np.float64), self._biases))  # type: ignore[attr-defined]
            except ExecutorError as exc:
                raise ExecutorError(f"{self.name}: document {i} (id {doc.id!r}): {exc}") from None
        vectors = np.stack(rows) @ self._projection
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return (vectors / np.where(norms == 0, 1.0, norms)).astype(np.float32)
