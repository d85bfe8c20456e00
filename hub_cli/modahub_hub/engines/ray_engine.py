"""Bulk runs of an app on Ray: Ray Data ``map_batches`` over an actor pool that loads each model once.

The app's segmenters and encoders run in the actors (each actor builds that part of the pipeline
and warms its executors up once, then encodes batch after batch); the index, which has a single
writer, runs in the driver: embedded documents come back keyed by their input position, so the
index receives them in the same order as with the local runner and gives the same results.

Documents cross process boundaries as modahub JSON (arrays exact, base64), never as pickles of
modahub objects. The local cluster binds 127.0.0.1, has usage statistics off and no dashboard.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from modahub.documents import Document
from modahub.executors import Filter
from modahub.pipeline import INPUT, App, Node, Pipeline, RunResult
from modahub.pipeline.runner import ProgressFn, check_documents, persist
from modahub_hub.output import UserError

PARALLEL_KINDS = ("encoder", "segmenter")
RAY_SHAPES = ("encode", "index", "search")


class EngineError(UserError):
    """Ray is missing, cannot start, or cannot run what was asked (the CLI prints it without a traceback)."""


def import_ray() -> Any:
    """Import ray with usage statistics off; a clear error when the extra is not installed."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    try:
        import ray
    except ImportError:
        raise EngineError("the ray engine needs Ray: pip install 'modahub[ray]'") from None
    return ray


@contextlib.contextmanager
def ray_session(num_cpus: int, temp_dir: str | Path | None = None) -> Iterator[Any]:
    """A local Ray cluster on 127.0.0.1 for the duration of the block, then shut down.

    ``temp_dir`` holds Ray's session files (a fresh temporary folder, removed afterwards, when None).
    An already initialised Ray (e.g. a cluster the caller connected to) is used as it is.
    """
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    owned = temp_dir is None
    folder = Path(tempfile.mkdtemp(prefix="modahub-ray-")) if owned else Path(temp_dir)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, _node_ip_address="127.0.0.1",
                 _temp_dir=str(folder.resolve()), log_to_driver=False, configure_logging=False)
    except Exception as exc:
        raise EngineError(f"could not start a local Ray cluster (session files in {folder}): {exc}") from None
    try:
        yield ray
    finally:
        ray.shutdown()
        if owned:
            shutil.rmtree(folder, ignore_errors=True)


def split(app: App, shape: str) -> tuple[dict[str, Any], Node | None, Pipeline]:
    """The parallel part of ``shape`` (segmenters and encoders, as a pipeline dict) and the driver's index node."""
    if shape not in RAY_SHAPES:
        raise EngineError(f"the ray engine runs {', '.join(RAY_SHAPES)}; run {shape!r} with the local engine")
    pipe = app.pipeline(shape)  # type: ignore[arg-type]
    parallel = [pipe.nodes[n].step for n in pipe.order if pipe.nodes[n].kind in PARALLEL_KINDS]
    rest = [pipe.nodes[n] for n in pipe.order if pipe.nodes[n].kind not in PARALLEL_KINDS]
    if len(rest) > 1 or (rest and rest[0].kind != "indexer"):
        raise EngineError(f"the ray engine cannot split pipeline {pipe.name!r}: {[n.step.name for n in rest]}")
    spec = {"name": f"{pipe.name}/parallel",
            "steps": [s.model_dump(by_alias=True, exclude_defaults=True) for s in parallel]}
    return spec, (rest[0] if rest else None), pipe


class EncodeActor:
    """A Ray Data actor: builds the parallel part of the pipeline and warms it up once."""

    def __init__(self, spec: dict[str, Any]) -> None:
        from modahub.pipeline import LocalRunner

        pipe = Pipeline.from_dict(spec).build()
        for node in pipe.nodes.values():
            if hasattr(node.executor, "warm_up"):
                node.executor.warm_up()
        self.runner = LocalRunner(pipe)
        self.sinks = [n.step.name for n in pipe.sinks()]

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        keys, out = [], []
        for rows_json, chunk in zip(batch["rows"], batch["docs"], strict=True):
            rows = json.loads(rows_json)
            docs = [Document.from_json(text) for text in json.loads(chunk)]
            result = self.runner.run(docs)
            for name in self.sinks:
                for key, doc in result.outputs[name]:
                    keys.append(json.dumps([rows[key[0]], *key[1:]]))
                    out.append(doc.to_json())
        return {"key": np.array(keys, dtype=object), "doc": np.array(out, dtype=object)}


def chunks(pipe: Pipeline, docs: Sequence[Document], batch_size: int | None = None) -> list[list[int]]:
    """Input positions grouped as the local runner batches them: by the step that reads them, ``batch_size`` at a time.

    Each chunk goes to one actor call whole, so every encoder sees the batches it sees locally (its
    vectors then agree with a local run within BLAS thread-count rounding, see docs/scale.md).
    """
    roots = pipe.routes(INPUT)
    groups: dict[str, list[int]] = {r.step.name: [] for r in roots}
    for i, doc in enumerate(docs):
        groups[next(r.step.name for r in roots if r.takes(doc.modality))].append(i)
    out = []
    for root in roots:
        size = max(int(batch_size or root.executor.batch_size), 1)
        rows = groups[root.step.name]
        out += [rows[s:s + size] for s in range(0, len(rows), size)]
    return out


def encode_on_ray(spec: dict[str, Any], docs: Sequence[Document], batches: list[list[int]], *, workers: int,
                  progress: ProgressFn | None = None) -> list[Document]:
    """Run the parallel pipeline ``spec`` over ``batches`` of ``docs`` on ``workers`` actors; documents in input order."""
    import ray.data

    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    items = [{"rows": json.dumps(rows), "docs": json.dumps([docs[i].to_json() for i in rows])} for rows in batches]
    dataset = ray.data.from_items(items, override_num_blocks=min(len(items), 64 * workers)).map_batches(
        EncodeActor, fn_constructor_kwargs={"spec": spec}, batch_size=1, batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=1,
    )
    keyed: list[tuple[tuple[int, ...], str]] = []
    seen: set[int] = set()
    for batch in dataset.iter_batches(batch_format="numpy", batch_size=None):
        for key, text in zip(batch["key"], batch["doc"], strict=True):
            k = tuple(json.loads(key))
            keyed.append((k, text))
            seen.add(k[0])
        if progress is not None:
            progress("ray", len(seen), len(docs))
    keyed.sort(key=lambda kv: kv[0])
    return [Document.from_json(text) for _, text in keyed]


def run_on_ray(app: App, shape: str, docs: Sequence[Any], *, workers: int = 2, k: int = 10, filter: Filter | None = None,
               batch_size: int | None = None, temp_dir: str | Path | None = None,
               progress: ProgressFn | None = None) -> RunResult:
    """Run ``shape`` (encode, index or search) of ``app`` with its encoders spread over ``workers`` Ray actors.

    Gives the same :class:`RunResult` as ``app.run(shape, docs)``; an index is saved when it lives at a path.
    ``batch_size`` (default: each first step's own) sets how many documents one actor call takes.
    """
    if workers < 1:
        raise EngineError(f"workers must be at least 1, got {workers}")
    spec, tail, pipe = split(app, shape)
    check_documents(pipe, docs)
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    with ray_session(num_cpus=max(workers, 2), temp_dir=temp_dir):
        embedded = encode_on_ray(spec, docs, chunks(pipe, docs, batch_size), workers=workers, progress=progress)
    seconds["ray"] = time.perf_counter() - started
    result = RunResult(seconds=seconds)
    if tail is None:
        result.documents = embedded
        return result
    started = time.perf_counter()
    index, size = tail.executor, max(int(tail.executor.batch_size), 1)
    if tail.op == "search":
        for start in range(0, len(embedded), size):
            batch = embedded[start:start + size]
            result.matches.extend(index.search(np.stack([d.embedding for d in batch]), k=k, filter=filter))
        result.queries = embedded
    else:
        for start in range(0, len(embedded), size):
            index.add(embedded[start:start + size])
        persist(index)
        result.documents = embedded
    seconds[tail.step.name] = time.perf_counter() - started
    return result
