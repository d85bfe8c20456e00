"""VideoFramesEncoder: videos into the all-MiniLM-L6-v2 space: PyAV decoding, uniform or
scene-change frame sampling, digits-image frame vectors pooled over time.

Each video is decoded (PyAV for files), ``frames`` frames are sampled (``uniform`` or at ``scene``
changes), each frame is encoded by the image encoder ``digits-image`` (same space, so a picture
or, with a text encoder of that space, a word finds the videos that show it), and the frame
vectors are mean-pooled and L2-normalised.

The sampled frames stay with the document as image chunks tagged ``t`` (seconds) and ``frame``,
each with its own embedding, so a search hit can say where in the video it matched
(:func:`modahub_video_frames.frames.locate`). A document that already has such chunks (made by
:func:`~modahub_video_frames.frames.video_document`) is encoded from them as they are.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from modahub.documents import Document
from modahub.executors import Encoder, ExecutorError
from modahub_video_frames.frames import SAMPLINGS, Sampling, frame_chunks, sample

FRAME_ENCODER = "digits-image"


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


class VideoFramesEncoder(Encoder):
    """Videos as the mean of their sampled frames' digits-image vectors; frames kept as timed chunks."""

    name = "video-frames"
    modalities: ClassVar[tuple[str, ...]] = ("video",)
    space = "all-minilm-l6-v2"
    dim = 384
    batch_size = 16

    def __init__(self, sampling: Sampling = "uniform", frames: int = 8, threshold: float = 0.1) -> None:
        if sampling not in SAMPLINGS:
            raise ExecutorError(f"{self.name}: sampling {sampling!r}: choose one of {', '.join(SAMPLINGS)}")
        if not 1 <= int(frames) <= 1024:
            raise ExecutorError(f"{self.name}: frames must be between 1 and 1024, got {frames}")
        if not 0.0 <= float(threshold) < 1.0:
            raise ExecutorError(f"{self.name}: threshold must be in [0, 1), got {threshold}")
        self.sampling, self.frames, self.threshold = sampling, int(frames), float(threshold)

    def _load(self) -> None:
        import modahub

        self._frame_encoder = modahub.load(FRAME_ENCODER)
        if (self._frame_encoder.space, self._frame_encoder.dim) != (self.space, self.dim):
            raise ExecutorError(
                f"{self.name}: {FRAME_ENCODER} has space {self._frame_encoder.space!r} dim {self._frame_encoder.dim}, "
                f"expected {self.space!r} dim {self.dim}"
            )

    def chunks(self, doc: Document) -> list[Document]:
        """The document's frame chunks; sampled from the video (and attached to it) when it has none."""
        timed = [c for c in doc.chunks if c.modality == "image" and "t" in c.tags]
        if not timed:
            try:
                picked = sample(doc.payload, self.sampling, self.frames, self.threshold)  # type: ignore[arg-type]
            except ExecutorError as exc:
                raise ExecutorError(f"{self.name}: document {doc.id!r}: {exc}") from None
            timed = frame_chunks(doc, picked)
            doc.chunks = [*doc.chunks, *timed]
        return timed

    def _encode(self, docs: list[Document]) -> np.ndarray:
        per_doc = [self.chunks(doc) for doc in docs]
        flat = [c for chunks in per_doc for c in chunks]
        vectors = self._frame_encoder.encode(flat)
        pooled, start = [], 0
        for chunks in per_doc:
            own = vectors[start : start + len(chunks)]
            for chunk, vector in zip(chunks, own, strict=True):
                chunk.embedding = vector
            pooled.append(own.mean(axis=0))
            start += len(chunks)
        return _unit(np.stack(pooled)).astype(np.float32)
