"""The shared tolerance helpers: what they accept and what they catch."""

from __future__ import annotations

import numpy as np
import pytest

from modahub_testing import assert_same_hits, assert_vectors_close


def test_vectors_within_tolerance_pass_and_beyond_fail() -> None:
    a = np.array([[0.9051482677, 0.1], [0.2, 0.3]], dtype=np.float32)
    assert_vectors_close(a + np.float32(1e-7), a)  # the 7th-digit differences seen across BLAS thread counts
    with pytest.raises(AssertionError, match=r"max \|difference\| 0.001 at index \(1, 0\)"):
        assert_vectors_close(a + np.array([[0, 0], [1e-3, 0]], dtype=np.float32), a)
    with pytest.raises(AssertionError, match="shapes differ"):
        assert_vectors_close(a[:1], a)


def test_hits_compare_ids_in_order_and_scores_within_tolerance() -> None:
    expected = [[("a", 0.9), ("b", 0.8), ("c", 0.7)]]
    assert_same_hits([[("a", 0.9 + 1e-7), ("b", 0.8), ("c", 0.7 - 1e-7)]], expected)
    assert_same_hits([[{"id": "a", "score": 0.9}, {"id": "b", "score": 0.8}, {"id": "c", "score": 0.7}]], expected)
    with pytest.raises(AssertionError, match=r"query 0, hits 1..1: ids \['c'\] != \['b'\]"):
        assert_same_hits([[("a", 0.9), ("c", 0.8), ("b", 0.7)]], expected)
    with pytest.raises(AssertionError, match="score"):
        assert_same_hits([[("a", 0.9), ("b", 0.81), ("c", 0.7)]], expected)
    with pytest.raises(AssertionError, match="2 hits != 3"):
        assert_same_hits([[("a", 0.9), ("b", 0.8)]], expected)
    with pytest.raises(AssertionError, match="result rows"):
        assert_same_hits([], expected)


def test_tied_scores_may_swap_and_a_tie_at_the_end_may_bring_another_id() -> None:
    expected = [[("a", 0.9), ("b", 0.5), ("c", 0.5), ("d", 0.2), ("e", 0.1), ("f", 0.1)]]
    assert_same_hits([[("a", 0.9), ("c", 0.5), ("b", 0.5000001), ("d", 0.2), ("e", 0.1), ("g", 0.1)]], expected)
    with pytest.raises(AssertionError, match="hits 1..2"):  # a tie in the middle still needs the same ids
        assert_same_hits([[("a", 0.9), ("c", 0.5), ("x", 0.5), ("d", 0.2), ("e", 0.1), ("f", 0.1)]], expected)
