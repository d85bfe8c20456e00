"""Training of projection heads into the text space (used by the train/ scripts; needs torch).

Targets come from the text encoder: each class's anchor is the normalised mean embedding of its
texts. The loss pulls an item's embedding onto its anchor (cosine) and away from the other
anchors (softmax over anchors). Seeds, thread count and data order are fixed: the same data and
seed give the same weights on the same software.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from modahub_image.head import ProjectionHead
from modahub_image.words import DIGIT_WORDS, anchor_texts


def encode_texts(texts: Sequence[str]) -> np.ndarray:
    """Text embeddings of the shared space from the ``minilm-text`` executor."""
    import modahub

    encoder = modahub.load("minilm-text")
    return encoder.encode([modahub.text(t) for t in texts])


def digit_anchors() -> np.ndarray:
    """(10, 384) unit vectors: the mean text embedding of each digit's anchor texts."""
    per_digit = len(anchor_texts(0))
    vectors = encode_texts([t for d in range(len(DIGIT_WORDS)) for t in anchor_texts(d)])
    anchors = vectors.reshape(len(DIGIT_WORDS), per_digit, -1).mean(axis=1)
    return (anchors / np.linalg.norm(anchors, axis=1, keepdims=True)).astype(np.float32)


def train_head(
    features: np.ndarray,
    labels: np.ndarray,
    anchors: np.ndarray,
    *,
    hidden: int = 256,
    epochs: int = 60,
    batch: int = 128,
    lr: float = 2e-3,
    weight_decay: float = 1e-4,
    temperature: float = 0.05,
    seed: int = 0,
    metadata: dict | None = None,
) -> ProjectionHead:
    """Fit ``in → hidden → 384`` so that each row lands on the anchor of its label."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    x = np.asarray(features, dtype=np.float32)
    mean = x.mean(axis=0)
    scale = np.maximum(x.std(axis=0), 1e-3)
    xt = torch.from_numpy((x - mean) / scale)
    yt = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    at = torch.from_numpy(np.asarray(anchors, dtype=np.float32))
    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, at.shape[1]))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    order = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(xt), generator=order).split(batch):
            z = torch.nn.functional.normalize(model(xt[idx]), dim=1)
            sims = z @ at.T
            target = yt[idx]
            loss = torch.nn.functional.cross_entropy(sims / temperature, target) + (1 - sims.gather(1, target[:, None])).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
    layers = [(m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy()) for m in model if isinstance(m, torch.nn.Linear)]
    return ProjectionHead(mean.astype(np.float32), scale.astype(np.float32), layers, dict(metadata or {}))


def accuracy(head: ProjectionHead, features: np.ndarray, labels: np.ndarray, anchors: np.ndarray) -> float:
    """Share of rows whose nearest anchor is their label's."""
    return float(np.mean(np.argmax(head(features) @ anchors.T, axis=1) == labels))
