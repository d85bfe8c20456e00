"""Train the conditional VAE of digits-generator on scikit-learn's digits and write its decoder.

Reproducible: fixed seeds, deterministic torch kernels, one thread. Needs the ``train`` extra
(``pip install 'modahub-digits-generator[train]'``). Run from the repository root:

    .venv/bin/python plugins/digits-generator/train/train_cvae.py

It writes ``src/modahub_digits_generator/weights/cvae-decoder.safetensors`` (decoder only: the
generator never encodes) and prints how often an independent classifier recognises samples.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from torch import nn

OUT = Path(__file__).resolve().parents[1] / "src" / "modahub_digits_generator" / "weights" / "cvae-decoder.safetensors"
CLASSES, PIXELS = 10, 64


class CVAE(nn.Module):
    """Encoder q(z | x, y) and decoder p(x | z, y), both two hidden layers."""

    def __init__(self, latent: int, hidden: int) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(PIXELS + CLASSES, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.to_stats = nn.Linear(hidden, 2 * latent)
        self.decoder = nn.Sequential(
            nn.Linear(latent + CLASSES, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, PIXELS)
        )

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, logvar = self.to_stats(self.encoder(torch.cat([x, y], 1))).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decoder(torch.cat([z, y], 1)), mu, logvar


def train(latent: int, hidden: int, epochs: int, seed: int) -> CVAE:
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = nn.functional.one_hot(torch.tensor(digits.target), CLASSES).float()
    model = CVAE(latent, hidden)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(seed)
    for epoch in range(epochs):
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for start in range(0, len(x), 128):
            idx = order[start : start + 128]
            logits, mu, logvar = model(x[idx], y[idx])
            recon = nn.functional.binary_cross_entropy_with_logits(logits, x[idx], reduction="sum")
            kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            loss = (recon + kl) / len(idx)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * len(idx)
        if epoch % 100 == 0 or epoch == epochs - 1:
            print(f"epoch {epoch:4d}  loss/sample {total / len(x):.3f}")
    return model


def recognised(model: CVAE, latent: int, per_class: int, seed: int) -> float:
    """Share of prior samples that a logistic regression trained on the real digits labels correctly."""
    digits = load_digits()
    clf = LogisticRegression(max_iter=2000).fit(digits.data, digits.target)
    labels = torch.arange(CLASSES).repeat_interleave(per_class)
    z = torch.randn(len(labels), latent, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        probs = torch.sigmoid(model.decoder(torch.cat([z, nn.functional.one_hot(labels, CLASSES).float()], 1)))
    return float(np.mean(clf.predict(probs.numpy() * 16.0) == labels.numpy()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    start = time.perf_counter()
    model = train(args.latent, args.hidden, args.epochs, args.seed)
    print(f"trained in {time.perf_counter() - start:.1f} s")
    print(f"recognised by logistic regression: {recognised(model, args.latent, 100, args.seed + 1):.1%} of 1000 samples")
    layers = [m for m in model.decoder if isinstance(m, nn.Linear)]
    tensors = {
        f"decoder.{i}.{p}": getattr(layer, p).detach().contiguous() for i, layer in enumerate(layers) for p in ("weight", "bias")
    }
    config = {"latent": args.latent, "classes": CLASSES, "pixels": PIXELS, "hidden": args.hidden, "epochs": args.epochs,
              "seed": args.seed, "trained_on": "sklearn.datasets.load_digits", "activation": "relu", "output": "sigmoid"}
    metadata = {"config": json.dumps(config, sort_keys=True)}  # one key: safetensors orders several keys at random
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(args.out), metadata=metadata)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, sha256 {hashlib.sha256(args.out.read_bytes()).hexdigest()})")


if __name__ == "__main__":
    main()
