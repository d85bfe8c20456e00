"""Reading encoders on held-out real sentences: ocr-image (images of text) and speech-audio (speech).

Used by ``bench/quality.py --part ocr|speech``. The sentences come from the Lee news corpus in
gensim's test data (``lee_background.cor`` + ``lee.cor``), split into sentences of 6-30 words and
shuffled with a fixed seed; nothing was tuned on them. Each sentence is rendered as an image
(fonts, sizes, rotations, blur, noise and backgrounds drawn per sentence from a seeded generator)
or spoken by espeak-ng voices that were never used for tuning, clean and with white noise at 10 dB SNR.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

import modahub

TUNING_VOICES = ("en-us+m3", "en-us+f2", "en+Alex", "en-us", "en-gb-x-rp+Andy")
"""Voices used while choosing speech-audio's settings (and in its tests): never used here."""
EVAL_VOICES = (("en-us", "f3"), ("en-us", "f4"), ("en-029", "f5"), ("en-gb-x-rp", "m5"), ("en-us", "klatt2"))
SPEED, WORD_GAP = 160, 3
"""How the sentences are spoken: words/min, and espeak-ng's word gap (-g; 3 adds about 80 ms between words at
this speed); chosen on the tuning voices."""
PAPERS = ((255, 255, 255), (250, 244, 227), (225, 225, 225), (221, 235, 247), (255, 250, 205))
INKS = ((0, 0, 0), (40, 40, 40), (20, 30, 110), (90, 20, 20))


def sentences(data: Path, n: int, seed: int = 0) -> list[str]:
    """``n`` distinct sentences of 6-30 words from the Lee corpus files, in a seeded random order."""
    text = " ".join((data / name).read_text(encoding="utf-8", errors="replace") for name in ("lee_background.cor", "lee.cor"))
    found = []
    for part in re.split(r"(?<=[.!?])\s+(?=[A-Z\"'])", " ".join(text.split())):
        words = part.split()
        if 6 <= len(words) <= 30 and part[-1] in ".!?\"'":
            found.append(part)
    unique = list(dict.fromkeys(found))
    order = np.random.default_rng(seed).permutation(len(unique))
    if n > len(unique):
        raise SystemExit(f"only {len(unique)} sentences in the Lee corpus; ask for fewer")
    return [unique[i] for i in order[:n]]


def edit_distance(truth: list[str] | str, read: list[str] | str) -> int:
    """Levenshtein distance between two sequences (of characters or of words)."""
    previous = list(range(len(read) + 1))
    for i, x in enumerate(truth, 1):
        current = [i]
        for j, y in enumerate(read, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


def character_error_rate(truth: str, read: str) -> float:
    """Edit distance over characters / length of the truth (whitespace runs count as one space)."""
    a, b = " ".join(truth.split()), " ".join(read.split())
    return edit_distance(a, b) / max(len(a), 1)


def word_error_rate(truth: str, heard: str) -> float:
    """Edit distance over words / number of words, after lower-casing and dropping punctuation."""
    def words(s: str) -> list[str]:
        return re.sub(r"[^a-z0-9' ]", " ", s.lower()).split()

    return edit_distance(words(truth), words(heard)) / max(len(words(truth)), 1)


# --- images of text ---------------------------------------------------------------------------------

def render_varied(sentence: str, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """One rendering with seeded random font, size, wrap, rotation, blur, noise, paper and ink; and its recipe."""
    from modahub_ocr.render import FONTS, render_text
    from PIL import Image, ImageFilter

    font, size = FONTS[int(rng.integers(len(FONTS)))], int(rng.integers(14, 41))
    angle, blur = float(rng.uniform(-8, 8)), float(rng.choice([0.0, 0.0, rng.uniform(0.5, 1.5)]))
    noise = float(rng.uniform(0, 20))
    paper, ink = PAPERS[int(rng.integers(len(PAPERS)))], INKS[int(rng.integers(len(INKS)))]
    pixels = render_text(sentence, size=size, font=font, angle=angle, paper=paper, ink=ink, width=int(size * 24))
    image = Image.fromarray(pixels)
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    noisy = np.asarray(image).astype(np.float32) + rng.normal(0, noise, size=pixels.shape)
    recipe = f"{font[:-4]} {size}px {angle:+.1f}° blur {blur:.1f} noise σ{noise:.0f}"
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8), recipe


def tesseract(pixels: np.ndarray) -> str:
    """The text tesseract (Debian tesseract-ocr, English) reads from an image, lines joined by spaces."""
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "page.png"
        Image.fromarray(pixels).save(path)
        out = subprocess.run(["tesseract", str(path), "-", "-l", "eng", "--psm", "6"], capture_output=True, text=True,
                             check=True, timeout=120, env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"})
    return " ".join(out.stdout.split())


def retrieval_rows(name: str, read_vecs: np.ndarray, text_vecs: np.ndarray, rank: Callable) -> list[tuple]:
    """text → read and read → text rows: sentence i is relevant only to item i."""
    ids = [f"s{i}" for i in range(len(text_vecs))]
    relevant = [{i} for i in ids]
    return [
        (f"text → {name}", rank(read_vecs, text_vecs, ids, relevant)),
        (f"{name} → text", rank(text_vecs, read_vecs, ids, relevant)),
    ]


def ocr_rows(texts: list[str], text_vecs: np.ndarray, rank: Callable, seed: int = 1) -> tuple[list[tuple], dict]:
    rng = np.random.default_rng(seed)
    rendered = [render_varied(s, rng) for s in texts]
    docs = [modahub.image(p) for p, _ in rendered]
    t0 = time.perf_counter()
    vecs = modahub.load("ocr-image").encode(docs)
    info = {"ocr_s": time.perf_counter() - t0, "examples": [(texts[i], rendered[i][1], docs[i].tags["text"]) for i in range(3)]}
    rows = [("ocr-image (PP-OCRv4 → minilm-text)", float(np.mean([character_error_rate(t, d.tags["text"]) for t, d in
                                                                 zip(texts, docs, strict=True)])),
             retrieval_rows("image", vecs, text_vecs, rank))]
    if shutil.which("tesseract"):
        t0 = time.perf_counter()
        read = [tesseract(p) for p, _ in rendered]
        info["tesseract_s"] = time.perf_counter() - t0
        peer = modahub.load("minilm-text").encode([modahub.text(r) for r in read])
        rows.append(("tesseract 5 (peer) → minilm-text", float(np.mean([character_error_rate(t, r) for t, r in
                                                                        zip(texts, read, strict=True)])),
                     retrieval_rows("image", peer, text_vecs, rank)))
    else:
        info["note"] = "tesseract is not installed (apt-get install tesseract-ocr tesseract-ocr-eng): no peer row"
    return rows, info


# --- speech -----------------------------------------------------------------------------------------

def speech_rows(texts: list[str], text_vecs: np.ndarray, rank: Callable, with_noise: Callable) -> tuple[list[tuple], dict]:
    """WER and retrieval of speech-audio, clean and at 10 dB SNR; sounds are decoded in 2 worker processes."""
    from modahub_audio.espeak import Voice, speak

    clips = []
    for i, sentence in enumerate(texts):
        accent, variant = EVAL_VOICES[i % len(EVAL_VOICES)]
        clips.append(speak(sentence, Voice(accent, variant, speed=SPEED, gap=WORD_GAP)))
    rows, info = [], {}
    rates = [r for _, r in clips]
    for label, samples in (("clean", [x for x, _ in clips]), ("white noise, 10 dB SNR", with_noise([x for x, _ in clips], 10.0))):
        t0 = time.perf_counter()
        vecs, heard = speech_audio_in_workers(list(zip(samples, rates, strict=True)))
        info[f"{label}_s"] = time.perf_counter() - t0
        info.setdefault("examples", [(texts[i], heard[i]) for i in range(3)])
        wer = float(np.mean([word_error_rate(t, h) for t, h in zip(texts, heard, strict=True)]))
        rows.append((f"speech-audio (pocketsphinx → minilm-text), {label}", wer, retrieval_rows("sound", vecs, text_vecs, rank)))
    return rows, info


def speech_audio_in_workers(sounds: list[tuple[np.ndarray, int]], workers: int = 2) -> tuple[np.ndarray, list[str]]:
    """speech-audio's vectors and transcripts of ``sounds`` (samples, rate), in order, from ``workers`` processes."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    chunks = [sounds[i::workers] for i in range(workers)]  # interleaved: each worker gets every voice
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        parts = list(pool.map(speech_audio, chunks))
    vecs = np.empty((len(sounds), parts[0][0].shape[1]), np.float32)
    heard = [""] * len(sounds)
    for i, (part_vecs, part_heard) in enumerate(parts):
        vecs[i::workers] = part_vecs
        heard[i::workers] = part_heard
    return vecs, heard


def speech_audio(sounds: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, list[str]]:
    """speech-audio's vectors and transcripts of ``sounds`` (samples, rate), in one process."""
    docs = [modahub.audio(np.asarray(x, np.float32), r) for x, r in sounds]
    return modahub.load("speech-audio").encode(docs), [d.tags["text"] for d in docs]
