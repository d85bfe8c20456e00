"""The demo's multimodal corpus and queries: scikit-learn digit images, spoken digits, short texts.

Images come from the digits held out of digits-image's training (its weights record them);
sounds are spoken by espeak-ng voices held out of digits-audio's training (its weights record
them too), or, without espeak-ng, read from the audio plugin's test recordings in a checkout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import modahub

WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TEXTS = ("the number {w}", "{w} little birds sat on the wire")
DISTRACTORS = ("a red house by the sea", "banana bread recipe", "the weather is nice today")
QUERY_TEXT = "a handwritten {w}"


@dataclass
class Corpus:
    """Documents to index and queries per direction, each tagged with its digit and kind."""

    documents: list[Any] = field(default_factory=list)
    queries: dict[str, list[Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


DIGITS_FILE = "digits.npz"


def _tagged(doc: Any, digit: int | None, kind: str) -> Any:
    doc.tags.update({"kind": kind, **({"digit": digit} if digit is not None else {})})
    return doc


def _held_out_images() -> tuple[np.ndarray, np.ndarray]:
    from importlib import resources

    from modahub_image.digits import default_weights
    from modahub_image.head import load_head

    # scikit-learn's 8x8 digits (UCI optdigits; 0-16 grey levels), shipped beside this module
    with resources.files("modahub_hub.demo").joinpath(DIGITS_FILE).open("rb") as fh, np.load(fh, allow_pickle=False) as data:
        images, target = data["images"], data["target"]
    test = np.array(load_head(default_weights(), what="digits-image").metadata["test_indices"])
    pixels = np.round(images[test] * (255 / 16)).astype(np.uint8)[..., None]
    return pixels, target[test].astype(np.int64)


def images(per_digit: int, skip: int = 0) -> list[Any]:
    """``per_digit`` held-out images of each digit (after the first ``skip`` of each)."""
    pixels, labels = _held_out_images()
    docs = []
    for d in range(10):
        for n, i in enumerate(np.flatnonzero(labels == d)[skip : skip + per_digit]):
            docs.append(_tagged(modahub.image(pixels[i], id=f"image-{WORDS[d]}-{skip + n}"), d, "image"))
    return docs


def _held_out_voices(count: int, offset: int) -> list[Any]:
    from modahub_audio.encoder import default_weights
    from modahub_audio.espeak import Voice
    from modahub_image.head import load_head

    meta = load_head(default_weights(), what="digits-audio").metadata
    variants = list(meta["test_variants"])
    accents = ("en-us", "en-gb-x-rp", "en-029")
    return [Voice(accents[(offset + i) % len(accents)], variants[(offset + i) % len(variants)]) for i in range(count)]


def sounds(voices: int, offset: int, notes: list[str]) -> list[Any]:
    """Each digit word spoken by ``voices`` held-out voices (espeak-ng), or recorded ones from a checkout."""
    import shutil

    if shutil.which("espeak-ng"):
        from modahub_audio.espeak import speak

        docs = []
        for voice in _held_out_voices(voices, offset):
            for d, word in enumerate(WORDS):
                samples, rate = speak(word, voice)
                docs.append(_tagged(modahub.audio(samples, rate, id=f"sound-{word}-{voice.name}"), d, "sound"))
        return docs
    recordings = Path(__file__).resolve().parents[3] / "plugins" / "audio" / "tests" / "data"
    wavs = sorted(recordings.glob("*.wav"))
    if not wavs:
        notes.append("espeak-ng is not installed and no recorded digits were found: no sounds (apt-get install espeak-ng)")
        return []
    notes.append(f"espeak-ng is not installed: using the recorded spoken digits in {recordings}")
    from modahub_audio.espeak import read_wav

    chosen = [w for n, w in enumerate(wavs) if n % 3 == offset % 3]
    docs = []
    for path in chosen:
        samples, rate = read_wav(path)
        word = path.stem.split("_")[0]
        docs.append(_tagged(modahub.audio(samples, rate, id=f"sound-{path.stem}"), WORDS.index(word), "sound"))
    return docs


def texts() -> list[Any]:
    docs = [_tagged(modahub.text(t.format(w=w), id=f"text-{w}-{n}"), d, "text")
            for d, w in enumerate(WORDS) for n, t in enumerate(TEXTS)]
    return docs + [_tagged(modahub.text(t, id=f"text-other-{n}"), None, "text") for n, t in enumerate(DISTRACTORS)]


def build() -> Corpus:
    """The indexed documents and the queries of each cross-modal direction (none of them indexed)."""
    corpus = Corpus()
    corpus.documents = images(per_digit=3) + sounds(voices=2, offset=0, notes=corpus.notes) + texts()
    corpus.queries = {
        "text → image": [_tagged(modahub.text(QUERY_TEXT.format(w=w), id=f"query-{w}"), d, "text")
                         for d, w in enumerate(WORDS)],
        "sound → image": sounds(voices=1, offset=2, notes=[]),
        "image → text": images(per_digit=1, skip=3),
    }
    return corpus
