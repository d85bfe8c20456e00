"""``modahub run APP index|search|generate|encode``: run an app's pipeline in this process."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from modahub_hub.output import UserError, emit_result, json_option, print_table

SHAPES = ("index", "search", "generate", "encode")


def load_app(path: Path) -> Any:
    """Load and validate an app file (its mistakes are input errors: one line and exit code 2 at the CLI's boundary)."""
    from modahub_hub.appfile import read_app

    return read_app(path)


def parse_filter(pairs: tuple[str, ...]) -> dict[str, Any] | None:
    """``key=value`` pairs into a tag filter (values parsed as YAML scalars: 7 is a number)."""
    import yaml

    flt: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--filter {pair!r}: expected KEY=VALUE, e.g. --filter digit=7")
        flt[key] = yaml.safe_load(value)
    return flt or None


def preview(doc: Any, width: int = 48) -> str:
    """A short human description of a document's content."""
    payload = doc.payload
    if doc.modality == "text" and getattr(payload, "text", None):
        text = " ".join(payload.text.split())
        return text if len(text) <= width else text[: width - 1] + "…"
    for field in ("pixels", "samples", "frames", "points", "vertices", "values"):
        value = getattr(payload, field, None)
        if value is not None:
            return f"{field} {'×'.join(str(s) for s in value.shape)}"
    return payload.uri or ""


def match_json(match: Any) -> dict[str, Any]:
    doc = match.document
    return {
        "id": match.id,
        "score": match.score,
        "modality": doc.modality if doc else None,
        "tags": doc.tags if doc else {},
    }


@contextmanager
def progress_bar(enabled: bool) -> Iterator[Any]:
    """A rich progress callback on stderr (``None`` when disabled or not a terminal)."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield None
        return
    with Progress(console=console, transient=True) as bar:
        tasks: dict[str, Any] = {}

        def update(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done)

        yield update


def read_inputs(paths: tuple[Path, ...], texts: tuple[str, ...], jsons: tuple[str, ...],
                modality: str) -> list[Any]:
    """Documents from files/folders/.jsonl, literal texts (of ``modality``) and JSON documents."""
    from modahub.modalities import UnknownModalityError
    from modahub_hub.inputs import InputError, document_from_json, documents_from_paths, documents_from_texts

    try:
        return [*documents_from_paths(paths), *documents_from_texts(texts, modality),
                *(document_from_json(j, position=i) for i, j in enumerate(jsons))]
    except (InputError, UnknownModalityError) as exc:
        raise UserError(str(exc)) from None


def read_prompts(paths: tuple[Path, ...], texts: tuple[str, ...]) -> list[str]:
    """Prompts: one per line of each --input file, then each --text."""
    prompts = [line.strip() for p in paths for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    return prompts + list(texts)


def _report(shape: str, app: Any, result: Any, as_json: bool) -> None:
    if shape == "index":
        data = {"indexed": [d.id for d in result.documents], "index_size": len(app.indexer())}
        if as_json:
            return emit_result(data)
        counts: dict[str, int] = {}
        for doc in result.documents:
            counts[doc.modality] = counts.get(doc.modality, 0) + 1
        print_table(f"Indexed {len(result.documents)} documents", ["modality", "documents"], sorted(counts.items()))
        click.echo(f"the index now holds {data['index_size']} documents")
    elif shape == "search":
        if as_json:
            return emit_result({"results": [
                {"query": {"id": q.id, "modality": q.modality}, "matches": [match_json(m) for m in hits]}
                for q, hits in zip(result.queries, result.matches, strict=True)
            ]})
        rows = [
            (f"{q.modality}: {preview(q)}" if rank == 1 else "", rank, m.id,
             m.document.modality if m.document else "", f"{m.score:.4f}", preview(m.document) if m.document else "")
            for q, hits in zip(result.queries, result.matches, strict=True) for rank, m in enumerate(hits, 1)
        ]
        print_table("Search results", ["query", "rank", "id", "modality", "score", "content"], rows)
    elif shape == "generate":
        indexed = app.spec.index is not None and any(d.embedding is not None for d in result.documents)
        if as_json:
            return emit_result({"indexed": indexed, "documents": [
                {"id": d.id, "modality": d.modality, "tags": d.tags,
                 "provenance": d.provenance.model_dump(mode="json") if d.provenance else None}
                for d in result.documents]})
        made: list[tuple[Any, ...]] = [(d.id, d.modality, d.provenance.prompt if d.provenance else "",
                                        d.provenance.seed if d.provenance else "", preview(d)) for d in result.documents]
        print_table(f"Generated {len(made)} documents" + (" (indexed)" if indexed else ""),
                    ["id", "modality", "prompt", "seed", "content"], made)
    else:
        space, dim = app.space
        if as_json:
            return emit_result({"space": space, "dim": dim, "embeddings": [
                {"id": d.id, "modality": d.modality, "embedding": d.embedding.tolist()} for d in result.documents]})
        vectors = [(d.id, d.modality, " ".join(f"{v:+.3f}" for v in d.embedding[:4]) + " …") for d in result.documents]
        print_table(f"Embeddings (space {space!r}, dim {dim})", ["id", "modality", "first values"], vectors)


@click.command("run")
@click.argument("app_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("shape", type=click.Choice(SHAPES))
@click.option("--input", "-i", "inputs", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="A file, folder or .jsonl of documents (for generate: a file of prompts, one per line). Repeatable.")
@click.option("--text", "-t", "texts", multiple=True, help="A literal text document, query or prompt. Repeatable.")
@click.option("--modality", "text_modality", default="text", show_default=True, metavar="NAME",
              help="The modality of the --text values: any whose payload is one text field (e.g. molecule for SMILES).")
@click.option("--doc", "docs", multiple=True, metavar="JSON",
              help='A document as JSON, any modality: \'{"modality": "molecule", "payload": {"smiles": "CCO"}}\'. Repeatable.')
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(min=1), help="Matches per query (search).")
@click.option("--filter", "filters", multiple=True, metavar="KEY=VALUE", help="Only matches with this tag (search).")
@click.option("-n", "n", default=1, show_default=True, type=click.IntRange(min=1), help="Documents per prompt (generate).")
@click.option("--seed", type=int, help="Random seed (generate); recorded in each document's recipe.")
@click.option("--generator", help="Which of the app's generators (default: the first).")
@json_option
@click.option("--progress/--no-progress", default=True, help="Show a progress bar on a terminal.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="local: in this process; ray: the encoders on Ray actors (encode, index, search).")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1), help="Ray actors (--engine ray).")
@click.option("--address", envvar="RAY_ADDRESS", metavar="HOST:PORT",
              help="With --engine ray: the Ray cluster to run on (its head's address; default $RAY_ADDRESS); "
                   "without it, a private cluster on this machine for the run.")
def run(app_file: Path, shape: str, inputs: tuple[Path, ...], texts: tuple[str, ...], text_modality: str,
        docs: tuple[str, ...], k: int, filters: tuple[str, ...], n: int, seed: int | None, generator: str | None,
        as_json: bool, progress: bool, engine: str, workers: int, address: str | None) -> None:
    """Run APP_FILE's index, search, generate or encode pipeline on --input files, --text values and --doc documents."""
    if engine == "ray":
        from modahub_hub.engines.ray_engine import cluster_address

        address = cluster_address(address)  # a malformed address fails before any work
    app = load_app(app_file)
    if not inputs and not texts and not docs:
        raise UserError("nothing to run on: give --input PATH, --text TEXT or --doc JSON")
    if shape == "generate" and docs:
        raise UserError("generate reads prompts: give them with --text or --input, not --doc")
    items = read_prompts(inputs, texts) if shape == "generate" else read_inputs(inputs, texts, docs, text_modality)
    with progress_bar(progress and not as_json) as update:
        if engine == "ray":
            from modahub_hub.engines.ray_engine import run_on_ray

            result = run_on_ray(app, shape, items, workers=workers, k=k, filter=parse_filter(filters), progress=update,
                                address=address)
        else:
            result = app.run(shape, items, k=k, filter=parse_filter(filters), n=n, seed=seed, generator=generator,
                             progress=update)
    _report(shape, app, result, as_json)
