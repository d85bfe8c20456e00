"""hnsw-index: recall, snapshots, catching up after a crash, filtered graph search."""

from __future__ import annotations

import numpy as np
import pytest
from modahub_embedded_index.indexer import EmbeddedIndexer, HnswIndexer
from modahub_embedded_index.store import DocumentStore

from modahub.executors import ExecutorError


def vectors(docs):
    return np.stack([d.embedding for d in docs])


def recall_at(k, found, truth):
    return np.mean([len(set(f) & set(t)) / k for f, t in zip(found, truth, strict=True)])


def ids(results):
    return [[m.id for m in row] for row in results]


def test_recall_at_10_on_low_rank_vectors(make_docs):
    docs = make_docs(2000, 64, seed=3, rank=16)
    queries = vectors(make_docs(200, 64, seed=4, rank=16))
    exact, approx = EmbeddedIndexer("s", 64), HnswIndexer("s", 64)
    exact.add(docs)
    approx.add(docs)
    truth = ids(exact.search(queries, k=10))
    assert recall_at(10, ids(approx.search(queries, k=10)), truth) >= 0.95
    approx.ef_search = 1
    assert recall_at(10, ids(approx.search(queries, k=10)), truth) < 0.95  # ef_search is really used


def test_snapshot_is_loaded_not_rebuilt(make_docs, tmp_path):
    docs = make_docs(400, 16)
    with HnswIndexer("s", 16, tmp_path / "ix", m=8) as index:
        index.add(docs)
        before = ids(index.search(vectors(docs[:50]), k=5))
    snapshots = list(tmp_path.glob("ix/hnsw-*"))
    assert len(snapshots) == 1
    reopened = HnswIndexer("s", 16, tmp_path / "ix", m=8)
    assert ids(reopened.search(vectors(docs[:50]), k=5)) == before  # the same graph answers the same
    assert not reopened._vectors.dirty
    reopened.close()
    assert list(tmp_path.glob("ix/hnsw-*")) == snapshots  # nothing changed: no new snapshot


def test_rows_after_the_snapshot_are_caught_up(make_docs, tmp_path):
    docs = make_docs(300, 16)
    first = HnswIndexer("s", 16, tmp_path / "ix")
    first.add(docs[:200])
    first.save()
    first.add(docs[200:])  # never saved: as if the process died here
    first.delete([docs[0].id, docs[250].id])
    (tmp_path / "ix" / "hnsw-leftover-of-a-crash").mkdir()
    index = HnswIndexer("s", 16, tmp_path / "ix")
    assert len(index) == 298
    assert index._vectors.graph.ntotal == 299  # 200 from the snapshot (1 now a tombstone) + the 99 rows added since
    found = ids(index.search(vectors(docs), k=1))
    assert all(f == [d.id] for f, d in zip(found, docs, strict=True) if d.id not in (docs[0].id, docs[250].id))
    index.save()
    assert [p.name for p in tmp_path.glob("ix/hnsw-*")] == [current_snapshot(tmp_path / "ix")]


def current_snapshot(path):
    store = DocumentStore(path, "s", 16, "test")
    try:
        return store.meta()["hnsw_snapshot"]
    finally:
        store.close()


def test_graph_parameters_are_fixed_once_built(make_docs, tmp_path):
    with HnswIndexer("s", 8, tmp_path / "ix", m=8) as index:
        index.add(make_docs(20, 8))
    with pytest.raises(ExecutorError, match=r"built with .*'m': 8.*delete .*hnsw-"):
        len(HnswIndexer("s", 8, tmp_path / "ix", m=16))
    assert len(EmbeddedIndexer("s", 8, tmp_path / "ix")) == 20  # the exact index reads the same folder


@pytest.mark.parametrize("exact_below", [0, 10_000])
def test_filtered_search_by_graph_or_exactly(make_docs, exact_below):
    docs = make_docs(1000, 32, rank=8)
    index = HnswIndexer("s", 32, exact_below=exact_below, m=16, ef_construction=40, ef_search=128)
    index.add(docs)
    index.delete([d.id for d in docs[:100]])
    queries = vectors(docs[:200])
    results = index.search(queries, k=10, filter={"third": "t1"})
    assert all(len(row) == 10 for row in results)
    assert all(m.document.tags["third"] == "t1" and int(m.id[1:]) >= 100 for row in results for m in row)
    exact = EmbeddedIndexer("s", 32)
    exact.add(docs[100:])
    truth = ids(exact.search(queries, k=10, filter={"third": "t1"}))
    assert recall_at(10, ids(results), truth) >= (0.9 if exact_below == 0 else 1.0)


def test_k_larger_than_the_index_returns_only_live_documents(make_docs):
    docs = make_docs(30, 8)
    index = HnswIndexer("s", 8)
    index.add(docs)
    index.delete([d.id for d in docs[10:]])
    rows = index.search(vectors(docs), k=50)
    assert all(sorted(m.id for m in row) == sorted(d.id for d in docs[:10]) for row in rows)
