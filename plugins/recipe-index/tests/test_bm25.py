"""BM25 scoring against hand-computed values, ranking properties, incremental updates."""

from __future__ import annotations

import math

import pytest
from modahub_recipe_index.bm25 import BM25, tokenize


def test_tokenize_lowercases_words():
    assert tokenize("A Seven, and 7!") == ["a", "seven", "and", "7"]


def test_score_matches_the_formula():
    bm25 = BM25(k1=1.2, b=0.75)
    bm25.add("a", "red red bell")
    bm25.add("b", "blue bell melody tune")
    bm25.add("c", "green organ")
    avgdl = (3 + 4 + 2) / 3
    idf_red = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))
    idf_bell = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))

    def term(idf: float, tf: int, dl: int) -> float:
        return idf * tf * 2.2 / (tf + 1.2 * (1 - 0.75 + 0.75 * dl / avgdl))

    scores = bm25.scores("red bell")
    assert set(scores) == {"a", "b"}
    assert scores["a"] == pytest.approx(term(idf_red, 2, 3) + term(idf_bell, 1, 3))
    assert scores["b"] == pytest.approx(term(idf_bell, 1, 4))


def test_rarer_terms_and_shorter_texts_rank_higher():
    bm25 = BM25()
    for key, text in {"1": "a seven", "2": "a seven seven", "3": "a three", "4": "a long story about a seven"}.items():
        bm25.add(key, text)
    scores = bm25.scores("seven")
    assert scores["2"] > scores["1"] > scores["4"]  # more occurrences, then shorter
    assert bm25.scores("three")["3"] > bm25.scores("seven")["1"]  # rarer term


def test_replace_and_remove_keep_statistics_exact():
    grown, fresh = BM25(), BM25()
    grown.add("x", "old words here")
    grown.add("y", "a bell")
    grown.add("x", "a chord")  # replaces
    grown.add("z", "temporary bell")
    assert grown.remove("z") and not grown.remove("z")
    fresh.add("y", "a bell")
    fresh.add("x", "a chord")
    assert len(grown) == len(fresh) == 2
    assert grown.scores("a bell chord old") == pytest.approx(fresh.scores("a bell chord old"))
    assert "x" not in grown.scores("old")


@pytest.mark.parametrize(("k1", "b"), [(-1, 0.5), (1.2, 1.5)])
def test_bad_constants_are_refused(k1, b):
    with pytest.raises(ValueError, match="BM25 needs"):
        BM25(k1, b)
