"""Okapi BM25 over short texts, kept up to date as texts are added and removed.

score(q, d) = Σ_{t ∈ q} idf(t) · tf(t, d) · (k1 + 1) / (tf(t, d) + k1 · (1 − b + b · |d| / avgdl)),
idf(t) = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))  (the non-negative form used by Lucene).
"""

from __future__ import annotations

import math
import re
from collections import Counter

_TOKEN = re.compile(r"\w+")


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens (letters, digits, underscore)."""
    return _TOKEN.findall(text.casefold())


class BM25:
    """An inverted index of term frequencies; :meth:`scores` ranks every text sharing a term with the query."""

    def __init__(self, k1: float = 1.5, b: float = 0.75) -> None:
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1, self.b = k1, b
        self._postings: dict[str, dict[str, int]] = {}  # term -> key -> term frequency
        self._terms: dict[str, list[str]] = {}  # key -> its distinct terms
        self._lengths: dict[str, int] = {}
        self._total = 0

    def __len__(self) -> int:
        return len(self._lengths)

    def add(self, key: str, text: str) -> None:
        """Index ``text`` under ``key`` (replacing what ``key`` held)."""
        self.remove(key)
        terms = Counter(tokenize(text))
        for term, tf in terms.items():
            self._postings.setdefault(term, {})[key] = tf
        self._terms[key] = list(terms)
        self._lengths[key] = sum(terms.values())
        self._total += self._lengths[key]

    def remove(self, key: str) -> bool:
        """Forget ``key``; False when it was not indexed."""
        if key not in self._lengths:
            return False
        for term in self._terms.pop(key):
            del self._postings[term][key]
            if not self._postings[term]:
                del self._postings[term]
        self._total -= self._lengths.pop(key)
        return True

    def scores(self, query: str) -> dict[str, float]:
        """BM25 score of every indexed text that shares at least one term with ``query``."""
        n = len(self._lengths)
        if n == 0:
            return {}
        avgdl = self._total / n or 1.0
        result: dict[str, float] = {}
        for term in set(tokenize(query)):
            keys = self._postings.get(term)
            if not keys:
                continue
            idf = math.log(1.0 + (n - len(keys) + 0.5) / (len(keys) + 0.5))
            for key, tf in keys.items():
                norm = self.k1 * (1.0 - self.b + self.b * self._lengths[key] / avgdl)
                result[key] = result.get(key, 0.0) + idf * tf * (self.k1 + 1.0) / (tf + norm)
        return result
