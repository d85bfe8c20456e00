"""hnsw-index asks Linux for huge pages under its graph, again after the graph's buffers move, and answers the same."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from modahub_embedded_index.pages import buffers
from modahub_embedded_index.vectors import HnswVectors

from modahub_testing import assert_vectors_close

THP = Path("/sys/kernel/mm/transparent_hugepage/enabled")
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or not THP.exists(),
                                reason="huge pages are asked for on Linux with transparent huge pages built in")


def advised(address: int) -> bool:
    """Whether the mapping holding ``address`` carries MADV_HUGEPAGE (``hg`` in its VmFlags)."""
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and ":" not in head:
            lo, hi = (int(x, 16) for x in head.split("-"))
            inside = lo <= address < hi
        elif inside and head == "VmFlags:":
            return "hg" in line.split()[1:]
    raise AssertionError(f"no mapping holds {address:#x}")


def unit_rows(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def middle(buffer: tuple[int, int]) -> int:
    return buffer[0] + buffer[1] // 2


def test_search_puts_the_graph_on_huge_pages_and_again_after_it_grows():
    """In a fresh interpreter: memory that earlier tests of this process had advised keeps its advice when reused."""
    run = subprocess.run([sys.executable, __file__], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr


def check_huge_pages() -> None:
    rng = np.random.default_rng(0)
    vectors = HnswVectors(256, 8, 16, exact_below=0)
    first = unit_rows(rng, 6000, 256)  # 6 MiB of vectors: whole 2 MiB pages
    vectors.add(np.arange(1, 6001), first, [str(i) for i in range(6000)])
    vectors.graph.hnsw.efSearch = 64
    plain = vectors.graph.search(first[:50], 5)
    codes = buffers(vectors.graph)[0]
    assert not advised(middle(codes))  # faiss alone does not ask

    scores, found = vectors.search(first[:50], 5, None, ef_search=64)
    assert advised(middle(codes))
    np.testing.assert_array_equal(found, plain[1])  # the same graph answers the same
    assert_vectors_close(scores, plain[0])

    vectors.add(np.arange(6001, 10001), unit_rows(rng, 4000, 256), [str(i) for i in range(6000, 10000)])
    grown = buffers(vectors.graph)[0]
    assert grown != codes and not advised(middle(grown))  # the vectors moved to a larger buffer
    vectors.search(first[:5], 5, None, ef_search=64)
    assert advised(middle(grown))


if __name__ == "__main__":
    check_huge_pages()
