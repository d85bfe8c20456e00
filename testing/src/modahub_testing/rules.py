"""The executor contract: named rules that every Encoder, Indexer and Generator must keep.

Each rule is a function of a :class:`Subject` (the executor class, its manifest entry and how to
build it) that raises :class:`ContractViolation` naming the rule when the executor breaks it.
``modahub test`` runs them through :func:`run_rule`; the pytest classes in
:mod:`modahub_testing.contracts` run the same functions, one test per rule.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np

from modahub.documents import Document, Provenance
from modahub.errors import ModahubVerificationError
from modahub.executors import (
    Encoder,
    Executor,
    ExecutorError,
    Generator,
    Indexer,
    Segmenter,
    TextIndexer,
    matches_filter,
)
from modahub.manifest import ExecutorSpec
from modahub.payloads import TextPayload
from modahub.reading import TEXT_TAG, ReadingEncoder
from modahub_testing import fresh
from modahub_testing.compare import assert_vectors_close
from modahub_testing.samples import sample_documents

BATCH = 5
INDEX_SPACE, INDEX_DIM = "modahub-contract", 8
PROMPTS = ["a quiet harbor at dawn", "copper lattice in the rain"]
RuleStatus = Literal["passed", "failed"]


class ContractViolation(ModahubVerificationError, AssertionError):
    """An executor broke a contract rule; the message starts with the rule's id."""

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(f"[{rule}] {detail}")
        self.rule, self.detail = rule, detail


@dataclass
class Subject:
    """An executor under test: its class, manifest entry, constructor parameters and sample maker."""

    cls: type[Executor]
    spec: ExecutorSpec | None = None
    params: dict[str, Any] = field(default_factory=dict)
    samples: Callable[[str, int, int], list[Document]] = sample_documents
    workdir: Path | None = None

    @property
    def kind(self) -> str:
        """The rule set: the executor's kind."""
        return self.cls.kind

    @property
    def prompts(self) -> list[str]:
        """Two prompts for a generator: its ``example_prompts``, or generic ones when any text will do."""
        examples = list(getattr(self.cls, "example_prompts", ()))
        return examples[:2] if len(examples) >= 2 else PROMPTS

    def make(self, **overrides: Any) -> Any:
        """A fresh instance (indexers get the contract space and dim unless given)."""
        params = {**self.params, **overrides}
        if self.kind == "indexer":
            params.setdefault("space", INDEX_SPACE)
            params.setdefault("dim", INDEX_DIM)
        return self.cls(**params)

    def scratch(self, name: str) -> Path:
        """An empty folder for persistence checks."""
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="modahub-contract-"))
        path = self.workdir / name
        path.mkdir(parents=True, exist_ok=False)
        return path


def contract_params(cls: type[Executor], workdir: Path) -> dict[str, Any]:
    """``cls.contract_params`` with its own folder ``workdir/params`` (made here), checked to be a dict."""
    folder = workdir / "params"
    folder.mkdir(parents=True, exist_ok=True)
    params = cls.contract_params(folder)
    if not isinstance(params, dict):
        raise TypeError(f"{cls.__name__}.contract_params() returned {type(params).__name__}, expected a dict")
    return params


@dataclass(frozen=True)
class Rule:
    """One contract rule: an id that failures name, the kind it applies to, and what it checks."""

    id: str
    kind: str
    summary: str
    check: Callable[[Subject], None]


@dataclass
class RuleResult:
    """The outcome of one rule on one executor."""

    executor: str
    rule: str
    status: RuleStatus
    message: str = ""
    seconds: float = 0.0


RULES: list[Rule] = []


def rule(kind: str, rule_id: str, summary: str) -> Callable[[Callable[[Subject], None]], Callable[[Subject], None]]:
    """Register a contract rule."""

    def add(check: Callable[[Subject], None]) -> Callable[[Subject], None]:
        RULES.append(Rule(rule_id, kind, summary, check))
        return check

    return add


def rules_for(kind: str) -> list[Rule]:
    """The rules an executor of ``kind`` must keep, in order."""
    return [r for r in RULES if r.kind == kind]


def get_rule(rule_id: str) -> Rule:
    """The rule called ``rule_id``."""
    for r in RULES:
        if r.id == rule_id:
            return r
    raise KeyError(f"no contract rule {rule_id!r}; known: {', '.join(r.id for r in RULES)}")


def check(rule_id: str, subject: Subject) -> None:
    """Run one rule; raise :class:`ContractViolation` naming it on failure (for pytest)."""
    r = get_rule(rule_id)
    try:
        r.check(subject)
    except ContractViolation:
        raise
    except Exception as exc:  # an executor crashing inside a rule breaks that rule
        raise ContractViolation(r.id, f"{type(exc).__name__}: {exc}") from exc


def run_rule(r: Rule, subject: Subject) -> RuleResult:
    """Run one rule and record the outcome instead of raising."""
    start = time.perf_counter()
    try:
        check(r.id, subject)
    except ContractViolation as exc:
        return RuleResult(subject.cls.name, r.id, "failed", exc.detail, time.perf_counter() - start)
    return RuleResult(subject.cls.name, r.id, "passed", "", time.perf_counter() - start)


def _violation(rule_id: str, detail: str) -> ContractViolation:
    return ContractViolation(rule_id, detail)


def _expect(ok: bool, rule_id: str, detail: str) -> None:
    if not ok:
        raise _violation(rule_id, detail)


# --- encoders ------------------------------------------------------------------------------


def _encoder_modalities(subject: Subject) -> list[str]:
    accepted = [m for m in subject.cls.modalities if m != "*"]
    return accepted or ["text"]


def _encode(rule_id: str, encoder: Encoder, docs: list[Document]) -> np.ndarray:
    try:
        return encoder.encode(docs)
    except Exception as exc:
        raise _violation(rule_id, f"encode() of {len(docs)} {docs[0].modality} documents raised "
                                  f"{type(exc).__name__}: {exc}") from exc


@rule("encoder", "declares-space", "declares modalities, a space name and a positive dim that match its manifest")
def _declares_space(subject: Subject) -> None:
    rid = "declares-space"
    enc = subject.make()
    _expect(bool(subject.cls.modalities), rid, "declares no modalities (set the ClassVar modalities)")
    _expect(isinstance(enc.space, str) and bool(enc.space), rid, f"space must be a non-empty name, got {enc.space!r}")
    _expect(isinstance(enc.dim, int) and enc.dim > 0, rid, f"dim must be a positive int, got {enc.dim!r}")
    spec = subject.spec
    if spec is not None:
        _expect(sorted(spec.modalities) == sorted(subject.cls.modalities), rid,
                f"manifest modalities {spec.modalities} differ from code {list(subject.cls.modalities)}")
        for attr in ("space", "dim"):
            declared = getattr(spec, attr)
            _expect(declared is None or declared == getattr(enc, attr), rid,
                    f"manifest {attr} {declared!r} differs from the instance's {getattr(enc, attr)!r}")


@rule("encoder", "dims-and-dtype", "encode() returns a finite float32 array of shape (n, dim)")
def _dims_and_dtype(subject: Subject) -> None:
    rid = "dims-and-dtype"
    enc = subject.make()
    for modality in _encoder_modalities(subject):
        vectors = _encode(rid, enc, subject.samples(modality, BATCH, 1))
        _expect(isinstance(vectors, np.ndarray) and vectors.dtype == np.float32, rid,
                f"{modality}: expected a float32 ndarray, got {type(vectors).__name__} {getattr(vectors, 'dtype', '')}")
        _expect(vectors.shape == (BATCH, enc.dim), rid,
                f"{modality}: shape {list(vectors.shape)}, declared dim {enc.dim} means ({BATCH}, {enc.dim})")
        _expect(bool(np.isfinite(vectors).all()), rid, f"{modality}: vectors contain NaN or infinity")


@rule("encoder", "batch-invariance", "one batch of n documents gives the same vectors as n batches of one")
def _batch_invariance(subject: Subject) -> None:
    rid = "batch-invariance"
    enc = subject.make()
    for modality in _encoder_modalities(subject):
        docs = subject.samples(modality, BATCH, 2)
        batched = _encode(rid, enc, docs)
        single = np.concatenate([_encode(rid, enc, [d]) for d in docs])
        diff = np.abs(batched - single).max(axis=1)
        worst = int(diff.argmax())
        _expect(np.allclose(batched, single, rtol=1e-4, atol=1e-5), rid,
                f"{modality}: encoding {BATCH} documents in one batch differs from encoding them one at a time "
                f"(max |difference| {diff[worst]:.3g} at document {worst})")


@rule("encoder", "determinism", "the same documents give the same vectors, again and from a fresh instance")
def _encoder_determinism(subject: Subject) -> None:
    rid = "determinism"
    for modality in _encoder_modalities(subject):
        docs = subject.samples(modality, BATCH, 3)
        enc = subject.make()
        first, again, fresh = _encode(rid, enc, docs), _encode(rid, enc, docs), _encode(rid, subject.make(), docs)
        _expect(np.allclose(first, again, rtol=1e-5, atol=1e-6), rid,
                f"{modality}: encoding the same documents twice gave different vectors "
                f"(max |difference| {np.abs(first - again).max():.3g})")
        _expect(np.allclose(first, fresh, rtol=1e-5, atol=1e-6), rid,
                f"{modality}: a second instance gave different vectors for the same documents "
                f"(max |difference| {np.abs(first - fresh).max():.3g}); seed any randomness")


@rule("encoder", "fresh-interpreters",
      "two fresh interpreters (different hash seeds) give the same vectors (no salted hash(), no set order)")
def _fresh_interpreters(subject: Subject) -> None:
    rid = "fresh-interpreters"
    kinds = _encoder_modalities(subject)
    batches = [subject.samples(modality, BATCH, 5) for modality in kinds]
    try:
        first, second = fresh.encode_in_fresh_interpreters(subject.cls, subject.params, batches)
    except fresh.FreshInterpreterError as exc:
        raise _violation(rid, str(exc)) from None
    for modality, a, b in zip(kinds, first, second, strict=True):
        try:
            assert_vectors_close(a, b)
        except AssertionError as exc:
            raise _violation(rid, f"{modality}: the same documents encoded in two fresh interpreters differ ({exc}); "
                                  "Python's hash() of str/bytes and set order change per process: use hashlib or "
                                  "zlib.crc32 and sorted() instead") from None


@rule("encoder", "distinct-inputs", "different documents get different, non-zero vectors "
                                    "(a reading encoder: documents read as different texts)")
def _distinct_inputs(subject: Subject) -> None:
    rid = "distinct-inputs"
    enc = subject.make()
    for modality in _encoder_modalities(subject):
        docs = subject.samples(modality, BATCH, 4)
        vectors = _encode(rid, enc, docs)
        zero = [i for i, v in enumerate(vectors) if not np.any(v)]
        _expect(not zero, rid, f"{modality}: all-zero vectors for documents {zero}")
        if isinstance(enc, ReadingEncoder):
            # Its vector is that of the text it read: sounds without speech all read as '' alike.
            read = [str(d.tags.get(TEXT_TAG)) for d in docs]
            same = [(i, j) for i in range(len(docs)) for j in range(i) if read[i] != read[j]
                    and vectors[i].tobytes() == vectors[j].tobytes()]
            _expect(not same, rid, f"{modality}: documents {same[:1]} read as different texts got the same vector")
            continue
        _expect(len({v.tobytes() for v in vectors}) > 1, rid,
                f"{modality}: {BATCH} different documents all got the same vector")


_OTHER_MODALITIES = ("text", "image", "audio", "timeseries")


@rule("encoder", "rejects-wrong-modality", "a document of a modality it does not accept raises ExecutorError")
def _rejects_wrong_modality(subject: Subject) -> None:
    rid = "rejects-wrong-modality"
    accepted = set(subject.cls.modalities)
    if "*" in accepted:
        return
    other = next(m for m in _OTHER_MODALITIES if m not in accepted)
    doc = sample_documents(other, 1)[0]
    try:
        subject.make().encode([doc])
    except ExecutorError:
        return
    except Exception as exc:
        raise _violation(rid, f"a {other} document raised {type(exc).__name__} ({exc}); "
                              "expected modahub.ExecutorError naming the accepted modalities") from exc
    raise _violation(rid, f"a {other} document was encoded although the encoder accepts only {sorted(accepted)}")


# --- indexers ------------------------------------------------------------------------------


def _embedded(subject: Subject, n: int, seed: int, dim: int = INDEX_DIM) -> list[Document]:
    """``n`` sample documents of a modality the indexer accepts, with random unit embeddings."""
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    accepted = [m for m in subject.cls.modalities if m != "*"]
    docs = subject.samples(accepted[0] if accepted else "text", n, seed)
    return [d.model_copy(update={"embedding": v}) for d, v in zip(docs, vectors, strict=True)]


def _vectors(docs: list[Document]) -> np.ndarray:
    return np.stack([d.embedding for d in docs if d.embedding is not None])


def _top_ids(index: Indexer, docs: list[Document], k: int = 1, flt: dict[str, Any] | None = None) -> list[list[str]]:
    return [[m.id for m in hits] for hits in index.search(_vectors(docs), k=k, filter=flt)]


@rule("indexer", "add-and-count", "len() counts added documents; adding an existing id replaces it")
def _add_and_count(subject: Subject) -> None:
    rid = "add-and-count"
    index, docs = subject.make(), _embedded(subject, 8, 10)
    index.add(docs)
    _expect(len(index) == 8, rid, f"added 8 documents, len() is {len(index)}")
    index.add(docs[:2])
    _expect(len(index) == 8, rid, f"re-adding 2 existing ids changed len() from 8 to {len(index)}; replace them instead")


@rule("indexer", "search-ranks", "each stored vector finds itself first; at most k hits, best score first")
def _search_ranks(subject: Subject) -> None:
    rid = "search-ranks"
    index, docs = subject.make(), _embedded(subject, 12, 11)
    index.add(docs)
    results = index.search(_vectors(docs), k=3)
    _expect(len(results) == len(docs), rid, f"{len(docs)} queries gave {len(results)} result lists")
    for doc, hits in zip(docs, results, strict=True):
        _expect(0 < len(hits) <= 3, rid, f"k=3 returned {len(hits)} hits")
        _expect(hits[0].id == doc.id, rid, f"query with the vector of {doc.id!r} found {hits[0].id!r} first")
        scores = [h.score for h in hits]
        _expect(scores == sorted(scores, reverse=True), rid, f"scores not best-first: {scores}")


@rule("indexer", "delete", "delete(ids) returns how many went, and deleted documents are never found again")
def _delete(subject: Subject) -> None:
    rid = "delete"
    index, docs = subject.make(), _embedded(subject, 8, 12)
    index.add(docs)
    gone = [docs[1].id, docs[4].id]
    removed = index.delete([*gone, "no-such-id"])
    _expect(removed == 2, rid, f"delete of 2 stored ids and 1 unknown returned {removed}, expected 2")
    _expect(len(index) == 6, rid, f"after deleting 2 of 8 documents len() is {len(index)}, expected 6")
    found = {i for hits in _top_ids(index, docs, k=8) for i in hits}
    _expect(not (found & set(gone)), rid, f"deleted documents {sorted(found & set(gone))} are still found by search")


@rule("indexer", "filter", "a tag filter returns only documents whose tags match")
def _filter(subject: Subject) -> None:
    rid = "filter"
    index, docs = subject.make(), _embedded(subject, 10, 13)
    index.add(docs)
    by_id = {d.id: d for d in docs}
    for flt in ({"group": "odd"}, {"i": [0, 3, 6]}):
        hits = [i for row in _top_ids(index, docs, k=10, flt=flt) for i in row]
        wrong = sorted({i for i in hits if not matches_filter(by_id[i].tags, flt)})
        _expect(not wrong, rid, f"filter {flt} returned non-matching documents {wrong}")
        expected = {d.id for d in docs if matches_filter(d.tags, flt)}
        _expect(set(hits) == expected, rid, f"filter {flt} with k=10 found {sorted(set(hits))}, expected {sorted(expected)}")


@rule("indexer", "persistence",
      "closed and reopened at its path, an index finds everything again, deletions included; save() keeps later writes")
def _persistence(subject: Subject) -> None:
    rid = "persistence"
    path = subject.scratch("index")
    docs = _embedded(subject, 9, 14)
    with subject.make(path=path) as index:
        index.add(docs[:6])
        index.delete([docs[0].id])
    reopened = subject.make(path=path)
    _expect(len(reopened) == 5, rid, f"closed and reopened at {path}: len() is {len(reopened)}, expected 5 "
                                     "(6 added, 1 deleted); write to path in _save() and read it back in _load()")
    reopened.add(docs[6:])
    reopened.save()
    third = subject.make(path=path)
    _expect(len(third) == 8, rid, f"after save(), another instance at {path} has len() {len(third)}, expected 8")
    tops = _top_ids(third, docs[1:])
    missing = [d.id for d, top in zip(docs[1:], tops, strict=True) if top[:1] != [d.id]]
    _expect(not missing, rid, f"reopened index does not find {missing} by their own vectors")
    _expect(docs[0].id not in {i for row in _top_ids(third, docs, k=9) for i in row}, rid,
            f"deleted document {docs[0].id!r} is back after reopening")
    reopened.close()
    third.close()


@rule("indexer", "rejects-wrong-dim", "vectors of another dimension raise ExecutorError on add and search")
def _rejects_wrong_dim(subject: Subject) -> None:
    rid = "rejects-wrong-dim"
    index = subject.make()
    calls: list[tuple[str, Callable[[], object]]] = [
        ("add", lambda: index.add(_embedded(subject, 1, 15, dim=INDEX_DIM + 1))),
        ("search", lambda: index.search(np.ones((1, INDEX_DIM + 1), dtype=np.float32))),
    ]
    for what, call in calls:
        try:
            call()
        except ExecutorError:
            continue
        raise _violation(rid, f"{what} with dimension {INDEX_DIM + 1} on an index of dimension {INDEX_DIM} did not raise")


# --- text indexers -------------------------------------------------------------------------


def _worded(n: int, seed: int) -> list[Document]:
    """``n`` generated-looking text documents: each has a word of its own and the shared word ``common``."""
    docs = []
    for i in range(n):
        words = f"common w{seed}x{i}" + " filler" * (i % 3)
        recipe = Provenance(plugin="modahub-contract", plugin_version="0", executor="contract", seed=i, prompt=words)
        docs.append(Document(id=f"t{seed}-{i}", modality="text", payload={"text": words}, provenance=recipe,
                             tags={"i": i, "group": "odd" if i % 2 else "even"}))
    return docs


def _found(index: TextIndexer, query: str, k: int = 20, flt: dict[str, Any] | None = None) -> list[str]:
    return [m.id for m in index.search_text(query, k=k, filter=flt)]


@rule("text-indexer", "text-add-and-count", "len() counts added documents; adding an existing id replaces it")
def _text_add_and_count(subject: Subject) -> None:
    rid = "text-add-and-count"
    index, docs = subject.make(), _worded(8, 20)
    index.add(docs)
    _expect(len(index) == 8, rid, f"added 8 documents, len() is {len(index)}")
    index.add(docs[:2])
    _expect(len(index) == 8, rid, f"re-adding 2 existing ids changed len() from 8 to {len(index)}; replace them instead")


@rule("text-indexer", "text-search-words",
      "a document's own word finds it first; at most k hits, best first; no word in common, no hit")
def _text_search(subject: Subject) -> None:
    rid = "text-search-words"
    index, docs = subject.make(), _worded(6, 21)
    index.add(docs)
    for doc in docs:
        own = str(cast(TextPayload, doc.payload).text).split()[1]
        _expect(_found(index, own)[:1] == [doc.id], rid, f"query {own!r} did not find {doc.id!r} first")
    hits = index.search_text("common", k=3)
    _expect(len(hits) == 3, rid, f"query 'common' with k=3 returned {len(hits)} hits, expected 3")
    scores = [h.score for h in hits]
    _expect(scores == sorted(scores, reverse=True), rid, f"scores not best-first: {scores}")
    _expect(_found(index, "zebra") == [], rid, "a query sharing no word with any document returned hits")


@rule("text-indexer", "text-delete", "delete(ids) returns how many went, and deleted documents are never found again")
def _text_delete(subject: Subject) -> None:
    rid = "text-delete"
    index, docs = subject.make(), _worded(8, 22)
    index.add(docs)
    removed = index.delete([docs[1].id, docs[4].id, "no-such-id"])
    _expect(removed == 2, rid, f"delete of 2 stored ids and 1 unknown returned {removed}, expected 2")
    _expect(len(index) == 6, rid, f"after deleting 2 of 8 documents len() is {len(index)}, expected 6")
    back = {docs[1].id, docs[4].id} & set(_found(index, "common"))
    _expect(not back, rid, f"deleted documents {sorted(back)} are still found by search")


@rule("text-indexer", "text-filter", "a tag filter returns only documents whose tags match")
def _text_filter(subject: Subject) -> None:
    rid = "text-filter"
    index, docs = subject.make(), _worded(10, 23)
    index.add(docs)
    for flt in ({"group": "odd"}, {"i": [0, 3, 6]}):
        expected = {d.id for d in docs if matches_filter(d.tags, flt)}
        found = set(_found(index, "common", flt=flt))
        _expect(found == expected, rid, f"filter {flt} found {sorted(found)}, expected {sorted(expected)}")


@rule("text-indexer", "text-persistence",
      "closed and reopened at its path, an index finds everything again, deletions included; save() keeps later writes")
def _text_persistence(subject: Subject) -> None:
    rid = "text-persistence"
    path = subject.scratch("text-index")
    docs = _worded(9, 24)
    with subject.make(path=path) as index:
        index.add(docs[:6])
        index.delete([docs[0].id])
    reopened = subject.make(path=path)
    _expect(len(reopened) == 5, rid, f"closed and reopened at {path}: len() is {len(reopened)}, expected 5 (6 added, 1 deleted)")
    reopened.add(docs[6:])
    reopened.save()
    third = subject.make(path=path)
    found = set(_found(third, "common"))
    _expect(found == {d.id for d in docs[1:]}, rid, f"reopened index finds {sorted(found)} by the shared word")
    reopened.close()
    third.close()


# --- segmenters ----------------------------------------------------------------------------


def _tagged_samples(subject: Subject, seed: int) -> list[Document]:
    """Sample documents of every modality the segmenter reads (text for ``*``), each with tags of its own."""
    mods = [m for m in subject.cls.modalities if m != "*"] or ["text"]
    docs = [d for m in mods for d in subject.samples(m, 3, seed)]
    return [d.model_copy(update={"tags": {"origin": "contract", "n": i}}) for i, d in enumerate(docs)]


def _pieces(rule_id: str, segmenter: Segmenter, docs: list[Document]) -> list[list[Document]]:
    try:
        return [segmenter.segment(doc) for doc in docs]
    except Exception as exc:
        raise _violation(rule_id, f"segment() raised {type(exc).__name__}: {exc}") from exc


@rule("segmenter", "segment-pieces",
      "segment(doc) gives documents with ids unique across a batch, each keeping its parent's tags")
def _segment_pieces(subject: Subject) -> None:
    rid = "segment-pieces"
    docs = _tagged_samples(subject, 30)
    pieces = _pieces(rid, subject.make(), docs)
    ids = [p.id for group in pieces for p in group]
    _expect(len(ids) == len(set(ids)), rid, f"piece ids repeat: {sorted({i for i in ids if ids.count(i) > 1})[:5]}")
    for doc, group in zip(docs, pieces, strict=True):
        for piece in group:
            lost = {k: v for k, v in doc.tags.items() if piece.tags.get(k) != v}
            _expect(not lost, rid, f"piece {piece.id!r} of {doc.id!r} lost its parent's tags {lost}")


@rule("segmenter", "segment-determinism", "the same documents give the same pieces, again and from a fresh instance")
def _segment_determinism(subject: Subject) -> None:
    rid = "segment-determinism"
    docs = _tagged_samples(subject, 31)
    first, again = subject.make(), subject.make()
    runs = [_pieces(rid, seg, docs) for seg in (first, first, again)]
    shapes = [[[(p.id, p.modality, _payload(p)) for p in group] for group in run] for run in runs]
    _expect(shapes[0] == shapes[1], rid, "segmenting the same documents twice gave different pieces")
    _expect(shapes[0] == shapes[2], rid, "a fresh instance gave different pieces for the same documents")


@rule("segmenter", "segment-rejects-wrong-modality", "a document of a modality it does not read raises ExecutorError")
def _segment_rejects(subject: Subject) -> None:
    rid = "segment-rejects-wrong-modality"
    if "*" in subject.cls.modalities:
        return
    other = next(m for m in ("text", "image", "audio", "timeseries") if m not in subject.cls.modalities)
    try:
        subject.make().segment(sample_documents(other, 1, 32)[0])
    except ExecutorError:
        return
    raise _violation(rid, f"a {other} document was accepted; declared modalities are {list(subject.cls.modalities)}")


# --- generators ----------------------------------------------------------------------------


def _generate(rule_id: str, gen: Generator, prompts: list[str], n: int, seed: int) -> list[Document]:
    try:
        return gen.generate(prompts, n=n, seed=seed)
    except Exception as exc:
        raise _violation(rule_id, f"generate({prompts!r}, n={n}, seed={seed}) raised {type(exc).__name__}: {exc}") from exc


def _payload(doc: Document) -> str:
    return doc.payload.model_dump_json(exclude_none=True)


@rule("generator", "output-modality", "n documents per prompt, of the declared output modality, with unique ids")
def _output_modality(subject: Subject) -> None:
    rid = "output-modality"
    gen = subject.make()
    declared = getattr(subject.cls, "output_modality", "")
    _expect(bool(declared), rid, "declares no output_modality")
    if subject.spec is not None:
        _expect(subject.spec.output_modality == declared, rid,
                f"manifest output_modality {subject.spec.output_modality!r} differs from code {declared!r}")
    docs = _generate(rid, gen, subject.prompts, 2, 7)
    _expect(len(docs) == 4, rid, f"2 prompts with n=2 gave {len(docs)} documents, expected 4")
    wrong = [d.modality for d in docs if d.modality != declared]
    _expect(not wrong, rid, f"documents of modality {wrong[:1]} from a generator declaring {declared!r}")
    _expect(len({d.id for d in docs}) == 4, rid, "generated documents share ids")


@rule("generator", "provenance", "every document records plugin, version, executor, its prompt and seed")
def _provenance(subject: Subject) -> None:
    rid = "provenance"
    docs = _generate(rid, subject.make(), subject.prompts, 2, 8)
    for i, doc in enumerate(docs):
        prov = doc.provenance
        _expect(prov is not None, rid, f"document {i} has no provenance")
        assert prov is not None
        _expect(bool(prov.plugin) and bool(prov.plugin_version), rid, f"document {i}: provenance lacks plugin or version")
        _expect(prov.executor == subject.cls.name, rid,
                f"document {i}: provenance executor {prov.executor!r}, expected {subject.cls.name!r}")
        _expect(prov.prompt == subject.prompts[i // 2], rid,
                f"document {i}: provenance prompt {prov.prompt!r}, expected {subject.prompts[i // 2]!r} "
                "(n documents per prompt, in order)")


@rule("generator", "seeded-determinism", "the same prompts, n and seed give the same documents")
def _seeded_determinism(subject: Subject) -> None:
    rid = "seeded-determinism"
    first = _generate(rid, subject.make(), subject.prompts, 2, 9)
    again = _generate(rid, subject.make(), subject.prompts, 2, 9)
    differ = [i for i, (a, b) in enumerate(zip(first, again, strict=True)) if _payload(a) != _payload(b)]
    _expect(not differ, rid,
            f"seed 9 twice gave different documents at positions {differ}; derive all randomness from the seed")


@rule("generator", "regenerates-from-provenance", "generate([prompt], n=1, seed) with a document's provenance gives it again")
def _regenerates(subject: Subject) -> None:
    rid = "regenerates-from-provenance"
    for i, doc in enumerate(_generate(rid, subject.make(), subject.prompts, 2, 10)):
        prov = doc.provenance
        _expect(prov is not None, rid, f"document {i} has no provenance")
        assert prov is not None
        again = _generate(rid, subject.make(**prov.parameters), [prov.prompt], 1, prov.seed)
        _expect(_payload(again[0]) == _payload(doc), rid,
                f"document {i}: regenerating from its provenance (prompt {prov.prompt!r}, seed {prov.seed}, "
                f"parameters {prov.parameters}) gave a different document; record each document's own seed")


@rule("generator", "seed-varies-output", "different seeds and different prompts give different documents")
def _seed_varies(subject: Subject) -> None:
    rid = "seed-varies-output"
    gen = subject.make()
    a, b = _generate(rid, gen, subject.prompts[:1], 1, 11)[0], _generate(rid, gen, subject.prompts[:1], 1, 12)[0]
    _expect(_payload(a) != _payload(b), rid, "seeds 11 and 12 gave the same document")
    c = _generate(rid, gen, subject.prompts[1:], 1, 11)[0]
    _expect(_payload(a) != _payload(c), rid, "two different prompts with seed 11 gave the same document")
