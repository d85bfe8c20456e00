"""The local runner: runs a built pipeline in process, batched by each executor's ``batch_size``.

Items travel with a sort key (input position, then piece or sample number) so that when several
encoders' outputs meet again at an index, documents and search results come back in input order.
Progress is reported through a plain callback, so core needs no terminal library.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from modahub.documents import Document
from modahub.executors import ExecutorError, Filter, Match, Store
from modahub.pipeline.graph import Node, Pipeline
from modahub.pipeline.steps import INPUT

Key = tuple[int, ...]
Item = tuple[Key, Any]
ProgressFn = Callable[[str, int, int], None]
"""``progress(step_name, done, total)``, called after every batch."""

@dataclass
class RunResult:
    """What a run produced: documents of its document sinks and matches of its search sinks, in input order."""

    documents: list[Document] = field(default_factory=list)
    matches: list[list[Match]] = field(default_factory=list)
    queries: list[Document] = field(default_factory=list)
    outputs: dict[str, list[Item]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

def _batches(items: list[Item], size: int) -> Iterator[list[Item]]:
    size = max(int(size), 1)
    for start in range(0, len(items), size):
        yield items[start : start + size]

def check_documents(pipe: Pipeline, docs: Sequence[Any]) -> None:
    """Refuse an empty input, a non-document, or a document of a modality no first step of ``pipe`` takes."""
    if len(docs) == 0:
        raise ExecutorError(f"pipeline {pipe.name!r}: no input given")
    roots = pipe.routes(INPUT)
    for i, doc in enumerate(docs):
        if not isinstance(doc, Document):
            raise ExecutorError(f"pipeline {pipe.name!r} reads documents: item {i} is a {type(doc).__name__}")
        if not any(r.takes(doc.modality) for r in roots):
            accepted = ", ".join(f"{'/'.join(sorted(r.accepts))} (step {r.step.name!r})" for r in roots)
            raise ExecutorError(
                f"document {i} (id {doc.id!r}) has modality {doc.modality!r}; pipeline {pipe.name!r} accepts {accepted}"
            )

class LocalRunner:
    """Run ``pipeline`` in this process; ``progress`` gets (step, done, total) after each batch."""

    def __init__(self, pipeline: Pipeline, *, progress: ProgressFn | None = None) -> None:
        self.pipeline = pipeline.build()
        self.progress = progress

    def run(self, inputs: Sequence[Any], *, k: int = 10, filter: Filter | None = None,
            n: int = 1, seed: int | None = None) -> RunResult:
        """Run on ``inputs`` (documents, or prompt strings for a generating pipeline)."""
        pipe = self.pipeline
        source = self._input_items(inputs)
        outputs: dict[str, list[Item]] = {}
        seconds: dict[str, float] = {}
        for name in pipe.order:
            node = pipe.nodes[name]
            items = self._gather(node, outputs, source)
            started = time.perf_counter()
            if node.op == "search":
                outputs[name] = self._search(node, items, k, filter)
            elif node.op == "generate":
                outputs[name] = self._generate(node, items, n, seed)
            else:
                outputs[name] = self._transform(node, items)
            seconds[name] = time.perf_counter() - started
        return self._result(outputs, seconds)

    # --- input and routing -------------------------------------------------------------------

    def _input_items(self, inputs: Sequence[Any]) -> list[Item]:
        pipe = self.pipeline
        if len(inputs) == 0:
            raise ExecutorError(f"pipeline {pipe.name!r}: no input given")
        if pipe.input_kind == "prompts":
            bad = [i for i, p in enumerate(inputs) if not isinstance(p, str) or not p.strip()]
            if bad:
                raise ExecutorError(f"pipeline {pipe.name!r} reads prompts: item {bad[0]} is not a non-empty string")
            return [((i,), p) for i, p in enumerate(inputs)]
        check_documents(pipe, inputs)
        return [((i,), doc) for i, doc in enumerate(inputs)]

    @staticmethod
    def _gather(node: Node, outputs: dict[str, list[Item]], source: list[Item]) -> list[Item]:
        items: list[Item] = []
        for name in node.inputs:
            upstream = source if name == INPUT else outputs[name]
            items.extend(it for it in upstream if not node.routed or node.takes(it[1].modality))
        if len(node.inputs) > 1:
            items.sort(key=lambda it: it[0])
        return items

    def _tick(self, node: Node, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(node.step.name, done, total)

    # --- the operations ----------------------------------------------------------------------

    def _transform(self, node: Node, items: list[Item]) -> list[Item]:
        """encode, segment or add, batch by batch."""
        out: list[Item] = []
        executor, done = node.executor, 0
        for batch in _batches(items, executor.batch_size):
            docs = [doc for _, doc in batch]
            if node.op == "encode":
                vectors = executor.encode(docs)
                pairs = zip(batch, vectors, strict=True)
                out.extend((key, doc.model_copy(update={"embedding": vec})) for (key, doc), vec in pairs)
            elif node.op == "segment":
                out.extend(((*key, j), piece) for key, doc in batch for j, piece in enumerate(executor.segment(doc)))
            else:
                executor.add(docs)
                out.extend(batch)
            done += len(batch)
            self._tick(node, done, len(items))
        if node.op == "add" and items:
            persist(executor)
        return out

    def _search(self, node: Node, items: list[Item], k: int, filter: Filter | None) -> list[Item]:
        out: list[Item] = []
        for batch in _batches(items, node.executor.batch_size):
            found = node.executor.search_documents([doc for _, doc in batch], k=k, filter=filter)
            out.extend((key, (doc, hits)) for (key, doc), hits in zip(batch, found, strict=True))
            self._tick(node, len(out), len(items))
        return out

    def _generate(self, node: Node, items: list[Item], n: int, seed: int | None) -> list[Item]:
        out: list[Item] = []
        for batch in _batches(items, node.executor.batch_size):
            prompts = [p for _, p in batch]
            docs = node.executor.generate(prompts, n=n, seed=seed)
            if len(docs) != len(prompts) * n:
                raise ExecutorError(
                    f"{node.step.label()}: made {len(docs)} documents for {len(prompts)} prompts × n={n}"
                )
            out.extend(((*key, j), docs[i * n + j]) for i, (key, _) in enumerate(batch) for j in range(n))
            self._tick(node, len(out) // n, len(items))
        return out

    def _result(self, outputs: dict[str, list[Item]], seconds: dict[str, float]) -> RunResult:
        result = RunResult(outputs=outputs, seconds=seconds)
        sinks = self.pipeline.sinks()
        searched = sorted((it for s in sinks if s.op == "search" for it in outputs[s.step.name]), key=lambda it: it[0])
        result.queries = [doc for _, (doc, _) in searched]
        result.matches = [hits for _, (_, hits) in searched]
        docs = sorted((it for s in sinks if s.op != "search" for it in outputs[s.step.name]), key=lambda it: it[0])
        result.documents = [doc for _, doc in docs]
        return result

def persist(index: Store) -> None:
    """Save an index that keeps its data at a path (every index may need it, e.g. exact-index)."""
    if index.path is not None:
        index.save()
