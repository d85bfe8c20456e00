"""Documents from the files given to ``modahub run`` and ``serve``: the modality follows the file extension
(built-in, or declared by a plugin's manifest); ``.jsonl`` holds documents as JSON lines."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from modahub.documents import Document
from modahub.errors import ModahubInputError


class InputError(ModahubInputError):
    """A file could not be turned into documents."""


def file_extensions() -> dict[str, dict[str, list[str]]]:
    """Who claims each file extension: ``{".smi": {"molecule": ["modahub-chem"]}}`` (no plugin code runs).

    The built-in modalities' extensions come first (provider ``modahub-core``), then those that
    active plugins' manifests declare for their modalities.
    """
    from modahub.modalities import BUILTIN_MODALITIES
    from modahub.plugins import manager

    claims: dict[str, dict[str, list[str]]] = {}
    declared = [(m.name, ext, "modahub-core") for m in BUILTIN_MODALITIES for ext in m.extensions]
    declared += [(m.name, ext, r.dist) for r in manager().active() for m in r.manifest.modalities  # type: ignore[union-attr]
                 for ext in m.extensions]
    for modality, ext, provider in declared:
        claims.setdefault(ext, {}).setdefault(modality, []).append(provider)
    return claims


def _claimed(claims: dict[str, list[str]]) -> str | None:
    """The modality an extension stands for: the built-in one, else the only one plugins claim."""
    core = [m for m, providers in claims.items() if "modahub-core" in providers]
    return core[0] if core else next(iter(claims)) if len(claims) == 1 else None


def extensions() -> dict[str, str]:
    """File extension → modality: the built-ins' and those installed plugins declare in their manifests."""
    return {ext: m for ext, claims in file_extensions().items() if (m := _claimed(claims))}


def modality_of(path: str | Path) -> str:
    """The modality a file's extension stands for (built-in or declared by an installed plugin)."""
    suffix = Path(path).suffix.lower()
    claims = file_extensions().get(suffix, {})
    modality = _claimed(claims)
    if modality is not None:
        return modality
    if claims:
        who = "; ".join(f"{m} ({', '.join(providers)})" for m, providers in sorted(claims.items()))
        raise InputError(f"{path}: extension {suffix} is claimed for several modalities: {who}; "
                         "uninstall one of those plugins, or put the documents in a .jsonl file")
    raise InputError(
        f"{path}: unknown file type {suffix or '(none)'}; known: {', '.join(sorted(extensions()))} and .jsonl "
        "(documents); a plugin providing a modality declares its file extensions in its modahub.toml"
    )


def document_from_file(path: str | Path, *, modality: str | None = None, doc_id: str | None = None) -> Document:
    """A loaded document read from ``path`` (id: the file name unless ``doc_id`` is given)."""
    path = Path(path)
    modality = modality or modality_of(path)
    try:
        doc = Document(id=doc_id or path.name, modality=modality, payload={"uri": str(path)}, tags={"source": path.name})
        return doc.load()
    except (ValidationError, ValueError, OSError) as exc:
        raise InputError(f"{path}: cannot read as {modality}: {exc}") from None


def documents_from_jsonl(path: str | Path) -> list[Document]:
    """Documents stored one JSON object per line."""
    docs = []
    with Path(path).open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    docs.append(Document.model_validate_json(line))
                except ValidationError as exc:
                    raise InputError(f"{path}:{number}: not a document: {exc.errors()[0]['msg']}") from None
    return docs


def documents_from_paths(paths: Iterable[str | Path]) -> list[Document]:
    """Documents from files, ``.jsonl`` files and folders (read recursively, in name order)."""
    docs: list[Document] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            known = extensions()
            docs.extend(document_from_file(p, doc_id=str(p.relative_to(path))) for p in files if p.suffix.lower() in known)
            docs.extend(d for p in files if p.suffix.lower() == ".jsonl" for d in documents_from_jsonl(p))
        elif path.suffix.lower() == ".jsonl":
            docs.extend(documents_from_jsonl(path))
        elif path.is_file():
            docs.append(document_from_file(path))
        else:
            raise InputError(f"{path}: no such file or folder")
    return docs


def document_from_json(text: str, *, position: int = 0) -> Document:
    """A document given as JSON on the command line (``--doc``); ``id`` defaults to ``doc-<position>``."""
    import json

    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"--doc {position + 1}: not JSON ({exc.msg} at character {exc.pos}); "
                         'write e.g. --doc \'{"modality": "text", "payload": {"text": "hello"}}\'') from None
    if not isinstance(data, dict):
        raise InputError(f"--doc {position + 1}: a document is a JSON object with modality and payload")
    try:
        return Document.model_validate({"id": f"doc-{position}", **data})
    except ValidationError as exc:
        raise InputError(f"--doc {position + 1}: not a document: {exc.errors()[0]['msg']}") from None


def text_field(modality: str) -> str:
    """The one data field of ``modality``'s payload, when it is text: what ``--text`` fills with ``--modality``."""
    from typing import get_args

    from modahub.modalities import get

    payload = get(modality).payload
    fields = payload.data_fields
    if len(fields) == 1 and set(get_args(payload.model_fields[fields[0]].annotation)) == {str, type(None)}:
        return fields[0]
    raise InputError(f"modality {modality!r}: its payload ({', '.join(fields) or 'no data fields'}) is not a single "
                     "text field, so --text cannot fill it; give whole documents with --doc '{json}' instead")


def documents_from_texts(texts: Iterable[str], modality: str = "text") -> list[Document]:
    """``--text`` values as documents of ``modality`` (one whose payload is a single text field)."""
    field = text_field(modality)
    try:
        return [Document(id=f"text-{i}", modality=modality, payload={field: t}) for i, t in enumerate(texts)]
    except ValidationError as exc:
        raise InputError(f"--text as {modality}: {exc.errors()[0]['msg']}") from None
