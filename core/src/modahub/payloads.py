"""Typed, shape-checked payloads of the built-in modalities.

Each payload holds its data inline or a ``uri`` to load it from; :meth:`Payload.load` reads the
URI lazily with an optional library (Pillow, soundfile, PyAV, trimesh) imported only then.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlparse

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from modahub.arrays import NDArray
from modahub.errors import ModahubError


class MissingExtraError(ModahubError, ImportError):
    """An optional library needed to load a payload is not installed."""


def _require(module: str, extra: str) -> Any:
    try:
        return __import__(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"loading this payload needs the '{module}' package; install it with "
            f"pip install 'modahub-core[{extra}]'"
        ) from exc


def local_path(uri: str) -> Path:
    """Resolve a ``file://`` URI or a plain path to a local file that exists."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("", "file"):
        raise ValueError(f"uri {uri!r}: only local files (plain paths or file://) can be loaded")
    path = Path(parsed.path if parsed.scheme == "file" else uri)
    if not path.is_file():
        raise FileNotFoundError(f"uri {uri!r}: no such file {path}")
    return path


def _check_array(name: str, array: np.ndarray, *, ndim: tuple[int, ...], dtypes: tuple[str, ...],
                 last: tuple[int, ...] | None = None, expected: str) -> None:
    if array.ndim not in ndim:
        raise ValueError(f"{name}: expected {expected}, got an array of shape {list(array.shape)}")
    if array.dtype.name not in dtypes:
        raise ValueError(f"{name}: expected dtype {' or '.join(dtypes)} ({expected}), got {array.dtype.name}")
    if last is not None and array.shape[-1] not in last:
        raise ValueError(f"{name}: expected {expected}, got last axis of size {array.shape[-1]}")


class Payload(BaseModel):
    """Base of every payload: data inline, or a ``uri`` to load it from.

    A payload's fields may be of any type pydantic validates (str, numbers, :data:`NDArray`,
    nested models, lists of them). ``data_fields`` names those that together make the data: each
    is declared optional (``smiles: str | None = None``) so that a payload can be a bare ``uri``,
    and a payload without a ``uri`` must give them all. :meth:`read` fills them from the ``uri``.
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True, frozen=False)
    data_fields: ClassVar[tuple[str, ...]] = ()
    uri: str | None = None

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        unknown = [f for f in cls.data_fields if f not in cls.model_fields]
        if unknown:
            raise TypeError(f"{cls.__qualname__}.data_fields names {unknown}, which are not fields of the payload")
        required = [f for f in cls.data_fields if cls.model_fields[f].is_required()]
        if required:
            raise TypeError(f"{cls.__qualname__}: data fields {required} need a default (e.g. '= None') so that "
                            "a payload can be given as a uri alone")

    @model_validator(mode="after")
    def _data_or_uri(self) -> Payload:
        if self.uri is None and any(getattr(self, f) is None for f in self.data_fields):
            missing = [f for f in self.data_fields if getattr(self, f) is None]
            raise ValueError(f"missing payload: give {', '.join(missing)} or a uri to load it from")
        self.check()
        return self

    def check(self) -> None:
        """Check shapes and dtypes of the inline data; subclasses override."""

    @property
    def is_loaded(self) -> bool:
        return all(getattr(self, f) is not None for f in self.data_fields)

    def load(self) -> Payload:
        """Return this payload with its data present, reading ``uri`` if needed."""
        if self.is_loaded:
            return self
        assert self.uri is not None
        return type(self).model_validate({**self.model_dump(exclude_none=True), **self.read(self.uri)})

    def read(self, uri: str) -> dict[str, Any]:
        """Read the data fields from ``uri``; subclasses that support URIs override."""
        raise NotImplementedError(f"{type(self).__name__} cannot be loaded from a uri")


class TextPayload(Payload):
    data_fields = ("text",)
    text: str | None = None

    def read(self, uri: str) -> dict[str, Any]:
        return {"text": local_path(uri).read_text(encoding="utf-8")}


class ImagePayload(Payload):
    """An H×W×C uint8 image (C = 1, 3 or 4)."""

    data_fields = ("pixels",)
    pixels: NDArray | None = None

    def check(self) -> None:
        if self.pixels is not None:
            _check_array("pixels", self.pixels, ndim=(3,), dtypes=("uint8",), last=(1, 3, 4),
                         expected="an H×W×C uint8 array with C in 1, 3, 4")

    def read(self, uri: str) -> dict[str, Any]:
        path = local_path(uri)
        pil = _require("PIL.Image", "image")
        with pil.Image.open(path) as img:
            pixels = np.asarray(img.convert("RGB" if img.mode not in ("L", "RGBA") else img.mode))
        return {"pixels": pixels[..., None] if pixels.ndim == 2 else pixels}


class AudioPayload(Payload):
    """Float samples (N, or N×channels) at ``sample_rate`` Hz."""

    data_fields = ("samples", "sample_rate")
    samples: NDArray | None = None
    sample_rate: int | None = Field(default=None, gt=0, le=10_000_000)

    def check(self) -> None:
        if self.samples is not None:
            _check_array("samples", self.samples, ndim=(1, 2), dtypes=("float32", "float64"),
                         expected="float samples of shape (N,) or (N, channels)")

    def read(self, uri: str) -> dict[str, Any]:
        path = local_path(uri)
        if path.suffix.lower() == ".wav":
            with wave.open(str(path)) as w:
                if w.getsampwidth() != 2:
                    raise ValueError(f"uri {uri!r}: only 16-bit PCM wav is read without soundfile")
                raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
                channels, rate = w.getnchannels(), w.getframerate()
            samples = raw.reshape(-1, channels) if channels > 1 else raw
            return {"samples": samples, "sample_rate": rate}
        sf = _require("soundfile", "audio")
        samples, rate = sf.read(str(path), dtype="float32")
        return {"samples": samples, "sample_rate": int(rate)}


class VideoPayload(Payload):
    """T×H×W×C uint8 frames at ``fps`` frames per second."""

    data_fields = ("frames", "fps")
    frames: NDArray | None = None
    fps: float | None = Field(default=None, gt=0, allow_inf_nan=False)

    def check(self) -> None:
        if self.frames is not None:
            _check_array("frames", self.frames, ndim=(4,), dtypes=("uint8",), last=(1, 3, 4),
                         expected="a T×H×W×C uint8 array with C in 1, 3, 4")

    def read(self, uri: str) -> dict[str, Any]:
        path = local_path(uri)
        av = _require("av", "video")
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
            fps = float(stream.average_rate or 25)
        return {"frames": np.stack(frames), "fps": fps}


class MeshPayload(Payload):
    """A triangle mesh: V×3 float vertices and F×3 integer faces."""

    data_fields = ("vertices", "faces")
    vertices: NDArray | None = None
    faces: NDArray | None = None

    def check(self) -> None:
        if self.vertices is not None:
            _check_array("vertices", self.vertices, ndim=(2,), dtypes=("float32", "float64"), last=(3,),
                         expected="a V×3 float array")
        if self.faces is not None:
            _check_array("faces", self.faces, ndim=(2,), dtypes=("int32", "int64", "uint32"), last=(3,),
                         expected="an F×3 integer array")
            if self.vertices is not None and self.faces.size and int(self.faces.max()) >= len(self.vertices):
                raise ValueError(f"faces: index {int(self.faces.max())} out of range for {len(self.vertices)} vertices")

    def read(self, uri: str) -> dict[str, Any]:
        path = local_path(uri)
        trimesh = _require("trimesh", "mesh")
        mesh = trimesh.load(str(path), force="mesh")
        return {"vertices": np.asarray(mesh.vertices), "faces": np.asarray(mesh.faces)}


class PointCloudPayload(Payload):
    """An N×3 float point cloud."""

    data_fields = ("points",)
    points: NDArray | None = None

    def check(self) -> None:
        if self.points is not None:
            _check_array("points", self.points, ndim=(2,), dtypes=("float32", "float64"), last=(3,),
                         expected="an N×3 float array")

    def read(self, uri: str) -> dict[str, Any]:
        path = local_path(uri)
        trimesh = _require("trimesh", "mesh")
        loaded = trimesh.load(str(path))
        return {"points": np.asarray(loaded.vertices)}


class TimeSeriesPayload(Payload):
    """T×C float values with optional increasing timestamps of length T."""

    data_fields = ("values",)
    values: NDArray | None = None
    timestamps: NDArray | None = None

    def check(self) -> None:
        if self.values is not None:
            _check_array("values", self.values, ndim=(2,), dtypes=("float32", "float64"),
                         expected="a T×C float array (T time steps, C channels)")
        if self.timestamps is not None:
            _check_array("timestamps", self.timestamps, ndim=(1,), dtypes=("float32", "float64", "int64"),
                         expected="a 1-D array of length T")
            if self.values is not None and len(self.timestamps) != len(self.values):
                raise ValueError(f"timestamps: length {len(self.timestamps)} != {len(self.values)} time steps")
            if np.any(np.diff(self.timestamps) <= 0):
                raise ValueError("timestamps: must be strictly increasing")

    def read(self, uri: str) -> dict[str, Any]:
        path = local_path(uri)
        values = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
        return {"values": values}
