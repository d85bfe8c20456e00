"""Hook implementations of the toy plugin."""

from collections.abc import Callable

from modahub.hookspecs import hookimpl


@hookimpl
def register_executors(register: Callable[[type], None]) -> None:
    from modahub_apptoys import toys

    for cls in (toys.ToyText, toys.ToyImage, toys.ToyAudio, toys.OtherText, toys.ToyDraw, toys.ToyTally, toys.ToySeries):
        register(cls)


@hookimpl
def register_modalities(register: Callable[[object], None]) -> None:
    from modahub.modalities import Modality
    from modahub_apptoys import toys

    register(Modality("tally", toys.TallyPayload, "tally marks: a count and who counted (test toy)"))
