"""The executor contract kit, one class per executor."""

from modahub_testing import IndexerContract


class TestEmbeddedIndexContract(IndexerContract):
    executor = "embedded-index"


class TestHnswIndexContract(IndexerContract):
    executor = "hnsw-index"
