"""HTTP serving: ``modahub serve`` + its client vs the same app called in process, at batch 32.

The app: a text encoder (``--text``, default minilm-text), ``digits-image`` and an in-memory
``exact-index`` holding ``--n`` real sentences (``bench/realtext.py``). ``modahub serve`` runs as
a separate process on 127.0.0.1 (ephemeral port); the peer is the same app file loaded in this
process. Workloads: encode a batch of ``--batch`` sentences; search a batch of ``--batch``
sentence queries (k=10, matched documents returned). For each, ``--seconds`` of back-to-back
calls: in process, one HTTP client, and ``--clients`` concurrent HTTP clients, taking turns for
``--rounds`` rounds (median). Reported: documents/s, p50/p99 latency per batch, and HTTP
throughput / in-process throughput; target ≥ 0.8 for one client.

    .venv/bin/python bench/serve.py [--n 2000] [--batch 32] [--seconds 5] [--clients 4] [--rounds 2]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

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

    began = time.perf_counter()
    threads = [threading.Thread(target=loop) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(latencies), latencies, time.perf_counter() - began


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="sentences in the index")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--text", default="minilm-text")
    args = parser.parse_args()

    sentences = realtext._sentences()[: args.n + 50 * args.batch]  # cached under bench/.cache
    corpus = [modahub.text(s, id=f"s{i}") for i, s in enumerate(sentences[: args.n])]
    pool = sentences[args.n :]
    folder = Path(tempfile.mkdtemp(prefix="modahub-bench-serve-"))
    (folder / "app.yml").write_text(APP.format(text=args.text))
    local = App.from_yaml(folder / "app.yml")
    local.warm_up()
    local.index(corpus)

    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "modahub"), "serve", str(folder / "app.yml"),
                               "--port", str(port), "--queue", str(4 * args.clients)])
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
    finally:
        server.terminate()
        server.wait(timeout=60)


if __name__ == "__main__":
    main()
