"""Hook implementations of the embedded-index plugin."""

from collections.abc import Callable

from modahub.hookspecs import hookimpl


@hookimpl
def register_executors(register: Callable[[type], None]) -> None:
    from modahub_embedded_index.indexer import EmbeddedIndexer, HnswIndexer

    register(EmbeddedIndexer)
    register(HnswIndexer)
