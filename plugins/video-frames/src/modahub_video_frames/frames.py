"""Frames of a video: decoding with PyAV, uniform and scene-change sampling, frame chunks, locating a hit.

A sampled frame becomes an image *chunk* of its video document, tagged with where it is:
``t`` (seconds from the start) and ``frame`` (its index in the video). The encoder embeds the
chunks and pools them, so a search hit carries the vectors to say which moment matched best
(:func:`locate`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from modahub.documents import Document
from modahub.executors import ExecutorError
from modahub.payloads import VideoPayload, local_path

Sampling = Literal["uniform", "scene"]
SAMPLINGS: tuple[str, ...] = ("uniform", "scene")
THUMB = 32
"""Side of the grey thumbnails that scene-change detection compares."""
AUDIO_RATE = 16000
"""Rate at which a soundtrack is decoded for the audio encoder."""


@dataclass(frozen=True)
class Frame:
    """One decoded frame: its index in the video, its time in seconds and its H×W×C uint8 pixels."""

    index: int
    time: float
    pixels: np.ndarray


def _thumbnail(pixels: np.ndarray) -> np.ndarray:
    """A THUMB×THUMB grey version in [0, 1] (nearest neighbour), cheap to compare."""
    grey = pixels[..., :3].mean(axis=2) / 255.0 if pixels.shape[2] >= 3 else pixels[..., 0] / 255.0
    rows = np.arange(THUMB) * grey.shape[0] // THUMB
    cols = np.arange(THUMB) * grey.shape[1] // THUMB
    return grey[rows][:, cols]


def _open(uri: str) -> Any:
    """The PyAV container of a video file; a clear error when it is not one."""
    import av

    try:
        return av.open(str(local_path(uri)))
    except av.error.FFmpegError as exc:
        raise ExecutorError(f"{uri}: PyAV cannot open it as a video: {exc}") from None


def decode(payload: VideoPayload) -> Iterator[Frame]:
    """Every frame of a video payload in order: inline frames at ``fps``, or a file decoded with PyAV."""
    if payload.frames is not None:
        fps = float(payload.fps or 1.0)
        for i, pixels in enumerate(payload.frames):
            yield Frame(i, i / fps, pixels)
        return
    if payload.uri is None:
        raise ExecutorError("video payload has neither frames nor a uri")
    with _open(payload.uri) as container:
        if not container.streams.video:
            raise ExecutorError(f"{payload.uri}: the file has no video stream")
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 25)
        for i, frame in enumerate(container.decode(stream)):
            time = float(frame.time) if frame.time is not None else i / rate
            yield Frame(i, time, frame.to_ndarray(format="rgb24"))


def sample(payload: VideoPayload, sampling: Sampling = "uniform", frames: int = 8, threshold: float = 0.1) -> list[Frame]:
    """Pick at most ``frames`` frames of a video.

    ``uniform``: evenly spaced over the whole video (first and last included). ``scene``: the first
    frame, then every frame whose thumbnail differs from the previous frame's by more than
    ``threshold`` (mean absolute grey difference in [0, 1]); when there are more cuts than
    ``frames``, the strongest are kept, in time order.
    """
    if sampling not in SAMPLINGS:
        raise ExecutorError(f"sampling {sampling!r}: choose one of {', '.join(SAMPLINGS)}")
    if frames < 1:
        raise ExecutorError(f"frames must be at least 1, got {frames}")
    if sampling == "uniform":
        everything = list(decode(payload))
        if not everything:
            raise ExecutorError("the video has no frames")
        picks = np.unique(np.round(np.linspace(0, len(everything) - 1, min(frames, len(everything)))).astype(int))
        return [everything[i] for i in picks]
    cuts: list[tuple[float, Frame]] = []
    previous: np.ndarray | None = None
    for frame in decode(payload):
        thumb = _thumbnail(frame.pixels)
        change = np.inf if previous is None else float(np.abs(thumb - previous).mean())
        if change > threshold:
            cuts.append((change, frame))
        previous = thumb
    if not cuts:
        raise ExecutorError("the video has no frames")
    strongest = sorted(range(len(cuts)), key=lambda i: -cuts[i][0])[:frames]
    return [cuts[i][1] for i in sorted(strongest)]


def frame_chunks(doc: Document, picked: list[Frame]) -> list[Document]:
    """Image documents of the picked frames, id ``<video id>@<frame>``, tagged ``t``, ``frame``, ``parent``
    and ``by`` = ``sight``."""
    return [
        Document(
            id=f"{doc.id}@{f.index}",
            modality="image",
            payload={"pixels": np.ascontiguousarray(f.pixels)},
            tags={**doc.tags, "parent": doc.id, "frame": f.index, "t": round(f.time, 6), "by": "sight"},
        )
        for f in picked
    ]


def audio_track(payload: VideoPayload, rate: int = AUDIO_RATE) -> np.ndarray | None:
    """The first audio stream of a video file as mono float32 samples at ``rate`` Hz (None when it has none)."""
    if payload.uri is None:
        return None
    import av

    with _open(payload.uri) as container:
        if not container.streams.audio:
            return None
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        parts = []
        for frame in container.decode(container.streams.audio[0]):
            parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
        parts += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(parts).astype(np.float32) if parts else None


def sound_chunks(doc: Document, samples: np.ndarray, rate: int, window: float) -> list[Document]:
    """Audio documents of consecutive ``window``-second pieces of a soundtrack, id ``<video id>@sound<n>``,
    tagged ``t`` (start, seconds), ``parent`` and ``by`` = ``sound``; silent pieces are left out."""
    step = max(1, int(round(window * rate)))
    chunks = []
    for n, start in enumerate(range(0, len(samples), step)):
        piece = samples[start : start + step]
        if len(piece) < rate // 10 or float(np.abs(piece).max()) < 1e-3:
            continue
        chunks.append(Document(
            id=f"{doc.id}@sound{n}",
            modality="audio",
            payload={"samples": np.ascontiguousarray(piece), "sample_rate": rate},
            tags={**doc.tags, "parent": doc.id, "t": round(start / rate, 6), "by": "sound"},
        ))
    return chunks


def video_document(
    source: str | np.ndarray,
    *,
    fps: float | None = None,
    sampling: Sampling = "uniform",
    frames: int = 8,
    threshold: float = 0.1,
    **fields: object,
) -> Document:
    """A video document (from a file path or T×H×W×C uint8 frames at ``fps``) with its sampled frames as chunks."""
    payload = {"uri": str(source)} if isinstance(source, str) else {"frames": source, "fps": fps}
    doc = Document(modality="video", payload=payload, **fields)  # type: ignore[arg-type]
    doc.chunks = frame_chunks(doc, sample(doc.payload, sampling, frames, threshold))  # type: ignore[arg-type]
    return doc


@dataclass(frozen=True)
class Moment:
    """Where in a video a query matched: the chunk's time, frame index (-1 for sound), similarity, and
    whether by ``sight`` (a frame) or by ``sound`` (a piece of the soundtrack)."""

    time: float
    frame: int
    score: float
    by: str = "sight"


def locate(doc: Document, query: np.ndarray) -> list[Moment]:
    """The frames and soundtrack pieces of a matched video document ranked by similarity to ``query`` (best first).

    Uses the chunk embeddings that the video-frames encoder stored; a document without them (not
    encoded by it) raises ExecutorError.
    """
    chunks = [c for c in doc.chunks if c.embedding is not None and "t" in c.tags]
    if not chunks:
        raise ExecutorError(f"document {doc.id!r} has no embedded frame chunks; encode it with video-frames first")
    vectors = np.stack([c.embedding for c in chunks])
    if vectors.shape[1] != np.asarray(query).shape[-1]:
        raise ExecutorError(f"query of dimension {np.asarray(query).shape[-1]}, frame vectors have {vectors.shape[1]}")
    scores = vectors @ np.asarray(query, dtype=np.float32).ravel()
    order = np.argsort(-scores, kind="stable")
    return [Moment(float(chunks[i].tags["t"]), int(chunks[i].tags.get("frame", -1)), float(scores[i]),
                   str(chunks[i].tags.get("by", "sight"))) for i in order]


def write_video(path: str, frames: np.ndarray, fps: float, codec: str = "libx264",
                audio: tuple[np.ndarray, int] | None = None) -> None:
    """Write T×H×W×3 uint8 frames to a video file with PyAV (H and W even for the default codec), and
    optionally a soundtrack ``audio`` = (mono float samples in [-1, 1], rate) as AAC."""
    import fractions

    import av

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[3] != 3 or frames.dtype != np.uint8:
        raise ExecutorError(f"frames: expected a T×H×W×3 uint8 array, got shape {list(frames.shape)} {frames.dtype}")
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream(codec, rate=fractions.Fraction(fps).limit_denominator(1001))
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p"
        sound = container.add_stream("aac", rate=int(audio[1])) if audio is not None else None
        for pixels in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        container.mux(stream.encode())
        if sound is not None and audio is not None:
            samples = np.ascontiguousarray(np.asarray(audio[0], dtype=np.float32).reshape(1, -1))
            chunk = av.AudioFrame.from_ndarray(samples, format="flt", layout="mono")
            chunk.sample_rate = int(audio[1])
            container.mux(sound.encode(chunk))
            container.mux(sound.encode())
