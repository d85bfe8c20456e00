"""The executor interfaces, one per kind: Encoder, Indexer, TextIndexer, Segmenter, Generator.

Constructors are cheap; heavy state (weights) is loaded in :meth:`Executor.warm_up`, which the
public methods call on first use. The public methods check their inputs and outputs and call the
``_``-prefixed methods that implementations provide.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from modahub.documents import Document
from modahub.errors import ModahubInputError

if TYPE_CHECKING:
    from typing import Self

Kind = Literal["encoder", "indexer", "text-indexer", "segmenter", "generator"]
KINDS: tuple[Kind, ...] = ("encoder", "indexer", "text-indexer", "segmenter", "generator")
Filter = dict[str, Any]
"""Tag filter: every key must equal the value (or be one of the values, when a list is given)."""


class ExecutorError(ModahubInputError):
    """An executor was given input it does not accept."""


class SpaceMismatchError(ExecutorError):
    """Vectors of different embedding spaces or dimensions were about to be compared."""


def check_same_space(left: tuple[str, int], right: tuple[str, int], *, what: str = "vectors") -> None:
    """Refuse to compare vectors from different spaces or of different dimensions."""
    (lspace, ldim), (rspace, rdim) = left, right
    if lspace != rspace:
        raise SpaceMismatchError(
            f"cannot compare {what}: space {lspace!r} vs {rspace!r}; use encoders of the same space"
        )
    if ldim != rdim:
        raise SpaceMismatchError(f"cannot compare {what}: dimension {ldim} vs {rdim} in space {lspace!r}")


def matches_filter(tags: dict[str, Any], flt: Filter | None) -> bool:
    """True when ``tags`` satisfy the tag filter ``flt``."""
    if not flt:
        return True
    for key, want in flt.items():
        have = tags.get(key)
        if isinstance(want, (list, tuple, set, frozenset)):
            if have not in want:
                return False
        elif have != want:
            return False
    return True


class Executor(ABC):
    """Common base: registry name, kind, accepted modalities, batch size, lazy warm-up."""

    name: ClassVar[str] = ""
    kind: ClassVar[Kind]
    modalities: ClassVar[tuple[str, ...]] = ()
    batch_size: int = 32

    _warm: bool = False

    @classmethod
    def contract_params(cls, workdir: Path) -> dict[str, Any]:
        """Parameters with which the contract kit and ``modahub test``/``publish`` build a test instance.

        Override when the constructor needs arguments (e.g. a model). It may create small files in
        the existing folder ``workdir``, such as a tiny randomly initialised model, and must not
        download anything. Indexers still get ``space``, ``dim`` and ``path`` from the kit.
        """
        return {}

    def warm_up(self) -> None:
        """Load heavy state once; the public methods call it on first use."""
        if not self._warm:
            self._load()
            self._warm = True

    def _load(self) -> None:
        """Load weights or other heavy state; override when there is any."""

    def check_modalities(self, docs: Sequence[Document]) -> None:
        """Raise a clear error for an empty batch or a document of a modality not accepted."""
        if len(docs) == 0:
            raise ExecutorError(f"{self.name or type(self).__name__}: empty batch; pass at least one document")
        if "*" in self.modalities:
            return
        for i, doc in enumerate(docs):
            if not isinstance(doc, Document):
                raise ExecutorError(f"{self.name}: item {i} is a {type(doc).__name__}, expected a modahub Document")
            if doc.modality not in self.modalities:
                raise ExecutorError(
                    f"{self.name}: document {i} (id {doc.id!r}) has modality {doc.modality!r}; "
                    f"this executor accepts {', '.join(self.modalities)}"
                )


class Encoder(Executor):
    """Maps documents to float32 vectors of size ``dim`` in the embedding space ``space``."""

    kind: ClassVar[Kind] = "encoder"
    space: str = ""
    """Embedding space name; a class constant, or set in ``__init__`` when it depends on parameters."""
    dim: int = 0

    def encode(self, docs: Sequence[Document]) -> np.ndarray:
        """Encode ``docs`` into an ``(n, dim)`` float32 array."""
        self.check_modalities(docs)
        self.warm_up()
        vectors = np.asarray(self._encode(list(docs)))
        if vectors.dtype.kind not in "fiu":
            raise ExecutorError(
                f"{self.name}: produced {vectors.dtype.name} values; an encoder returns real numbers (cast to float32)"
            )
        if vectors.shape != (len(docs), self.dim):
            raise ExecutorError(
                f"{self.name}: produced shape {list(vectors.shape)}, contract is ({len(docs)}, {self.dim})"
            )
        return vectors.astype(np.float32, copy=False)

    @abstractmethod
    def _encode(self, docs: list[Document]) -> np.ndarray:
        """Encode a non-empty list of accepted documents."""


class _MatchWire(BaseModel):
    """The JSON form of a :class:`Match` (HTTP responses, the OpenAPI schema)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    id: str
    score: float
    document: Document | None = None


class DocumentSource(Protocol):
    """Where a lazily fetched :class:`Match` gets its document: ``document(key)``, None when gone."""

    def document(self, key: int) -> Document | None: ...


class Match:
    """One search hit: the document id, its similarity score and the stored document.

    Slotted and cheap: an index that keeps documents elsewhere passes a ``source`` and a ``key``
    instead of the document; ``source.document(key)`` runs the first time ``document`` is read
    (a source usually loads the documents of a whole result list at once), so a search whose
    caller needs ids and scores only never parses a document.
    """

    __slots__ = ("id", "score", "_document", "_source", "_key")

    def __init__(
        self,
        id: str,
        score: float,
        document: Document | None = None,
        *,
        source: DocumentSource | None = None,
        key: int = 0,
    ) -> None:
        self.id, self.score = id, score
        self._document, self._source, self._key = document, source, key

    @property
    def document(self) -> Document | None:
        """The stored document (read from the index's source on first access when it fetches lazily)."""
        if self._source is not None:
            self._document, self._source = self._source.document(self._key), None
        return self._document

    @document.setter
    def document(self, value: Document | None) -> None:
        self._document, self._source = value, None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Match):
            return NotImplemented
        return (self.id, self.score, self.document) == (other.id, other.score, other.document)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Match(id={self.id!r}, score={self.score!r})"

    def model_dump(self, **kwargs: Any) -> dict[str, Any]:
        """The JSON-ready dict form (like a pydantic model's)."""
        return _MatchWire(id=self.id, score=self.score, document=self.document).model_dump(**kwargs)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        wire = handler.generate_schema(_MatchWire)

        def from_wire(value: _MatchWire) -> Match:
            return cls(value.id, value.score, value.document)

        def to_wire(match: Match) -> _MatchWire:
            return _MatchWire(id=match.id, score=match.score, document=match.document)

        from_json = core_schema.no_info_after_validator_function(from_wire, wire)
        return core_schema.json_or_python_schema(
            json_schema=from_json,
            python_schema=core_schema.union_schema([core_schema.is_instance_schema(cls), from_json]),
            serialization=core_schema.plain_serializer_function_ser_schema(to_wire, return_schema=wire),
        )


class Store(Executor):
    """What every index shares: documents deleted by id and counted, persistence at ``path``.

    An index constructed with a ``path`` keeps its documents there: :meth:`save` makes everything
    written so far durable, :meth:`close` saves and releases files and memory (a later call opens
    the index again), and ``with index:`` closes it on the way out. An index without a path lives
    in memory only.
    """

    kind: ClassVar[Kind] = "indexer"
    modalities: ClassVar[tuple[str, ...]] = ("*",)
    path: Path | None = None

    def delete(self, ids: Sequence[str]) -> int:
        """Delete documents by id; returns how many were removed."""
        self.warm_up()
        return self._delete(list(ids))

    def __len__(self) -> int:
        self.warm_up()
        return self._count()

    def save(self) -> None:
        """Make every document added or deleted so far durable at ``path``."""
        if self.path is None:
            raise ExecutorError(f"{self.name}: this index has no path; construct it with path=... to keep it")
        self.warm_up()
        self._save()

    def close(self) -> None:
        """Save (when the index has a path) and release what it holds; a later call opens it again."""
        if not self._warm:
            return
        if self.path is not None:
            self._save()
        self._close()
        self._warm = False

    def __enter__(self) -> Self:
        self.warm_up()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def search_documents(self, queries: Sequence[Document], k: int = 10, filter: Filter | None = None) -> list[list[Match]]:
        """The ``k`` best matches for each query document, best first: what a pipeline's search step calls."""

    def _save(self) -> None:
        """Write what is not on disk yet; the default suits indexes that write through on every call."""

    def _close(self) -> None:
        """Release files and memory; override when the index holds any (``_load`` opens them again)."""

    @abstractmethod
    def _delete(self, ids: list[str]) -> int: ...

    @abstractmethod
    def _count(self) -> int: ...


class Indexer(Store):
    """Stores embedded documents and finds the nearest ones to query vectors."""

    def __init__(self, space: str, dim: int, path: str | Path | None = None) -> None:
        if dim <= 0:
            raise ExecutorError(f"{self.name}: dim must be positive, got {dim}")
        self.space, self.dim = space, int(dim)
        self.path = Path(path) if path is not None else None

    def add(self, docs: Sequence[Document]) -> None:
        """Add documents that carry embeddings of this index's dimension."""
        self.check_modalities(docs)
        for i, doc in enumerate(docs):
            if doc.embedding is None:
                raise ExecutorError(f"{self.name}: document {i} (id {doc.id!r}) has no embedding; encode it first")
            if doc.embedding.shape != (self.dim,):
                raise SpaceMismatchError(
                    f"{self.name}: document {i} embedding has dimension {doc.embedding.shape[0]}, index has {self.dim}"
                )
        self.warm_up()
        self._add(list(docs))

    def search(self, queries: np.ndarray, k: int = 10, filter: Filter | None = None) -> list[list[Match]]:
        """The ``k`` best matches for each query vector, best first."""
        q = np.asarray(queries, dtype=np.float32)
        if q.ndim == 1:
            q = q[None, :]
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise SpaceMismatchError(f"{self.name}: queries of shape {list(q.shape)}, index dimension is {self.dim}")
        if k <= 0:
            raise ExecutorError(f"{self.name}: k must be positive, got {k}")
        self.warm_up()
        return self._search(q, k, filter)

    def search_documents(self, queries: Sequence[Document], k: int = 10, filter: Filter | None = None) -> list[list[Match]]:
        """Search with the embeddings of encoded query documents."""
        missing = [q.id for q in queries if q.embedding is None]
        if missing:
            raise ExecutorError(f"{self.name}: query {missing[0]!r} has no embedding; encode the queries first")
        return self.search(np.stack([q.embedding for q in queries if q.embedding is not None]), k=k, filter=filter)

    @abstractmethod
    def _add(self, docs: list[Document]) -> None: ...

    @abstractmethod
    def _search(self, queries: np.ndarray, k: int, filter: Filter | None) -> list[list[Match]]: ...


class TextIndexer(Store):
    """Kind ``text-indexer``: stores documents as they are and ranks them against words (e.g. BM25).

    It has no embedding space: documents go in with :meth:`add` and are found with
    :meth:`search_text`; persistence at ``path`` as for every :class:`Store`.
    """

    kind: ClassVar[Kind] = "text-indexer"

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else None

    def add(self, docs: Sequence[Document]) -> None:
        """Add (or replace, by id) documents."""
        self.check_modalities(docs)
        self.warm_up()
        self._add(list(docs))

    def search_text(self, query: str, k: int = 10, filter: Filter | None = None) -> list[Match]:
        """The ``k`` best matches for ``query``, best first; documents sharing no word with it are left out."""
        if not isinstance(query, str) or not query.strip():
            raise ExecutorError(f"{self.name}: the query must be non-empty text, got {query!r}")
        if k <= 0:
            raise ExecutorError(f"{self.name}: k must be positive, got {k}")
        self.warm_up()
        return self._search_text(query, k, filter)

    def search_documents(self, queries: Sequence[Document], k: int = 10, filter: Filter | None = None) -> list[list[Match]]:
        """Search with the text of text query documents."""
        wrong = [q.id for q in queries if q.modality != "text"]
        if wrong:
            raise ExecutorError(f"{self.name}: query {wrong[0]!r} is not a text document; a text index is queried by words")
        return [self.search_text(str(getattr(q.payload.load(), "text", "")), k, filter) for q in queries]

    @abstractmethod
    def _add(self, docs: list[Document]) -> None: ...

    @abstractmethod
    def _search_text(self, query: str, k: int, filter: Filter | None) -> list[Match]: ...


class Segmenter(Executor):
    """Kind ``segmenter``: splits documents into pieces before encoding (passages, scenes, windows).

    A segmenter reads the documents of its ``modalities`` (``*``: every modality, passing through
    unchanged those it does not split). A piece's id is unique and the same on every run, and it
    keeps its parent's tags.
    """

    kind: ClassVar[Kind] = "segmenter"
    batch_size: int = 256

    def segment(self, doc: Document) -> list[Document]:
        """The pieces of ``doc`` (``[doc]`` when there is nothing to split)."""
        self.check_modalities([doc])
        self.warm_up()
        pieces = self._segment(doc)
        if not pieces or not all(isinstance(p, Document) for p in pieces):
            raise ExecutorError(f"{self.name}: segmenting {doc.id!r} gave no documents; return at least [doc]")
        return pieces

    @abstractmethod
    def _segment(self, doc: Document) -> list[Document]: ...


class Generator(Executor):
    """Makes new documents from prompts; each carries its recipe in ``provenance``."""

    kind: ClassVar[Kind] = "generator"
    output_modality: ClassVar[str] = ""
    example_prompts: ClassVar[tuple[str, ...]] = ()
    """Prompts this generator understands (for docs and the contract); empty when any text will do."""

    def generate(self, prompts: Sequence[str], n: int = 1, seed: int | None = None) -> list[Document]:
        """``n`` documents per prompt; the same seed gives the same documents."""
        if not prompts:
            raise ExecutorError(f"{self.name}: no prompts given")
        if n <= 0:
            raise ExecutorError(f"{self.name}: n must be positive, got {n}")
        self.warm_up()
        seed = int(np.random.default_rng().integers(2**31)) if seed is None else int(seed)
        docs = self._generate(list(prompts), n, seed)
        for doc in docs:
            if doc.provenance is None:
                raise ExecutorError(f"{self.name}: generated document {doc.id!r} lacks provenance")
        return docs

    @abstractmethod
    def _generate(self, prompts: list[str], n: int, seed: int) -> list[Document]: ...

    def parameters(self) -> dict[str, Any]:
        """The constructor parameters to record in provenance (JSON-safe)."""
        return {}
