"""``modahub demo``: index digits as images, sounds and texts in one space, search across them, generate;
then real sentences as texts, images of text and speech.

Steps: make sure the plugins are installed (from the bundled hub), write the demo app file,
index the corpus with the local runner, run the cross-modal queries (text → image, sound →
image, image → text), generate a few digits and find them again (by a text query in the vector
index, and by BM25 over their recipes, regenerating them byte for byte); then the sentence scene
(:mod:`modahub_hub.demo.sentences`: OCR and speech recognition into the same space), then report.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

APP_YAML = """\
# The modahub demo app: one encoder per modality, all in the all-MiniLM-L6-v2 space, and a persistent index.
name: digits-demo
encoders:
  - uses: minilm-text
  - uses: digits-image
  - uses: digits-audio
index:
  uses: embedded-index
  with: {path: index}
generators:
  - uses: digits-generator
"""
PLUGINS = {  # every executor the demo uses -> its distribution in the bundled hub
    "minilm-text": "modahub-text",
    "ocr-image": "modahub-ocr",
    "speech-audio": "modahub-speech",
    "digits-image": "modahub-image",
    "digits-audio": "modahub-audio",
    "embedded-index": "modahub-embedded-index",
    "digits-generator": "modahub-digits-generator",
    "recipe-index": "modahub-recipe-index",
}
PROMPTS = ("a seven", "a handwritten two", "4")
MARKER = ".modahub-demo"


class DemoError(RuntimeError):
    """The demo cannot run (missing plugins, a folder that is not the demo's)."""


@dataclass
class DemoResult:
    """Everything the demo found, for the table, the report and ``--json``."""

    folder: Path
    summary: dict[str, Any] = field(default_factory=dict)
    rows: list[dict[str, Any]] = field(default_factory=list)
    generated: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    installed: list[str] = field(default_factory=list)
    sentences: Any = None
    """The sentence scene (:class:`modahub_hub.demo.sentences.Scene`)."""
    report: Path | None = None


def missing_plugins() -> list[str]:
    """Distributions of the demo's executors that no installed plugin provides (manifests only)."""
    from modahub.plugins import manager

    known = {spec.name for _, spec in manager().executor_specs()}
    return sorted({dist for name, dist in PLUGINS.items() if name not in known})


def ensure_plugins(install: bool, say: Callable[[str], None]) -> list[str]:
    """Install the missing demo plugins from the default (bundled) hub; returns what was installed."""
    missing = missing_plugins()
    if not missing:
        return []
    if not install:
        raise DemoError(f"the demo needs {', '.join(missing)}: run 'modahub install {' '.join(missing)}'")
    from modahub.plugins import reset_manager
    from modahub_hub.hub.install import Request
    from modahub_hub.hub.install import install as hub_install

    say(f"installing {', '.join(missing)} from the bundled hub")
    done = hub_install([Request(name) for name in missing])
    reset_manager()
    still = missing_plugins()
    if still:
        raise DemoError(f"after installing, still missing: {', '.join(still)}")
    return [f"{d.plugin.name} {d.entry.version}" for d in done]


def _prepare(folder: Path) -> Path:
    """A fresh demo folder (only a folder the demo made before is cleared)."""
    if folder.exists() and any(folder.iterdir()) and not (folder / MARKER).exists():
        raise DemoError(f"{folder} exists and is not a modahub demo folder; pick another with --out")
    for part in ("index", "recipes"):
        shutil.rmtree(folder / part, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("made by modahub demo; rerunning the demo replaces index/ and recipes/\n")
    (folder / "app.yml").write_text(APP_YAML)
    return folder / "app.yml"


def _hit(match: Any) -> dict[str, Any]:
    doc = match.document
    return {"id": match.id, "score": match.score, "digit": doc.tags.get("digit") if doc else None, "document": doc,
            "kind": doc.tags.get("kind") if doc else None}


def _cross_modal(app: Any, queries: dict[str, list[Any]], k: int) -> tuple[list[dict[str, Any]], dict[str, str]]:
    rows, accuracy = [], {}
    for direction, docs in queries.items():
        if not docs:
            continue
        target = direction.split("→")[1].strip()
        found = app.search(docs, k=k, filter={"kind": target})
        correct = 0
        for query, hits in zip(found.queries, found.matches, strict=True):
            best = [_hit(m) for m in hits]
            ok = bool(best) and best[0]["digit"] == query.tags["digit"]
            correct += ok
            rows.append({"direction": direction, "query": query, "digit": query.tags["digit"], "hits": best, "correct": ok})
        accuracy[direction] = f"{correct}/{len(docs)} top-1 correct"
    return rows, accuracy


def _generate(app: Any, folder: Path, seed: int) -> list[dict[str, Any]]:
    """Generate, index (vectors) and file the recipes (BM25), then find each again both ways."""
    import modahub
    from modahub.recipes import payload_sha256, regenerate

    made = app.generate(list(PROMPTS), n=1, seed=seed).documents
    recipes: Any = modahub.load("recipe-index", path=folder / "recipes")  # a text index: add, save, search_text
    recipes.add(made)
    recipes.save()
    out = []
    for prompt, doc in zip(PROMPTS, made, strict=True):
        by_vector = app.search([modahub.text(prompt)], k=10).matches[0]
        by_words = recipes.search_text(prompt, k=10)
        again = regenerate(doc.provenance)
        out.append({
            "prompt": prompt, "id": doc.id, "document": doc,
            "recipe": doc.provenance.model_dump(mode="json", exclude_none=True),
            "vector_rank": next((r for r, m in enumerate(by_vector, 1) if m.id == doc.id), None),
            "bm25_rank": next((r for r, m in enumerate(by_words, 1) if m.id == doc.id), None),
            "regenerated": payload_sha256(again.payload) == payload_sha256(doc.payload),
        })
    return out


def run_demo(folder: Path, *, install: bool = True, seed: int = 7, k: int = 3,
             say: Callable[[str], None] = print, progress: Any = None) -> DemoResult:
    """Run the whole demo in ``folder``; see the module docstring."""
    from modahub.pipeline import App
    from modahub_hub.demo import corpus as demo_corpus
    from modahub_hub.demo import report, sentences

    result = DemoResult(folder=folder)
    result.installed = ensure_plugins(install, say)
    app = App.from_yaml(_prepare(folder))
    say("building the corpus: held-out digit images, spoken digits, texts")
    data = demo_corpus.build()
    result.notes = data.notes
    say(f"indexing {len(data.documents)} documents")
    app.index(data.documents, progress=progress)
    space, dim = app.space
    by_kind: dict[str, int] = {}
    for doc in data.documents:
        by_kind[doc.tags["kind"]] = by_kind.get(doc.tags["kind"], 0) + 1
    say("searching across modalities")
    result.rows, accuracy = _cross_modal(app, data.queries, k)
    say(f"generating {len(PROMPTS)} digits and finding them again")
    result.generated = _generate(app, folder, seed)
    assert app.spec.index is not None  # the demo's app file has one
    result.summary = {"index": app.spec.index.uses, "space": space, "dim": dim, "indexed": len(app.indexer()),
                      "by_kind": by_kind, "generated": len(result.generated), "accuracy": accuracy}
    say(f"real sentences: {len(sentences.SENTENCES)} as texts, images of text (OCR) and speech, searched across all three")
    result.sentences = sentences.run(folder, progress=progress)
    result.notes += result.sentences.notes
    result.report = report.write(folder / "report.html", summary=result.summary, rows=result.rows,
                                 generated=result.generated, notes=result.notes, sentences=result.sentences)
    return result
