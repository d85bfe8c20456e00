"""The demo's second scene: real sentences as texts, as images of text and as speech, in one space.

Each sentence is indexed three times: as text (``minilm-text``), rendered as an image that
``ocr-image`` reads, and spoken by an espeak-ng voice that ``speech-audio`` transcribes. Every
item then searches the other two modalities; a hit is right when it is the same sentence. The
sentences were written for the demo and never used to tune the readers.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np

import modahub

APP_YAML = """\
# The demo's sentence scene: texts, images of text (read by OCR) and speech (transcribed), one space.
name: sentences-demo
encoders:
  - uses: minilm-text
  - uses: ocr-image
  - uses: speech-audio
index:
  uses: embedded-index
  with: {path: sentences-index}
"""
SENTENCES = (
    "The ferry to the island was cancelled because of high winds.",
    "Scientists found a new species of frog in the rainforest.",
    "The library will stay open late during the exam weeks.",
    "Heavy snow closed the mountain pass for two days.",
    "The bakery on the corner sells fresh bread every morning.",
    "A small earthquake shook the coastal town last night.",
)
KINDS = ("text", "image", "sound")
VOICE = ("en-us", "f3", 130)
"""An espeak-ng voice never used to tune speech-audio (see bench/reading.py)."""


@dataclass
class Scene:
    """The scene's documents, its searches (one row per query and target kind) and R@1 per direction."""

    documents: list[Any] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    accuracy: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def documents(notes: list[str]) -> list[Any]:
    """Each sentence as a text, an image and (with espeak-ng) a sound, tagged ``kind`` and ``sentence``."""
    from modahub_ocr.render import render_text

    docs = []
    for n, sentence in enumerate(SENTENCES):
        tags = {"sentence": n}
        docs.append(modahub.text(sentence, id=f"text-{n}", tags={**tags, "kind": "text"}))
        docs.append(modahub.image(render_text(sentence, size=30, width=600, angle=(-4.0, 0.0, 3.0)[n % 3]),
                                  id=f"image-{n}", tags={**tags, "kind": "image"}))
    if not shutil.which("espeak-ng"):
        notes.append("espeak-ng is not installed: the sentence scene has no speech (apt-get install espeak-ng)")
        return docs
    from modahub_audio.espeak import Voice, speak

    voice = Voice(*VOICE[:2], speed=VOICE[2])
    for n, sentence in enumerate(SENTENCES):
        samples, rate = speak(sentence, voice)
        docs.append(modahub.audio(samples, rate, id=f"sound-{n}", tags={"sentence": n, "kind": "sound"}))
    return docs


def run(folder: Path, progress: Any = None) -> Scene:
    """Index the scene in ``folder/sentences-index`` and search every item against the other kinds."""
    from modahub.pipeline import App

    scene = Scene()
    (folder / "sentences.yml").write_text(APP_YAML)
    shutil.rmtree(folder / "sentences-index", ignore_errors=True)
    app = App.from_yaml(folder / "sentences.yml")
    indexed = app.index(documents(scene.notes), progress=progress).documents
    scene.documents = indexed
    kinds = [k for k in KINDS if any(d.tags["kind"] == k for d in indexed)]
    index = app.indexer()
    for source in kinds:
        for target in (k for k in kinds if k != source):
            queries = [d for d in indexed if d.tags["kind"] == source]
            found = index.search(np.stack([cast(np.ndarray, d.embedding) for d in queries]), k=3, filter={"kind": target})
            correct = 0
            for query, hits in zip(queries, found, strict=True):
                ok = bool(hits) and hits[0].document.tags["sentence"] == query.tags["sentence"]
                correct += ok
                scene.rows.append({"direction": f"{source} → {target}", "query": query, "correct": ok,
                                   "hits": [{"id": m.id, "score": m.score, "document": m.document} for m in hits]})
            scene.accuracy[f"{source} → {target}"] = f"R@1 {correct}/{len(queries)}"
    return scene
