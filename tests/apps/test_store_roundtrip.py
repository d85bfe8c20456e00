"""Every store gives back every value core validation lets in: each tag type at its edges, after a reopen.

Values a store could not hold (NaN, infinities, ints past 64 bits, lone surrogates) are refused
when the document is built (``core/tests/test_untrusted_values.py``); these are the ones accepted.
"""

from __future__ import annotations

import numpy as np
import pytest

import modahub
from modahub.documents import Document, Provenance

EDGES: dict[str, object] = {
    "text": "é ✓ 🙂 \u200b", "empty": "", "nul": "a\x00b", "long": "x" * 10_000,
    "zero": 0, "negative": -1, "int64-max": 2**63 - 1, "int64-min": -(2**63),
    "half": 0.5, "minus-zero": -0.0, "huge": 1e308, "tiny": 5e-324,
    "true": True, "false": False,
}


def _docs(dim: int) -> list[Document]:
    """One document per edge value (tag ``v`` and a unique key), plus one holding them all."""
    rng = np.random.default_rng(0)
    docs = []
    for name, value in [*EDGES.items(), ("all", None)]:
        vector = rng.standard_normal(dim).astype(np.float32)
        tags = dict(EDGES) if value is None else {"v": value, f"key-{name}": name}
        docs.append(modahub.text(f"doc {name}", id=f"id-{name}-ü", tags=tags, embedding=vector / np.linalg.norm(vector)))
    return docs


def _same_tags(got: dict, want: dict) -> None:
    assert got == want
    assert {k: type(v) for k, v in got.items()} == {k: type(v) for k, v in want.items()}  # True stays a bool


@pytest.mark.parametrize("store", ["exact-index", "embedded-index", "hnsw-index"])
def test_vector_stores_give_back_every_accepted_tag_value_after_reopening(store, tmp_path):
    docs = _docs(8)
    index = modahub.load(store, space="s", dim=8, path=tmp_path / "index")
    index.add(docs)
    index.save()
    if hasattr(index, "close"):
        index.close()
    reopened = modahub.load(store, space="s", dim=8, path=tmp_path / "index")
    assert len(reopened) == len(docs)
    vectors = np.stack([d.embedding for d in docs])
    for doc, hits in zip(docs, reopened.search(vectors, k=1), strict=True):
        assert hits[0].id == doc.id
        _same_tags(hits[0].document.tags, doc.tags)
    for doc in docs[:-1]:  # each value found again by a filter on it
        key = next(k for k in doc.tags if k.startswith("key-"))
        (hits,) = reopened.search(vectors[:1], k=3, filter={key: doc.tags[key], "v": doc.tags["v"]})
        assert [h.id for h in hits] == [doc.id], (key, doc.tags["v"])
    if hasattr(reopened, "close"):
        reopened.close()


def test_the_recipe_index_gives_back_every_accepted_tag_value_after_reopening(tmp_path):
    docs = [d.model_copy(update={"embedding": None, "provenance": Provenance(
        plugin="p", plugin_version="1", executor="e", seed=i, prompt=f"prompt {i} {d.id}",
        parameters={"edges": [v for v in EDGES.values()], "nested": {"a": [1.5, {"b": None}]}})})
        for i, d in enumerate(_docs(4))]
    index = modahub.load("recipe-index", path=tmp_path / "recipes")
    index.add(docs)
    index.save()
    reopened = modahub.load("recipe-index", path=tmp_path / "recipes")
    assert len(reopened) == len(docs)
    for doc in docs:
        assert reopened.search_text(doc.provenance.prompt, k=1)[0].id == doc.id
        recipe = reopened.recipe(doc.id)
        _same_tags(recipe.tags, doc.tags)
        assert recipe.provenance == doc.provenance
