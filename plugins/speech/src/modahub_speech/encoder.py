"""``speech-audio``: spoken English transcribed by pocketsphinx and embedded by ``minilm-text``."""

from __future__ import annotations

from typing import Any, ClassVar

from modahub.documents import Document
from modahub.executors import ExecutorError
from modahub.reading import ReadingEncoder

MAX_SECONDS = 600.0


class SpeechAudioEncoder(ReadingEncoder):
    """A spoken sentence lands beside its text in the all-MiniLM-L6-v2 space; the transcript is kept in tags['text']."""

    name: ClassVar[str] = "speech-audio"
    modalities: ClassVar[tuple[str, ...]] = ("audio",)
    space = "all-minilm-l6-v2"
    dim = 384
    batch_size = 8

    def __init__(
        self,
        beam: float = 1e-40,
        word_beam: float = 1e-30,
        second_pass: bool = False,
        text_encoder: str = "minilm-text",
        **text_params: Any,
    ) -> None:
        """``beam``/``word_beam``: pocketsphinx pruning (smaller is slower and searches more);
        ``second_pass``: also run its flat-lexicon search; ``text_encoder`` (+ its parameters): embeds the transcript."""
        for label, value in (("beam", beam), ("word_beam", word_beam)):
            if not 0.0 < float(value) < 1.0:
                raise ExecutorError(f"{self.name}: {label} must be in (0, 1), e.g. 1e-40; got {value}")
        super().__init__(text_encoder, **text_params)
        self.beam, self.word_beam, self.second_pass = float(beam), float(word_beam), bool(second_pass)

    def _load_reader(self) -> None:
        from modahub_speech.recogniser import Sphinx

        self._sphinx = Sphinx(self.beam, self.word_beam, self.second_pass)

    def _read(self, index: int, doc: Document) -> str:
        return self._sphinx.transcribe(*spoken_samples(self.name, index, doc))


def spoken_samples(executor: str, index: int, doc: Document) -> tuple[Any, int]:
    """The samples and sample rate of audio document ``index``, checked (present, at most ``MAX_SECONDS``)."""
    payload = doc.payload.load()
    samples, rate = payload.samples, payload.sample_rate  # type: ignore[union-attr]
    if samples is None or not rate:
        raise ExecutorError(f"{executor}: document {index} (id {doc.id!r}) has no samples or no sample_rate")
    if len(samples) / rate > MAX_SECONDS:
        raise ExecutorError(
            f"{executor}: document {index} (id {doc.id!r}) is {len(samples) / rate:.0f} s long; "
            f"split audio longer than {MAX_SECONDS:.0f} s into segments first"
        )
    return samples, int(rate)
