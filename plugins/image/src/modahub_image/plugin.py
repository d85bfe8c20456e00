"""Hook implementations of the image plugin."""

from collections.abc import Callable

from modahub.hookspecs import hookimpl


@hookimpl
def register_executors(register: Callable[[type], None]) -> None:
    from modahub_image.clip import ClipImageEncoder, ClipTextEncoder
    from modahub_image.diffusion import DiffusionImageGenerator
    from modahub_image.digits import DigitsImageEncoder

    register(DigitsImageEncoder)
    register(ClipImageEncoder)
    register(ClipTextEncoder)
    register(DiffusionImageGenerator)
