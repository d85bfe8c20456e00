"""HTTP serving: ``modahub serve`` + its client vs the same app called in process, at batch 32.

The app: a text encoder (``--text``, default minilm-text), ``digits-image`` and an in-memory
``exact-index`` holding ``--n`` real sentences (``bench/realtext.py``). ``modahub serve`` runs as
a separate process on 127.0.0.1 (ephemeral port); the peer is the same app file loaded in this
process. Workloads: encode a batch of ``--batch`` sentences; search a batch of ``--batch``
sentence queries (k=10, matched documents returned). For each, ``--seconds`` of back-to-back
calls: in process, one HTTP client, and ``--clients`` concurrent HTTP clients, taking turns for
``--rounds`` rounds (median). Reported: documents/s, p50/p99 latency per batch, and HTTP
throughput / in-process throughput; target ≥ 0.8 for one client.

Then a load figure: ``--load`` single-query searches (k=10) from ``--concurrency`` clients at once
against the same server (queue ``--queue``): requests/s, p50/p99 latency, every status code
(503 is the queue's deliberate answer; no other 5xx is expected) and the server's resident
memory before and after. Nothing is asserted about time.

    .venv/bin/python bench/serve.py [--n 2000] [--batch 32] [--seconds 5] [--clients 4] [--rounds 2]
                                    [--load 2000] [--concurrency 32] [--queue 64]

``--ray``: instead, ``modahub serve --engine ray`` with 1 and with 2 reader replicas on a real
two-node Ray cluster on this machine (``LocalCluster``, one CPU per node) against local ``modahub
serve`` (measured before and after Ray; ratios against their mean), all in one run, on an image
app (digits-image + embedded-index of ``--n`` images): requests/s of encode and search batches
from ``--clients`` concurrent clients (see ``ray_serve``).
"""

from __future__ import annotations

import argparse
import atexit
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

import modahub
from modahub.pipeline import App
from modahub_hub.client import Client

sys.path.insert(0, str(Path(__file__).resolve().parent))
import realtext  # noqa: E402

TARGET = 0.8
APP = "name: bench-serve\nencoders:\n  - uses: {text}\n  - uses: digits-image\nindex:\n  uses: exact-index\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drive(call: Callable[[], object], seconds: float, clients: int = 1) -> tuple[int, list[float], float]:
    """Call back to back from ``clients`` threads for ``seconds``: (calls, latencies, wall seconds)."""
    latencies: list[float] = []
    stop = time.perf_counter() + seconds

    def loop() -> None:
        while time.perf_counter() < stop:
            start = time.perf_counter()
            call()
            latencies.append(time.perf_counter() - start)

    wall = in_threads(loop, clients)
    return len(latencies), latencies, wall


def in_threads(target: Callable[[], None], n: int) -> float:
    """Run ``target`` in ``n`` threads at once; the wall seconds until all are done."""
    began = time.perf_counter()
    threads = [threading.Thread(target=target) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - began


def rss_mib(pid: int) -> float:
    """Resident memory of process ``pid`` in MiB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load(url: str, bodies: list[bytes], concurrency: int) -> tuple[Counter[int], list[float], float]:
    """POST each body to /search from ``concurrency`` threads at once: (status codes, latencies, wall seconds)."""
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    todo = iter(bodies)
    lock = threading.Lock()

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=120) as http:
            while True:
                with lock:
                    body = next(todo, None)
                if body is None:
                    return
                start = time.perf_counter()
                try:
                    status = http.post("/search", content=body, headers={"content-type": "application/json"}).status_code
                except httpx.TransportError:
                    status = 0  # no answer at all
                latencies.append(time.perf_counter() - start)
                statuses[status] += 1

    return statuses, latencies, in_threads(worker, concurrency)


def measure(in_process: Callable[[], object], over_http: Callable[[Client], object], client: Client, url: str,
            args: argparse.Namespace) -> dict[str, list[tuple[float, list[float]]]]:
    """Rounds of: in process, one HTTP client, several HTTP clients; (docs/s, latencies) per run."""
    many = f"HTTP, {args.clients} clients"
    runs: dict[str, list[tuple[float, list[float]]]] = {"in-process": [], "HTTP, 1 client": [], many: []}
    idle = [Client(url) for _ in range(args.clients)]
    mine = threading.local()

    def each() -> object:
        if not hasattr(mine, "client"):
            mine.client = idle.pop()
        return over_http(mine.client)

    for _ in range(args.rounds):
        calls, lat, wall = drive(in_process, args.seconds)
        runs["in-process"].append((calls * args.batch / wall, lat))
        calls, lat, wall = drive(lambda: over_http(client), args.seconds)
        runs["HTTP, 1 client"].append((calls * args.batch / wall, lat))
        idle[:] = [Client(url) for _ in range(args.clients)]
        calls, lat, wall = drive(each, args.seconds, args.clients)
        runs[many].append((calls * args.batch / wall, lat))
    return runs


RAY_APP = "name: bench-ray-serve\nencoders:\n  - uses: digits-image\nindex:\n  uses: embedded-index\n  with: {path: ./index}\n"


def ray_serve(args: argparse.Namespace) -> None:
    """Requests/s of local ``modahub serve`` and of Ray Serve with 1 and 2 replicas on a two-node cluster, same run."""
    import os

    here = Path(__file__).resolve().parent  # off sys.path: bench/ray.py would shadow the ray package
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != here]

    from modahub_hub.engines.cluster import LocalCluster
    from modahub_hub.engines.ray_serve import serve_on_ray

    rng = np.random.default_rng(0)
    images = [modahub.image(rng.integers(0, 256, (28, 28, 3), dtype=np.uint8), id=f"img-{i}") for i in range(args.n)]
    folder = Path(tempfile.mkdtemp(prefix="bench-ray-serve-", dir="/tmp"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # the app, its index and the cluster's files
    (folder / "app.yml").write_text(RAY_APP)
    App.from_yaml(folder / "app.yml").index(images)

    def batch() -> list:
        return [modahub.image(rng.integers(0, 256, (28, 28, 3), dtype=np.uint8)) for _ in range(args.batch)]

    def rates(url: str) -> dict[str, float]:
        clients = [Client(url) for _ in range(args.clients)]
        clients[0].wait_ready(300)
        out = {}
        for name, call in (("encode", lambda c: c.encode(batch())), ("search", lambda c: c.search(batch(), k=10))):
            mine = threading.local()

            def each(call=call, mine=mine) -> object:
                if not hasattr(mine, "client"):
                    mine.client = clients.pop()
                return call(mine.client)

            call(Client(url))
            runs = []
            for _ in range(args.rounds):
                clients[:] = [Client(url) for _ in range(args.clients)]
                calls, _, wall = drive(each, args.seconds, args.clients)
                runs.append(calls / wall)
            out[name] = statistics.median(runs)
        return out

    results: dict[str, dict[str, float]] = {}

    def local(label: str) -> None:
        port = free_port()
        server = subprocess.Popen([str(Path(sys.executable).parent / "modahub"), "serve", str(folder / "app.yml"),
                                   "--port", str(port), "--queue", str(4 * args.clients)])
        try:
            results[label] = rates(f"http://127.0.0.1:{port}")
        finally:
            server.terminate()
            server.wait(timeout=60)

    local("local serve, before Ray")
    started = time.perf_counter()
    with LocalCluster(folder / "c", nodes=(1, 1), timeout=900) as cluster:  # a loaded machine needs retries
        cluster_s = time.perf_counter() - started
        os.environ.update(cluster.client_env)
        for replicas in (1, 2):
            with serve_on_ray(folder / "app.yml", port=free_port(), replicas=replicas, address=cluster.address) as url:
                results[f"ray serve, {replicas} replica{'s' if replicas > 1 else ''}"] = rates(url)
    local("local serve, after Ray")  # the load of others' work drifts: local is measured on both sides of Ray
    print(f"app: digits-image + embedded-index ({args.n} images); batches of {args.batch} images; {args.clients} clients; "
          f"{args.seconds:g} s per run, median of {args.rounds}; two-node Ray cluster (1 CPU per node) started in "
          f"{cluster_s:.1f} s; {os.cpu_count()} CPUs on this machine")
    base = {w: statistics.mean(results[f"local serve, {t} Ray"][w] for t in ("before", "after")) for w in ("encode", "search")}
    print(f"{'':28}{'encode req/s':>14}{'vs local':>10}{'search req/s':>14}{'vs local':>10}   (local: mean of before and after)")
    for label, rate in results.items():
        print(f"{label:28}{rate['encode']:14.1f}{rate['encode'] / base['encode']:10.2f}"
              f"{rate['search']:14.1f}{rate['search'] / base['search']:10.2f}")
    one, two = results["ray serve, 1 replica"], results["ray serve, 2 replicas"]
    print(f"scaling 2 replicas / 1: encode {two['encode'] / one['encode']:.2f}x, search {two['search'] / one['search']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="sentences in the index")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--text", default="minilm-text")
    parser.add_argument("--ray", action="store_true", help="Ray Serve with 1 and 2 replicas on a two-node cluster instead")
    parser.add_argument("--load", type=int, default=2000, help="searches in the load figure")
    parser.add_argument("--concurrency", type=int, default=32, help="clients at once in the load figure")
    parser.add_argument("--queue", type=int, default=64, help="the server's --queue")
    args = parser.parse_args()
    if args.ray:
        return ray_serve(args)

    sentences = realtext._sentences()[: args.n + 50 * args.batch]  # cached under bench/.cache
    corpus = [modahub.text(s, id=f"s{i}") for i, s in enumerate(sentences[: args.n])]
    pool = sentences[args.n :]
    folder = Path(tempfile.mkdtemp(prefix="modahub-bench-serve-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # the app, its index and the cluster's files
    (folder / "app.yml").write_text(APP.format(text=args.text))
    local = App.from_yaml(folder / "app.yml")
    local.warm_up()
    local.index(corpus)

    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "modahub"), "serve", str(folder / "app.yml"),
                               "--port", str(port), "--queue", str(args.queue)])
    try:
        url = f"http://127.0.0.1:{port}"
        client = Client(url)
        client.wait_ready(120)
        client.index(corpus)
        rng = np.random.default_rng(0)

        def batch() -> list:
            return [modahub.text(s) for s in rng.choice(pool, args.batch, replace=False)]

        workloads = {
            "encode": (lambda: local.encode(batch()), lambda c: c.encode(batch())),
            "search": (lambda: local.search(batch(), k=10), lambda c: c.search(batch(), k=10)),
        }
        print(f"app: {args.text} + digits-image + exact-index ({args.n} sentences); batch {args.batch}; "
              f"{args.seconds:g} s per run, median of {args.rounds} rounds; server: separate process on 127.0.0.1")
        print(f"{'':28}{'docs/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'vs in-process':>15}")
        verdicts = []
        for name, (in_process, over_http) in workloads.items():
            in_process()
            over_http(client)
            runs = measure(in_process, over_http, client, url, args)
            base = statistics.median(r[0] for r in runs["in-process"])
            for label, results in runs.items():
                rate = statistics.median(r[0] for r in results)
                lat = np.array([x for r in results for x in r[1]]) * 1000
                print(f"{name + ': ' + label:28}{rate:10,.0f}{np.percentile(lat, 50):10.1f}{np.percentile(lat, 99):10.1f}"
                      f"{rate / base:15.2f}")
                if label == "HTTP, 1 client":
                    verdicts.append((name, rate / base))
        for name, ratio in verdicts:
            verdict = "PASS" if ratio >= TARGET else "FAIL"
            print(f"target {name} over HTTP (1 client) >= {TARGET}x in-process: {ratio:.2f}x {verdict}")

        bodies = [b'{"queries": [%s], "k": 10}' % modahub.text(str(s)).model_dump_json().encode()
                  for s in rng.choice(pool, args.load, replace=True)]
        before = rss_mib(server.pid)
        statuses, latencies, wall = load(url, bodies, args.concurrency)
        lat = np.array(latencies) * 1000
        codes = ", ".join(f"{code}: {count}" for code, count in sorted(statuses.items()))
        print(f"load: {args.load} searches (1 query, k=10) from {args.concurrency} clients at once, queue {args.queue}: "
              f"{args.load / wall:,.0f} requests/s, p50 {np.percentile(lat, 50):.1f} ms, p99 {np.percentile(lat, 99):.1f} ms; "
              f"status codes {{{codes}}}; server memory {before:,.0f} -> {rss_mib(server.pid):,.0f} MiB; "
              f"healthy after: {client.ready()}")
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
