"""Encoders that read a document as text (OCR of an image, speech recognition of a sound) and embed
what they read with a text encoder, so the document lands in that text encoder's space beside the
text it says. What was read is kept on the document in the tag ``text`` (for display and for word
search such as BM25).
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np

from modahub.documents import Document, text
from modahub.executors import Encoder, ExecutorError

TEXT_TAG = "text"
"""The tag that holds what a reading encoder read."""


class ReadingEncoder(Encoder):
    """Base of encoders that turn a document into text and embed it with the text encoder ``text_encoder``.

    Subclasses load their recogniser in :meth:`_load_reader` and implement :meth:`_read`. Space and
    dim are the text encoder's; the class constants state the default one (so manifests can name
    them) and loading refuses a text encoder of another space.
    """

    def __init__(self, text_encoder: str = "minilm-text", **text_params: Any) -> None:
        self.text_encoder, self.text_params = text_encoder, text_params

    def _load(self) -> None:
        import modahub

        self._text = modahub.load(self.text_encoder, **self.text_params)
        if (self._text.space, self._text.dim) != (self.space, self.dim):
            raise ExecutorError(
                f"{self.name}: text encoder {self.text_encoder} has space {self._text.space!r} dim {self._text.dim}; "
                f"this encoder embeds into {self.space!r} dim {self.dim}"
            )
        self._load_reader()

    @abstractmethod
    def _load_reader(self) -> None:
        """Load the recogniser (weights, sessions)."""

    @abstractmethod
    def _read(self, index: int, doc: Document) -> str:
        """The text in document ``index`` of the batch ('' when there is none)."""

    def _encode(self, docs: list[Document]) -> np.ndarray:
        texts = [self._read(i, doc) for i, doc in enumerate(docs)]
        for doc, read in zip(docs, texts, strict=True):
            doc.tags[TEXT_TAG] = read
        return np.asarray(self._text.encode([text(t) for t in texts]))
