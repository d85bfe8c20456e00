"""The persistent indexers: ``embedded-index`` (exact) and ``hnsw-index`` (approximate).

Both keep documents, vectors and tags in a :class:`~modahub_embedded_index.store.DocumentStore`
(SQLite, the source of truth) and search vectors held in memory by faiss. A write is committed to
SQLite before the call returns, then applied in memory; on open, and whenever another process
has committed, the in-memory vectors catch up with the database by row id.

A sharded index (``shards: N``) is a folder whose own database records only the layout, with one
complete index per shard in ``shard-000/`` … : a document lives in the shard its id hashes to
(:func:`~modahub_embedded_index.shards.shard_of`), so each shard can be built by its own process
(``modahub run APP index --engine ray``) and a search merges the shards' top k.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections import OrderedDict
from pathlib import Path

import numpy as np

from modahub.documents import Document
from modahub.executors import ExecutorError, Filter, Indexer, Match
from modahub_embedded_index.shards import Shards
from modahub_embedded_index.store import DocumentStore
from modahub_embedded_index.vectors import FlatVectors, HnswVectors, Vectors


class EmbeddedIndexer(Indexer):
    """Exact inner-product search over documents stored durably in a folder (``path``; in memory without one).

    ``cache_size`` documents recently returned by searches are kept parsed in memory. Returned
    documents are shared with that cache: treat them as read-only. One process may write at a time
    safely per transaction; others that read the same folder catch up before each call.
    ``shards`` (default: what the folder holds, 1 for a new one) splits a new index into that many
    shard folders; an existing folder must be opened with its own count.
    """

    name = "embedded-index"
    shares_folder = True
    """Processes that open the same folder see each other's writes (the Ray Serve engine relies on it)."""

    def __init__(self, space: str, dim: int, path: str | Path | None = None, cache_size: int = 65_536,
                 shards: int | None = None) -> None:
        super().__init__(space, dim, path)
        if cache_size < 0:
            raise ExecutorError(f"{self.name}: cache_size must be 0 or more, got {cache_size}")
        if shards is not None and (shards < 1 or (shards > 1 and path is None)):
            raise ExecutorError(f"{self.name}: shards must be at least 1, and more than 1 needs a path (got {shards})")
        self.cache_size, self.shards = cache_size, shards
        self._lock = threading.RLock()
        self._store: DocumentStore | None = None
        self._vectors: Vectors | None = None
        self._sharded: Shards | None = None
        self._cache: OrderedDict[int, Document] = OrderedDict()

    def options(self) -> dict[str, object]:
        """The constructor parameters besides space, dim, path and shards (a shard is opened with the same)."""
        return {"cache_size": self.cache_size}

    @property
    def shard_count(self) -> int:
        """How many shards the folder holds (1: not sharded)."""
        self.warm_up()
        return 1 if self._sharded is None else len(self._sharded.parts)

    def shard_of(self, doc_id: str) -> int:
        """The shard that holds (or will hold) the document ``doc_id``."""
        return 0 if self._sharded is None else self._sharded.shard_of(doc_id)

    def shard(self, i: int) -> EmbeddedIndexer:
        """Shard ``i`` as an index of its own (for building it in another process); the index itself when not sharded."""
        self.warm_up()
        return self if self._sharded is None else self._sharded.parts[i]

    # --- life cycle -----------------------------------------------------------------------

    def _new_vectors(self) -> Vectors:
        return FlatVectors(self.dim)

    def _load(self) -> None:
        with self._lock:
            self._store = DocumentStore(self.path, self.space, self.dim, self.name)
            self._sharded = Shards.open(self, self._store)
            self._vectors = self._new_vectors()
            self._restore(self._store, self._vectors)
            self._catch_up()

    def _restore(self, store: DocumentStore, vectors: Vectors) -> None:
        """Load saved in-memory state before catching up (nothing to load for the exact index)."""

    def _catch_up(self) -> None:
        """Drop vectors whose rows are gone and add rows stored after the newest one in memory."""
        store, vectors = self._parts()
        vectors.remove(np.setdiff1d(vectors.rowids, store.rowids(), assume_unique=True))
        for rowids, ids, batch in store.vectors_after(vectors.last_rowid):
            vectors.add(rowids, batch, ids)

    def _parts(self) -> tuple[DocumentStore, Vectors]:
        if self._store is None or self._vectors is None:
            raise ExecutorError(f"{self.name}: index is closed")
        return self._store, self._vectors

    def _sync(self) -> tuple[DocumentStore, Vectors]:
        self.warm_up()
        store, vectors = self._parts()
        if store.changed():
            self._catch_up()
        return store, vectors

    def _save(self) -> None:
        """Make the folder self-contained (fold the write-ahead log in); every write is already durable."""
        with self._lock:
            store, _ = self._sync()
            if self._sharded is not None:
                self._sharded.save()
            store.checkpoint()

    def _close(self) -> None:
        with self._lock:
            if self._store is not None:
                if self._sharded is not None:
                    self._sharded.close()
                self._store.close()
            self._store, self._vectors, self._sharded = None, None, None
            self._cache.clear()

    # --- the Indexer contract ------------------------------------------------------------

    def _add(self, docs: list[Document]) -> None:
        with self._lock:
            store, vectors = self._sync()
            if self._sharded is not None:
                return self._sharded.add(docs)
            replaced, rowids = store.add(docs)
            latest = {d.id: d for d in docs}
            vectors.remove(replaced)
            vectors.add(rowids, np.stack([d.embedding for d in latest.values()]), list(latest))
            self._forget(replaced)

    def _delete(self, ids: list[str]) -> int:
        with self._lock:
            store, vectors = self._sync()
            if self._sharded is not None:
                return self._sharded.delete(ids)
            gone = store.delete(ids)
            vectors.remove(gone)
            self._forget(gone)
            return int(gone.size)

    def _count(self) -> int:
        with self._lock:
            count = self._sync()[1].count
            return count if self._sharded is None else self._sharded.count()

    def _search(self, queries: np.ndarray, k: int, filter: Filter | None) -> list[list[Match]]:
        with self._lock:
            store, vectors = self._sync()
            if self._sharded is not None:
                return self._sharded.search(self, queries, k, filter)
            subset = None if not filter else vectors.positions(store.filter_rowids(filter))
            if vectors.count == 0 or (subset is not None and subset.size == 0):
                return [[] for _ in queries]
            scores, positions = self._knn(vectors, queries, k, subset)
            found = positions >= 0
            rowids = np.where(found, vectors.rowids[positions], -1)
            ids = np.where(found, vectors.ids[positions], None)
            source = _Documents(self, rowids[found])
            return [
                [Match(i, s, source=source, key=r) for i, s, r in zip(row_i, row_s, row_r, strict=True) if r >= 0]
                for row_i, row_s, row_r in zip(ids.tolist(), scores.tolist(), rowids.tolist(), strict=True)
            ]

    def _knn(self, vectors: Vectors, queries: np.ndarray, k: int, subset: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        assert isinstance(vectors, FlatVectors)
        return vectors.search(queries, k, subset)

    # --- stored documents ----------------------------------------------------------------

    def _documents(self, rowids: list[int]) -> dict[int, Document]:
        """The stored documents (with their embeddings) of ``rowids``, from the cache or the database."""
        with self._lock:
            store, _ = self._parts()
            found: dict[int, Document] = {}
            missing: list[int] = []
            for rowid in rowids:
                doc = self._cache.get(rowid)
                if doc is None:
                    missing.append(rowid)
                else:
                    self._cache.move_to_end(rowid)
                    found[rowid] = doc
            for rowid, doc in store.documents(missing).items():
                found[rowid] = doc
                self._remember(rowid, doc)
            return found

    def _remember(self, rowid: int, doc: Document) -> None:
        if self.cache_size:
            self._cache[rowid] = doc
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    def _forget(self, rowids: np.ndarray) -> None:
        for rowid in rowids.tolist():
            self._cache.pop(rowid, None)


class HnswIndexer(EmbeddedIndexer):
    """Approximate search (faiss HNSW) over the same durable store, for collections up to millions of vectors.

    ``m`` and ``ef_construction`` shape the graph and are fixed when it is first built;
    ``ef_search`` trades speed for recall on every search. A tag filter that leaves at most
    ``exact_below`` documents is answered exactly. The graph is saved as a snapshot folder inside
    ``path`` by ``save()`` and ``close()``; on open, documents added after the snapshot (e.g. after
    a crash) are inserted into the graph again, so nothing acknowledged is lost.
    """

    name = "hnsw-index"

    def __init__(
        self,
        space: str,
        dim: int,
        path: str | Path | None = None,
        m: int = 32,
        ef_construction: int = 80,
        ef_search: int = 64,
        exact_below: int = 20_000,
        cache_size: int = 65_536,
        shards: int | None = None,
    ) -> None:
        super().__init__(space, dim, path, cache_size, shards)
        for label, value in (("m", m), ("ef_construction", ef_construction), ("ef_search", ef_search)):
            if value < 1:
                raise ExecutorError(f"{self.name}: {label} must be at least 1, got {value}")
        self.m, self.ef_construction, self.ef_search, self.exact_below = m, ef_construction, ef_search, exact_below

    def options(self) -> dict[str, object]:
        return {**super().options(), "m": self.m, "ef_construction": self.ef_construction, "ef_search": self.ef_search,
                "exact_below": self.exact_below}

    def _new_vectors(self) -> Vectors:
        return HnswVectors(self.dim, self.m, self.ef_construction, self.exact_below)

    def _knn(self, vectors: Vectors, queries: np.ndarray, k: int, subset: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        assert isinstance(vectors, HnswVectors)
        return vectors.search(queries, k, subset, self.ef_search)

    def _restore(self, store: DocumentStore, vectors: Vectors) -> None:
        assert isinstance(vectors, HnswVectors)
        snapshot = store.meta().get("hnsw_snapshot")
        if self.path is None or snapshot is None or not (self.path / snapshot).is_dir():
            return
        try:
            vectors.load(self.path / snapshot, store.ids())
        except ValueError as exc:
            raise ExecutorError(
                f"{self.name}: {exc}; open it with those parameters, or delete {self.path / snapshot} "
                "to rebuild the graph from the stored vectors"
            ) from None

    def _save(self) -> None:
        """Write a snapshot of the graph (when it changed) and point the database at it."""
        with self._lock:
            super()._save()
            if self._sharded is not None:
                return
            store, vectors = self._parts()
            assert self.path is not None and isinstance(vectors, HnswVectors)
            current = store.meta().get("hnsw_snapshot")
            if not vectors.dirty and current is not None:
                return
            name = f"hnsw-{uuid.uuid4().hex}"
            vectors.save(self.path / name)
            with store.transaction():
                store.set_meta(hnsw_snapshot=name)
            for old in self.path.glob("hnsw-*"):  # the one replaced, and any left by a crash mid-save
                if old.name != name:
                    shutil.rmtree(old, ignore_errors=True)


class _Documents:
    """The documents of one search's hits, read together the first time one of them is wanted."""

    def __init__(self, index: EmbeddedIndexer, rowids: np.ndarray) -> None:
        self.index, self.rowids = index, rowids
        self.found: dict[int, Document] | None = None

    def document(self, key: int) -> Document | None:
        if self.found is None:
            self.found = self.index._documents(np.unique(self.rowids).tolist())
        return self.found.get(key)
