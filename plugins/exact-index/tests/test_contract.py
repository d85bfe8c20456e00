"""The executor contract kit."""

from modahub.testing import IndexerContract


class TestExactIndexContract(IndexerContract):
    executor = "exact-index"
