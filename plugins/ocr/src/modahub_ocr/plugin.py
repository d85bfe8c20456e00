"""Hook implementations of modahub-ocr: what it registers must match modahub.toml."""

from collections.abc import Callable

from modahub.hookspecs import hookimpl


@hookimpl
def register_executors(register: Callable[[type], None]) -> None:
    from modahub_ocr.encoder import OcrImageEncoder

    register(OcrImageEncoder)
