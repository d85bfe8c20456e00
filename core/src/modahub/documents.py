"""The multimodal document: one pydantic model for every modality."""

from __future__ import annotations

import uuid
from typing import Any

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializationInfo,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)

from modahub import modalities
from modahub.arrays import NDArray
from modahub.payloads import Payload

TagValue = str | int | float | bool


class WeightsPin(BaseModel):
    """Which weights made a generated document: repository, revision and file hash."""

    repo: str
    revision: str
    sha256: str


class Provenance(BaseModel):
    """The recipe of a generated document; regenerating from it gives the same output."""

    model_config = ConfigDict(extra="forbid")
    plugin: str
    plugin_version: str
    executor: str
    weights: WeightsPin | None = None
    seed: int
    prompt: str
    parameters: dict[str, Any] = Field(default_factory=dict)


def _payload_errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in ("payload", *err["loc"]))
        parts.append(f"{loc}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


class Document(BaseModel):
    """A piece of content of one modality, with optional embedding, tags, chunks and provenance.

    ``payload`` is validated against the schema of ``modality`` (built-in or from a plugin).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    id: str = Field(default_factory=lambda: uuid.uuid4().hex, min_length=1)
    modality: str
    payload: Payload
    embedding: NDArray | None = None
    tags: dict[str, TagValue] = Field(default_factory=dict)
    chunks: list[Document] = Field(default_factory=list)
    provenance: Provenance | None = None

    @model_validator(mode="before")
    @classmethod
    def _typed_payload(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if "modality" not in data:
            raise ValueError("modality: field required (e.g. 'text', 'image', 'audio')")
        if "payload" not in data or data["payload"] is None:
            raise ValueError(f"payload: missing payload for a {data['modality']!r} document")
        try:
            schema = modalities.get(data["modality"]).payload
        except modalities.UnknownModalityError as exc:
            raise ValueError(f"modality: {exc}") from None
        payload = data["payload"]
        if isinstance(payload, schema):
            return data
        if isinstance(payload, Payload):
            raise ValueError(
                f"payload: a {type(payload).__name__} does not fit modality {data['modality']!r}, "
                f"which expects {schema.__name__}"
            )
        try:
            typed = schema.model_validate(payload)
        except ValidationError as exc:
            raise ValueError(_payload_errors(exc)) from None
        return {**data, "payload": typed}

    @field_validator("embedding")
    @classmethod
    def _embedding_vector(cls, value: np.ndarray | None) -> np.ndarray | None:
        if value is not None and (value.ndim != 1 or value.dtype.kind != "f"):
            raise ValueError(f"expected a 1-D float vector, got shape {list(value.shape)} {value.dtype.name}")
        return None if value is None else value.astype(np.float32, copy=False)

    def load(self) -> Document:
        """A copy whose payload data is present (read lazily from its uri)."""
        return self.model_copy(update={"payload": self.payload.load()})

    def to_json(self) -> str:
        """JSON text (arrays exact, base64)."""
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str | bytes) -> Document:
        """Parse the JSON made by :meth:`to_json`."""
        return cls.model_validate_json(text)

    @field_serializer("payload")
    def _payload_fields(self, payload: Payload, info: SerializationInfo) -> dict[str, Any]:
        return payload.model_dump(mode=info.mode, exclude_none=True)


def text(value: str, **fields: Any) -> Document:
    """A text document."""
    return Document(modality="text", payload={"text": value}, **fields)


def image(pixels: Any = None, *, uri: str | None = None, **fields: Any) -> Document:
    """An image document from an H×W×C uint8 array or a file."""
    return Document(modality="image", payload={"pixels": pixels, "uri": uri}, **fields)


def audio(samples: Any = None, sample_rate: int | None = None, *, uri: str | None = None, **fields: Any) -> Document:
    """An audio document from float samples at a sample rate, or a file."""
    return Document(modality="audio", payload={"samples": samples, "sample_rate": sample_rate, "uri": uri}, **fields)
