"""recipe-index: stores recipes only, finds them by prompt words, materializes them identically."""

from __future__ import annotations

import json

import pytest

import modahub
from modahub.executors import ExecutorError
from modahub.recipes import RecipeError, payload_bytes
from modahub_testing import Subject, get_rule, rules_for, run_rule


@pytest.fixture(scope="module")
def generated():
    digits = modahub.load("digits-generator", size=16).generate(["a seven", "a three", "the digit one"], n=3, seed=1)
    tones = modahub.load("tone-generator").generate(["a C major chord on an organ", "a fast bell melody in A minor"], seed=4)
    return digits + tones


def test_finds_recipes_by_prompt_words_and_materializes_them_identically(generated):
    index = modahub.load("recipe-index")
    index.add(generated)
    assert len(index) == len(generated)
    hits = index.search_text("organ chord", k=3)
    assert [h.id for h in hits] == [generated[9].id]  # no other prompt shares a word
    sevens = index.search_text("seven", k=10)
    assert {h.id for h in sevens} == {d.id for d in generated[:3]}
    by_id = {d.id: d for d in generated}
    for hit in [*hits, *sevens]:
        made = index.materialize(hit.id)
        original = by_id[hit.id]
        assert payload_bytes(made.payload) == payload_bytes(original.payload)
        assert made.model_dump_json() == original.model_dump_json()  # id, tags, provenance too


def test_stores_no_payload(generated, tmp_path):
    index = modahub.load("recipe-index", path=tmp_path)
    index.add(generated)
    index.save()
    stored = [json.loads(line) for line in (tmp_path / "recipes.jsonl").read_text().splitlines()]
    assert len(stored) == len(generated)
    assert all(set(r) == {"id", "modality", "tags", "provenance"} for r in stored)
    total = sum(len(d.to_json()) for d in generated)
    assert (tmp_path / "recipes.jsonl").stat().st_size < total / 10


def test_reopens_from_its_path(generated, tmp_path):
    first = modahub.load("recipe-index", path=tmp_path)
    first.add(generated)
    first.save()
    again = modahub.load("recipe-index", path=tmp_path)
    assert len(again) == len(generated)
    hit = again.search_text("bell melody", k=1)[0]
    assert hit.id == generated[10].id
    assert payload_bytes(again.materialize(hit.id).payload) == payload_bytes(generated[10].payload)


def test_tag_filter_delete_and_ranking(generated):
    index = modahub.load("recipe-index")
    index.add(generated)
    hits = index.search_text("a seven three", k=10, filter={"digit": 3})
    assert {h.id for h in hits} == {d.id for d in generated[3:6]}
    assert index.search_text("a seven", k=2)[0].score > index.search_text("a seven", k=10)[-1].score
    assert index.delete([generated[0].id, generated[0].id, "nope"]) == 1
    assert generated[0].id not in {h.id for h in index.search_text("seven")}
    assert index.search_text("violin") == []


def test_refuses_documents_without_a_recipe():
    with pytest.raises(ExecutorError, match="has no provenance"):
        modahub.load("recipe-index").add([modahub.text("hello")])


def test_unknown_ids_and_bad_queries_are_clear(generated):
    index = modahub.load("recipe-index")
    index.add(generated[:1])
    with pytest.raises(ExecutorError, match="no recipe with id 'missing'"):
        index.materialize("missing")
    with pytest.raises(ExecutorError, match="non-empty text"):
        index.search_text("  ")


def test_materializing_a_tampered_recipe_is_refused(generated):
    index = modahub.load("recipe-index")
    doc = generated[0]
    bad = doc.provenance.model_copy(update={"weights": doc.provenance.weights.model_copy(update={"sha256": "0" * 64})})
    index.add([doc.model_copy(update={"provenance": bad})])
    with pytest.raises(RecipeError, match="weights differ"):
        index.materialize(doc.id)


def test_keeps_the_text_indexer_contract():
    from modahub_recipe_index.index import RecipeIndex

    failures = [(r.rule, r.message) for r in (run_rule(rule, Subject(RecipeIndex)) for rule in rules_for("text-indexer"))
                if r.status != "passed"]
    assert rules_for("text-indexer") and failures == []


def test_the_text_indexer_contract_catches_an_index_that_forgets_to_delete():
    from modahub_recipe_index.index import RecipeIndex

    class Forgetful(RecipeIndex):
        def _delete(self, ids: list[str]) -> int:
            return len(ids)

    result = run_rule(get_rule("text-delete"), Subject(Forgetful))
    assert result.status == "failed" and "returned 3, expected 2" in result.message
