"""Exact inner-product search with numpy over an in-memory matrix."""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from modahub.documents import Document
from modahub.executors import Filter, Indexer, Match, SpaceMismatchError, matches_filter

_VECTORS, _DOCS, _META = "vectors.npy", "documents.jsonl", "meta.json"
_SCORES_PER_BLOCK = 1 << 24  # query × document scores computed at once (64 MiB of float32)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ExactIndexer(Indexer):
    """Brute-force inner product (cosine for normalised vectors) in memory; ``save()`` persists to ``path``."""

    name = "exact-index"

    def __init__(self, space: str, dim: int, path: str | Path | None = None) -> None:
        super().__init__(space, dim, path)
        self._matrix = np.zeros((0, self.dim), dtype=np.float32)  # rows beyond len(self._docs) are spare capacity
        self._docs: list[Document] = []
        self._pos: dict[str, int] = {}

    @property
    def _vectors(self) -> np.ndarray:
        return self._matrix[: len(self._docs)]

    def _load(self) -> None:
        if self.path is None or not (self.path / _META).exists():
            return
        meta = json.loads((self.path / _META).read_text())
        if (meta["space"], meta["dim"]) != (self.space, self.dim):
            raise SpaceMismatchError(
                f"{self.name}: the index saved at {self.path} holds space {meta['space']!r} with dim {meta['dim']}, "
                f"but was opened as space {self.space!r} with dim {self.dim}; open it with those, or use another path"
            )
        self._matrix = np.load(self.path / _VECTORS, allow_pickle=False)
        with (self.path / _DOCS).open(encoding="utf-8") as lines:
            self._docs = [Document.model_validate_json(line) for line in lines]
        for doc, vector in zip(self._docs, self._matrix, strict=True):
            doc.embedding = vector.copy()
        self._pos = {d.id: i for i, d in enumerate(self._docs)}

    def _save(self) -> None:
        """Write the index to ``path`` atomically (a crash leaves the previous save intact)."""
        assert self.path is not None
        self.path.mkdir(parents=True, exist_ok=True)
        docs = "".join(d.model_dump_json(exclude={"embedding"}) + "\n" for d in self._docs)
        meta = json.dumps({"space": self.space, "dim": self.dim, "count": len(self._docs)})
        vectors = io.BytesIO()
        np.save(vectors, self._vectors, allow_pickle=False)
        staged = Path(tempfile.mkdtemp(dir=self.path, prefix=".save-"))
        for name, data in ((_VECTORS, vectors.getvalue()), (_DOCS, docs.encode()), (_META, meta.encode())):
            with open(staged / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for name in (_VECTORS, _DOCS, _META):  # meta last: it marks a complete save
            os.replace(staged / name, self.path / name)
        staged.rmdir()
        _fsync(self.path)

    def _close(self) -> None:
        self._matrix = np.zeros((0, self.dim), dtype=np.float32)
        self._docs, self._pos = [], {}

    def _add(self, docs: list[Document]) -> None:
        latest = {d.id: d for d in docs}  # the last of a repeated id wins
        new = [d for d in latest.values() if d.id not in self._pos]
        for doc in latest.values():
            if doc.id in self._pos:  # replace in place
                i = self._pos[doc.id]
                self._docs[i] = doc
                self._matrix[i] = doc.embedding
        if not new:
            return
        n, need = len(self._docs), len(self._docs) + len(new)
        if need > len(self._matrix):  # grow geometrically: adding one by one stays linear overall
            grown = np.zeros((max(need, 2 * len(self._matrix), 256), self.dim), dtype=np.float32)
            grown[:n] = self._vectors
            self._matrix = grown
        self._matrix[n:need] = np.stack([d.embedding for d in new])
        for doc in new:
            self._pos[doc.id] = len(self._docs)
            self._docs.append(doc)

    def _search(self, queries: np.ndarray, k: int, filter: Filter | None) -> list[list[Match]]:
        if filter:
            rows = np.array([i for i, d in enumerate(self._docs) if matches_filter(d.tags, filter)], dtype=np.int64)
            vectors = self._vectors[rows]
        else:
            rows, vectors = np.arange(len(self._docs)), self._vectors
        if rows.size == 0:
            return [[] for _ in queries]
        k = min(k, rows.size)
        step = max(1, _SCORES_PER_BLOCK // rows.size)
        results = []
        for lo in range(0, len(queries), step):
            scores = queries[lo : lo + step] @ vectors.T
            top = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < rows.size else np.tile(np.arange(k), (len(scores), 1))
            best = np.take_along_axis(scores, top, 1)
            order = np.argsort(-best, axis=1, kind="stable")
            for picked, values in zip(np.take_along_axis(top, order, 1), np.take_along_axis(best, order, 1), strict=True):
                hits = [self._docs[rows[j]] for j in picked]
                results.append([Match(id=d.id, score=float(s), document=d) for d, s in zip(hits, values, strict=True)])
        return results

    def _delete(self, ids: list[str]) -> int:
        doomed = {self._pos[i] for i in ids if i in self._pos}
        if not doomed:
            return 0
        keep = [i for i in range(len(self._docs)) if i not in doomed]
        self._matrix = self._vectors[keep]
        self._docs = [self._docs[i] for i in keep]
        self._pos = {d.id: i for i, d in enumerate(self._docs)}
        return len(doomed)

    def _count(self) -> int:
        return len(self._docs)
