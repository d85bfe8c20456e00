"""``modahub demo``: the main job, offline, on the embedded defaults (see :mod:`modahub_hub.demo`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from modahub_hub.output import CommandFailed, emit_result, json_option, print_table


def _describe(doc: Any) -> str:
    return f"“{doc.payload.text}”" if doc.modality == "text" else doc.id


@click.command("demo")
@click.option("--out", "folder", default="modahub-demo", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the demo app, its index, the recipes and report.html (rerunning replaces them).")
@click.option("--install/--no-install", default=True, show_default=True,
              help="Install missing plugins from the bundled hub (else fail and say which).")
@click.option("--seed", default=7, show_default=True, type=int, help="Seed of the generated digits.")
@json_option
def demo(folder: Path, install: bool, seed: int, as_json: bool) -> None:
    """Index digits as images, sounds and texts in one space; search across them; generate and find again."""
    from modahub_hub.commands.run import progress_bar
    from modahub_hub.demo import DemoError, run_demo

    say = (lambda _: None) if as_json else (lambda msg: click.echo(f"· {msg}", err=True))
    try:
        with progress_bar(not as_json) as update:
            result = run_demo(folder, install=install, seed=seed, say=say, progress=update)
    except DemoError as exc:  # the other errors (pipeline, plugin, hub) carry their own exit codes to the boundary
        raise CommandFailed(str(exc)) from None
    if as_json:
        emit_result({
            "summary": result.summary, "installed": result.installed, "notes": result.notes, "report": str(result.report),
            "searches": [{"direction": r["direction"], "query": r["query"].id, "digit": r["digit"], "correct": r["correct"],
                          "hits": [{k: v for k, v in h.items() if k != "document"} for h in r["hits"]]} for r in result.rows],
            "generated": [{k: v for k, v in g.items() if k != "document"} for g in result.generated],
            "sentences": {"accuracy": result.sentences.accuracy, "searches": [
                {"direction": r["direction"], "query": r["query"].id, "read": r["query"].tags.get("text"),
                 "correct": r["correct"], "hits": [h["id"] for h in r["hits"]]} for r in result.sentences.rows]},
        })
        return
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    rows = [(r["direction"], _describe(r["query"]), r["digit"], r["hits"][0]["id"] if r["hits"] else "",
             r["hits"][0]["digit"] if r["hits"] else "", f"{r['hits'][0]['score']:.3f}" if r["hits"] else "",
             "✓" if r["correct"] else "✗") for r in result.rows]
    print_table("Cross-modal search (best match of the target modality)",
                ["direction", "query", "digit", "best match", "its digit", "score", ""], rows)
    for direction, accuracy in result.summary["accuracy"].items():
        click.echo(f"{direction}: {accuracy}")
    print_table("Generated, then found again",
                ["prompt", "id", "rank by text query", "rank by BM25 over recipes", "regenerated"],
                [(g["prompt"], g["id"], g["vector_rank"] or "not in top 10", g["bm25_rank"] or "not found",
                  "byte for byte" if g["regenerated"] else "DIFFERS") for g in result.generated])
    scene = result.sentences
    print_table("Real sentences as texts, images of text (OCR) and speech (best match of the other kind)",
                ["direction", "query", "read by OCR / speech recognition", "best match", ""],
                [(r["direction"], r["query"].id, str(r["query"].tags.get("text", ""))[:60],
                  r["hits"][0]["id"] if r["hits"] else "", "✓" if r["correct"] else "✗") for r in scene.rows])
    click.echo(" · ".join(f"{direction}: {accuracy}" for direction, accuracy in scene.accuracy.items()))
    click.echo(f"report: {result.report}")
    click.echo(f"try:    modahub run {folder / 'app.yml'} search --text 'a nine' -k 5")
