"""The durable half of the index: documents, vectors and tags in one SQLite database.

SQLite in WAL mode with ``synchronous=FULL``: ``add`` and ``delete`` are one transaction each,
and once they return the change is on disk (it survives SIGKILL and power loss). Each stored
document gets a row id that is never reused; replacing a document (adding an existing id) deletes
its row and inserts a new one, so a row id always names the same vector and the same document.
That lets the in-memory vector index (and its snapshot) catch up with the database from row ids
alone. ``changed()`` tells whether another connection (another process) committed since we last
looked, using ``PRAGMA data_version``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from modahub.documents import Document
from modahub.executors import ExecutorError, Filter, SpaceMismatchError

DB_FILE = "index.sqlite"
FORMAT = 1
_CHUNK = 500  # ids per IN (...) list
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS docs (
    rowid INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, doc TEXT NOT NULL, vec BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS tags (row INTEGER NOT NULL, key TEXT NOT NULL, value);
CREATE INDEX IF NOT EXISTS tags_key_value ON tags (key, value, row);
CREATE INDEX IF NOT EXISTS tags_row ON tags (row);
"""
_SCALARS = (str, int, float, bool)


def _chunks(items: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for lo in range(0, len(items), _CHUNK):
        yield items[lo : lo + _CHUNK]


def _marks(n: int) -> str:
    return ",".join("?" * n)


class DocumentStore:
    """Documents, float32 vectors and tags of one index, at ``path`` (a folder) or in memory (``None``)."""

    def __init__(self, path: Path | None, space: str, dim: int, owner: str) -> None:
        self.dim, self.owner = dim, owner
        if path is not None:
            if path.exists() and not path.is_dir():
                raise ExecutorError(f"{owner}: index path {path} is a file; give a folder (it is created if missing)")
            path.mkdir(parents=True, exist_ok=True)
        where = ":memory:" if path is None else str(path / DB_FILE)
        self._db = sqlite3.connect(where, isolation_level=None, check_same_thread=False, timeout=30.0)
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        with self.transaction():
            for statement in _SCHEMA.strip().split(";"):
                if statement.strip():
                    self._db.execute(statement)
            meta = self.meta()
            if not meta:
                self.set_meta(space=space, dim=dim, format=FORMAT)
                meta = self.meta()
        self._check(meta, path, space, dim)
        self._version = self._data_version()

    def _check(self, meta: dict[str, Any], path: Path | None, space: str, dim: int) -> None:
        if meta.get("format") != FORMAT:
            raise ExecutorError(f"{self.owner}: {path} holds index format {meta.get('format')}, this version reads {FORMAT}")
        if (meta["space"], meta["dim"]) != (space, dim):
            raise SpaceMismatchError(
                f"{self.owner}: the index at {path} holds space {meta['space']!r} with dim {meta['dim']}, "
                f"but was opened as space {space!r} with dim {dim}; open it with those, or use another path"
            )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; committed (and on disk) when the block ends, rolled back on error."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def meta(self) -> dict[str, Any]:
        return {k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM meta")}

    def set_meta(self, **values: Any) -> None:
        self._db.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [(k, json.dumps(v)) for k, v in values.items()],
        )

    def _data_version(self) -> int:
        return self._db.execute("PRAGMA data_version").fetchone()[0]

    def changed(self) -> bool:
        """True (once) when another connection committed since the last call."""
        version = self._data_version()
        if version == self._version:
            return False
        self._version = version
        return True

    def add(self, docs: list[Document]) -> tuple[np.ndarray, np.ndarray]:
        """Store ``docs`` (the last one wins for a repeated id); returns (replaced row ids, new row ids)."""
        latest = {d.id: d for d in docs}
        docs = list(latest.values())
        rows = []
        tag_rows = []
        with self.transaction() as db:
            replaced = self._rowids_of(list(latest))
            self._remove(replaced)
            first = db.execute("SELECT coalesce(max(seq), 0) + 1 FROM sqlite_sequence WHERE name = 'docs'").fetchone()[0]
            for offset, doc in enumerate(docs):
                rowid = first + offset
                body = doc.model_dump_json(exclude={"embedding"})
                rows.append((rowid, doc.id, body, np.ascontiguousarray(doc.embedding, dtype="<f4").tobytes()))
                tag_rows += [(rowid, key, value) for key, value in doc.tags.items()]
            db.executemany("INSERT INTO docs (rowid, id, doc, vec) VALUES (?, ?, ?, ?)", rows)
            db.executemany("INSERT INTO tags (row, key, value) VALUES (?, ?, ?)", tag_rows)
        self._version = self._data_version()
        return replaced, np.arange(first, first + len(docs), dtype=np.int64)

    def delete(self, ids: list[str]) -> np.ndarray:
        """Delete documents by id; returns the row ids that went."""
        with self.transaction():
            gone = self._rowids_of(ids)
            self._remove(gone)
        return gone

    def _rowids_of(self, ids: list[str]) -> np.ndarray:
        found: list[int] = []
        for part in _chunks(ids):
            found += [r for (r,) in self._db.execute(f"SELECT rowid FROM docs WHERE id IN ({_marks(len(part))})", part)]
        return np.array(sorted(found), dtype=np.int64)

    def _remove(self, rowids: np.ndarray) -> None:
        for part in _chunks(rowids.tolist()):
            self._db.execute(f"DELETE FROM tags WHERE row IN ({_marks(len(part))})", part)
            self._db.execute(f"DELETE FROM docs WHERE rowid IN ({_marks(len(part))})", part)

    def rowids(self) -> np.ndarray:
        """Row ids of all stored documents, ascending."""
        cursor = self._db.execute("SELECT rowid FROM docs ORDER BY rowid")
        return np.fromiter((r for (r,) in cursor), dtype=np.int64)

    def ids(self) -> dict[int, str]:
        """Row id -> document id of every stored document."""
        return dict(self._db.execute("SELECT rowid, id FROM docs"))

    def vectors_after(self, rowid: int, batch: int = 65_536) -> Iterator[tuple[np.ndarray, list[str], np.ndarray]]:
        """(row ids, document ids, vectors) of the documents stored after ``rowid``, in row-id order, in batches."""
        cursor = self._db.execute("SELECT rowid, id, vec FROM docs WHERE rowid > ? ORDER BY rowid", (rowid,))
        while rows := cursor.fetchmany(batch):
            rowids = np.fromiter((r for r, _, _ in rows), dtype=np.int64, count=len(rows))
            flat = np.frombuffer(b"".join(v for _, _, v in rows), dtype="<f4")
            yield rowids, [i for _, i, _ in rows], flat.astype(np.float32).reshape(len(rows), self.dim)

    def documents(self, rowids: list[int]) -> dict[int, Document]:
        """The stored documents (with their embeddings) of ``rowids`` that still exist."""
        found = {}
        for part in _chunks(rowids):
            query = f"SELECT rowid, doc, vec FROM docs WHERE rowid IN ({_marks(len(part))})"
            for rowid, body, vec in self._db.execute(query, part):
                doc = Document.model_validate_json(body)
                doc.embedding = np.frombuffer(vec, dtype="<f4").astype(np.float32)
                found[rowid] = doc
        return found

    def filter_rowids(self, flt: Filter) -> np.ndarray:
        """Row ids (ascending) of the documents whose tags satisfy ``flt`` (see ``modahub.executors.matches_filter``)."""
        clauses, params = [], []
        for key, want in flt.items():
            values = list(want) if isinstance(want, (list, tuple, set, frozenset)) else [want]
            bad = [v for v in values if v is not None and not isinstance(v, _SCALARS)]
            if not isinstance(key, str) or bad:
                raise ExecutorError(
                    f"{self.owner}: filter {{{key!r}: {want!r}}}: keys are tag names and values str, int, float or bool "
                    "(or a list of them)"
                )
            concrete = [v for v in values if v is not None]
            parts = []
            if concrete:
                parts.append(f"rowid IN (SELECT row FROM tags WHERE key = ? AND value IN ({_marks(len(concrete))}))")
                params += [key, *concrete]
            if len(concrete) < len(values):  # None matches documents without the tag
                parts.append("rowid NOT IN (SELECT row FROM tags WHERE key = ?)")
                params.append(key)
            clauses.append("(" + (" OR ".join(parts) or "0") + ")")
        cursor = self._db.execute(f"SELECT rowid FROM docs WHERE {' AND '.join(clauses)} ORDER BY rowid", params)
        return np.fromiter((r for (r,) in cursor), dtype=np.int64)

    def checkpoint(self) -> None:
        """Fold the write-ahead log into the database file."""
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self._db.close()
