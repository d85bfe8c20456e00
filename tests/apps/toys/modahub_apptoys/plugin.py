"""Hook implementations of the toy plugin."""

from collections.abc import Callable

from modahub.hookspecs import hookimpl


@hookimpl
def register_executors(register: Callable[[type], None]) -> None:
    from modahub_apptoys import toys

    for cls in (toys.ToyText, toys.ToyImage, toys.ToyAudio, toys.OtherText, toys.ToyDraw):
        register(cls)
