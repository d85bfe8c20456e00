"""``modahub serve`` under attack: each refusal's status and message, then a healthy server and an intact index.

The attacks are the issue's: files named by ``uri``, NaN tags, oversized bodies, uploads, texts
and arrays, too many documents. After each group the server still answers /health and /ready, the
index holds what it held, and a search finds what it found before.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import httpx
import numpy as np
import pytest

import modahub
from modahub.pipeline import App
from modahub_hub.appfile import read_app
from modahub_hub.client import Client
from modahub_hub.serve import create_app

APP = """\
name: guarded
encoders:
  - uses: toy-text
  - uses: toy-image
  - uses: toy-series
index:
  uses: exact-index
  with: {path: ./index}
serve:
  uri_dirs: [media]
  max_request_bytes: 200000
  max_docs: 16
  max_text_chars: 1000
  max_array_items: 5000
"""
SECRET = "SECRET-TOKEN-4242,not,a,number\n"


@pytest.fixture
def guarded(tmp_path: Path, toys: Path) -> Path:
    """An app allowing uris under ./media only, with small limits; a secret file beside it and a symlink out."""
    (tmp_path / "app.yml").write_text(APP)
    media = tmp_path / "media"
    media.mkdir()
    (tmp_path / "secret.csv").write_text(SECRET)
    (media / "series.csv").write_text("1,1\n1,1\n2,2\n")
    (media / "broken.csv").write_text(SECRET)
    os.symlink(tmp_path / "secret.csv", media / "link.csv")
    return tmp_path / "app.yml"


def _doc(modality: str, payload: dict, **extra) -> dict:
    return {"modality": modality, "payload": payload, **extra}


class Served:
    """The served app with a corpus indexed, and the checks that it is intact."""

    def __init__(self, url: str) -> None:
        self.url, self.client = url, Client(url)
        self.client.wait_ready(60)
        self.client.index([modahub.text(f"a story about {w}", id=f"t{i}", tags={"n": i})
                           for i, w in enumerate(["one", "two", "three"])])
        self.before = self._hits()

    def _hits(self) -> list:
        return [[(m.id, m.score) for m in hits] for hits in self.client.search([modahub.text("two")], k=3)]

    def post(self, path: str, body, **kwargs) -> httpx.Response:
        if isinstance(body, (dict, list)):
            return httpx.post(self.url + path, json=body, timeout=30, **kwargs)
        return httpx.post(self.url + path, content=body, headers={"content-type": "application/json"}, timeout=30, **kwargs)

    def refused(self, response: httpx.Response, status: int, loc: list, message: str) -> str:
        assert response.status_code == status, response.text
        detail = response.json()["detail"]
        assert any(d["loc"][: len(loc)] == loc and message in d["msg"] for d in detail), detail
        return response.text

    def intact(self) -> None:
        assert httpx.get(self.url + "/health").status_code == 200
        assert httpx.get(self.url + "/ready").status_code == 200
        assert httpx.get(self.url + "/info").json()["name"] == "guarded"
        assert self._hits() == self.before
        assert len(self.before[0]) == 3


@pytest.fixture
def served(guarded, kit, caplog):
    caplog.set_level(logging.DEBUG)
    with kit.ServerThread(create_app(read_app(guarded))) as url:
        yield Served(url)


def test_files_outside_the_allowed_folders_are_never_read(served, guarded, caplog):
    media = guarded.parent / "media"
    outside = ["/etc/passwd", "/proc/self/environ", str(guarded.parent / "secret.csv"), "/no/such/file.csv",
               f"{media}/../secret.csv", str(media / "link.csv"), "file:///etc/passwd", "media/series.csv",
               "http://127.0.0.1:1/x.csv", "file://otherhost/etc/passwd"]
    answers = set()
    for uri in outside:
        body = {"docs": [_doc("timeseries", {"uri": uri})]}
        answers.add(served.refused(served.post("/encode", body), 422, ["body", "docs", 0, "payload", "uri"], "uri"))
    # the same answer whether the file exists or not (absolute paths), so status codes reveal nothing
    assert len({a for a in answers if "not inside" in a}) == 1
    text = served.post("/index", {"docs": [_doc("text", {"uri": "/etc/passwd"})]}).text
    assert "root:" not in text
    nested = {"docs": [_doc("text", {"text": "x"}, chunks=[_doc("text", {"uri": "/etc/passwd"})])]}
    served.refused(served.post("/index", nested), 422, ["body", "docs", 0, "chunks", 0, "payload", "uri"], "uri")
    served.intact()
    assert "SECRET" not in caplog.text and "root:" not in caplog.text


def test_files_inside_the_allowed_folders_load_and_a_failure_names_the_field(served, guarded, caplog):
    media = guarded.parent / "media"
    for uri in (str(media / "series.csv"), f"file://{media / 'series.csv'}"):
        response = served.post("/encode", {"docs": [_doc("timeseries", {"uri": uri})]})
        assert response.status_code == 200, response.text
    response = served.post("/encode", {"docs": [_doc("timeseries", {"uri": str(media / "broken.csv")})]})
    text = served.refused(response, 422, ["body", "docs", 0, "payload", "uri"], "cannot load the file as timeseries")
    assert "SECRET" not in text
    served.refused(served.post("/encode", {"docs": [_doc("timeseries", {"uri": str(media / "missing.csv")})]}),
                   422, ["body", "docs", 0, "payload", "uri"], "cannot load the file")
    served.intact()
    assert "SECRET" not in caplog.text


def test_without_uri_dirs_no_document_may_name_a_file(toys, kit, tmp_path):
    (tmp_path / "app.yml").write_text("encoders:\n  - uses: toy-text\n")
    (tmp_path / "note.txt").write_text("a note about five")
    with kit.ServerThread(create_app(App.from_yaml(tmp_path / "app.yml"))) as url:
        Client(url).wait_ready(60)
        response = httpx.post(url + "/encode", json={"docs": [_doc("text", {"uri": str(tmp_path / "note.txt")})]})
        assert response.status_code == 422
        assert "may not name files" in response.json()["detail"][0]["msg"]
        assert httpx.get(url + "/health").status_code == 200


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_tags_and_numbers_are_refused_and_the_index_stays_readable(served, guarded, kit, token):
    body = f'{{"docs": [{{"modality": "text", "payload": {{"text": "seven"}}, "tags": {{"t": {token}}}}}]}}'
    served.refused(served.post("/index", body), 422, ["body", "docs", 0, "tags", "t"], "finite")
    series = f'{{"docs": [{{"modality": "timeseries", "payload": {{"values": [[1.0], [{token}]]}}}}]}}'
    served.refused(served.post("/index", series), 422, ["body", "docs", 0], "NaN or infinite")
    search = f'{{"queries": [{{"modality": "text", "payload": {{"text": "x"}}}}], "filter": {{"t": {token}}}}}'
    served.refused(served.post("/search", search), 422, ["body", "filter", "t"], "finite")
    served.intact()


def test_the_index_survives_a_restart_after_refused_writes(guarded, kit):
    with kit.ServerThread(create_app(read_app(guarded))) as url:
        served = Served(url)
        served.post("/index", '{"docs": [{"modality": "text", "payload": {"text": "x"}, "tags": {"t": NaN}}]}')
        before = served.before
    with kit.ServerThread(create_app(read_app(guarded))) as url:
        client = Client(url)
        client.wait_ready(60)
        assert [[(m.id, m.score) for m in h] for h in client.search([modahub.text("two")], k=3)] == before


def test_bodies_over_the_byte_limit_are_refused_with_413(served, guarded):
    big = {"docs": [_doc("text", {"text": "x" * 900}) for _ in range(300)]}  # ~ 300 kB > 200,000 bytes
    served.refused(served.post("/index", big), 413, ["body"], "serve.max_request_bytes")

    def chunks():  # no Content-Length: counted as it streams
        yield b'{"docs": ['
        for _ in range(300):
            yield json.dumps(_doc("text", {"text": "x" * 900})).encode() + b","
        yield b"]}"

    served.refused(served.post("/index", chunks()), 413, ["body"], "serve.max_request_bytes")
    served.intact()


def test_uploads_are_bounded_in_total_and_in_count(served, guarded, tmp_path):
    files = [("files", (f"n{i}.txt", b"a note about two " * 5000)) for i in range(3)]  # 3 x 85 kB: over in total
    served.refused(httpx.post(served.url + "/upload/index", files=files, timeout=30), 413, ["body"],
                   "serve.max_request_bytes")
    many = [("files", (f"n{i}.txt", b"two")) for i in range(17)]
    served.refused(httpx.post(served.url + "/upload/index", files=many, timeout=30), 422, ["body", "files"],
                   "serve.max_docs")
    long = [("files", ("long.txt", b"two " * 400))]
    served.refused(httpx.post(served.url + "/upload/encode", files=long, timeout=30), 422, ["body", "files", 0],
                   "serve.max_text_chars")
    ok = httpx.post(served.url + "/upload/encode", files=[("files", ("ok.txt", b"two"))], timeout=30)
    assert ok.status_code == 200, ok.text
    served.intact()


def test_documents_texts_and_arrays_are_bounded(served, kit):
    text = lambda s: _doc("text", {"text": s})  # noqa: E731
    served.refused(served.post("/encode", {"docs": [text("x")] * 17}), 422, ["body", "docs"], "16")
    served.refused(served.post("/search", {"queries": [text("x")] * 17}), 422, ["body", "queries"], "16")
    chunked = {"docs": [_doc("text", {"text": "x"}, chunks=[text("y")] * 16)]}
    served.refused(served.post("/index", chunked), 422, ["body", "docs"], "serve.max_docs")
    served.refused(served.post("/encode", {"docs": [text("x" * 1001)]}), 422, ["body", "docs", 0, "payload", "text"],
                   "serve.max_text_chars")
    served.refused(served.post("/generate", {"prompts": ["x" * 1001]}), 422, ["body", "prompts", 0], "1000")
    pixels = modahub.image(np.zeros((50, 50, 3), np.uint8)).model_dump(mode="json")  # 7,500 values > 5,000
    served.refused(served.post("/encode", {"docs": [pixels]}), 422, ["body", "docs", 0, "payload", "pixels"],
                   "serve.max_array_items")
    for shape in ([2**70], [2**40, 2**40], [-1]):
        huge = {"dtype": "uint8", "shape": [*shape, 1, 1], "data": ""}
        response = served.post("/encode", {"docs": [_doc("image", {"pixels": huge})]})
        served.refused(response, 422, ["body", "docs", 0], "shape")
    served.intact()


def test_deeply_nested_bodies_are_refused_without_recursion_errors(served):
    deep_chunks = '{"docs": [' + '{"modality": "text", "payload": {"text": "x"}, "chunks": [' * 3000 + "]}" * 3000 + "]}"
    response = served.post("/index", deep_chunks)
    assert response.status_code in (400, 422) and response.json()["detail"], response.text[:300]
    deep_params = ('{"docs": [{"modality": "text", "payload": {"text": "x"}, "provenance": {"plugin": "p", '
                   '"plugin_version": "1", "executor": "e", "seed": 0, "prompt": "x", "parameters": {"a": '
                   + "[" * 5000 + "]" * 5000 + "}}}]}")
    response = served.post("/index", deep_params)
    assert response.status_code in (400, 422) and response.json()["detail"], response.text[:300]
    served.intact()
