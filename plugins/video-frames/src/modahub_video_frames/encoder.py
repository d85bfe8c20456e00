"""VideoFramesEncoder: videos through any image encoder (and, optionally, any audio encoder for the
soundtrack): PyAV decoding, uniform or scene-change frame sampling, vectors pooled over time.

Each video is decoded (PyAV for files), ``frames`` frames are sampled (``uniform`` or at ``scene``
changes) and each frame is encoded by the image encoder ``image_encoder`` (default
``digits-image``; e.g. ``ocr-image`` for shown text, ``clip-image`` with its model parameters).
With an ``audio_encoder`` (e.g. ``speech-audio``), the soundtrack is cut into ``audio_window``
second pieces encoded by it. Both encoders must share a space, which becomes the video's. The
video vector is the normalised mean of the frames' mean and the sound pieces' mean.

The sampled frames and sound pieces stay with the document as chunks tagged ``t`` (seconds),
``by`` (``sight`` or ``sound``) and, for frames, ``frame``, each with its own embedding (and the
``text`` tag a reading encoder leaves), so a search hit can say where in the video it matched
and whether by sight or by sound (:func:`modahub_video_frames.frames.locate`). A document that
already has frame chunks (made by :func:`~modahub_video_frames.frames.video_document`) is
encoded from them as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from modahub.documents import Document
from modahub.executors import Encoder, ExecutorError
from modahub_video_frames.frames import AUDIO_RATE, SAMPLINGS, Sampling, audio_track, frame_chunks, sample, sound_chunks


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


class VideoFramesEncoder(Encoder):
    """Videos as pooled frame vectors of an image encoder (and soundtrack vectors of an audio encoder); chunks kept."""

    name = "video-frames"
    modalities: ClassVar[tuple[str, ...]] = ("video",)
    space = "all-minilm-l6-v2"
    dim = 384
    batch_size = 16

    def __init__(
        self,
        sampling: Sampling = "uniform",
        frames: int = 8,
        threshold: float = 0.1,
        image_encoder: str = "digits-image",
        image_params: Mapping[str, Any] | None = None,
        audio_encoder: str | None = None,
        audio_params: Mapping[str, Any] | None = None,
        audio_window: float = 30.0,
    ) -> None:
        if sampling not in SAMPLINGS:
            raise ExecutorError(f"{self.name}: sampling {sampling!r}: choose one of {', '.join(SAMPLINGS)}")
        if not 1 <= int(frames) <= 1024:
            raise ExecutorError(f"{self.name}: frames must be between 1 and 1024, got {frames}")
        if not 0.0 <= float(threshold) < 1.0:
            raise ExecutorError(f"{self.name}: threshold must be in [0, 1), got {threshold}")
        if not 0.5 <= float(audio_window) <= 600.0:
            raise ExecutorError(f"{self.name}: audio_window must be between 0.5 and 600 seconds, got {audio_window}")
        self.sampling, self.frames, self.threshold = sampling, int(frames), float(threshold)
        self.audio_window = float(audio_window)
        self._frame_encoder = self._part(image_encoder, image_params, "image")
        self._sound_encoder = self._part(audio_encoder, audio_params, "audio") if audio_encoder else None
        self.space, self.dim = self._frame_encoder.space, self._frame_encoder.dim
        if self._sound_encoder is not None and (self._sound_encoder.space, self._sound_encoder.dim) != (self.space, self.dim):
            raise ExecutorError(
                f"{self.name}: audio encoder {audio_encoder} has space {self._sound_encoder.space!r} dim "
                f"{self._sound_encoder.dim}, image encoder {image_encoder} has {self.space!r} dim {self.dim}; "
                "pick encoders of one space"
            )

    def _part(self, name: str, params: Mapping[str, Any] | None, modality: str) -> Encoder:
        """An encoder for the frames or the soundtrack (constructed only: weights load on first use)."""
        import modahub

        try:
            encoder = modahub.load(name, **dict(params or {}))
        except (LookupError, TypeError, ValueError) as exc:
            raise ExecutorError(f"{self.name}: {modality} encoder {name!r}: {exc}") from None
        if not isinstance(encoder, Encoder) or modality not in encoder.modalities:
            raise ExecutorError(f"{self.name}: {name!r} is not an encoder of {modality} documents")
        return encoder

    def chunks(self, doc: Document) -> list[Document]:
        """The document's frame (and sound) chunks; sampled from the video (and attached to it) when it has none."""
        timed = [c for c in doc.chunks if c.modality == "image" and "t" in c.tags]
        if not timed:
            try:
                picked = sample(doc.payload, self.sampling, self.frames, self.threshold)  # type: ignore[arg-type]
            except ExecutorError as exc:
                raise ExecutorError(f"{self.name}: document {doc.id!r}: {exc}") from None
            timed = frame_chunks(doc, picked)
            doc.chunks = [*doc.chunks, *timed]
        if self._sound_encoder is None:
            return timed
        sounds = [c for c in doc.chunks if c.modality == "audio" and "t" in c.tags]
        if not sounds:
            track = audio_track(doc.payload)  # type: ignore[arg-type]
            sounds = sound_chunks(doc, track, AUDIO_RATE, self.audio_window) if track is not None else []
            doc.chunks = [*doc.chunks, *sounds]
        return timed + sounds

    def _encode(self, docs: list[Document]) -> np.ndarray:
        per_doc = [self.chunks(doc) for doc in docs]
        vectors: dict[str, np.ndarray] = {}
        for modality, encoder in (("image", self._frame_encoder), ("audio", self._sound_encoder)):
            flat = [c for chunks in per_doc for c in chunks if c.modality == modality]
            if flat and encoder is not None:
                for chunk, vector in zip(flat, encoder.encode(flat), strict=True):
                    chunk.embedding = vector
                    vectors[chunk.id] = vector
        pooled = []
        for chunks in per_doc:
            tracks = [np.mean([vectors[c.id] for c in chunks if c.modality == m], axis=0)
                      for m in ("image", "audio") if any(c.modality == m for c in chunks)]
            pooled.append(_unit(np.stack(tracks)).mean(axis=0) if len(tracks) > 1 else tracks[0])
        return _unit(np.stack(pooled)).astype(np.float32)
