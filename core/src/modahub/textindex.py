"""The text-search interface: an indexer that finds documents by words instead of vectors.

:class:`TextIndexer` is kind ``indexer`` (so manifests, ``modahub list`` and the hub treat it as
one) but has no embedding space: documents go in with :meth:`TextIndexer.add` and are found
with :meth:`TextIndexer.search_text`. The vector :class:`~modahub.executors.Indexer` is unchanged.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from pathlib import Path

from modahub.documents import Document
from modahub.executors import ExecutorError, Filter, Match, Store


class TextIndexer(Store):
    """Stores documents and ranks them against a text query (e.g. BM25); persistence at ``path``."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None

    def add(self, docs: Sequence[Document]) -> None:
        """Add (or replace, by id) documents."""
        self.check_modalities(docs)
        self.warm_up()
        self._add(list(docs))

    def search_text(self, query: str, k: int = 10, filter: Filter | None = None) -> list[Match]:
        """The ``k`` best matches for ``query``, best first; documents sharing no word with it are left out."""
        if not isinstance(query, str) or not query.strip():
            raise ExecutorError(f"{self.name}: the query must be non-empty text, got {query!r}")
        if k <= 0:
            raise ExecutorError(f"{self.name}: k must be positive, got {k}")
        self.warm_up()
        return self._search_text(query, k, filter)

    @abstractmethod
    def _add(self, docs: list[Document]) -> None: ...

    @abstractmethod
    def _search_text(self, query: str, k: int, filter: Filter | None) -> list[Match]: ...
