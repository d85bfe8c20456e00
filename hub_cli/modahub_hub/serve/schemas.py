"""Request and response bodies of the HTTP API (they also make the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modahub.arrays import NDArray
from modahub.documents import Document, TagValue
from modahub.executors import Match

MAX_BATCH = 1024


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class DocsRequest(_Body):
    docs: list[Document] = Field(min_length=1, max_length=MAX_BATCH, description="documents of the app's modalities")


class SearchRequest(_Body):
    queries: list[Document] = Field(min_length=1, max_length=MAX_BATCH, description="query documents, any accepted modality")
    k: int = Field(default=10, ge=1, le=1000, description="matches per query")
    filter: dict[str, TagValue | list[TagValue]] | None = Field(default=None, description="tag filter: key -> value(s)")
    documents: bool = Field(default=True, description="include each match's stored document")


class GenerateRequest(_Body):
    prompts: list[str] = Field(min_length=1, max_length=MAX_BATCH)
    n: int = Field(default=1, ge=1, le=64, description="documents per prompt")
    seed: int | None = Field(default=None, ge=0, description="random seed, recorded in each recipe")
    generator: str | None = Field(default=None, description="which of the app's generators (default: the first)")


class EncodeResponse(_Body):
    ids: list[str]
    space: str
    dim: int
    embeddings: NDArray = Field(description="float32 array (n, dim), rows in request order")


class IndexResponse(_Body):
    indexed: list[str]
    index_size: int


class SearchResponse(_Body):
    results: list[list[Match]]


class GenerateResponse(_Body):
    documents: list[Document]
    indexed: bool


class Problem(_Body):
    detail: list[dict[str, Any]] | str
