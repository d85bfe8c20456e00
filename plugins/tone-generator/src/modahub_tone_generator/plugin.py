"""Hook implementations of the tone-generator plugin."""

from collections.abc import Callable

from modahub.hookspecs import hookimpl


@hookimpl
def register_executors(register: Callable[[type], None]) -> None:
    from modahub_tone_generator.generator import ToneGenerator

    register(ToneGenerator)
