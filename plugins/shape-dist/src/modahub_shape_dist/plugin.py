"""Hook implementations of modahub-shape-dist: what it registers must match modahub.toml."""

from collections.abc import Callable

from modahub.hookspecs import hookimpl


@hookimpl
def register_executors(register: Callable[[type], None]) -> None:
    from modahub_shape_dist.encoder import ShapeDistEncoder
    from modahub_shape_dist.generator import ShapeGenerator

    register(ShapeDistEncoder)
    register(ShapeGenerator)
