"""The multimodal document: one pydantic model for every modality."""

from __future__ import annotations

import math
import uuid
from typing import Annotated, Any

import numpy as np
from pydantic import (
    AfterValidator,
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

INT64 = (-(2**63), 2**63 - 1)
"""The range of integer tag values: what every store (SQLite included) can hold exactly."""


def _utf8(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from None
    return value


def _tag_value(value: str | int | float | bool) -> str | int | float | bool:
    """Refuse what a store could not give back: NaN/infinities, ints beyond 64 bits, invalid Unicode."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"tag values must be finite numbers, got {value}")
    if isinstance(value, int) and not isinstance(value, bool) and not INT64[0] <= value <= INT64[1]:
        raise ValueError("integer tag values must fit in 64 bits (-2**63 .. 2**63-1)")
    return _utf8(value) if isinstance(value, str) else value


Text = Annotated[str, AfterValidator(_utf8)]
"""A string every store can encode (UTF-8)."""
TagValue = Annotated[str | int | float | bool, AfterValidator(_tag_value)]
"""A tag value: text, a 64-bit integer, a finite float or a boolean."""


def _finite_json(value: Any) -> Any:
    """Refuse NaN/infinities anywhere inside a JSON-like value (walked without recursion)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            raise ValueError(f"numbers must be finite, got {item}")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return value


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
    parameters: Annotated[dict[str, Any], AfterValidator(_finite_json)] = Field(default_factory=dict)


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

    id: Text = Field(default_factory=lambda: uuid.uuid4().hex, min_length=1)
    modality: str
    payload: Payload
    embedding: NDArray | None = None
    tags: dict[Text, TagValue] = Field(default_factory=dict)
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
