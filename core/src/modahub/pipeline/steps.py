"""Pipeline steps, the typed flows between them, and the built-in segmenter.

A :class:`Step` names an executor by its registry name (``uses``) with parameters (``with`` in
YAML). What travels along an edge is described by a :class:`Flow`: documents (of some modalities,
raw or embedded in a space of some dimension), prompts, or search matches. Build-time validation
compares the flow a step receives with the flow it expects.
"""

from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modahub.documents import Document
from modahub.executors import ExecutorError, Segmenter

_STEP_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}$")
INPUT = "input"
"""The name under which the pipeline's own input appears in messages and ``needs``."""

_REPR = reprlib.Repr()
_REPR.maxlevel, _REPR.maxdict, _REPR.maxlist, _REPR.maxtuple, _REPR.maxset = 3, 8, 8, 8, 8
_REPR.maxstring, _REPR.maxother, _REPR.maxlong = 80, 80, 40


def brief(value: Any, limit: int = 300) -> str:
    """``value`` for an error message, never longer than ``limit`` characters (strings as they are, others repr'd).

    App files and requests come from anyone: a message must not render an unbounded value.
    """
    text = value if isinstance(value, str) else _REPR.repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Step(BaseModel):
    """One named step: an executor (by registry name) with its parameters and the steps it reads from.

    ``needs`` empty means the step reads the pipeline input. ``op`` picks what an index step does
    (``add``, the default, or ``search``); other kinds have a single operation.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str
    uses: str = Field(max_length=128, description="registry name of an executor, e.g. 'minilm-text', or a built-in segmenter")
    params: dict[str, Any] = Field(default_factory=dict, alias="with")
    needs: list[Annotated[str, Field(max_length=128)]] = Field(default_factory=list)
    op: Literal["add", "search"] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _STEP_NAME.match(value) or value == INPUT:
            raise ValueError(f"step name {brief(value, 80)!r} must be letters, digits, '-' or '_' (and not {INPUT!r})")
        return value

    def label(self) -> str:
        """``'name' (uses)`` for messages."""
        return f"step {self.name!r} ({self.uses})"


FlowKind = Literal["docs", "prompts", "matches"]


@dataclass(frozen=True)
class Flow:
    """What a step outputs: its kind, modalities (None: whatever arrives) and embedding space."""

    kind: FlowKind
    source: str
    modalities: frozenset[str] | None = None
    space: str | None = None
    dim: int | None = None

    @property
    def embedded(self) -> bool:
        return self.space is not None

    def describe(self) -> str:
        """Human words for messages, e.g. ``embedded image documents (space 'x', dim 8)``."""
        if self.kind != "docs":
            return self.kind
        mods = "any-modality" if self.modalities is None else "/".join(sorted(self.modalities))
        if self.embedded:
            return f"embedded {mods} documents (space {self.space!r}, dim {self.dim})"
        return f"raw {mods} documents"

    def origin(self) -> str:
        return "the pipeline input" if self.source == INPUT else f"step {self.source!r}"


class TextPassages(Segmenter):
    """Split long texts into passages of ``words`` words (overlapping by ``overlap``).

    A passage gets the id ``<parent id>#<n>`` and the tags of its parent plus ``parent`` and
    ``passage``; a text no longer than one passage is kept as it is.
    """

    name = "text-passages"
    modalities = ("*",)

    def __init__(self, words: int = 64, overlap: int = 0) -> None:
        if words <= 0 or not 0 <= overlap < words:
            raise ExecutorError(f"text-passages: need words > 0 and 0 <= overlap < words, got words={words}, overlap={overlap}")
        self.words, self.overlap = int(words), int(overlap)

    def _segment(self, doc: Document) -> list[Document]:
        if doc.modality != "text":
            return [doc]
        tokens = (doc.payload.load().text or "").split()  # type: ignore[attr-defined]
        if len(tokens) <= self.words:
            return [doc]
        stride = self.words - self.overlap
        starts = range(0, max(len(tokens) - self.overlap, 1), stride)
        return [
            Document(
                id=f"{doc.id}#{n}",
                modality="text",
                payload={"text": " ".join(tokens[s : s + self.words])},
                tags={**doc.tags, "parent": doc.id, "passage": n},
            )
            for n, s in enumerate(starts)
        ]


SEGMENTERS: dict[str, type[Segmenter]] = {TextPassages.name: TextPassages}
"""Core's own executors by name (no plugin needed); every other ``uses`` resolves through the plugin registry,
where third parties declare segmenters of their own (kind ``segmenter``)."""
