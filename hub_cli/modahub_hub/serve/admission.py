"""What a request from the network may make the server do: bounded work, and no file reads of its choosing.

The limits and the folders a document may name by ``uri`` come from the app file's ``serve``
section (:class:`modahub_hub.appfile.ServeSpec`). A refusal is a :class:`Refused` carrying the
HTTP status, the field (``loc``) and a message that names the limit; it never quotes a file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from modahub.documents import Document
from modahub.pipeline import App
from modahub_hub.appfile import ServeSpec

Loc = list[str | int]


class Refused(Exception):
    """A request over a limit or naming a file it may not: ``status`` (413/422), ``loc``, ``msg``."""

    def __init__(self, status: int, loc: Loc, msg: str) -> None:
        super().__init__(msg)
        self.status, self.loc, self.msg = status, loc, msg


class Admission:
    """The serve settings of one app, applied to each request's documents before any work."""

    def __init__(self, app: App, limits: ServeSpec) -> None:
        self.limits = limits
        self.uri_dirs = [Path(os.path.realpath(app.base_dir / d)) for d in self.limits.uri_dirs]

    def count(self, n: int, loc: Loc, what: str = "documents") -> None:
        """Refuse more than ``max_docs`` items."""
        if n > self.limits.max_docs:
            raise Refused(422, loc, f"{n} {what} in one request; the limit is {self.limits.max_docs} "
                                    "(serve.max_docs in the app file)")

    def text(self, value: str, loc: Loc) -> None:
        """Refuse a text longer than ``max_text_chars``."""
        if len(value) > self.limits.max_text_chars:
            raise Refused(422, loc, f"text of {len(value):,} characters; the limit is {self.limits.max_text_chars:,} "
                                    "(serve.max_text_chars in the app file)")

    def documents(self, docs: Sequence[Document], loc: Loc) -> list[Document]:
        """Check count, sizes and uris of ``docs`` (chunks included) and load the allowed uris.

        Runs on the worker thread: loading a file may take time. Returns the documents with data
        present; a document that names a file nobody allowed is refused without touching it.
        """
        self.count(len(docs), loc)
        trees = [_walk(d, [*loc, i]) for i, d in enumerate(docs)]
        self.count(sum(map(len, trees)), loc, "documents (chunks included)")
        for tree in trees:
            for doc, where in tree:
                self.sizes(doc, where)
        return [self._loaded(tree) for tree in trees]

    def sizes(self, doc: Document, loc: Loc) -> None:
        """Refuse a document whose texts or arrays are over the limits."""
        fields: dict[str, Any] = {name: getattr(doc.payload, name) for name in type(doc.payload).model_fields}
        for name, value in fields.items():
            if isinstance(value, str) and name != "uri":
                self.text(value, [*loc, "payload", name])
            elif isinstance(value, np.ndarray):
                self._array(value, [*loc, "payload", name])
        if doc.embedding is not None:
            self._array(doc.embedding, [*loc, "embedding"])

    def _array(self, array: np.ndarray, loc: Loc) -> None:
        if array.size > self.limits.max_array_items:
            raise Refused(422, loc, f"an array of {array.size:,} values (shape {list(array.shape)}); the limit is "
                                    f"{self.limits.max_array_items:,} (serve.max_array_items in the app file)")

    def _loaded(self, order: list[tuple[Document, Loc]]) -> Document:
        """The root of ``order`` (a :func:`_walk`) with every uri in it checked, then loaded; chunks first."""
        doc = order[0][0]
        for d, where in order:  # refuse before reading anything
            if d.payload.uri is not None:
                self._allowed(d.payload.uri, [*where, "payload", "uri"])
        if all(d.payload.uri is None for d, _ in order):
            return doc
        done: dict[int, Document] = {}
        for d, where in reversed(order):  # a parent comes before its chunks in the walk
            chunks = [done[id(c)] for c in d.chunks]
            done[id(d)] = self._load_one(d.model_copy(update={"chunks": chunks}) if chunks else d, where)
        return done[id(doc)]

    def _load_one(self, doc: Document, loc: Loc) -> Document:
        if doc.payload.uri is None:
            return doc
        real = self._allowed(doc.payload.uri, [*loc, "payload", "uri"])
        try:
            payload = doc.payload.model_copy(update={"uri": real}).load()
        except Exception as exc:  # its message may quote the file: report the type only
            raise Refused(422, [*loc, "payload", "uri"],
                          f"cannot load the file as {doc.modality} ({type(exc).__name__})") from None
        loaded = doc.model_copy(update={"payload": payload.model_copy(update={"uri": doc.payload.uri})})
        self.sizes(loaded, loc)
        return loaded

    def _allowed(self, uri: str, loc: Loc) -> str:
        """The real path of ``uri`` when it lies inside an allowed folder; refused otherwise (never opened)."""
        if not self.uri_dirs:
            raise Refused(422, loc, "documents sent over HTTP may not name files (uri): send the data inline, "
                                    "upload the file to /upload/…, or list its folder under serve.uri_dirs in the app file")
        parsed = urlparse(uri)
        raw = parsed.path if parsed.scheme == "file" and parsed.netloc in ("", "localhost") else None
        if parsed.scheme == "" and "\0" not in uri:
            raw = uri
        if raw is None or "\0" in raw or not os.path.isabs(raw):
            raise Refused(422, loc, "uri: only an absolute path or a file:// URI inside serve.uri_dirs is accepted")
        real = Path(os.path.realpath(raw))  # follows symlinks and '..' before the check
        if not any(real.is_relative_to(d) for d in self.uri_dirs):
            raise Refused(422, loc, "uri: not inside the folders the app allows (serve.uri_dirs)")
        return str(real)


def _walk(doc: Document, loc: Loc) -> list[tuple[Document, Loc]]:
    """``doc`` and its chunks at any depth, each before its own chunks, with their ``loc`` (no recursion)."""
    out, todo = [], [(doc, loc)]
    while todo:
        d, where = todo.pop()
        out.append((d, where))
        todo.extend((c, [*where, "chunks", j]) for j, c in enumerate(d.chunks))
    return out


class BodyLimit:
    """ASGI middleware: a request body over ``limit`` bytes is refused with 413 while it streams in.

    A declared ``Content-Length`` over the limit is refused before reading anything; a chunked
    body is counted as it arrives, so neither JSON nor multipart uploads are held past the limit.
    """

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    def _refusal(self) -> Any:
        from fastapi import HTTPException

        msg = f"the request body is larger than {self.limit:,} bytes (serve.max_request_bytes in the app file)"
        return HTTPException(413, detail=[{"loc": ["body"], "msg": msg, "type": "too_large"}])

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        if declared.isascii() and declared.isdigit() and int(declared) > self.limit:
            from fastapi.responses import JSONResponse

            refusal = self._refusal()
            return await JSONResponse({"detail": refusal.detail}, status_code=413)(scope, receive, send)
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise self._refusal()
            return message

        await self.app(scope, counted, send)
