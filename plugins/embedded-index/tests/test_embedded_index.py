"""embedded-index (the default) and what both persistent indexers share: add, search, delete, filters, reopen, crashes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from modahub_embedded_index import vectors as vectors_module
from modahub_embedded_index.indexer import EmbeddedIndexer, HnswIndexer

import modahub
from modahub.executors import ExecutorError, SpaceMismatchError, matches_filter

BOTH = ["embedded-index", "hnsw-index"]


def vectors(docs):
    return np.stack([d.embedding for d in docs])


def brute_force(docs, queries, k, flt=None):
    kept = [d for d in docs if matches_filter(d.tags, flt)]
    scores = queries @ vectors(kept).T
    return [[kept[j].id for j in np.argsort(-row, kind="stable")[:k]] for row in scores]


@pytest.mark.parametrize("executor", BOTH)
def test_search_returns_stored_documents_best_first(executor, make_docs, tmp_path):
    docs = make_docs(200, 16)
    index = modahub.load(executor, space="s", dim=16, path=tmp_path / "ix")
    index.add(docs)
    assert len(index) == 200
    results = index.search(vectors(docs[:20]), k=5)
    for doc, hits in zip(docs[:20], results, strict=True):
        assert [h.id for h in hits][0] == doc.id and len(hits) == 5
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
        top = hits[0].document
        assert (top.payload.text, top.tags) == (doc.payload.text, doc.tags)
        np.testing.assert_array_equal(top.embedding, doc.embedding)
        for hit in hits:
            assert hit.score == pytest.approx(float(doc.embedding @ hit.document.embedding), abs=1e-5)


@pytest.mark.parametrize("small_blocks", [False, True])
def test_exact_search_equals_brute_force(make_docs, tmp_path, monkeypatch, small_blocks):
    if small_blocks:  # several query blocks, and filtered rows gathered in several blocks whose top-k are merged
        monkeypatch.setattr(vectors_module, "_SCORES_PER_BLOCK", 2000)
        monkeypatch.setattr(vectors_module, "_BLOCK", 40)
    docs = make_docs(500, 16, seed=1)
    queries = np.stack([d.embedding for d in make_docs(30, 16, seed=2)])
    index = EmbeddedIndexer("s", 16, tmp_path / "ix")
    index.add(docs)
    assert [[m.id for m in row] for row in index.search(queries, k=7)] == brute_force(docs, queries, 7)
    flt = {"third": ["t0", "t2"], "parity": 1}
    assert [[m.id for m in row] for row in index.search(queries, k=7, filter=flt)] == brute_force(docs, queries, 7, flt)


@pytest.mark.parametrize("executor", BOTH)
def test_adding_an_existing_id_replaces_it(executor, make_docs):
    docs = make_docs(50, 8)
    index = modahub.load(executor, space="s", dim=8)
    index.add(docs)
    moved = docs[3].model_copy(update={"embedding": docs[40].embedding * -1, "tags": {"parity": 7}})
    index.add([moved, moved])
    assert len(index) == 50
    hit = index.search(moved.embedding, k=1)[0][0]
    assert (hit.id, hit.document.tags) == (moved.id, {"parity": 7})
    assert [m.id for m in index.search(docs[3].embedding, k=50)[0]].count(moved.id) == 1


@pytest.mark.parametrize("executor", BOTH)
def test_delete_removes_for_good(executor, make_docs):
    docs = make_docs(60, 8)
    index = modahub.load(executor, space="s", dim=8)
    index.add(docs)
    gone = {d.id for d in docs[::3]}
    assert index.delete([*gone, "never-stored"]) == len(gone)
    assert index.delete(list(gone)) == 0
    assert len(index) == 60 - len(gone)
    found = {m.id for row in index.search(vectors(docs), k=60) for m in row}
    assert found == {d.id for d in docs} - gone


@pytest.mark.parametrize("executor", BOTH)
def test_tag_filters_follow_core_semantics(executor, make_docs):
    docs = make_docs(90, 8)
    docs[0] = docs[0].model_copy(update={"tags": {"n": 1}})
    docs[1] = docs[1].model_copy(update={"tags": {"n": 1.0}})
    docs[2] = docs[2].model_copy(update={"tags": {"n": True}})
    docs[3] = docs[3].model_copy(update={"tags": {"n": "1"}})
    index = modahub.load(executor, space="s", dim=8)
    index.add(docs)
    queries = vectors(docs[:4])
    for flt in ({"parity": 1}, {"third": ["t1", "t2"], "parity": 0}, {"n": 1}, {"n": "1"}, {"n": None},
                {"n": [None, "1"]}, {"third": []}, {"missing": "x"}):
        got = [{m.id for m in row} for row in index.search(queries, k=90, filter=flt)]
        want = {d.id for d in docs if matches_filter(d.tags, flt)}
        assert all(g == want for g in got), flt
    with pytest.raises(ExecutorError, match="filter"):
        index.search(queries, k=3, filter={"parity": {"gt": 1}})


@pytest.mark.parametrize("executor", BOTH)
def test_reopen_finds_everything_again(executor, make_docs, tmp_path):
    docs = make_docs(120, 8)
    with modahub.load(executor, space="s", dim=8, path=tmp_path / "ix") as index:
        index.add(docs)
        index.delete([docs[5].id])
    reopened = modahub.load(executor, space="s", dim=8, path=tmp_path / "ix")
    assert len(reopened) == 119
    tops = [row[0].id for row in reopened.search(vectors(docs), k=1)]
    assert tops[:5] + tops[6:] == [d.id for d in docs if d.id != docs[5].id]
    assert tops[5] != docs[5].id
    assert reopened.search(docs[7].embedding, k=1, filter={"parity": 1})[0][0].document.payload.text == "sentence d7"


@pytest.mark.parametrize("executor", BOTH)
def test_another_instance_sees_committed_writes(executor, make_docs, tmp_path):
    docs = make_docs(40, 8)
    writer = modahub.load(executor, space="s", dim=8, path=tmp_path / "ix")
    reader = modahub.load(executor, space="s", dim=8, path=tmp_path / "ix")
    writer.add(docs[:20])
    assert len(reader) == 20
    writer.add(docs[20:])
    writer.delete([docs[0].id])
    assert len(reader) == 39
    assert reader.search(docs[30].embedding, k=1)[0][0].id == docs[30].id
    assert docs[0].id not in {m.id for m in reader.search(docs[0].embedding, k=40)[0]}


@pytest.mark.parametrize("executor", BOTH)
def test_reopening_with_another_space_or_dim_is_refused(executor, make_docs, tmp_path):
    modahub.load(executor, space="text-a", dim=8, path=tmp_path / "ix").add(make_docs(3, 8))
    for space, dim in (("text-b", 8), ("text-a", 16)):
        with pytest.raises(SpaceMismatchError, match=r"holds space 'text-a' with dim 8.*opened as space"):
            len(modahub.load(executor, space=space, dim=dim, path=tmp_path / "ix"))
    with pytest.raises(SpaceMismatchError, match="dimension"):
        modahub.load(executor, space="text-a", dim=8).add(make_docs(1, 4))


def test_bad_paths_and_parameters_are_refused(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ExecutorError, match="is a file"):
        len(EmbeddedIndexer("s", 4, tmp_path / "file"))
    with pytest.raises(ExecutorError, match="no path"):
        EmbeddedIndexer("s", 4).save()
    with pytest.raises(ExecutorError, match="ef_search"):
        HnswIndexer("s", 4, ef_search=0)
    with pytest.raises(ExecutorError, match="cache_size"):
        EmbeddedIndexer("s", 4, cache_size=-1)


@pytest.mark.parametrize("executor", BOTH)
def test_acknowledged_add_survives_sigkill(executor, killed_after_add, tmp_path: Path):
    killed_after_add(executor, tmp_path / "ix", 35)
    index = modahub.load(executor, space="s", dim=8, path=tmp_path / "ix")
    assert len(index) == 35
    rng = np.random.default_rng(7)
    expected = rng.standard_normal((35, 8)).astype(np.float32)
    for i in (0, 17, 34):
        hit = index.search(expected[i], k=1, filter={"batch": i // 10 * 10})[0][0]
        assert hit.id == f"k{i}"
        np.testing.assert_array_equal(hit.document.embedding, expected[i])


def test_documents_are_cached_up_to_cache_size(make_docs):
    docs = make_docs(30, 8)
    index = EmbeddedIndexer("s", 8, cache_size=5)
    index.add(docs)
    first = index.search(docs[0].embedding, k=1)[0][0].document
    assert index.search(docs[0].embedding, k=1)[0][0].document is first
    [hit.document for hits in index.search(vectors(docs[1:]), k=1) for hit in hits]
    assert len(index._cache) == 5 and index.search(docs[0].embedding, k=1)[0][0].document is not first


def test_a_search_reads_documents_only_when_a_hit_asks(make_docs, monkeypatch):
    docs = make_docs(30, 8)
    index = EmbeddedIndexer("s", 8)
    index.add(docs)
    reads = []
    real = index._documents
    monkeypatch.setattr(index, "_documents", lambda rowids: reads.append(len(rowids)) or real(rowids))
    results = index.search(vectors(docs[:4]), k=3)
    assert [hits[0].id for hits in results] == [d.id for d in docs[:4]] and reads == []
    assert results[2][0].document.payload.text == docs[2].payload.text
    assert [h.document.id for hits in results for h in hits] == [h.id for hits in results for h in hits]
    assert reads == [len({h.id for hits in results for h in hits})], "one read for the whole result list"
    index.delete([results[0][1].id])
    assert results[0][1].document is not None, "documents of one search come from one read"
