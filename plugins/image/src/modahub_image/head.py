"""A small MLP projection head stored as safetensors and run with numpy (no torch at run time).

The file holds ``feature_mean``/``feature_scale`` (input standardisation) and ``layer{i}.weight``
(out × in) / ``layer{i}.bias``; ReLU between layers, L2-normalised output. Its safetensors metadata
records the embedding space and what the head was trained on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modahub.weights import WeightsError, refuse_pickle


@dataclass
class ProjectionHead:
    """Standardise, then ``Linear → ReLU → … → Linear``, then L2-normalise."""

    mean: np.ndarray
    scale: np.ndarray
    layers: list[tuple[np.ndarray, np.ndarray]]
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def in_dim(self) -> int:
        return int(self.layers[0][0].shape[1])

    @property
    def out_dim(self) -> int:
        return int(self.layers[-1][0].shape[0])

    def __call__(self, features: np.ndarray) -> np.ndarray:
        """Embed ``(n, in_dim)`` features into L2-normalised ``(n, out_dim)`` float32 vectors."""
        x = (np.asarray(features, dtype=np.float32) - self.mean) / self.scale
        for i, (weight, bias) in enumerate(self.layers):
            x = x @ weight.T + bias
            if i < len(self.layers) - 1:
                x = np.maximum(x, 0.0)
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        return (x / np.maximum(norms, 1e-12)).astype(np.float32)

    def tensors(self) -> dict[str, np.ndarray]:
        """The arrays to save (see :func:`save_head`)."""
        out = {"feature_mean": self.mean, "feature_scale": self.scale}
        for i, (weight, bias) in enumerate(self.layers):
            out[f"layer{i}.weight"], out[f"layer{i}.bias"] = weight, bias
        return {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in out.items()}


def save_head(head: ProjectionHead, path: str | Path) -> None:
    """Write ``head`` as safetensors; metadata values are stored as JSON strings."""
    from safetensors.numpy import save_file

    meta = {k: v if isinstance(v, str) else json.dumps(v) for k, v in head.metadata.items()}
    save_file(head.tensors(), str(path), metadata=meta)


def load_head(path: str | Path, *, what: str) -> ProjectionHead:
    """Load a head saved by :func:`save_head`; a missing, pickled or malformed file raises WeightsError."""
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise WeightsError(
            f"{what}: weights file {path} is missing; reinstall the package that ships it or retrain it "
            "(see plugins/image/train/ and plugins/audio/train/ in the modahub repository)"
        )
    refuse_pickle(path)
    with safe_open(str(path), framework="numpy") as fh:
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
        raw_meta = fh.metadata() or {}
    count = sum(1 for k in tensors if k.endswith(".weight"))
    try:
        layers = [(tensors[f"layer{i}.weight"], tensors[f"layer{i}.bias"]) for i in range(count)]
        mean, scale = tensors["feature_mean"], tensors["feature_scale"]
    except KeyError as exc:
        raise WeightsError(f"{what}: {path} is not a projection head (tensor {exc} missing)") from None
    if count == 0:
        raise WeightsError(f"{what}: {path} holds no layers")
    return ProjectionHead(mean, scale, layers, {k: _maybe_json(v) for k, v in raw_meta.items()})


def _maybe_json(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value
