"""Hook implementations of the text plugin."""

from collections.abc import Callable

from modahub.hookspecs import hookimpl


@hookimpl
def register_executors(register: Callable[[type], None]) -> None:
    from modahub_text.generate import TextGenerator
    from modahub_text.hf import HFText
    from modahub_text.minilm import MiniLMText

    register(MiniLMText)
    register(HFText)
    register(TextGenerator)
