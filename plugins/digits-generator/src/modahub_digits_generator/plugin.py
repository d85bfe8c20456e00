"""Hook implementations of the digits-generator plugin."""

from collections.abc import Callable

from modahub.hookspecs import hookimpl


@hookimpl
def register_executors(register: Callable[[type], None]) -> None:
    from modahub_digits_generator.generator import DigitsGenerator

    register(DigitsGenerator)
