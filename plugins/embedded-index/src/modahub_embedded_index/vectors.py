"""The fast half of the index: vectors in memory, searched exactly (numpy) or by an HNSW graph (faiss).

Every vector sits at a position; ``rowids[position]`` is its row id in the document store and
rises with the position, so a row id is found with a binary search. Scores are inner products
(cosine similarity for normalised vectors).

- :class:`FlatVectors` is exact: one float32 matrix, searched by BLAS (numpy) with a partial sort
  for the top k; deleting compacts the matrix.
- :class:`HnswVectors` is approximate: a ``faiss.IndexHNSWFlat`` graph. Deleted vectors stay in the
  graph as tombstones that searches skip; the graph is saved to a snapshot folder and loaded back.
  Before a search the graph's memory is moved to huge pages where Linux allows (``pages.py``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import faiss
import numpy as np

from modahub_embedded_index.pages import buffers, use_huge_pages

_IP = faiss.METRIC_INNER_PRODUCT
_BLOCK = 65_536  # rows gathered at once for a filtered exact search
_SCORES_PER_BLOCK = 1 << 24  # query × row scores held at once (64 MiB of float32)
_QUERIES_PER_PASS = 1024  # queries that share one pass over the matrix


def top_k(scores: np.ndarray, k: int, positions: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best scores of each row, best first, with their columns (or ``positions`` at those columns)."""
    if scores.shape[1] > k:
        picked = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    else:
        picked = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    best = np.take_along_axis(scores, picked, 1)
    order = np.argsort(-best, axis=1, kind="stable")
    columns = np.take_along_axis(picked, order, 1)
    found = columns if positions is None else np.take_along_axis(positions, columns, 1)
    return np.take_along_axis(best, order, 1), found


def _exact(queries: np.ndarray, matrix: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` by inner product over all rows of ``matrix``, up to ``_QUERIES_PER_PASS`` queries per pass."""
    k = min(k, len(matrix))
    passes = [_one_pass(queries[lo : lo + _QUERIES_PER_PASS], matrix, k) for lo in range(0, len(queries), _QUERIES_PER_PASS)]
    return np.vstack([s for s, _ in passes]), np.vstack([p for _, p in passes])


def _one_pass(queries: np.ndarray, matrix: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every query against ``matrix`` read once, a block of rows at a time (at most ``_SCORES_PER_BLOCK`` scores held).

    A million-row matrix is far larger than any cache: reading it once for all the queries, not once per
    small block of queries, is what sets the speed there. The blocks' top ``k`` are merged at the end.
    """
    rows = max(k, _SCORES_PER_BLOCK // len(queries))
    if rows >= len(matrix):
        return top_k(queries @ matrix.T, k)
    starts = range(0, len(matrix), rows)
    parts = [top_k(queries @ matrix[lo : lo + rows].T, k) for lo in starts]
    positions = np.hstack([p + lo for lo, (_, p) in zip(starts, parts, strict=True)])
    return top_k(np.hstack([s for s, _ in parts]), k, positions)


def exact_search(queries: np.ndarray, matrix: np.ndarray, k: int, subset: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` inner products of ``queries`` against ``matrix`` rows (all, or the positions in ``subset``).

    numpy's BLAS, not faiss's: the OpenBLAS bundled in the faiss-cpu wheels (0.3.15) falls back to
    its generic kernel on recent CPUs, 10-20x slower than numpy's (see docs/indexes.md).
    """
    if subset is None:
        return _exact(queries, matrix, k)
    scores, found = [], []
    for lo in range(0, subset.size, _BLOCK):
        block = subset[lo : lo + _BLOCK]
        s, p = _exact(queries, matrix[block], k)
        scores.append(s)
        found.append(block[p])
    return top_k(np.hstack(scores), min(k, subset.size), np.hstack(found))


class Vectors:
    """Positions ↔ row ids and document ids, shared by both kinds."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.rowids = np.zeros(0, dtype=np.int64)
        self.ids = np.zeros(0, dtype=object)
        """Document id at each position (so a search names its hits without reading documents)."""

    @property
    def last_rowid(self) -> int:
        return int(self.rowids[-1]) if self.rowids.size else 0

    def positions(self, rowids: np.ndarray) -> np.ndarray:
        """Positions of the live vectors among ``rowids`` (unknown or deleted ones are left out)."""
        at = np.searchsorted(self.rowids, rowids)
        inside = at < self.rowids.size
        at = at[inside]
        return at[(self.rowids[at] == rowids[inside]) & self._live_at(at)]

    def _live_at(self, positions: np.ndarray) -> np.ndarray:
        return np.ones(positions.size, dtype=bool)


class FlatVectors(Vectors):
    """Exact search over a growable float32 matrix."""

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        self._matrix = np.zeros((1024, dim), dtype=np.float32)

    @property
    def count(self) -> int:
        return self.rowids.size

    def matrix(self) -> np.ndarray:
        return self._matrix[: self.count]

    def add(self, rowids: np.ndarray, vectors: np.ndarray, ids: list[str]) -> None:
        n, need = self.count, self.count + len(rowids)
        if need > len(self._matrix):
            grown = np.zeros((max(need, 2 * len(self._matrix)), self.dim), dtype=np.float32)
            grown[:n] = self._matrix[:n]
            self._matrix = grown
        self._matrix[n:need] = vectors
        self.rowids = np.concatenate([self.rowids, rowids])
        self.ids = np.concatenate([self.ids, np.array(ids, dtype=object)])

    def remove(self, rowids: np.ndarray) -> None:
        doomed = self.positions(rowids)
        if doomed.size:
            keep = np.setdiff1d(np.arange(self.count), doomed, assume_unique=True)
            self._matrix[: keep.size] = self._matrix[keep]
            self.rowids, self.ids = self.rowids[keep], self.ids[keep]

    def search(self, queries: np.ndarray, k: int, subset: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        return exact_search(queries, self.matrix(), k, subset)


class HnswVectors(Vectors):
    """Approximate search with a faiss HNSW graph (``m`` links per node, ``ef_construction`` when building)."""

    def __init__(self, dim: int, m: int, ef_construction: int, exact_below: int) -> None:
        super().__init__(dim)
        self.params = {"m": m, "ef_construction": ef_construction}
        self.exact_below = exact_below
        self.graph = faiss.IndexHNSWFlat(dim, m, _IP)
        self.graph.hnsw.efConstruction = ef_construction
        self.live = np.zeros(0, dtype=bool)
        self.count = 0
        self._bitmap: tuple[np.ndarray, faiss.IDSelectorBitmap] | None = None
        self.dirty = False
        self._paged: tuple[tuple[int, int], ...] = ()
        """The graph buffers last given huge pages (a buffer that grew or moved since is advised again)."""

    def _live_at(self, positions: np.ndarray) -> np.ndarray:
        return self.live[positions]

    def matrix(self) -> np.ndarray:
        """The stored vectors (a view into the graph's storage), tombstones included."""
        storage = faiss.downcast_index(self.graph.storage)
        return faiss.rev_swig_ptr(storage.get_xb(), self.graph.ntotal * self.dim).reshape(self.graph.ntotal, self.dim)

    def add(self, rowids: np.ndarray, vectors: np.ndarray, ids: list[str]) -> None:
        self.graph.add(np.ascontiguousarray(vectors, dtype=np.float32))
        self.rowids = np.concatenate([self.rowids, rowids])
        self.ids = np.concatenate([self.ids, np.array(ids, dtype=object)])
        self.live = np.concatenate([self.live, np.ones(len(rowids), dtype=bool)])
        self.count += len(rowids)
        self._bitmap, self.dirty = None, True

    def remove(self, rowids: np.ndarray) -> None:
        doomed = np.unique(self.positions(rowids))
        if doomed.size:
            self.live[doomed] = False
            self.count -= doomed.size
            self._bitmap, self.dirty = None, True

    def _selector(self, allowed: np.ndarray | None) -> faiss.IDSelectorBitmap | None:
        """A faiss selector for the allowed positions (``None``: every live one); keeps its bitmap alive."""
        if allowed is None:
            if self.count == self.live.size:
                return None
            if self._bitmap is None:
                bits = np.packbits(self.live, bitorder="little")
                self._bitmap = (bits, faiss.IDSelectorBitmap(self.live.size, faiss.swig_ptr(bits)))
            return self._bitmap[1]
        mask = np.zeros(self.live.size, dtype=bool)
        mask[allowed] = True
        bits = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(mask.size, faiss.swig_ptr(bits))
        selector.keepalive = bits  # the selector reads the numpy buffer
        return selector

    def search(
        self, queries: np.ndarray, k: int, subset: np.ndarray | None, ef_search: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Graph search; a filter that leaves at most ``exact_below`` vectors is answered exactly instead."""
        if subset is not None and subset.size <= self.exact_below:
            return exact_search(queries, self.matrix(), k, subset)
        k = min(k, self.count if subset is None else subset.size)
        if self._paged != buffers(self.graph):
            self._paged = use_huge_pages(self.graph)
        params = faiss.SearchParametersHNSW(efSearch=max(ef_search, k))
        selector = self._selector(subset)
        if selector is not None:
            params.sel = selector
        return self.graph.search(queries, k, params=params)

    def save(self, folder: Path) -> None:
        """Write the graph, its row ids and parameters into a new ``folder``, each file synced to disk."""
        folder.mkdir()
        faiss.write_index(self.graph, str(folder / "graph.faiss"))
        np.save(folder / "rowids.npy", self.rowids, allow_pickle=False)
        (folder / "params.json").write_text(json.dumps({**self.params, "dim": self.dim}))
        for name in ("graph.faiss", "rowids.npy", "params.json", "."):
            fd = os.open(folder / name, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        self.dirty = False

    def load(self, folder: Path, live: dict[int, str]) -> None:
        """Read a snapshot written by :meth:`save`; ``live`` maps the stored row ids to document ids,
        and vectors whose rows are gone become tombstones."""
        params = json.loads((folder / "params.json").read_text())
        if params != {**self.params, "dim": self.dim}:
            raise ValueError(f"snapshot {folder} was built with {params}, not {self.params} (dim {self.dim})")
        graph = faiss.read_index(str(folder / "graph.faiss"))
        rowids = np.load(folder / "rowids.npy", allow_pickle=False)
        if graph.ntotal != rowids.size or graph.d != self.dim:
            raise ValueError(f"snapshot {folder} is inconsistent: {graph.ntotal} vectors, {rowids.size} row ids")
        graph.hnsw.efConstruction = self.params["ef_construction"]
        self.graph, self.rowids = graph, rowids
        self.ids = np.array([live.get(r) for r in rowids.tolist()], dtype=object)
        self.live = np.array([i is not None for i in self.ids.tolist()], dtype=bool)
        self.count = int(self.live.sum())
        self._bitmap, self.dirty = None, False
