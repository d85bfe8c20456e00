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
import ipaddress
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

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


LOOPBACK_ENV = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}
"""Keeps a Ray that runs on one machine on loopback.

Ray rewrites a node address of 127.0.0.1 (``_node_ip_address``, ``--node-ip-address``, a cluster
address) into the machine's own address, and then its GCS, raylets, workers and agents listen on
that address or on every interface, unless this setting (read when ``ray`` is imported, and
inherited by every process Ray starts) says the machine runs no multi-machine cluster. With it,
every listener is bound to 127.0.0.1 (``tests/scale`` checks the sockets of every Ray process).
"""


def import_ray() -> Any:
    """Import ray with usage statistics off; a clear error when the extra is not installed."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    try:
        import ray
    except ImportError:
        raise EngineError("the ray engine needs Ray: pip install 'modahub[ray]'") from None
    return ray


def cluster_address(address: str | None = None) -> str | None:
    """The Ray cluster to attach to: ``address``, else ``RAY_ADDRESS``; None means a private local cluster.

    A cluster is named by its head's GCS address, ``HOST:PORT`` (what ``ray start --head`` prints),
    or ``auto`` for the cluster started on this machine.
    """
    address = (address or os.environ.get("RAY_ADDRESS") or "").strip()
    if not address or address == "local":
        return None
    host, sep, port = address.rpartition(":")
    if address != "auto" and (not sep or not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536):
        raise EngineError(f"Ray cluster address {address!r}: expected HOST:PORT of the head node, e.g. 127.0.0.1:6379 "
                          "(--address or RAY_ADDRESS)")
    return address


def _loopback(address: str) -> bool:
    host = address.rpartition(":")[0].strip("[]")
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_reachable(address: str) -> None:
    """Fail at once, not after Ray's minute of retries, when nothing listens at the cluster's address."""
    if address == "auto":
        return
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=5).close()
    except OSError as exc:
        raise EngineError(f"no Ray cluster answers at {address} ({exc.strerror or exc}); start one with "
                          "'ray start --head' or give the head's address (--address or RAY_ADDRESS)") from None


START_ENV = {"RAY_agent_register_timeout_ms": "180000"}
"""A raylet waits for its agents (Python processes) to report their ports; on a loaded machine their
start can take longer than Ray's default allows, and the node then fails to start."""


@contextlib.contextmanager
def environ(values: dict[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` within the block (inherited by the processes Ray starts), then as before."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def on_loopback() -> Iterator[None]:
    """Within the block, Ray in this process and the processes it starts stays on 127.0.0.1 (:data:`LOOPBACK_ENV`)."""
    constants = sys.modules.get("ray._private.ray_constants")  # ray imported before: its copy of the setting too
    before = getattr(constants, "ENABLE_RAY_CLUSTER", None)
    if constants is not None:
        setattr(constants, "ENABLE_RAY_CLUSTER", False)  # noqa: B010 (a module attribute mypy cannot see)
    try:
        with environ(LOOPBACK_ENV):
            yield
    finally:
        if constants is not None:
            setattr(constants, "ENABLE_RAY_CLUSTER", before)  # noqa: B010


@contextlib.contextmanager
def ray_session(num_cpus: int, temp_dir: str | Path | None = None, address: str | None = None) -> Iterator[Any]:
    """Ray for the duration of the block: the cluster at ``address`` (or ``RAY_ADDRESS``), else a private one.

    A private cluster runs on 127.0.0.1 with ``num_cpus`` CPUs, every listener bound to loopback
    (:func:`on_loopback`), and is shut down at the end; ``temp_dir`` holds its session files (a
    fresh temporary folder, removed afterwards, when None). An attached cluster is only
    disconnected from. An already initialised Ray (e.g. a cluster the caller connected to) is
    used as it is.
    """
    attach = cluster_address(address)
    local = attach is None or attach == "auto" or _loopback(attach)
    with on_loopback() if local else contextlib.nullcontext():
        ray = import_ray()
        if ray.is_initialized():
            yield ray
        elif attach is not None:
            _check_reachable(attach)
            # a driver beside a cluster on loopback registers from loopback too, or Ray looks for its raylet elsewhere
            where = {"_node_ip_address": "127.0.0.1"} if local else {}
            try:
                ray.init(address=attach, log_to_driver=False, configure_logging=False, **where)
            except Exception as exc:
                raise EngineError(f"could not attach to the Ray cluster at {attach}: {exc}; is it running? "
                                  f"('ray status --address {attach}' tells)") from None
            try:
                yield ray
            finally:
                ray.shutdown()
        else:
            with _private_cluster(ray, num_cpus, temp_dir):
                yield ray


@contextlib.contextmanager
def _private_cluster(ray: Any, num_cpus: int, temp_dir: str | Path | None) -> Iterator[None]:
    owned = temp_dir is None
    folder = Path(tempfile.mkdtemp(prefix="modahub-ray-")) if temp_dir is None else Path(temp_dir)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with environ(START_ENV):
            ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, _node_ip_address="127.0.0.1",
                     _temp_dir=str(folder.resolve()), log_to_driver=False, configure_logging=False)
    except Exception as exc:
        raise EngineError(f"could not start a local Ray cluster (session files in {folder}): {exc}") from None
    try:
        yield
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


class ShardBuilder:
    """A Ray actor that encodes documents and adds them to one shard of a sharded index, in its own process."""

    def __init__(self, spec: dict[str, Any], index_step: dict[str, Any], shard: int) -> None:
        import ray

        self.encoder = EncodeActor(spec)
        pipe = Pipeline.from_dict({"name": f"{spec['name']}/shard-{shard}", "steps": [*spec["steps"], index_step]}).build()
        self.index = pipe.nodes[index_step["name"]].executor.shard(shard)
        self.node = ray.get_runtime_context().get_node_id()

    def add(self, rows: str, chunk: str) -> list[tuple[str, str]]:
        """Encode the documents ``chunk`` (input positions ``rows``) into the shard; (key, document without embedding)."""
        out = self.encoder({"rows": np.array([rows], dtype=object), "docs": np.array([chunk], dtype=object)})
        docs = [Document.from_json(text) for text in out["doc"]]
        if docs:
            self.index.add(docs)
        return [(key, d.model_copy(update={"embedding": None}).to_json()) for key, d in zip(out["key"], docs, strict=True)]

    def close(self) -> str:
        """Save the shard; the node this actor ran on."""
        self.index.close()
        return self.node


def index_shards_on_ray(spec: dict[str, Any], tail: Node, pipe: Pipeline, docs: Sequence[Document], *,
                        batch_size: int | None = None, progress: ProgressFn | None = None,
                        actor_options: dict[str, Any] | None = None) -> tuple[list[Document], list[str]]:
    """Build each shard of ``tail``'s sharded index in its own actor, spread over the cluster's nodes.

    Every actor gets its shard's batches and then its ``close`` at once; an actor ends when its shard
    is saved, so with fewer CPUs than shards the next actors start as earlier ones finish.
    ``actor_options`` adds Ray options to the actors (e.g. resources that pin them to some nodes).
    Returns the indexed documents (in input order, without embeddings) and the node of each shard's actor.
    """
    import ray

    index = tail.executor
    shards = index.shard_count  # opening the index records its layout before the actors open their shards
    rows: list[list[int]] = [[] for _ in range(shards)]
    for i, doc in enumerate(docs):
        rows[index.shard_of(doc.id)].append(i)
    builder = ray.remote(ShardBuilder).options(num_cpus=1, scheduling_strategy="SPREAD", **(actor_options or {}))
    step = tail.step.model_dump(by_alias=True, exclude_defaults=True)
    adds, closes = [], {}
    for shard, own in enumerate(rows):
        actor: Any = builder.remote(spec, step, shard)  # a Ray actor handle: methods are called with .remote()
        for batch in chunks(pipe, [docs[i] for i in own], batch_size):
            picked = [own[j] for j in batch]
            adds.append(actor.add.remote(json.dumps(picked), json.dumps([docs[i].to_json() for i in picked])))
        closes[actor.close.remote()] = shard  # the ref alone keeps no actor alive: it ends after close
    keyed: list[tuple[tuple[int, ...], str]] = []
    total = len(adds)
    while adds:
        ready, adds = ray.wait(adds, num_returns=1)
        for key, text in ray.get(ready[0]):
            keyed.append((tuple(json.loads(key)), text))
        if progress is not None:
            progress("ray", total - len(adds), total)
    nodes = ray.get(list(closes))
    keyed.sort(key=lambda kv: kv[0])
    return [Document.from_json(text) for _, text in keyed], nodes


def run_on_ray(app: App, shape: str, docs: Sequence[Any], *, workers: int = 2, k: int = 10, filter: Filter | None = None,
               batch_size: int | None = None, temp_dir: str | Path | None = None, address: str | None = None,
               progress: ProgressFn | None = None) -> RunResult:
    """Run ``shape`` (encode, index or search) of ``app`` with its encoders spread over ``workers`` Ray actors.

    Gives the same :class:`RunResult` as ``app.run(shape, docs)``; an index is saved when it lives at a path.
    ``batch_size`` (default: each first step's own) sets how many documents one actor call takes.
    ``address`` (or ``RAY_ADDRESS``) names a running cluster to use; without one a private cluster runs.
    A sharded index (``shards: N``) is built by one actor per shard, each encoding and indexing its
    shard's documents (``workers`` does not apply); the documents come back without embeddings.
    """
    if workers < 1:
        raise EngineError(f"workers must be at least 1, got {workers}")
    spec, tail, pipe = split(app, shape)
    check_documents(pipe, docs)
    seconds: dict[str, float] = {}
    result = RunResult(seconds=seconds)
    started = time.perf_counter()
    sharded = tail is not None and tail.op != "search" and getattr(tail.executor, "shard_count", 1) > 1
    with ray_session(num_cpus=max(workers, 2), temp_dir=temp_dir, address=address):
        if sharded:
            assert tail is not None
            result.documents, _ = index_shards_on_ray(spec, tail, pipe, docs, batch_size=batch_size, progress=progress)
            seconds["ray"] = time.perf_counter() - started
            return result
        embedded = encode_on_ray(spec, docs, chunks(pipe, docs, batch_size), workers=workers, progress=progress)
    seconds["ray"] = time.perf_counter() - started
    if tail is None:
        result.documents = embedded
        return result
    started = time.perf_counter()
    index, size = tail.executor, max(int(tail.executor.batch_size), 1)
    if tail.op == "search":
        for start in range(0, len(embedded), size):
            batch = embedded[start:start + size]
            result.matches.extend(index.search(np.stack([cast(np.ndarray, d.embedding) for d in batch]), k=k, filter=filter))
        result.queries = embedded
    else:
        for start in range(0, len(embedded), size):
            index.add(embedded[start:start + size])
        persist(index)
        result.documents = embedded
    seconds[tail.step.name] = time.perf_counter() - started
    return result
