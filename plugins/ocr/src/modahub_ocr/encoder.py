"""``ocr-image``: images of text read by PP-OCR and embedded by ``minilm-text`` (all-MiniLM-L6-v2 space)."""

from __future__ import annotations

from typing import Any, ClassVar

from modahub.documents import Document
from modahub.executors import ExecutorError
from modahub.reading import ReadingEncoder


class OcrImageEncoder(ReadingEncoder):
    """A photo of a page, a sign or a screenshot lands beside what it says; the text read is kept in tags['text']."""

    name: ClassVar[str] = "ocr-image"
    modalities: ClassVar[tuple[str, ...]] = ("image",)
    space = "all-minilm-l6-v2"
    dim = 384
    batch_size = 8

    def __init__(
        self,
        max_side: int = 960,
        threads: int | None = None,
        min_score: float = 0.5,
        upside_down: bool = False,
        text_encoder: str = "minilm-text",
        **text_params: Any,
    ) -> None:
        """``max_side``: longest image side the text detector sees (larger finds smaller print, slower);
        ``threads``: ONNX Runtime threads (default one per core); ``min_score``: lines recognised with a
        lower confidence are dropped; ``upside_down``: also turn lines that read upside down (its classifier
        flips some upright lines); ``text_encoder`` (+ its parameters): embeds what was read."""
        if not 32 <= int(max_side) <= 4096:
            raise ExecutorError(f"{self.name}: max_side must be between 32 and 4096 pixels, got {max_side}")
        if not 0.0 <= float(min_score) <= 1.0:
            raise ExecutorError(f"{self.name}: min_score must be in [0, 1], got {min_score}")
        super().__init__(text_encoder, **text_params)
        self.max_side, self.threads, self.min_score = int(max_side), threads, float(min_score)
        self.upside_down = bool(upside_down)

    def _load_reader(self) -> None:
        from modahub_ocr.reader import PPOCR

        self._reader = PPOCR(self.max_side, self.threads, self.min_score, self.upside_down)

    def _read(self, index: int, doc: Document) -> str:
        pixels = doc.payload.load().pixels  # type: ignore[union-attr]
        if pixels is None or min(pixels.shape[:2]) < 4:
            raise ExecutorError(f"{self.name}: document {index} (id {doc.id!r}) has no image of at least 4×4 pixels")
        return self._reader.read(pixels).text
