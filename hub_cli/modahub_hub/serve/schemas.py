"""Request and response bodies of the HTTP API (they also make the OpenAPI schema).

The response models here are generic (any document); the client parses answers with them.
:func:`app_models` builds the models of one app: its documents are a union, discriminated by
``modality``, of one model per modality whose ``payload`` is that modality's own schema, so the
OpenAPI schema shows every field a request may carry, plugin modalities included.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, create_model

from modahub.arrays import NDArray
from modahub.documents import Document, TagValue
from modahub.executors import Match
from modahub.payloads import Payload
from modahub_hub.appfile import ServeSpec

MAX_BATCH = 1024


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


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


def _variant(name: str, payload: type[Payload]) -> type[Document]:
    title = "".join(part.capitalize() for part in name.replace("-", "_").split("_"))
    return create_model(
        f"{title}Document", __base__=Document, __doc__=f"A {name!r} document.",
        modality=(Literal[name], ...),  # type: ignore[valid-type, arg-type]  # a Literal of a run-time value
        payload=(payload, ...),
        chunks=(list["AnyDocument"], Field(default_factory=list)),  # type: ignore[name-defined, maybe-unrecognized-str-typeform]  # noqa: F821 (rebuilt)
    )


def _modality(value: Any) -> str | None:
    return value.get("modality") if isinstance(value, dict) else getattr(value, "modality", None)


def _union(variants: dict[str, type[Document]], what: str) -> Any:
    """One of ``variants``, picked by ``modality``; an unknown one is refused with the accepted list."""
    tagged = tuple(Annotated[v, Tag(name)] for name, v in variants.items())
    message = f"unknown modality; {what} {', '.join(variants)}"
    return Annotated[Union[tagged], Discriminator(_modality, custom_error_type="modality",  # noqa: UP007
                                                  custom_error_message=message)]


@dataclass(frozen=True)
class AppModels:
    """The request and (documented) response models of one app."""

    DocsRequest: type[BaseModel]
    SearchRequest: type[BaseModel]
    GenerateRequest: type[BaseModel]
    SearchResponse: type[BaseModel]
    GenerateResponse: type[BaseModel]


def app_models(accepted: Iterable[str], known: Mapping[str, type[Payload]], limits: ServeSpec) -> AppModels:
    """Models for an app whose requests carry ``accepted`` modalities ("*": any of ``known``).

    ``known`` maps every registered modality to its payload schema (answers may hold any of them).
    """
    variants = {name: _variant(name, payload) for name, payload in sorted(known.items())}
    any_document = _union(variants, "known modalities are")
    for variant in variants.values():
        variant.model_rebuild(_types_namespace={"AnyDocument": any_document})
    wanted = sorted(known) if "*" in accepted else sorted(set(accepted) & set(known))
    doc = _union({m: variants[m] for m in wanted}, "this app accepts")
    docs = list[doc]  # type: ignore[valid-type]
    most, text = limits.max_docs, limits.max_text_chars
    docs_request = create_model(
        "DocsRequest", __base__=_Body,
        docs=(docs, Field(min_length=1, max_length=most, description=f"documents of the app's modalities ({', '.join(wanted)})")),
    )
    search_request = create_model(
        "SearchRequest", __base__=SearchRequest,
        queries=(docs, Field(min_length=1, max_length=most, description="query documents, any accepted modality")),
    )
    generate_request = create_model(
        "GenerateRequest", __base__=GenerateRequest,
        prompts=(list[Annotated[str, Field(max_length=text)]], Field(min_length=1, max_length=most)),
    )
    match = create_model("Match", id=(str, ...), score=(float, ...), document=(any_document | None, None))  # type: ignore[valid-type]
    search_response = create_model("SearchResponse", __base__=SearchResponse, results=(list[list[match]], ...))
    generate_response = create_model("GenerateResponse", __base__=GenerateResponse,
                                     documents=(list[any_document], ...))  # type: ignore[valid-type]
    return AppModels(docs_request, search_request, generate_request, search_response, generate_response)
