"""Index speed and recall on real sentence embeddings, against faiss measured in the same run.

Data: real sentences (see ``bench/realtext.py``) encoded with all-MiniLM-L6-v2 (384-d,
normalised) and cached under ``bench/.cache/``; ``queries`` of them are held out as queries, ``n``
go into the index. With ``--real R`` only R of those are real sentences and the rest are
interpolated between real neighbours (``augment``), to reach ``n`` without encoding ``n``
sentences on a busy machine. Ground truth: exact inner-product top-k.

1. Exact: ``embedded-index`` (persistent, returns stored documents) vs a plain numpy matmul +
   ``argpartition`` top-k (sorted) on the same vectors; target ≥ 0.9× its queries/s. Also
   ``exact-index`` (numpy, in memory) and ``faiss.IndexFlatIP`` for reference (faiss-cpu's bundled
   OpenBLAS may run a generic kernel here, so it is no target; see docs/indexes.md).
2. Approximate: ``hnsw-index`` vs ``faiss.IndexHNSWFlat`` with the same M and efConstruction, over a
   sweep of efSearch; target: at the smallest efSearch where each reaches recall@10 ≥ 0.95, ours
   answers at ≥ 0.9× faiss's queries/s (measured side by side). hnsw-index puts its graph on huge
   pages (``pages.py``); the bench then gives faiss's graph the same and measures again.
   ``--shards N`` also builds a sharded hnsw-index, each shard in its own process at once.
   ``--candidates`` adds usearch and hnswlib (if importable) with the same M, for the choice of library.

Queries/s: one call with all queries (both cores), median of ``--rounds`` rounds, ours and the
peer interleaved so that load from other users of the machine hits both alike. Memory: the growth
of this process's resident memory while each index is built (peak, sampled every 20 ms) and what it
still holds after; disk: the size of the index folder. Documents are made batch by batch, so a
million of them never sit in memory at once.

    .venv/bin/python bench/index.py [--n 100000] [--queries 1000] [--rounds 5] [--candidates]
    .venv/bin/python bench/index.py --n 1000000 --real 20000 --queries 200 --rounds 1 --efs 32,64,128
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np
from modahub_embedded_index.indexer import EmbeddedIndexer, HnswIndexer
from modahub_embedded_index.pages import use_huge_pages
from modahub_exact_index.indexer import ExactIndexer

import modahub

sys.path.insert(0, str(Path(__file__).resolve().parent))
import realtext  # noqa: E402

TARGET_RATIO, TARGET_RECALL = 0.9, 0.95


def timed(call: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    out = call()
    return time.perf_counter() - start, out


def rss() -> int:
    """This process's resident memory in bytes."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Memory:
    """Resident memory growth during a block: ``peak`` (sampled every 20 ms) and ``held`` at its end, in GiB."""

    def __enter__(self) -> Memory:
        self.base = self.top = rss()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._done.wait(0.02):
            self.top = max(self.top, rss())

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()
        end = rss()
        self.top = max(self.top, end)
        self.peak, self.held = (self.top - self.base) / 2**30, (end - self.base) / 2**30

    def __str__(self) -> str:
        return f"memory +{self.peak:.2f} GiB peak, +{self.held:.2f} GiB held"


def disk(folder: Path) -> str:
    size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    return f"disk {size / 2**30:.2f} GiB"


def interleaved(rounds: int, **calls: Callable[[], object]) -> dict[str, list[float]]:
    """Seconds per call of each call, the calls taking turns round after round."""
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            times[name].append(timed(call)[0])
    return times


def qps(nq: int, seconds: list[float]) -> float:
    """Median queries/s."""
    return nq / statistics.median(seconds)


def paired(ours: list[float], peer: list[float]) -> float:
    """Median over rounds of peer time / our time (our speed relative to the peer's, side by side)."""
    return statistics.median(p / o for o, p in zip(ours, peer, strict=True))


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(f[f >= 0]) & set(t)) / k for f, t in zip(found, truth, strict=True)]))


def blas_kernels() -> str:
    """Which BLAS libraries run which kernel (OPENBLAS_CORETYPE, if set, slows numpy's: unset it to bench)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    return ", ".join(f"{Path(i['filepath']).name} {i.get('version')} {i.get('architecture')}"
                     for i in threadpool_info() if i.get("user_api") == "blas")


def numpy_topk(xq: np.ndarray, base: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The peer of exact search: a matmul, ``argpartition`` for the k best, then those k sorted
    (queries in blocks that keep the score matrix under 256 MiB)."""
    step = max(1, (1 << 26) // len(base))
    parts = []
    for lo in range(0, len(xq), step):
        scores = xq[lo : lo + step] @ base.T
        picked = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        best = np.take_along_axis(scores, picked, 1)
        order = np.argsort(-best, axis=1)
        parts.append((np.take_along_axis(best, order, 1), np.take_along_axis(picked, order, 1)))
    return np.vstack([p[0] for p in parts]), np.vstack([p[1] for p in parts])


def ids_of(results: list) -> np.ndarray:
    k = max(len(row) for row in results)
    return np.array([[int(m.id) for m in row] + [-1] * (k - len(row)) for row in results])


def augment(real: np.ndarray, sentences: list[str], n: int, seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Grow a real set to ``n`` vectors by interpolation (SMOTE-style) between real neighbours.

    Each new vector is ``normalise(l * a + (1 - l) * b)`` with ``a`` a random real embedding, ``b``
    one of its 10 nearest real neighbours and ``l`` uniform in [0.2, 0.8]: it lies between two
    related real sentences, on the data's own manifold rather than in random directions.
    """
    rng = np.random.default_rng(seed)
    extra = n - len(real)
    neighbours = faiss.knn(real, real, 11, metric=faiss.METRIC_INNER_PRODUCT)[1][:, 1:]
    a = rng.integers(0, len(real), extra)
    b = neighbours[a, rng.integers(0, 10, extra)]
    mix = rng.uniform(0.2, 0.8, (extra, 1)).astype(np.float32)
    new = mix * real[a] + (1 - mix) * real[b]
    new /= np.linalg.norm(new, axis=1, keepdims=True)
    texts = [f"{sentences[i]} / {sentences[j]}" for i, j in zip(a.tolist(), b.tolist(), strict=True)]
    return np.ascontiguousarray(np.vstack([real, new]), dtype=np.float32), sentences + texts


class Documents:
    """The index's documents, made on demand for a range of positions (a million never sit in memory at once)."""

    def __init__(self, sentences: list[str], vectors: np.ndarray, ids: np.ndarray | None = None) -> None:
        self.sentences, self.vectors = sentences, vectors
        self.ids = np.arange(len(vectors)) if ids is None else ids

    def __len__(self) -> int:
        return len(self.vectors)

    def __getitem__(self, part: slice) -> list:
        lo, hi, _ = part.indices(len(self))
        return [modahub.text(self.sentences[i], id=str(doc_id), embedding=self.vectors[i], tags={"part": doc_id % 4})
                for i, doc_id in zip(range(lo, hi), self.ids[lo:hi].tolist(), strict=True)]


def fill(index, docs: Documents, batch: int = 10_000) -> float:
    """Seconds spent in ``index.add`` (making the documents is not counted)."""
    spent = 0.0
    for lo in range(0, len(docs), batch):
        part = docs[lo : lo + batch]
        spent += timed(lambda part=part: index.add(part))[0]
    return spent


def bench_exact(base, xq, docs, truth, args, workdir: Path) -> None:
    print(f"\n== exact search: {len(base):,} x {base.shape[1]}, {len(xq):,} queries, k={args.k}")
    with Memory() as peer_mem:
        flat = faiss.IndexFlatIP(base.shape[1])
        flat.add(base)
    with Memory() as our_mem:
        ours = EmbeddedIndexer("bench", base.shape[1], workdir / "exact")
        add_s = fill(ours, docs)
        ours.close()
        reopen_s, _ = timed(lambda: len(ours))
    print(f"embedded-index: {our_mem}, {disk(workdir / 'exact')}; faiss IndexFlatIP: {peer_mem}", flush=True)
    cold_s, cold = timed(lambda: ours.search(xq, k=args.k))
    assert recall(ids_of(cold), truth) == 1.0, "embedded-index is not exact"
    assert recall(numpy_topk(xq, base, args.k)[1], truth) == 1.0
    calls = {
        "numpy_topk": lambda: numpy_topk(xq, base, args.k),
        "faiss_flat": lambda: flat.search(xq, args.k),
        "embedded": lambda: ours.search(xq, k=args.k),
    }
    if len(docs) <= 200_000:  # the in-memory reference holds every document: only for the smaller sets
        numpy_index = ExactIndexer("bench", base.shape[1])
        numpy_index.add(docs[:])
        calls["numpy_exact"] = lambda: numpy_index.search(xq, k=args.k)
    t = interleaved(args.rounds, **calls)
    one = interleaved(
        args.rounds,
        faiss_flat=lambda: [flat.search(q[None], args.k) for q in xq[: args.single]],
        embedded=lambda: [ours.search(q, k=args.k) for q in xq[: args.single]],
    )
    nq, peer = len(xq), t["numpy_topk"]
    ratio = paired(t["embedded"], peer)
    print(f"embedded-index: add {len(docs) / add_s:,.0f} docs/s (batches of 10k, durable), reopen {reopen_s:.2f} s")
    print(f"{'':26}{'queries/s':>12}{'vs numpy':>10}   (ratio: median over {args.rounds} side-by-side rounds)")
    print(f"{'numpy matmul+argpartition':26}{qps(nq, peer):12,.0f}{1:10.2f}")
    print(f"{'embedded-index (warm)':26}{qps(nq, t['embedded']):12,.0f}{ratio:10.2f}")
    print(f"{'embedded-index (cold)':26}{nq / cold_s:12,.0f}{nq / cold_s / qps(nq, peer):10.2f}   (one run)")
    if "numpy_exact" in t:
        print(f"{'exact-index (numpy)':26}{qps(nq, t['numpy_exact']):12,.0f}{paired(t['numpy_exact'], peer):10.2f}")
    print(f"{'faiss IndexFlatIP':26}{qps(nq, t['faiss_flat']):12,.0f}{paired(t['faiss_flat'], peer):10.2f}")
    print(f"one query per call ({args.single}): faiss {qps(args.single, one['faiss_flat']):,.0f}/s, "
          f"embedded-index {qps(args.single, one['embedded']):,.0f}/s = {paired(one['embedded'], one['faiss_flat']):.2f}x")
    verdict = "PASS" if ratio >= TARGET_RATIO else "FAIL"
    print(f"exact target: embedded-index >= {TARGET_RATIO}x numpy matmul+argpartition: {verdict}")
    ours.close()


def sweep(name: str, efs: list[int], set_ef: Callable[[int], None], search: Callable[[], object], peer_search, set_peer_ef,
          truth: np.ndarray, nq: int, rounds: int) -> list[tuple[int, float, float, float, float, float]]:
    """For each efSearch: (ef, recall, qps, peer recall, peer qps, paired ratio), measured interleaved.

    Only the searches are timed; turning our matches into an id array for the recall is not.
    """
    rows = []
    for ef in efs:
        set_ef(ef)
        set_peer_ef(ef)
        ours_recall, peer_recall = recall(ids_of(search()), truth), recall(peer_search()[1], truth)
        t = interleaved(rounds, peer=peer_search, ours=search)
        rows.append((ef, ours_recall, qps(nq, t["ours"]), peer_recall, qps(nq, t["peer"]), paired(t["ours"], t["peer"])))
        print(f"  efSearch {ef:4}: {name} recall {ours_recall:.4f} {rows[-1][2]:8,.0f}/s | "
              f"faiss recall {peer_recall:.4f} {rows[-1][4]:8,.0f}/s | ratio {rows[-1][5]:.2f}", flush=True)
    return rows


def smallest_ef(rows, which: int, target: float) -> tuple[int, float, float] | None:
    """The (ef, recall, qps) of the smallest efSearch reaching ``target``; ``which`` 0 for ours, 1 for the peer."""
    hits = [(r[0], r[1 + 2 * which], r[2 + 2 * which]) for r in rows if r[1 + 2 * which] >= target]
    return min(hits) if hits else None


def bench_hnsw(base, xq, docs, truth, args, workdir: Path) -> None:
    dim = base.shape[1]
    print(f"\n== HNSW: M={args.m}, efConstruction={args.ef_construction}, k={args.k}")
    with Memory() as peer_mem:
        peer = faiss.IndexHNSWFlat(dim, args.m, faiss.METRIC_INNER_PRODUCT)
        peer.hnsw.efConstruction = args.ef_construction
        peer_build_s, _ = timed(lambda: peer.add(base))
    print(f"faiss build {peer_build_s:.1f} s, {peer_mem}", flush=True)
    with Memory() as our_mem:
        ours = HnswIndexer("bench", dim, workdir / "hnsw", m=args.m, ef_construction=args.ef_construction)
        add_s = fill(ours, docs)
        save_s, _ = timed(ours.close)
        reopen_s, _ = timed(lambda: len(ours))
    ours.search(xq, k=args.k)  # fill the document cache once; the cold figure is in the exact section
    print(f"build: faiss {peer_build_s:.1f} s; hnsw-index add {add_s:.1f} s (durable, batches of 10k), "
          f"snapshot {save_s:.1f} s, reopen {reopen_s:.2f} s")
    print(f"hnsw-index: {our_mem}, {disk(workdir / 'hnsw')}; faiss IndexHNSWFlat: {peer_mem}", flush=True)
    _, graph = ours._parts()  # what our search adds per hit: the same graph searched by faiss alone
    t = interleaved(args.rounds, bare=lambda: graph.search(xq, args.k, None, ours.ef_search),
                    ours=lambda: ours.search(xq, k=args.k))
    print(f"per-hit cost: hnsw-index search at {paired(t['ours'], t['bare']):.2f}x the queries/s of a bare faiss search "
          f"of its own graph (efSearch {ours.ef_search}, median of {args.rounds} side-by-side rounds)", flush=True)

    def set_peer(ef: int) -> None:
        peer.hnsw.efSearch = ef

    def set_ours(ef: int) -> None:
        ours.ef_search = ef

    rows = sweep("hnsw-index", args.efs, set_ours, lambda: ours.search(xq, k=args.k),
                 lambda: peer.search(xq, args.k), set_peer, truth, len(xq), args.rounds)
    mine, theirs = smallest_ef(rows, 0, TARGET_RECALL), smallest_ef(rows, 1, TARGET_RECALL)
    if args.shards:
        bench_shards(base, xq, docs, truth, args, workdir, peer)
    if mine and theirs:
        set_ours(mine[0])
        set_peer(theirs[0])
        head = (f"at the smallest efSearch reaching recall@{args.k} >= {TARGET_RECALL}: hnsw-index ef={mine[0]} "
                f"(recall {mine[1]:.4f}), faiss ef={theirs[0]} (recall {theirs[1]:.4f})")
        t = interleaved(args.rounds, peer=lambda: peer.search(xq, args.k), ours=lambda: ours.search(xq, k=args.k))
        ratio = paired(t["ours"], t["peer"])
        print(f"{head}: {qps(len(xq), t['ours']):,.0f}/s vs {qps(len(xq), t['peer']):,.0f}/s, side-by-side ratio {ratio:.2f} "
              f"-> {'PASS' if ratio >= TARGET_RATIO else 'FAIL'}")
        use_huge_pages(peer)  # what hnsw-index does to its own graph, done to faiss's too: the rest of the gap
        t = interleaved(args.rounds, peer=lambda: peer.search(xq, args.k), ours=lambda: ours.search(xq, k=args.k))
        print(f"the same with faiss's graph on huge pages too: {qps(len(xq), t['ours']):,.0f}/s vs "
              f"{qps(len(xq), t['peer']):,.0f}/s, side-by-side ratio {paired(t['ours'], t['peer']):.2f}", flush=True)
    else:
        print(f"recall@{args.k} {TARGET_RECALL} not reached in the sweep by both: FAIL")
    ours.close()
    if args.candidates:
        bench_candidates(base, xq, truth, args, {r[0]: (r[3], r[4]) for r in rows}, peer)


def build_shard(folder: str, dim: int, shards: int, shard: int, options: dict, part_file: str, threads: int) -> tuple:
    """Worker process: add one shard's documents (``part_file``: its positions, vectors and texts) into
    ``shard(shard)`` of the sharded index at ``folder``; (seconds adding and saving, peak and held GiB, count)."""
    faiss.omp_set_num_threads(threads)
    with np.load(part_file, allow_pickle=False) as part:
        rows, vectors, texts = part["rows"], part["vectors"], part["texts"].tolist()
    docs = Documents(texts, vectors, ids=rows)
    with Memory() as mem:
        index = HnswIndexer("bench", dim, folder, shards=shards, **options).shard(shard)
        spent = fill(index, docs) + timed(index.close)[0]
    return spent, mem.peak, mem.held, len(docs)


def bench_shards(base, xq, docs, truth, args, workdir: Path, peer) -> None:
    """The sharded layout of ``hnsw-index`` (issue 17 item 2), each shard built by its own process at once
    (what ``run --engine ray`` does with one actor per shard), searched as one index, against ``peer``."""
    import concurrent.futures
    import multiprocessing

    from modahub_embedded_index.shards import shard_of

    n, dim, shards = len(docs), base.shape[1], args.shards
    threads = max(1, faiss.omp_get_max_threads() // shards)
    print(f"\n== sharded hnsw-index: {shards} shards built by {shards} processes at once ({threads} faiss thread(s) each), "
          f"M={args.m}, efConstruction={args.ef_construction}", flush=True)
    folder = workdir / "sharded"
    options = {"m": args.m, "ef_construction": args.ef_construction}
    layout = HnswIndexer("bench", dim, folder, shards=shards, **options)
    assert layout.shard_count == shards  # opening records the layout before the workers open their shards
    layout.close()
    owner = np.array([shard_of(str(i), shards) for i in range(n)])
    files = []
    for shard in range(shards):
        rows = np.flatnonzero(owner == shard)
        files.append(str(workdir / f"part-{shard}.npz"))
        np.savez(files[-1], rows=rows, vectors=base[rows], texts=np.array([docs.sentences[i] for i in rows.tolist()]))
    with concurrent.futures.ProcessPoolExecutor(shards, mp_context=multiprocessing.get_context("spawn")) as pool:
        start = time.perf_counter()
        jobs = [pool.submit(build_shard, str(folder), dim, shards, shard, options, files[shard], threads)
                for shard in range(shards)]
        results = [job.result() for job in jobs]
        wall = time.perf_counter() - start
    for file in files:
        os.unlink(file)
    for shard, (spent, peak, held, count) in enumerate(results):
        print(f"  shard {shard}: {count:,} documents, add + snapshot {spent:.1f} s, "
              f"memory +{peak:.2f} GiB peak, +{held:.2f} GiB held")
    print(f"sharded build: {wall:.1f} s wall for {n:,} documents ({n / wall:,.0f} docs/s), "
          f"{disk(folder)}, workers' peaks summed +{sum(r[1] for r in results):.2f} GiB", flush=True)
    with Memory() as mem:
        sharded = HnswIndexer("bench", dim, folder, **options)
        reopen_s, _ = timed(lambda: len(sharded))
    print(f"reopen {reopen_s:.1f} s, {mem}", flush=True)
    sharded.search(xq, k=args.k)

    def set_ours(ef: int) -> None:
        sharded.ef_search = ef

    def set_peer(ef: int) -> None:
        peer.hnsw.efSearch = ef

    rows = sweep(f"{shards} shards", args.efs, set_ours, lambda: sharded.search(xq, k=args.k),
                 lambda: peer.search(xq, args.k), set_peer, truth, len(xq), args.rounds)
    mine = smallest_ef(rows, 0, TARGET_RECALL)
    print(f"sharded at recall@{args.k} >= {TARGET_RECALL}: " + (
        f"ef={mine[0]} recall {mine[1]:.4f} {mine[2]:,.0f}/s" if mine else "not reached in the sweep"))
    sharded.close()


def bench_candidates(base, xq, truth, args, faiss_rows: dict[int, tuple[float, float]], peer) -> None:
    """usearch and hnswlib (when importable) with the same M and construction ef, against the faiss graph."""
    print(f"\n== candidate HNSW libraries, same data, M={args.m}, construction ef={args.ef_construction}")
    dim, labels = base.shape[1], np.arange(len(base))
    try:
        import usearch.index

        index = usearch.index.Index(ndim=dim, metric="ip", dtype="f32", connectivity=args.m, expansion_add=args.ef_construction)
        compare_candidate(f"usearch {usearch.__version__}", lambda: index.add(labels, base),
                          lambda ef: setattr(index, "expansion_search", ef), lambda: index.search(xq, args.k).keys,
                          xq, truth, args, faiss_rows, peer)
    except ImportError:
        print("  usearch not installed: skipped")
    try:
        import hnswlib

        graph = hnswlib.Index(space="ip", dim=dim)
        graph.init_index(max_elements=len(base), M=args.m, ef_construction=args.ef_construction)
        compare_candidate("hnswlib", lambda: graph.add_items(base, labels), lambda ef: graph.set_ef(max(ef, args.k)),
                          lambda: graph.knn_query(xq, args.k)[0], xq, truth, args, faiss_rows, peer)
    except ImportError:
        print("  hnswlib not installed: skipped")


def compare_candidate(name, build, set_ef, search, xq, truth, args, faiss_rows, peer) -> None:
    print(f"  {name}: build {timed(build)[0]:.1f} s")
    for ef in args.efs:
        set_ef(ef)
        peer.hnsw.efSearch = ef
        t = interleaved(args.rounds, peer=lambda: peer.search(xq, args.k), ours=search)
        print(f"  ef {ef:4}: {name} recall {recall(search(), truth):.4f} {qps(len(xq), t['ours']):8,.0f}/s | "
              f"faiss recall {faiss_rows[ef][0]:.4f} {qps(len(xq), t['peer']):8,.0f}/s (same run)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="vectors in the index")
    parser.add_argument("--real", type=int, default=0,
                        help="real sentences among them (default: all); the rest are interpolated, see augment()")
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--single", type=int, default=200, help="queries sent one per call")
    parser.add_argument("--m", type=int, default=32)
    parser.add_argument("--ef-construction", type=int, default=80)
    parser.add_argument("--efs", type=lambda s: [int(x) for x in s.split(",")],
                        default=[16, 32, 48, 64, 96, 128, 192, 256, 384, 512])
    parser.add_argument("--skip", choices=["exact", "hnsw"], action="append", default=[])
    parser.add_argument("--shards", type=int, default=0,
                        help="also build a sharded hnsw-index of that many shards, each in its own process, all at once")
    parser.add_argument("--candidates", action="store_true", help="also measure usearch and hnswlib if installed")
    parser.add_argument("--threads", type=int, default=0, help="faiss threads, for ours and the peer alike (default: all)")
    args = parser.parse_args()
    if args.threads:
        faiss.omp_set_num_threads(args.threads)

    real = min(args.real or args.n, args.n)
    sentences, vectors = realtext.embeddings(real + args.queries)
    xq = np.ascontiguousarray(vectors[:args.queries])  # held out: never in the index, never used to augment
    base, sentences = np.ascontiguousarray(vectors[args.queries :]), sentences[args.queries :]
    if args.n > real:
        base, sentences = augment(base, sentences, args.n)
    print(f"data: {real:,} real sentences{f' + {args.n - real:,} interpolated' if args.n > real else ''} in the index, "
          f"{args.queries:,} held-out real queries; all-MiniLM-L6-v2 (384-d); faiss {faiss.__version__}, "
          f"{faiss.omp_get_max_threads()} threads")
    print(f"BLAS kernels: {blas_kernels()}")
    truth = numpy_topk(xq, base, args.k)[1]  # numpy's BLAS: faiss's bundled one may run a generic kernel here
    docs = Documents(sentences, base)
    workdir = Path(tempfile.mkdtemp(prefix="modahub-bench-index-"))
    try:
        if "exact" not in args.skip:
            bench_exact(base, xq, docs, truth, args, workdir)
        if "hnsw" not in args.skip:
            bench_hnsw(base, xq, docs, truth, args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
