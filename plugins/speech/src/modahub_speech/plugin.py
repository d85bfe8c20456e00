"""Hook implementations of modahub-speech: what it registers must match modahub.toml."""

from collections.abc import Callable

from modahub.hookspecs import hookimpl


@hookimpl
def register_executors(register: Callable[[type], None]) -> None:
    from modahub_speech.encoder import SpeechAudioEncoder
    from modahub_speech.whisper import WhisperAudioEncoder

    register(SpeechAudioEncoder)
    register(WhisperAudioEncoder)
