"""Sharded indexes: one index per shard folder, documents placed by id, searches merged to the single index's answer."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from modahub_embedded_index.indexer import EmbeddedIndexer, HnswIndexer
from modahub_embedded_index.shards import shard_of

from modahub.executors import ExecutorError
from modahub_testing import assert_same_hits


def vectors(docs):
    return np.stack([d.embedding for d in docs])


def test_sharded_exact_search_equals_one_index(make_docs, tmp_path):
    docs = make_docs(600, 32, seed=1)
    queries = vectors(make_docs(40, 32, seed=2, prefix="q"))
    single = EmbeddedIndexer("s", 32, tmp_path / "one")
    single.add(docs)
    with EmbeddedIndexer("s", 32, tmp_path / "three", shards=3) as sharded:
        sharded.add(docs[:250])
        sharded.add(docs[250:])
        assert len(sharded) == 600 and sharded.shard_count == 3
        counts = [len(sharded.shard(i)) for i in range(3)]
        assert sum(counts) == 600 and min(counts) > 150  # spread by id hash
        for flt in (None, {"parity": 1}, {"third": ["t0", "t2"]}):
            assert_same_hits(sharded.search(queries, k=10, filter=flt), single.search(queries, k=10, filter=flt))
    assert sorted(p.name for p in (tmp_path / "three").iterdir() if p.is_dir()) == ["shard-000", "shard-001", "shard-002"]
    reopened = EmbeddedIndexer("s", 32, tmp_path / "three")  # the folder says how many shards it has
    assert reopened.shard_count == 3 and len(reopened) == 600
    assert_same_hits(reopened.search(queries, k=5), single.search(queries, k=5))


def test_replace_and_delete_reach_the_shard_that_holds_the_id(make_docs, tmp_path):
    docs = make_docs(50, 8)
    index = EmbeddedIndexer("s", 8, tmp_path / "ix", shards=4)
    index.add(docs)
    moved = docs[7].model_copy(update={"embedding": -docs[7].embedding})
    index.add([moved])
    assert len(index) == 50
    hit = index.search(-docs[7].embedding, k=1)[0][0]
    assert hit.id == docs[7].id and hit.score == pytest.approx(1.0, abs=1e-5)
    assert index.delete([docs[7].id, docs[8].id, "missing"]) == 2 and len(index) == 48
    home = shard_of(docs[7].id, 4)
    assert len(index.shard(home)) == len(EmbeddedIndexer("s", 8, tmp_path / "ix" / f"shard-{home:03d}"))


def test_shard_of_is_stable_across_processes():
    ids = [f"doc-{i}" for i in range(20)]
    code = f"from modahub_embedded_index.shards import shard_of; print([shard_of(i, 7) for i in {ids!r}])"
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123", "PATH": ""}).stdout
    assert other.strip() == str([shard_of(i, 7) for i in ids])


def test_sharded_hnsw_keeps_its_recall(make_docs, tmp_path):
    docs = make_docs(2000, 64, seed=3, rank=16)
    queries = vectors(make_docs(200, 64, seed=4, rank=16))
    exact = EmbeddedIndexer("s", 64)
    exact.add(docs)
    truth = [[m.id for m in row] for row in exact.search(queries, k=10)]
    with HnswIndexer("s", 64, tmp_path / "h", shards=2) as sharded:
        sharded.add(docs)
    reopened = HnswIndexer("s", 64, tmp_path / "h")  # graphs come back from each shard's snapshot
    found = [[m.id for m in row] for row in reopened.search(queries, k=10)]
    assert np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]) >= 0.95
    reopened.ef_search = 1  # the search-time parameter reaches the shards
    found = [[m.id for m in row] for row in reopened.search(queries, k=10)]
    assert np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]) < 0.95


def test_a_shard_count_that_does_not_fit_is_refused(make_docs, tmp_path):
    EmbeddedIndexer("s", 8, tmp_path / "two", shards=2).add(make_docs(10, 8))
    with pytest.raises(ExecutorError, match="holds 2 shards, the app asks for 3"):
        EmbeddedIndexer("s", 8, tmp_path / "two", shards=3).warm_up()
    EmbeddedIndexer("s", 8, tmp_path / "one").add(make_docs(10, 8))
    with pytest.raises(ExecutorError, match="cannot be split in place"):
        EmbeddedIndexer("s", 8, tmp_path / "one", shards=2).warm_up()
    with pytest.raises(ExecutorError, match="more than 1 needs a path"):
        EmbeddedIndexer("s", 8, shards=2)
