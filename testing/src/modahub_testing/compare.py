"""Compare vectors and search results across engines, processes and threads within a stated tolerance.

Float results are not bit-identical across processes: BLAS libraries (OpenBLAS, ONNX Runtime's MLAS)
pick kernels and split sums by thread count and CPU, so the same model can differ in the 7th
significant digit between a driver with two threads and a Ray actor or container with one. These
helpers state what does hold: vectors within ``rtol``/``atol``, and the same hits in the same order,
except that hits whose scores tie within the tolerance may come in either order (or, at the end of a
result list, be replaced by another hit of the same score).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

RTOL = 1e-5
"""Relative tolerance for float results compared across processes, threads or engines."""
ATOL = 1e-6
"""Absolute tolerance, for values near zero (unit vectors, cosine scores)."""


def close(a: float, b: float, *, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Whether two scores agree within the tolerance (symmetric)."""
    return abs(a - b) <= atol + rtol * max(abs(a), abs(b))


def assert_vectors_close(actual: Any, expected: Any, *, rtol: float = RTOL, atol: float = ATOL) -> None:
    """Raise AssertionError unless ``actual`` and ``expected`` have one shape and agree element-wise."""
    got, want = np.asarray(actual), np.asarray(expected)
    if got.shape != want.shape:
        raise AssertionError(f"shapes differ: {got.shape} != {want.shape}")
    if not np.allclose(got, want, rtol=rtol, atol=atol):
        diff = np.abs(got.astype(np.float64) - want.astype(np.float64))
        where = np.unravel_index(int(np.nanargmax(diff)), diff.shape)
        raise AssertionError(
            f"values differ beyond rtol={rtol}, atol={atol}: max |difference| {diff[where]:.3g} at index "
            f"{tuple(int(i) for i in where)} ({got[where]!r} != {want[where]!r})"
        )


def _pairs(row: Iterable[Any]) -> list[tuple[str, float]]:
    out = []
    for hit in row:
        if isinstance(hit, dict):
            out.append((str(hit["id"]), float(hit["score"])))
        elif isinstance(hit, tuple | list):
            out.append((str(hit[0]), float(hit[1])))
        else:
            out.append((str(hit.id), float(hit.score)))
    return out


def _tie_groups(scores: list[float], rtol: float, atol: float) -> list[range]:
    """Runs of consecutive positions whose neighbouring scores tie within the tolerance."""
    groups, start = [], 0
    for i in range(1, len(scores) + 1):
        if i == len(scores) or not close(scores[i - 1], scores[i], rtol=rtol, atol=atol):
            groups.append(range(start, i))
            start = i
    return groups


def assert_same_hits(
    actual: Sequence[Iterable[Any]], expected: Sequence[Iterable[Any]], *, rtol: float = RTOL, atol: float = ATOL
) -> None:
    """Raise AssertionError unless two result lists (one row of hits per query) agree.

    A hit is a ``Match``-like object (``.id``, ``.score``), a dict with ``id`` and ``score``, or an
    ``(id, score)`` pair. Per query: as many hits, scores within the tolerance position by position,
    and the same ids in the same order, except within a run of scores tied within the tolerance
    (any order), and in a tied run at the end of the row (the boundary of ``k``: any ids).
    """
    if len(actual) != len(expected):
        raise AssertionError(f"{len(actual)} result rows != {len(expected)} expected")
    for q, (got_row, want_row) in enumerate(zip(actual, expected, strict=True)):
        got, want = _pairs(got_row), _pairs(want_row)
        if len(got) != len(want):
            raise AssertionError(f"query {q}: {len(got)} hits != {len(want)} expected")
        for pos, ((gid, gs), (wid, ws)) in enumerate(zip(got, want, strict=True)):
            if not close(gs, ws, rtol=rtol, atol=atol):
                raise AssertionError(
                    f"query {q}, hit {pos}: score {gs!r} ({gid}) != {ws!r} ({wid}) within rtol={rtol}, atol={atol}"
                )
        groups = _tie_groups([s for _, s in want], rtol, atol)
        for group in groups:
            at_end = group.stop == len(want) and len(group) > 1
            got_ids, want_ids = sorted(got[i][0] for i in group), sorted(want[i][0] for i in group)
            if got_ids != want_ids and not at_end:
                raise AssertionError(
                    f"query {q}, hits {group.start}..{group.stop - 1}: ids {[got[i][0] for i in group]} != "
                    f"{[want[i][0] for i in group]}"
                )
