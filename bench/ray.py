"""Bulk encoding on Ray against the local runner, in one run: overhead and scaling ratios.

The corpus is deterministic (images and spoken-digit-like tones); the app has the digits-image and
digits-audio encoders (numpy, weights shipped). Timed, in this order: the local runner (executors
warmed up first, so it is steady state), starting a local Ray cluster (127.0.0.1, usage stats
off, no dashboard), then Ray Data with 1 and with 2 actors (each actor starts and loads its models
inside the timing, as in a real bulk job). Every Ray result is checked against the local one within modahub_testing's tolerance.

    .venv/bin/python bench/ray.py [--docs 6000] [--batch-size 64] [--rounds 1]

``--cluster``: a real two-node cluster on this machine (``LocalCluster``: separate ``ray start``
processes on 127.0.0.1, one CPU per node). Timed: starting it; attaching a driver to it
(``ray_session(address=...)``, connect and disconnect) against starting a private cluster in the
same run; and a sharded index build (two shards of ``embedded-index``, one actor per shard) with
both actors pinned to the head node, then spread over both nodes. The sharded index is checked
against a single-process one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

# run as a script, this file's folder comes first on sys.path, where this file would shadow the ray package
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402

import modahub  # noqa: E402
from modahub.pipeline import App  # noqa: E402
from modahub_testing import assert_vectors_close  # noqa: E402

APP = """\
name: bench-ray
encoders:
  - uses: digits-image
    with: {{batch_size: {batch}}}
  - uses: digits-audio
    with: {{batch_size: {batch}}}
"""


def corpus(n: int) -> list:
    rng = np.random.default_rng(0)
    t = np.arange(8000, dtype=np.float32) / 16000
    docs = []
    for i in range(n):
        if i % 2:
            tone = 0.4 * np.sin(2 * np.pi * rng.uniform(120, 900) * t) * np.hanning(t.size)
            docs.append(modahub.audio(tone.astype(np.float32), 16000, id=f"tone-{i}"))
        else:
            docs.append(modahub.image(rng.integers(0, 256, (28, 28, 3), dtype=np.uint8), id=f"img-{i}"))
    return docs


SHARDED = APP + "index:\n  uses: embedded-index\n  with: {{path: ./{name}, shards: 2}}\n"


def cluster_bench(args: argparse.Namespace) -> None:
    """Index throughput on one and on two nodes of a real cluster; the cost of attaching vs a private cluster."""
    from modahub_hub.engines.cluster import LocalCluster
    from modahub_hub.engines.ray_engine import index_shards_on_ray, ray_session, split
    from modahub_testing.compare import assert_same_hits

    folder = Path(tempfile.mkdtemp(prefix="bench-ray-", dir="/tmp"))  # short: Ray's socket paths have a length limit
    docs, queries = corpus(args.docs), corpus(50)[::-1]
    started = time.perf_counter()
    with ray_session(num_cpus=2, temp_dir=folder / "p"):
        private_s = time.perf_counter() - started
    started = time.perf_counter()
    with LocalCluster(folder / "c", nodes=(1, 1)) as cluster:
        cluster_s = time.perf_counter() - started
        os.environ.update(cluster.client_env)
        attach: list[float] = []
        build: dict[str, float] = {}
        for _ in range(3):
            started = time.perf_counter()
            with ray_session(num_cpus=1, address=cluster.address):
                attach.append(time.perf_counter() - started)
        for label, options in (("1 node", {"resources": {"node-0": 0.01}}), ("2 nodes", None)):
            name = label.replace(" ", "-")
            (folder / f"{name}.yml").write_text(SHARDED.format(batch=args.batch_size, name=name))
            app = App.from_yaml(folder / f"{name}.yml")
            spec, tail, pipe = split(app, "index")
            with ray_session(num_cpus=1, address=cluster.address):
                started = time.perf_counter()
                _, nodes = index_shards_on_ray(spec, tail, pipe, docs, batch_size=args.batch_size, actor_options=options)
                build[label] = time.perf_counter() - started
            print(f"  sharded build on {label}: {build[label]:.1f} s, shard actors on {len(set(nodes))} node(s)", flush=True)
    (folder / "single.yml").write_text(APP.format(batch=args.batch_size) + "index:\n  uses: embedded-index\n"
                                       "  with: {path: ./single}\n")
    single = App.from_yaml(folder / "single.yml")
    started = time.perf_counter()
    single.index(docs)
    local_s = time.perf_counter() - started
    for label in build:
        sharded = App.from_yaml(folder / f"{label.replace(' ', '-')}.yml")
        assert_same_hits(sharded.search(queries, k=10).matches, single.search(queries, k=10).matches)
    print(f"two-node Ray cluster on this machine ({os.cpu_count()} CPUs, 1 CPU per node); {args.docs} documents, "
          "sharded embedded-index (2 shards), results equal to the single-process index")
    print(f"{'':36}{'seconds':>9}{'docs/s':>10}")
    print(f"{'start the two-node cluster':36}{cluster_s:9.2f}")
    print(f"{'start a private cluster (ray.init)':36}{private_s:9.2f}")
    print(f"{'attach to the running cluster':36}{statistics.median(attach):9.2f}   (median of 3)")
    print(f"{'index, one process (local runner)':36}{local_s:9.2f}{args.docs / local_s:10.0f}")
    for label, secs in build.items():
        print(f"{'index, 2 shard actors on ' + label:36}{secs:9.2f}{args.docs / secs:10.0f}")
    print(f"scaling 2 nodes / 1 node = {build['1 node'] / build['2 nodes']:.2f}x; "
          f"attach / private start = {statistics.median(attach) / private_s:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=6000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=1, help="repeat each Ray measurement (medians)")
    parser.add_argument("--cluster", action="store_true", help="the two-node cluster figures instead (see above)")
    args = parser.parse_args()
    if args.cluster:
        return cluster_bench(args)

    from modahub_hub.engines.ray_engine import ray_session, run_on_ray

    folder = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    (folder / "app.yml").write_text(APP.format(batch=args.batch_size))
    app = App.from_yaml(folder / "app.yml")
    docs = corpus(args.docs)
    app.warm_up()
    started = time.perf_counter()
    expected = app.encode(docs)
    local_s = time.perf_counter() - started

    started = time.perf_counter()
    with ray_session(num_cpus=2, temp_dir=folder / "ray"):
        init_s = time.perf_counter() - started
        timings: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.rounds):
            for workers in (1, 2):
                started = time.perf_counter()
                result = run_on_ray(app, "encode", docs, workers=workers)
                timings[workers].append(time.perf_counter() - started)
                got = np.stack([d.embedding for d in result.documents])
                try:
                    assert_vectors_close(got, expected)
                except AssertionError as exc:
                    sys.exit(f"ray with {workers} workers gave different vectors: {exc}")
    ray1, ray2 = (statistics.median(timings[w]) for w in (1, 2))
    print(f"bulk encode of {args.docs} documents (half 28x28 images, half 0.5 s tones), batch {args.batch_size}, "
          f"{os.cpu_count()} CPUs; Ray results equal to local within rtol 1e-5, atol 1e-6")
    print(f"{'runner':<28}{'seconds':>9}{'docs/s':>10}")
    for name, secs in (("local runner (warm)", local_s), ("ray cluster start", init_s), ("ray data, 1 actor", ray1),
                       ("ray data, 2 actors", ray2)):
        rate = "" if name.startswith("ray cluster") else f"{args.docs / secs:10.0f}"
        print(f"{name:<28}{secs:9.2f}{rate}")
    print(f"overhead  ray 1 actor / local            = {ray1 / local_s:5.2f}x")
    print(f"scaling   ray 1 actor / ray 2 actors     = {ray1 / ray2:5.2f}x  (ideal 2.00 with 2 free cores)")
    print(f"speed-up  local / ray 2 actors           = {local_s / ray2:5.2f}x")
    print(f"with start-up: local / (ray start + 2 actors) = {local_s / (init_s + ray2):5.2f}x")


if __name__ == "__main__":
    main()
