"""The built-in modalities, registered through the same hook that plugins use."""

from __future__ import annotations

from collections.abc import Callable

from modahub.hookspecs import hookimpl
from modahub.modalities import Modality
from modahub.payloads import (
    AudioPayload,
    ImagePayload,
    MeshPayload,
    PointCloudPayload,
    TextPayload,
    TimeSeriesPayload,
    VideoPayload,
)

BUILTIN_MODALITIES = (
    Modality("text", TextPayload, "Unicode text"),
    Modality("image", ImagePayload, "H×W×C uint8 pixels, or an image file"),
    Modality("audio", AudioPayload, "float samples and a sample rate, or a sound file"),
    Modality("video", VideoPayload, "T×H×W×C uint8 frames and fps, or a video file"),
    Modality("mesh", MeshPayload, "triangle mesh: V×3 vertices and F×3 faces"),
    Modality("pointcloud", PointCloudPayload, "N×3 points"),
    Modality("timeseries", TimeSeriesPayload, "T×C values with optional timestamps"),
)


@hookimpl
def register_modalities(register: Callable[[Modality], None]) -> None:
    for modality in BUILTIN_MODALITIES:
        register(modality)
