"""``modahub regenerate``: rebuild generated documents from their recipes and check them byte for byte."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from modahub_hub.output import CommandFailed, UserError, VerificationFailed, emit_result, json_option


def _parse(text: str, source: str) -> tuple[str, list[Any]]:
    """The documents in ``text`` and its form: one JSON object, a JSON array, or JSON lines."""
    from pydantic import ValidationError

    from modahub import plugins  # noqa: F401  (its resolver finds the plugin of a document's plugin modality)
    from modahub.documents import Document

    if not text.strip():
        raise UserError(f"{source}: empty; give a generated document as JSON (a file, or '-' for stdin)")
    try:
        data = json.loads(text)
        form, items = ("array", data) if isinstance(data, list) else ("object", [data])
    except json.JSONDecodeError:
        try:
            form, items = "lines", [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as exc:
            raise UserError(
                f"{source}: not JSON nor JSON lines ({exc}); give a document as written by Document.to_json()"
            ) from None
    docs = []
    for i, item in enumerate(items):
        where = source if form == "object" else f"{source}, document {i + 1}"
        try:
            docs.append(Document.model_validate(item))
        except ValidationError as exc:
            details = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in exc.errors()[:5])
            raise UserError(f"{where}: not a modahub document: {details}") from None
    return form, docs


def _format(form: str, docs: list[Any]) -> str:
    if form == "object":
        return docs[0].to_json() + "\n"
    if form == "array":
        return "[" + ",\n".join(d.to_json() for d in docs) + "]\n"
    return "".join(d.to_json() + "\n" for d in docs)


@click.command("regenerate")
@click.argument("source", default="-", type=click.Path(dir_okay=False, allow_dash=True, path_type=str))
@click.option("-o", "--output", default="-", type=click.Path(dir_okay=False, allow_dash=True, path_type=str),
              show_default=True, help="Where to write the regenerated document(s); '-' is stdout (with --json: the envelope).")
@json_option
def regenerate(source: str, output: str, as_json: bool) -> None:
    """Rebuild the generated document(s) in SOURCE from their recipes and check them byte for byte.

    SOURCE is a JSON document, a JSON array or JSON lines of documents ('-' or nothing: stdin).
    The installed plugin must be the recipe's version with the same weights (sha256). Exit code 0:
    identical; 1: the recipe cannot be replayed here; 2: SOURCE is not a document; 3: a regenerated
    payload differs (the regenerated documents are still written, to compare).
    """
    from modahub.recipes import RecipeError, RegenerationMismatchError, payload_sha256, verify

    text = sys.stdin.read() if source == "-" else _read(source)
    form, docs = _parse(text, "stdin" if source == "-" else source)
    made, differ, checked = [], [], []
    for doc in docs:
        try:
            new = verify(doc)
            status = "identical"
        except RegenerationMismatchError as exc:
            new, status = exc.document, "DIFFERS"
            differ.append(str(exc))
        except RecipeError as exc:
            raise CommandFailed(f"document {doc.id!r}: {exc}") from None
        recipe = doc.provenance
        sha256 = payload_sha256(new.payload)
        click.echo(
            f"{status}: {doc.id} ({recipe.executor} {recipe.plugin_version}, seed {recipe.seed}, "
            f"prompt {recipe.prompt!r}) payload sha256 {sha256}",
            err=True,
        )
        made.append(new)
        checked.append({"id": doc.id, "identical": status == "identical", "payload_sha256": sha256})
    data: dict[str, Any] = {"documents": checked, "output": None if output == "-" else output}
    if as_json and output == "-":
        data["regenerated"] = [json.loads(d.to_json()) for d in made]
    else:
        _write(output, _format(form, made))
    if differ:
        raise VerificationFailed("; ".join(differ), data=data, hint="the regenerated documents are written beside, to compare")
    if as_json:
        emit_result(data)


def _read(source: str) -> str:
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read {source}: {exc.strerror}") from None


def _write(output: str, text: str) -> None:
    if output == "-":
        click.echo(text, nl=False)
        return
    target = Path(output)
    staged = target.with_name(f".{target.name}.tmp")
    try:
        staged.write_text(text, encoding="utf-8")
        staged.replace(target)  # atomic: a reader never sees half a document
    except OSError as exc:
        staged.unlink(missing_ok=True)
        raise UserError(f"cannot write {output}: {exc.strerror}") from None
