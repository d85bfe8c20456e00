"""A small Python client for ``modahub serve`` (httpx)::

    from modahub_hub.client import Client
    with Client("http://127.0.0.1:8000") as client:
        client.wait_ready()
        hits = client.search([modahub.text("a seven")], k=3)
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from modahub.documents import Document
from modahub.errors import ModahubError
from modahub.executors import Match, check_same_space
from modahub_hub.serve.schemas import EncodeResponse, GenerateResponse, IndexResponse, SearchResponse


class ClientError(ModahubError, RuntimeError):
    """The server refused a request; ``status`` is the HTTP status, ``detail`` its explanation."""

    def __init__(self, status: int, detail: Any) -> None:
        self.status, self.detail = status, detail
        if isinstance(detail, list):
            text = "; ".join(f"{'.'.join(str(p) for p in d.get('loc', []))}: {d.get('msg')}" for d in detail)
        else:
            text = str(detail)
        super().__init__(f"HTTP {status}: {text}")


class ServiceUnavailable(ClientError):
    """503: the queue is full, the app is warming up or the server is shutting down."""


def _docs_body(key: str, docs: Sequence[Document], **extra: Any) -> bytes:
    import json

    head = json.dumps(extra)[1:-1]
    items = ",".join(d.model_dump_json() for d in docs)
    return f'{{"{key}":[{items}]{"," + head if head else ""}}}'.encode()


class Client:
    """Talk to a modahub server at ``url``; each method mirrors an endpoint."""

    def __init__(self, url: str = "http://127.0.0.1:8000", *, timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(base_url=self.url, timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            cls = ServiceUnavailable if response.status_code == 503 else ClientError
            raise cls(response.status_code, detail)
        return response

    def _post_json(self, path: str, body: bytes) -> bytes:
        return self._request("POST", path, content=body, headers={"content-type": "application/json"}).content

    # --- status ------------------------------------------------------------------------------

    def health(self) -> bool:
        """True when the server answers."""
        try:
            return self._http.get("/health").status_code == 200
        except httpx.TransportError:
            return False

    def ready(self) -> bool:
        """True when the app is warmed up and accepting work."""
        try:
            return self._http.get("/ready").status_code == 200
        except httpx.TransportError:
            return False

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Block until :meth:`ready`, or raise ``TimeoutError``."""
        deadline = time.monotonic() + timeout
        while not self.ready():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.url} not ready after {timeout} s")
            time.sleep(0.05)

    def info(self) -> dict[str, Any]:
        """The served app: name, space, dim, modalities, pipelines."""
        return self._request("GET", "/info").json()

    # --- work --------------------------------------------------------------------------------

    def encode(self, docs: Sequence[Document], *, space: tuple[str, int] | None = None) -> np.ndarray:
        """Embeddings ``(n, dim)`` in request order; ``space`` (name, dim) is checked when given."""
        out = EncodeResponse.model_validate_json(self._post_json("/encode", _docs_body("docs", docs)))
        if space is not None:
            check_same_space(space, (out.space, out.dim), what="the server's embeddings")
        return out.embeddings

    def index(self, docs: Sequence[Document], *, batch: int = 256) -> IndexResponse:
        """Encode and add documents, ``batch`` per request (the server's serve.max_docs is 256 unless its app
        file says otherwise); returns the ids indexed and the index size."""
        indexed: list[str] = []
        size = 0
        for start in range(0, len(docs), batch):
            part = IndexResponse.model_validate_json(self._post_json("/index", _docs_body("docs", docs[start:start + batch])))
            indexed += part.indexed
            size = part.index_size
        return IndexResponse(indexed=indexed, index_size=size)

    def search(self, queries: Sequence[Document], k: int = 10, filter: dict[str, Any] | None = None,
               *, documents: bool = True) -> list[list[Match]]:
        """The ``k`` best matches for each query, best first."""
        body = _docs_body("queries", queries, k=k, filter=filter, documents=documents)
        return SearchResponse.model_validate_json(self._post_json("/search", body)).results

    def generate(self, prompts: Sequence[str], n: int = 1, seed: int | None = None,
                 generator: str | None = None) -> GenerateResponse:
        """Generated documents (with recipes), indexed when the app has an index and a fitting encoder."""
        import json

        body = json.dumps({"prompts": list(prompts), "n": n, "seed": seed, "generator": generator}).encode()
        return GenerateResponse.model_validate_json(self._post_json("/generate", body))

    def upload(self, shape: str, paths: Sequence[str | Path], *, modality: str | None = None, k: int = 10) -> dict[str, Any]:
        """Send media files to ``/upload/{shape}`` (encode, index or search); the JSON answer."""
        handles = [Path(p).open("rb") for p in paths]
        try:
            files = [("files", (Path(p).name, h)) for p, h in zip(paths, handles, strict=True)]
            data = {"k": str(k), **({"modality": modality} if modality else {})}
            return self._request("POST", f"/upload/{shape}", files=files, data=data).json()
        finally:
            for handle in handles:
                handle.close()
