"""Exact inner-product search with numpy over an in-memory matrix."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np
from modahub.arrays import dumps_array, loads_array
from modahub.documents import Document
from modahub.executors import Filter, Indexer, Match, matches_filter

_VECTORS, _DOCS, _META = "vectors.mha", "documents.jsonl", "meta.json"


class ExactIndexer(Indexer):
    """Brute-force inner product (cosine for normalised vectors); ``save()`` persists to ``path``."""

    name = "exact-index"

    def __init__(self, space: str, dim: int, path: str | Path | None = None) -> None:
        super().__init__(space, dim, path)
        self._vectors = np.zeros((0, self.dim), dtype=np.float32)
        self._docs: list[Document] = []
        self._pos: dict[str, int] = {}

    def _load(self) -> None:
        if self.path is None or not (self.path / _META).exists():
            return
        meta = json.loads((self.path / _META).read_text())
        if (meta["space"], meta["dim"]) != (self.space, self.dim):
            raise ValueError(
                f"{self.path}: index holds space {meta['space']!r} dim {meta['dim']}, "
                f"opened as {self.space!r} dim {self.dim}"
            )
        self._vectors = loads_array((self.path / _VECTORS).read_bytes())
        with (self.path / _DOCS).open(encoding="utf-8") as lines:
            self._docs = [Document.model_validate_json(line) for line in lines]
        self._pos = {d.id: i for i, d in enumerate(self._docs)}

    def save(self) -> None:
        """Write the index to ``path`` atomically (a crash leaves the previous save intact)."""
        if self.path is None:
            raise ValueError(f"{self.name}: no path given; construct with path=... to save")
        self.warm_up()
        self.path.mkdir(parents=True, exist_ok=True)
        docs = "".join(d.model_dump_json(exclude={"embedding"}) + "\n" for d in self._docs)
        meta = json.dumps({"space": self.space, "dim": self.dim, "count": len(self._docs)})
        staged = Path(tempfile.mkdtemp(dir=self.path, prefix=".save-"))
        for name, data in ((_VECTORS, dumps_array(self._vectors)), (_DOCS, docs.encode()), (_META, meta.encode())):
            with open(staged / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for name in (_VECTORS, _DOCS, _META):  # meta last: it marks a complete save
            os.replace(staged / name, self.path / name)
        staged.rmdir()

    def _add(self, docs: list[Document]) -> None:
        new = [d for d in docs if d.id not in self._pos]
        for doc in docs:
            if doc.id in self._pos:  # replace in place
                i = self._pos[doc.id]
                self._docs[i] = doc
                self._vectors[i] = doc.embedding
        if new:
            self._vectors = np.vstack([self._vectors, np.stack([d.embedding for d in new])]).astype(np.float32)
            for doc in new:
                self._pos[doc.id] = len(self._docs)
                self._docs.append(doc)

    def _search(self, queries: np.ndarray, k: int, filter: Filter | None) -> list[list[Match]]:
        if not self._docs:
            return [[] for _ in queries]
        if filter:
            rows = np.array([i for i, d in enumerate(self._docs) if matches_filter(d.tags, filter)], dtype=np.int64)
        else:
            rows = np.arange(len(self._docs))
        if rows.size == 0:
            return [[] for _ in queries]
        scores = queries @ self._vectors[rows].T
        k = min(k, rows.size)
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        results = []
        for qi in range(len(queries)):
            order = top[qi][np.argsort(-scores[qi, top[qi]], kind="stable")]
            results.append(
                [Match(id=self._docs[rows[j]].id, score=float(scores[qi, j]), document=self._docs[rows[j]]) for j in order]
            )
        return results

    def _delete(self, ids: list[str]) -> int:
        doomed = {self._pos[i] for i in ids if i in self._pos}
        if not doomed:
            return 0
        keep = [i for i in range(len(self._docs)) if i not in doomed]
        self._vectors = self._vectors[keep]
        self._docs = [self._docs[i] for i in keep]
        self._pos = {d.id: i for i, d in enumerate(self._docs)}
        return len(doomed)

    def _count(self) -> int:
        return len(self._docs)
