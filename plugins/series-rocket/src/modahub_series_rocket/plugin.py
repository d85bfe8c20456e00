"""Hook implementations of modahub-series-rocket: what it registers must match modahub.toml."""

from collections.abc import Callable

from modahub.hookspecs import hookimpl


@hookimpl
def register_executors(register: Callable[[type], None]) -> None:
    from modahub_series_rocket.encoder import SeriesRocketEncoder

    register(SeriesRocketEncoder)
