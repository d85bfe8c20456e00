"""Hook implementations of the audio plugin."""

from collections.abc import Callable

from modahub.hookspecs import hookimpl


@hookimpl
def register_executors(register: Callable[[type], None]) -> None:
    from modahub_audio.clap import ClapAudioEncoder, ClapTextEncoder
    from modahub_audio.encoder import DigitsAudioEncoder

    register(DigitsAudioEncoder)
    register(ClapAudioEncoder)
    register(ClapTextEncoder)
