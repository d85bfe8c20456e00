"""The executor contract kit."""

from modahub_testing import IndexerContract


class TestExactIndexContract(IndexerContract):
    executor = "exact-index"
