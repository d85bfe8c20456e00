"""exact-index: the in-memory option — add, search, replace, delete, filters, save and reopen."""

from __future__ import annotations

import numpy as np
import pytest
from modahub_exact_index import indexer as exact_module
from modahub_exact_index.indexer import ExactIndexer

import modahub
from modahub.executors import ExecutorError, SpaceMismatchError, matches_filter


def make_docs(n, dim, seed=0):
    vectors = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [modahub.text(f"s{i}", id=f"d{i}", embedding=v, tags={"parity": i % 2}) for i, v in enumerate(vectors)]


def brute_force(docs, queries, k, flt=None):
    kept = [d for d in docs if matches_filter(d.tags, flt)]
    scores = queries @ np.stack([d.embedding for d in kept]).T
    return [[kept[j].id for j in np.argsort(-row, kind="stable")[:k]] for row in scores]


def ids(results):
    return [[m.id for m in row] for row in results]


def test_search_is_exact_in_small_blocks_too(monkeypatch):
    docs = make_docs(300, 16)
    queries = np.stack([d.embedding for d in make_docs(40, 16, seed=1)])
    index = modahub.load("exact-index", space="s", dim=16)
    for doc in docs:  # one at a time: the matrix grows geometrically
        index.add([doc])
    expected = brute_force(docs, queries, 5)
    assert ids(index.search(queries, k=5)) == expected
    monkeypatch.setattr(exact_module, "_SCORES_PER_BLOCK", 1000)  # 3 queries per block
    assert ids(index.search(queries, k=5)) == expected
    assert ids(index.search(queries, k=5, filter={"parity": 1})) == brute_force(docs, queries, 5, {"parity": 1})
    assert [len(row) for row in index.search(queries[:2], k=1000)] == [300, 300]


def test_replace_and_delete():
    docs = make_docs(20, 8)
    index = ExactIndexer("s", 8)
    index.add(docs)
    moved = docs[2].model_copy(update={"embedding": -docs[9].embedding})
    index.add([moved, moved])
    assert len(index) == 20 and index.search(moved.embedding, k=1)[0][0].id == "d2"
    assert index.delete(["d2", "d3", "nope"]) == 2
    assert len(index) == 18 and not {"d2", "d3"} & {m.id for m in index.search(moved.embedding, k=20)[0]}


def test_save_and_reopen(tmp_path):
    docs = make_docs(50, 8)
    index = ExactIndexer("s", 8, tmp_path / "ix")
    index.add(docs)
    index.delete(["d0"])
    index.save()
    reopened = ExactIndexer("s", 8, tmp_path / "ix")
    assert len(reopened) == 49
    hit = reopened.search(docs[7].embedding, k=1)[0][0]
    assert hit.id == "d7" and hit.document.payload.text == "s7"
    np.testing.assert_array_equal(hit.document.embedding, docs[7].embedding)
    with pytest.raises(SpaceMismatchError, match="holds space 's' with dim 8"):
        len(ExactIndexer("other", 8, tmp_path / "ix"))
    with pytest.raises(ExecutorError, match="no path"):
        ExactIndexer("s", 8).save()


def test_saved_vectors_are_a_pickle_free_npy_file_and_a_pickled_one_is_refused(tmp_path):
    index = ExactIndexer("s", 8, tmp_path / "ix")
    index.add(make_docs(5, 8))
    index.save()
    saved = np.load(tmp_path / "ix" / "vectors.npy", allow_pickle=False)
    assert saved.dtype == np.float32 and saved.shape == (5, 8)
    np.save(tmp_path / "ix" / "vectors.npy", np.array([object()] * 5), allow_pickle=True)
    with pytest.raises(ValueError, match="pickle"):
        len(ExactIndexer("s", 8, tmp_path / "ix"))
