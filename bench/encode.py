"""Text encoding speed: `minilm-text` (ONNX Runtime) against raw sentence-transformers, in one run.

Throughput: the same English sentences (stdlib docstrings, deterministic) and batch size, rounds
interleaved, medians; the vectors of both are compared (min cosine). Cold start: a fresh
subprocess times import + load + first encode of one sentence (medians over runs, interleaved),
beside the floor every encoder pays: importing modahub core (numpy, pydantic) and making a document.
The minilm-text ONNX export is made (or found in the cache) before anything is timed.

    .venv/bin/python bench/encode.py [--sentences 1000] [--batch-size 32] [--rounds 5] [--cold-runs 5] [--threads N]

On a shared machine wall times swing with the load; the CPU-second figures (process CPU time, all
threads) move less.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import resource
import statistics
import subprocess
import sys
import time
import warnings

TARGET_SPEEDUP = 1.25
TARGET_COLD_S = 0.5
MODULES = ("builtins", "os", "os.path", "pathlib", "collections", "itertools", "functools", "json", "re", "socket",
           "subprocess", "threading", "asyncio", "argparse", "logging", "email", "http.client", "urllib.request",
           "zipfile", "tarfile", "shutil", "tempfile", "datetime", "decimal", "fractions", "statistics", "random",
           "string", "textwrap", "difflib", "csv", "sqlite3", "unittest", "inspect", "typing", "dataclasses", "enum")

COLD = {
    "floor: modahub core": (
        "import resource, time; t = time.perf_counter()\n"
        "import modahub, modahub.documents, numpy; modahub.text('hello world'); loaded = time.perf_counter()\n"
        "print(loaded - t, time.perf_counter() - t, sum(resource.getrusage(resource.RUSAGE_SELF)[:2]))\n"
    ),
    "minilm-text": (
        "import resource, time; t = time.perf_counter()\n"
        "import modahub\n"
        "enc = modahub.load('minilm-text'); enc.warm_up(); loaded = time.perf_counter()\n"
        "enc.encode([modahub.text('hello world')])\n"
        "print(loaded - t, time.perf_counter() - t, sum(resource.getrusage(resource.RUSAGE_SELF)[:2]))\n"
    ),
    "sentence-transformers": (
        "import resource, time; t = time.perf_counter()\n"
        "from sentence_transformers import SentenceTransformer\n"
        "from modahub_text.minilm import packaged_weights\n"
        "model = SentenceTransformer(str(packaged_weights()), device='cpu'); loaded = time.perf_counter()\n"
        "model.encode(['hello world'])\n"
        "print(loaded - t, time.perf_counter() - t, sum(resource.getrusage(resource.RUSAGE_SELF)[:2]))\n"
    ),
}


def sentences(count: int) -> list[str]:
    """Real English sentences: the docstrings of standard-library modules, split, 3-40 words, unique."""
    seen: dict[str, None] = {}
    warnings.simplefilter("ignore", DeprecationWarning)  # some module attributes warn when read
    for name in MODULES:
        module = importlib.import_module(name)
        for obj in [module, *vars(module).values()]:
            doc = getattr(obj, "__doc__", None)
            if not isinstance(doc, str):
                continue
            for sentence in re.split(r"(?<=[.!?])\s+", " ".join(doc.split())):
                if 3 <= len(sentence.split()) <= 40:
                    seen.setdefault(sentence)
    texts = list(seen)
    if len(texts) < count:
        raise SystemExit(f"only {len(texts)} sentences available; ask for fewer with --sentences")
    return texts[:count]


def cpu_seconds() -> float:
    """CPU time of this process, all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def throughput(texts: list[str], batch_size: int, rounds: int, threads: int | None) -> dict[str, float]:
    """Median sentences per wall second and per CPU second of both, median per-round ratios, min cosine."""
    import numpy as np
    import torch
    from modahub_text.minilm import packaged_weights
    from sentence_transformers import SentenceTransformer

    import modahub

    model = SentenceTransformer(str(packaged_weights()), device="cpu")
    if threads:
        torch.set_num_threads(threads)
    threads = torch.get_num_threads()
    enc = modahub.load("minilm-text", batch_size=batch_size, threads=threads)
    docs = [modahub.text(t) for t in texts]  # documents are the encoder's input, built outside the clock
    print(f"threads: {threads} for both; {len(texts)} sentences, batch {batch_size}")

    def st() -> np.ndarray:
        return model.encode(texts, batch_size=batch_size, normalize_embeddings=True)

    def ours() -> np.ndarray:
        return enc.encode(docs)

    want, got = st(), ours()  # warm-up, and the vectors to compare
    cosine = float(((want * got).sum(1) / np.linalg.norm(want, axis=1) / np.linalg.norm(got, axis=1)).min())
    rates: dict[str, list[float]] = {"st": [], "ours": [], "st_cpu": [], "ours_cpu": []}
    for i in range(rounds):
        for key, run in (("st", st), ("ours", ours)) if i % 2 == 0 else (("ours", ours), ("st", st)):
            start, cpu = time.perf_counter(), cpu_seconds()
            run()
            rates[key].append(len(texts) / (time.perf_counter() - start))
            rates[f"{key}_cpu"].append(len(texts) / (cpu_seconds() - cpu))
        print(f"  round {i + 1}: sentence-transformers {rates['st'][-1]:6.0f}/s ({rates['st_cpu'][-1]:4.0f}/CPU-s)   "
              f"minilm-text {rates['ours'][-1]:6.0f}/s ({rates['ours_cpu'][-1]:4.0f}/CPU-s)   "
              f"x{rates['ours'][-1] / rates['st'][-1]:.2f}")
    figures = {key: statistics.median(values) for key, values in rates.items()}
    figures["ratio"] = statistics.median(o / s for o, s in zip(rates["ours"], rates["st"], strict=True))
    figures["ratio_cpu"] = statistics.median(o / s for o, s in zip(rates["ours_cpu"], rates["st_cpu"], strict=True))
    figures["cosine"] = cosine
    return figures


def cold_starts(runs: int) -> dict[str, dict[str, float]]:
    """Median load time, time to the first vector, process CPU time and wall time of each cold start."""
    samples: dict[str, list[tuple[float, ...]]] = {name: [] for name in COLD}
    for i in range(runs):
        for name in COLD if i % 2 == 0 else reversed(COLD):
            start = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", COLD[name]], check=True, capture_output=True, text=True)
            wall = time.perf_counter() - start
            loaded, first, cpu = map(float, out.stdout.split()[-3:])
            samples[name].append((loaded, first, cpu, wall))
    return {
        name: {key: statistics.median(s[j] for s in rows) for j, key in enumerate(("load", "first", "cpu", "wall"))}
        for name, rows in samples.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--cold-runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="threads of both (default: torch's default)")
    args = parser.parse_args()

    subprocess.run([sys.executable, "-c", COLD["minilm-text"]], check=True, capture_output=True)  # export once, cached

    texts = sentences(args.sentences)
    print(f"## Throughput ({statistics.mean(len(t.split()) for t in texts):.1f} words per sentence)")
    fig = throughput(texts, args.batch_size, args.rounds, args.threads)
    print(f"sentence-transformers   {fig['st']:8.0f} sentences/s  {fig['st_cpu']:6.0f} per CPU-s (medians of {args.rounds})")
    print(f"minilm-text (ONNX)      {fig['ours']:8.0f} sentences/s  {fig['ours_cpu']:6.0f} per CPU-s")
    print(f"speed-up                {fig['ratio']:8.2f}x wall, {fig['ratio_cpu']:.2f}x CPU (median of per-round ratios; "
          f"target >= {TARGET_SPEEDUP}x)")
    print(f"min cosine              {fig['cosine']:.7f} (target >= 0.9999)")

    print(f"\n## Cold start in a fresh process (median of {args.cold_runs})")
    cold = cold_starts(args.cold_runs)
    print(f"{'':24}{'import+load s':>14}{'+first encode s':>17}{'process CPU s':>15}{'process wall s':>16}")
    for name, row in cold.items():
        print(f"{name:24}{row['load']:>14.3f}{row['first']:>17.3f}{row['cpu']:>15.3f}{row['wall']:>16.3f}")
    ours_cold, st_cold, floor = cold["minilm-text"], cold["sentence-transformers"], cold["floor: modahub core"]
    print(f"minilm-text import+load {ours_cold['load']:.3f} s (target <= {TARGET_COLD_S} s),\n  "
          f"{ours_cold['load'] - floor['load']:.3f} s above the floor of importing modahub core (numpy, pydantic); "
          f"{st_cold['first'] / ours_cold['first']:.1f}x faster to the first vector than sentence-transformers")
    print(json.dumps({"speedup": round(fig["ratio"], 3), "speedup_cpu": round(fig["ratio_cpu"], 3), "min_cosine": fig["cosine"],
                      "cold_load_s": round(ours_cold["load"], 3), "cold_cpu_s": round(ours_cold["cpu"], 3),
                      "cold_first_s": round(ours_cold["first"], 3), "st_cold_first_s": round(st_cold["first"], 3)}))


if __name__ == "__main__":
    main()
