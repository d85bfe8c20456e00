"""Hook implementations of the exact-index plugin."""

from collections.abc import Callable

from modahub.hookspecs import hookimpl


@hookimpl
def register_executors(register: Callable[[type], None]) -> None:
    from modahub_exact_index.indexer import ExactIndexer

    register(ExactIndexer)
