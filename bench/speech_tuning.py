"""How speech-audio's pocketsphinx settings and the quality bench's espeak-ng speed and word gap were chosen.

    .venv/bin/python bench/speech_tuning.py --sentences 60     # about 2 minutes per row on 2 quiet cores

Word error rate of each setting on espeak-ng speech in the tuning voices only (``reading.TUNING_VOICES``,
in turn) and on Lee sentences that bench/quality.py never uses (it takes the first 600 of the seeded order;
these start at 1,500). Prints a markdown table: setting, WER, decode seconds per sentence.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
import reading
from quality import gensim_test_data

FIRST = 1500
"""Index of the first tuning sentence in reading.sentences' seeded order (the quality bench uses at most 600)."""
BEFORE = {"dither": False, "silprob": 0.005}
"""speech-audio 0.1.3's settings (pocketsphinx defaults for these two)."""
ROWS = (
    ("0.1.3, 130 words/min", 130, 0, BEFORE),
    ("0.1.3, 160 words/min", 160, 0, BEFORE),
    ("0.1.3, 160 words/min, word gap 3", 160, 3, BEFORE),
    ("+ silprob 0.1", 160, 3, {"dither": False}),
    ("+ dither (0.1.4)", 160, 3, {}),
    ("0.1.4 + lw 10", 160, 3, {"lw": 10.0}),
    ("0.1.4 + second pass (fwdflat)", 160, 3, {"second_pass": True}),
)
"""(label, espeak-ng words/min, word gap in 10 ms units, Sphinx settings)."""


def speak_all(texts: list[str], speed: int, gap: int) -> list[tuple[np.ndarray, int]]:
    from modahub_audio.espeak import Voice, speak

    voices = [(v.split("+") + [""])[:2] for v in reading.TUNING_VOICES]
    return [speak(t, Voice(*voices[i % len(voices)], speed=speed, gap=gap)) for i, t in enumerate(texts)]


def transcribe(job: tuple[list[tuple[np.ndarray, int]], dict]) -> tuple[list[str], float]:
    """Transcripts of the sounds and the decode seconds, with ``Sphinx(**settings)``."""
    from modahub_speech.recogniser import Sphinx

    sounds, settings = job
    sphinx = Sphinx(**settings)
    t0 = time.perf_counter()
    heard = [sphinx.transcribe(x, r) for x, r in sounds]
    return heard, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sentences", type=int, default=60)
    parser.add_argument("--only", default="", help="only the rows whose label contains this text")
    args = parser.parse_args()
    texts = reading.sentences(gensim_test_data(), FIRST + args.sentences)[FIRST:]
    print(f"{args.sentences} Lee sentences from #{FIRST}, voices {', '.join(reading.TUNING_VOICES)} in turn\n")
    print("| setting | WER | decode s / sentence |\n|---|---|---|")
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        for label, speed, gap, settings in (row for row in ROWS if args.only in row[0]):
            sounds = speak_all(texts, speed, gap)
            parts = list(pool.map(transcribe, [(sounds[0::2], settings), (sounds[1::2], settings)]))
            heard = [""] * len(texts)
            heard[0::2], heard[1::2] = parts[0][0], parts[1][0]
            wer = np.mean([reading.word_error_rate(t, h) for t, h in zip(texts, heard, strict=True)])
            print(f"| {label} | {wer:.3f} | {sum(s for _, s in parts) / len(texts):.2f} |", flush=True)


if __name__ == "__main__":
    main()
