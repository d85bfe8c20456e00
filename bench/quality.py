"""Retrieval quality of the shared-space encoders on held-out data; writes docs/quality.md.

    .venv/bin/python bench/quality.py            # about 3-5 minutes on 2 cores (synthesises 1,400 clips)
    .venv/bin/python bench/quality.py --part ocr --sentences 600     # ocr-image vs tesseract (bench/reading.py)
    .venv/bin/python bench/quality.py --part speech --sentences 600  # speech-audio, clean and 10 dB SNR

Needs: the minilm-text, digits-image and digits-audio executors, exact-index, scikit-learn
(digits), espeak-ng (held-out voices), and gensim's bundled test data (pip install gensim) for the
text set. --part ocr also runs tesseract as the peer (apt-get install tesseract-ocr tesseract-ocr-eng) and
needs the DejaVu fonts; --part speech needs espeak-ng. Nothing is downloaded: every data set ships in a
package or is synthesised here.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import importlib.util
import platform
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import reading
from doc_sections import write_section

import modahub

SPACE, DIM = "all-minilm-l6-v2", 384
DOC = Path(__file__).parents[1] / "docs" / "quality.md"
NUMBER_PHRASINGS = ("a handwritten {word}", "number {digit}", "an image of the digit {word}")
"""Query phrasings that are not among the training anchors ("{word}", "{digit}", "the number/digit {word}")."""
DISTRACTORS = (
    "cat", "a red house", "banana", "piano", "sunday", "the alphabet", "the letter A", "a question mark", "a circle",
    "a square", "eleven", "twelve", "thirteen", "fifteen", "twenty", "thirty", "forty", "fifty", "one hundred",
    "a thousand", "first", "second place", "half", "a dozen", "zero degrees", "none", "many", "count", "math", "a clock",
)


# --- metrics -------------------------------------------------------------------------------------

def search(index, queries: np.ndarray, k: int) -> list[list]:
    return index.search(queries, k=k)


def rank_metrics(hits: list[list], relevant: list[set[str]]) -> dict[str, float]:
    """R@1, R@10 (a relevant item in the top k), P@10 and MRR over queries."""
    r1, r10, p10, rr = [], [], [], []
    for matches, good in zip(hits, relevant, strict=True):
        ids = [m.id for m in matches]
        r1.append(ids[0] in good)
        r10.append(any(i in good for i in ids[:10]))
        p10.append(np.mean([i in good for i in ids[:10]]))
        rr.append(next((1 / (n + 1) for n, i in enumerate(ids) if i in good), 0.0))
    out = {"R@1": float(np.mean(r1)), "R@10": float(np.mean(r10)), "MRR": float(np.mean(rr))}
    if any(len(good) > 1 for good in relevant):  # with one relevant item P@10 is at most 0.1: not shown
        out["P@10"] = float(np.mean(p10))
    return out


def make_index(ids: list[str], vectors: np.ndarray, modality: str):
    index = modahub.load("exact-index", space=SPACE, dim=DIM)
    maker = {"text": lambda i, v: modahub.text(i, id=i, embedding=v),
             "image": lambda i, v: modahub.image(np.zeros((1, 1, 1), np.uint8), id=i, embedding=v)}[modality]
    index.add([maker(i, v) for i, v in zip(ids, vectors, strict=True)])
    return index


# --- data ---------------------------------------------------------------------------------------

def held_out_images() -> tuple[np.ndarray, np.ndarray]:
    from modahub_image.digits import default_weights
    from modahub_image.head import load_head
    from sklearn.datasets import load_digits

    data = load_digits()
    test = np.array(load_head(default_weights(), what="quality").metadata["test_indices"])
    pixels = np.round(data.images[test] * (255 / 16)).astype(np.uint8)[..., None]
    return pixels, data.target[test]


def held_out_sounds() -> tuple[list[np.ndarray], np.ndarray, dict]:
    from modahub_audio.encoder import default_weights
    from modahub_audio.espeak import speak, voice_grid
    from modahub_audio.features import RATE, resample
    from modahub_image.head import load_head
    from modahub_image.words import DIGIT_WORDS

    meta = load_head(default_weights(), what="quality").metadata
    grid = voice_grid(meta["test_variants"], meta["test_seed"])
    with ThreadPoolExecutor(max_workers=2) as pool:
        clips = list(pool.map(lambda item: resample(*speak(DIGIT_WORDS[item[1]], item[0])), grid))
    assert RATE == 16_000
    return clips, np.array([d for _, d in grid]), meta


def with_noise(clips: list[np.ndarray], snr_db: float, seed: int = 7) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for x in clips:
        noise = rng.normal(size=len(x))
        power = np.mean(x[np.abs(x) > 0.01 * np.abs(x).max()] ** 2)
        out.append(x + noise * np.sqrt(power / 10 ** (snr_db / 10)))
    return out


def gensim_test_data() -> Path:
    spec = importlib.util.find_spec("gensim")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("bench/quality.py needs gensim's bundled test data: .venv/bin/pip install -r bench/requirements.txt")
    return Path(next(iter(spec.submodule_search_locations))) / "test" / "test_data"


# --- evaluations ----------------------------------------------------------------------------------

def cross_modal(text_enc, image_enc, audio_enc) -> tuple[list[tuple], dict]:
    from modahub_image.words import DIGIT_WORDS

    rows, info = [], {}
    pixels, img_labels = held_out_images()
    t0 = time.perf_counter()
    img_vecs = image_enc.encode([modahub.image(p) for p in pixels])
    info["image_encode_s"] = time.perf_counter() - t0
    img_ids = [f"img{i}" for i in range(len(pixels))]
    img_index = make_index(img_ids, img_vecs, "image")
    by_digit = [{img_ids[i] for i in np.nonzero(img_labels == d)[0]} for d in range(10)]

    words = list(DIGIT_WORDS)
    other = [p.format(word=w, digit=d) for d, w in enumerate(words) for p in NUMBER_PHRASINGS]
    other_labels = [d for d in range(10) for _ in NUMBER_PHRASINGS]
    rows.append(("text → image", "the 10 digit words", f"{len(pixels)} held-out images",
                 rank_metrics(search(img_index, text_enc.encode([modahub.text(w) for w in words]), 10), by_digit), 0.1))
    rows.append(("text → image", f"{len(other)} other phrasings (e.g. 'a handwritten seven', 'number 7')",
                 f"{len(pixels)} held-out images",
                 rank_metrics(search(img_index, text_enc.encode([modahub.text(t) for t in other]), 10),
                              [by_digit[d] for d in other_labels]), 0.1))

    gallery = words + list(DISTRACTORS)
    text_index = make_index(gallery, text_enc.encode([modahub.text(t) for t in gallery]), "text")
    chance_text = 1 / len(gallery)
    texts = f"{len(gallery)} texts (10 digit words + {len(DISTRACTORS)} distractors)"
    rows.append(("image → text", f"{len(pixels)} held-out images", texts,
                 rank_metrics(search(text_index, img_vecs, 10), [{words[d]} for d in img_labels]), chance_text))

    clips, snd_labels, meta = held_out_sounds()
    info["voices"] = f"{len(meta['test_variants'])} held-out espeak-ng variants × {len(meta['accents'])} accents"
    from modahub_audio.features import RATE

    for label, data in (("clean", clips), ("white noise, 10 dB SNR", with_noise(clips, 10.0))):
        t0 = time.perf_counter()
        vecs = audio_enc.encode([modahub.audio(x.astype(np.float32), RATE) for x in data])
        info.setdefault("audio_encode_s", time.perf_counter() - t0)
        who = f"{len(data)} held-out-voice clips, {label}"
        rows.append(("sound → image", who, f"{len(pixels)} held-out images",
                     rank_metrics(search(img_index, vecs, 10), [by_digit[d] for d in snd_labels]), 0.1))
        rows.append(("sound → text", who, f"{len(gallery)} texts",
                     rank_metrics(search(text_index, vecs, 10), [{words[d]} for d in snd_labels]), chance_text))
    info["n_images"], info["n_sounds"] = len(pixels), len(clips)
    return rows, info


def text_quality(text_enc) -> list[tuple]:
    """Lee news-document similarity (50 docs, human ratings) and word similarity (WordSim-353, SimLex-999)."""
    from scipy.stats import pearsonr, spearmanr
    from sklearn.feature_extraction.text import TfidfVectorizer

    folder = gensim_test_data()
    docs = (folder / "lee.cor").read_text(encoding="utf-8", errors="replace").strip().split("\n")
    human = np.loadtxt(folder / "similarities0-1.txt")
    human = np.maximum(human, human.T)  # the file holds the upper triangle
    upper = np.triu_indices(len(docs), k=1)
    vecs = text_enc.encode([modahub.text(d) for d in docs])
    tfidf = TfidfVectorizer(stop_words="english").fit_transform(docs)
    results = []
    for name, sims in (("minilm-text", vecs @ vecs.T), ("TF-IDF (peer, same run)", (tfidf @ tfidf.T).toarray())):
        pearson = pearsonr(sims[upper], human[upper]).statistic
        spearman = spearmanr(sims[upper], human[upper]).statistic
        # retrieval: for each document, is the other document people rated most similar ranked first / in the top 5?
        s = sims.copy()
        np.fill_diagonal(s, -np.inf)
        h = human.copy()
        np.fill_diagonal(h, -np.inf)
        best = np.argmax(h, axis=1)
        ranks = np.array([int(np.sum(s[i] > s[i, best[i]])) for i in range(len(docs))])
        metrics = {"Pearson": pearson, "Spearman": spearman, "R@1": float(np.mean(ranks == 0)), "R@5": float(np.mean(ranks < 5))}
        results.append(("Lee et al. 2005 news documents (50 docs, 1,225 rated pairs)", name, metrics))
    for fname, title in (("wordsim353.tsv", "WordSim-353 word pairs"), ("simlex999.txt", "SimLex-999 word pairs")):
        pairs = [line.split("\t") for line in (folder / fname).read_text(encoding="utf-8").splitlines()
                 if line and not line.startswith("#")]
        words = sorted({w for a, b, _ in pairs for w in (a, b)})
        wv = dict(zip(words, text_enc.encode([modahub.text(w) for w in words]), strict=True))
        cos = [float(wv[a] @ wv[b]) for a, b, _ in pairs]
        results.append((f"{title} ({len(pairs)} pairs)", "minilm-text",
                        {"Spearman": spearmanr(cos, [float(g) for *_, g in pairs]).statistic}))
    return results


# --- report ---------------------------------------------------------------------------------------

def fmt(x: float) -> str:
    return f"{x:.3f}"


def versions(names: list[str] | None = None) -> str:
    names = names or ["modahub-core", "modahub-image", "modahub-audio", "numpy", "scikit-learn", "gensim"]
    found = []
    for n in names:
        try:
            found.append(f"{n} {md.version(n)}")
        except md.PackageNotFoundError:
            pass
    return ", ".join(found)


def write_doc(rows: list[tuple], info: dict, text_rows: list[tuple], seconds: float) -> str:
    lines = [
        "# Retrieval quality",
        "",
        f"Written by `bench/quality.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC ({platform.machine()}, "
        f"Python {platform.python_version()}; {versions()}); the run took {seconds:.0f} s. Rerun it to refresh this page.",
        "",
        "## Cross-modal retrieval in the shared `all-minilm-l6-v2` space",
        "",
        "Encoders: `minilm-text` (all-MiniLM-L6-v2), `digits-image` and `digits-audio` (the project's own heads, trained",
        "to land on the text embedding of each digit's name); index: `exact-index` (cosine). Only held-out data:",
        f"the {info['n_images']} scikit-learn digits images of the stratified 20 % test split recorded in",
        f"`digits-image`'s weights, and {info['n_sounds']} espeak-ng clips of the words zero-nine in voices never",
        f"used for training ({info['voices']}, seeded random speed and pitch).",
        "",
        "Metrics: **R@k** = share of queries with a relevant item among the first k results; **P@10** = share of",
        "relevant items among the first 10; **MRR** = mean reciprocal rank of the first relevant item. An image or",
        "sound is relevant to another item when they show/say the same digit; for → text, the only relevant text",
        "is the digit's word (e.g. 'seven'), among distractors that include other number words. The chance",
        "column is the expected R@1 of a random ranking. Text queries marked 'other phrasings' are worded unlike",
        "the training anchors ('seven', '7', 'the number seven', 'the digit seven'). The noisy sound rows add",
        "white noise at 10 dB SNR to the held-out clips; training saw white or brown noise at 5-30 dB, so they",
        "measure robustness within the trained conditions, on unseen voices.",
        "",
        "| task | queries | searched | R@1 | R@10 | P@10 | MRR | chance R@1 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task, queries, gallery, m, chance in rows:
        cells = " | ".join(fmt(m[k]) if k in m else "–" for k in ("R@1", "R@10", "P@10", "MRR"))
        lines.append(f"| {task} | {queries} | {gallery} | {cells} | {fmt(chance)} |")
    lines += [
        "",
        f"Encoding speed in this run: {info['n_images']} images in {info['image_encode_s']:.2f} s, "
        f"{info['n_sounds']} sounds in {info['audio_encode_s']:.2f} s (numpy, one process).",
        "",
        "## Text retrieval quality of `minilm-text` on real human judgements",
        "",
        "Data: the test data that ships inside the **gensim** wheel (`gensim/test/test_data/`), so it is on PyPI,",
        "versioned, and needs no download at run time:",
        "",
        "- `lee.cor` + `similarities0-1.txt`: the Lee, Pincombe & Welsh (2005) corpus: 50 short Australian news",
        "  documents and the mean similarity that human raters gave each of the 1,225 pairs. It is a real",
        "  document-similarity set, small enough to run in seconds, and a standard check for document",
        "  embeddings. Correlation (Pearson/Spearman) of cosine with the human ratings, and as retrieval: for",
        "  each document, is the document people rated most similar ranked first (R@1) or in the top 5 (R@5)?",
        "  TF-IDF over the same documents, measured in the same run, is the peer.",
        "- `wordsim353.tsv`, `simlex999.txt`: WordSim-353 (relatedness) and SimLex-999 (strict similarity) word",
        "  pairs with mean human ratings: Spearman correlation of cosine with the ratings.",
        "",
        "| data | encoder | Pearson | Spearman | R@1 | R@5 |",
        "|---|---|---|---|---|---|",
    ]
    for data, name, m in text_rows:
        cells = [fmt(m[k]) if k in m else "–" for k in ("Pearson", "Spearman", "R@1", "R@5")]
        lines.append(f"| {data} | {name} | {' | '.join(cells)} |")
    lee = {name: m for data, name, m in text_rows if data.startswith("Lee")}
    ratio = lee["minilm-text"]["Pearson"] / lee["TF-IDF (peer, same run)"]["Pearson"]
    lines += ["", f"On Lee, minilm-text's Pearson correlation is {ratio:.2f}× TF-IDF's in the same run.", ""]
    return "\n".join(lines)


def rank(queries: np.ndarray, targets: np.ndarray, ids: list[str], relevant: list[set[str]]) -> dict[str, float]:
    """Rank metrics of ``queries`` against ``targets`` (ids in order) in an exact index."""
    return rank_metrics(search(make_index(ids, targets, "text"), queries, 10), relevant)


def reading_doc(part: str, rows: list[tuple], info: dict, texts: list[str], text_vecs: np.ndarray,
                seconds: float) -> str:
    """The OCR or speech section: error rate and R@1/R@10 both ways, with the bounds."""
    n = len(texts)
    ids = [f"s{i}" for i in range(n)]
    ceiling = rank(text_vecs, text_vecs, ids, [{i} for i in ids])
    unit, what = ("CER", "image") if part == "ocr" else ("WER", "sound")
    lines = [
        f"## {'Images of text: `ocr-image`' if part == 'ocr' else 'Speech: `speech-audio`'} on held-out real sentences",
        "",
        f"Written by `bench/quality.py --part {part} --sentences {n}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC "
        f"({platform.machine()}, Python {platform.python_version()}; {versions(READING_DISTS[part])}); "
        f"the run took {seconds:.0f} s.",
        "",
        f"Data: {n} sentences (6-30 words) of the Lee news corpus in gensim's test data (`lee_background.cor`, "
        "`lee.cor`), shuffled with seed 0; none was used to tune anything. " + (
            "Each is rendered once with seeded random DejaVu font (sans, serif, mono, bold, italic), size 14-40 px, "
            "wrapped at 24 font sizes, rotation ±8°, Gaussian blur (none for 2 in 3, else radius 0.5-1.5), pixel "
            "noise σ 0-20 and one of 5 paper and 4 ink colours. tesseract 5 (Debian `tesseract-ocr` + "
            "`tesseract-ocr-eng`, `--psm 6`) reads the same images as the peer; its text is embedded by the same "
            "`minilm-text`." if part == "ocr" else
            f"Each is spoken by espeak-ng at {reading.SPEED} words/min with word gap {reading.WORD_GAP} (`-g`) "
            f"in one of the voices {', '.join(a + '+' + v for a, v in reading.EVAL_VOICES)} (in turn), none of "
            "which was used while choosing speech-audio's settings, this speed and gap, or in its tests (those used "
            f"{', '.join(reading.TUNING_VOICES)}); the noisy rows add white noise at 10 dB SNR; the sounds are "
            "decoded in 2 worker processes. No offline peer recogniser was available here (Whisper needs a download)."),
        "",
        f"{unit}: edit distance / length of the truth "
        f"({'characters, case kept' if part == 'ocr' else 'words, lower case, no punctuation'}). "
        f"Retrieval: text → {what} queries the {n} true sentences against the {n} {what} vectors; {what} → text the "
        f"reverse; each has exactly one relevant item. Bounds: the true sentences searched among themselves (a "
        f"perfect reader), and chance (R@k = k/{n}).",
        "",
        f"| reader | {unit} | text → {what} R@1 | R@10 | {what} → text R@1 | R@10 |",
        "|---|---|---|---|---|---|",
    ]
    for name, error, (down, up) in rows:
        lines.append(f"| {name} | {fmt(error)} | {fmt(down[1]['R@1'])} | {fmt(down[1]['R@10'])} | "
                     f"{fmt(up[1]['R@1'])} | {fmt(up[1]['R@10'])} |")
    lines.append(f"| bound: true sentences (perfect reader) | 0 | {fmt(ceiling['R@1'])} | {fmt(ceiling['R@10'])} | "
                 f"{fmt(ceiling['R@1'])} | {fmt(ceiling['R@10'])} |")
    lines.append(f"| bound: chance | – | {fmt(1 / n)} | {fmt(min(10 / n, 1))} | {fmt(1 / n)} | {fmt(min(10 / n, 1))} |")
    lines += ["", "Examples (truth → what was read):", ""]
    for example in info.get("examples", []):
        truth, *rest = example
        lines.append(f"- {truth!r}" + (f" ({rest[0]})" if len(rest) == 2 else "") + f" → {rest[-1]!r}")
    timing = {k: v for k, v in info.items() if k.endswith("_s")}
    lines += ["", "Time in this run (shared 2-core machine): " + ", ".join(f"{k[:-2]} {v:.0f} s" for k, v in timing.items())
              + f" for {n} items."]
    if "note" in info:
        lines += ["", info["note"]]
    return "\n".join(lines)


READING_DISTS = {"ocr": ["modahub-ocr", "rapidocr-onnxruntime", "onnxruntime", "pillow", "gensim"],
                 "speech": ["modahub-speech", "pocketsphinx", "scipy", "gensim"]}


def reading_part(part: str, n: int, out: Path) -> None:
    started = time.perf_counter()
    texts = reading.sentences(gensim_test_data(), n)
    text_vecs = modahub.load("minilm-text").encode([modahub.text(t) for t in texts])
    if part == "ocr":
        rows, info = reading.ocr_rows(texts, text_vecs, rank)
    else:
        rows, info = reading.speech_rows(texts, text_vecs, rank, with_noise)
    doc = reading_doc(part, rows, info, texts, text_vecs, time.perf_counter() - started)
    write_section(out, f"reading-{part}", doc)
    print(doc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DOC)
    parser.add_argument("--part", choices=("all", "digits", "ocr", "speech"), default="all",
                        help="digits: the cross-modal digits and text rows; ocr, speech: the reading encoders")
    parser.add_argument("--sentences", type=int, default=600, help="held-out Lee sentences for --part ocr/speech")
    args = parser.parse_args()
    for part in ("ocr", "speech") if args.part == "all" else (() if args.part == "digits" else (args.part,)):
        reading_part(part, args.sentences, args.out)
    if args.part not in ("all", "digits"):
        print(f"\nwrote {args.out}")
        return
    started = time.perf_counter()
    text_enc, image_enc, audio_enc = (modahub.load(n) for n in ("minilm-text", "digits-image", "digits-audio"))
    assert {(e.space, e.dim) for e in (text_enc, image_enc, audio_enc)} == {(SPACE, DIM)}
    rows, info = cross_modal(text_enc, image_enc, audio_enc)
    text_rows = text_quality(text_enc)
    doc = write_doc(rows, info, text_rows, time.perf_counter() - started)
    write_section(args.out, "cross-modal-and-text", doc)
    print(doc)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
