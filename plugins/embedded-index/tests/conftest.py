"""Shared fixtures: embedded documents and a helper that runs an index in a process we can kill."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

import modahub
from modahub.documents import Document

DocsMaker = Callable[..., list[Document]]


def unit_rows(rng: np.random.Generator, n: int, dim: int, rank: int | None = None) -> np.ndarray:
    """``n`` normalised vectors; with ``rank``, near a random ``rank``-dimensional subspace (like real embeddings)."""
    if rank is None:
        x = rng.standard_normal((n, dim))
    else:
        x = rng.standard_normal((n, rank)) @ rng.standard_normal((rank, dim)) + 0.1 * rng.standard_normal((n, dim))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def make_docs() -> DocsMaker:
    """``make_docs(n, dim, seed=0, prefix='d', rank=None)``: text documents with embeddings and tags."""

    def make(n: int, dim: int, seed: int = 0, prefix: str = "d", rank: int | None = None) -> list[Document]:
        vectors = unit_rows(np.random.default_rng(seed), n, dim, rank)
        return [
            modahub.text(f"sentence {prefix}{i}", id=f"{prefix}{i}", embedding=v, tags={"parity": i % 2, "third": f"t{i % 3}"})
            for i, v in enumerate(vectors)
        ]

    return make


@pytest.fixture
def killed_after_add() -> Callable[[str, Path, int], None]:
    """Run a child that adds ``n`` documents to the index at ``path``, prints that add returned, and sleeps; SIGKILL it then."""

    def run(executor: str, path: Path, n: int) -> None:
        script = textwrap.dedent(
            f"""
            import sys, time, numpy as np, modahub
            index = modahub.load({executor!r}, space="s", dim=8, path={str(path)!r})
            rng = np.random.default_rng(7)
            for start in range(0, {n}, 10):
                docs = [modahub.text(f"t{{i}}", id=f"k{{i}}", embedding=rng.standard_normal(8).astype("float32"),
                                     tags={{"batch": start}}) for i in range(start, min(start + 10, {n}))]
                index.add(docs)
            print("added", len(index), flush=True)
            time.sleep(60)
            """
        )
        child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = child.stdout.readline() if child.stdout else ""
        os.kill(child.pid, signal.SIGKILL)
        _, errors = child.communicate(timeout=30)
        assert line.strip() == f"added {n}", f"child did not acknowledge the add: {line!r}\n{errors}"
        assert child.returncode == -signal.SIGKILL

    return run
