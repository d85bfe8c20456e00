"""Sharded indexes: one complete index per shard folder, documents placed by a hash of their id.

Layout of a sharded index at ``path``::

    path/index.sqlite        the layout only: space, dim, format and ``shards`` (no documents)
    path/shard-000/          a complete index of the same kind (its own index.sqlite, graph snapshot…)
    path/shard-001/ …

A document goes to shard ``sha256(id) mod shards`` (:func:`shard_of`): the same id always lands in
the same shard, from any process, so replacing or deleting a document touches one shard, and each
shard can be built by its own worker. A search asks every shard for its top ``k`` and keeps the
``k`` best of them; for exact shards that is exactly the top ``k`` of one big index (an item in the
global top k is in its own shard's top k). Each write is durable per shard: a call whose documents
span several shards commits shard by shard.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import numpy as np

from modahub.documents import Document
from modahub.executors import ExecutorError, Filter, Match

if TYPE_CHECKING:
    from modahub_embedded_index.indexer import EmbeddedIndexer
    from modahub_embedded_index.store import DocumentStore


def shard_of(doc_id: str, shards: int) -> int:
    """The shard of ``doc_id`` among ``shards`` (stable across processes and Python versions)."""
    return int.from_bytes(hashlib.sha256(doc_id.encode("utf-8")).digest()[:8], "big") % shards


def shard_folder(i: int) -> str:
    return f"shard-{i:03d}"


def merge(rows: list[list[list[Match]]], k: int) -> list[list[Match]]:
    """Per query, the ``k`` best of the shards' matches (``rows[shard][query]``), best first.

    Equal scores keep shard order then each shard's own order (a stable sort).
    """
    return [sorted((m for part in per_query for m in part), key=lambda m: -m.score)[:k] for per_query in zip(*rows, strict=True)]


class Shards:
    """The shard indexes of one sharded index (opened lazily by their owner)."""

    def __init__(self, parts: list[EmbeddedIndexer]) -> None:
        self.parts = parts

    @classmethod
    def open(cls, owner: EmbeddedIndexer, store: DocumentStore) -> Shards | None:
        """The shards of ``owner``'s folder; records ``owner.shards`` in a new folder; None when not sharded."""
        meta = store.meta()
        count = meta.get("shards")
        if count is None:
            if not owner.shards or owner.shards == 1:
                return None
            if store.rowids().size:
                raise ExecutorError(f"{owner.name}: {owner.path} holds an index of one shard with documents; it cannot be "
                                    f"split in place: build the {owner.shards} shards into a new path")
            with store.transaction():
                store.set_meta(shards=owner.shards)
            count = owner.shards
        if owner.shards is not None and owner.shards != count:
            raise ExecutorError(f"{owner.name}: {owner.path} holds {count} shards, the app asks for {owner.shards}; "
                                f"use shards: {count}, or build a new index in another path")
        assert owner.path is not None
        parts = [type(owner)(owner.space, owner.dim, owner.path / shard_folder(i), shards=1, **owner.options())
                 for i in range(int(count))]
        return cls(parts)

    def shard_of(self, doc_id: str) -> int:
        return shard_of(doc_id, len(self.parts))

    def add(self, docs: list[Document]) -> None:
        groups: dict[int, list[Document]] = {}
        for doc in docs:
            groups.setdefault(self.shard_of(doc.id), []).append(doc)
        for i, group in sorted(groups.items()):
            self.parts[i].add(group)

    def delete(self, ids: list[str]) -> int:
        groups: dict[int, list[str]] = {}
        for doc_id in ids:
            groups.setdefault(self.shard_of(doc_id), []).append(doc_id)
        return sum(self.parts[i].delete(group) for i, group in sorted(groups.items()))

    def count(self) -> int:
        return sum(len(part) for part in self.parts)

    def search(self, owner: EmbeddedIndexer, queries: np.ndarray, k: int, filter: Filter | None) -> list[list[Match]]:
        for part in self.parts:  # search-time options (hnsw's ef_search) follow the owner's
            for key, value in owner.options().items():
                setattr(part, key, value)
        return merge([part.search(queries, k=k, filter=filter) for part in self.parts], k)

    def save(self) -> None:
        for part in self.parts:
            part.save()

    def close(self) -> None:
        for part in self.parts:
            part.close()
