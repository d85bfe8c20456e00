"""``modahub serve`` and its client: same results as ``modahub run``, 4xx for bad input, 503 when full."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import wave
from collections import Counter
from pathlib import Path

import httpx
import numpy as np
import pytest
from click.testing import CliRunner

import modahub
from modahub.pipeline import App
from modahub_hub.cli import cli
from modahub_hub.client import Client, ClientError, ServiceUnavailable
from modahub_hub.serve import create_app
from modahub_testing import assert_same_hits, assert_vectors_close

READY_S = 120  # upper bounds only: generous, so that a loaded machine slows these tests down instead of failing them
SLOW_APP = "encoders:\n  - uses: toy-text\n    with: {delay: %s}\nindex:\n  uses: exact-index\n"


def _jsonl(path: Path, docs) -> Path:
    path.write_text("".join(d.model_dump_json() + "\n" for d in docs))
    return path


def _queries(kit):
    return [modahub.text("the number three", id="q-text"), modahub.audio(kit.tone(2), 8000, id="q-sound"),
            modahub.image(kit.flat_image(9), id="q-image")]


def test_serve_and_client_give_the_same_results_as_run(app_file, kit, tmp_path):
    corpus = _jsonl(tmp_path / "corpus.jsonl", kit.corpus())
    queries = _jsonl(tmp_path / "queries.jsonl", _queries(kit))
    assert CliRunner().invoke(cli, ["run", str(app_file), "index", "-i", str(corpus)]).exit_code == 0
    out = CliRunner().invoke(cli, ["run", str(app_file), "search", "-i", str(queries), "-k", "4", "--json"])
    by_run = [r["matches"] for r in json.loads(out.output)["data"]["results"]]

    with kit.ServerThread(create_app(App.from_yaml(app_file))) as url, Client(url) as client:
        client.wait_ready(READY_S)
        served = client.search(_queries(kit), k=4)
    assert_same_hits(served, by_run)
    assert served[1][0].document is not None and served[1][0].document.modality in ("audio", "image")

    fresh = tmp_path / "fresh"  # the other way round: index through the server, search through run
    fresh.mkdir()
    (fresh / "app.yml").write_text(app_file.read_text())
    with kit.ServerThread(create_app(App.from_yaml(fresh / "app.yml"))) as url, Client(url) as client:
        client.wait_ready(READY_S)
        assert client.index(kit.corpus()).index_size == 20
    out = CliRunner().invoke(cli, ["run", str(fresh / "app.yml"), "search", "-i", str(queries), "-k", "4", "--json"])
    assert_same_hits([r["matches"] for r in json.loads(out.output)["data"]["results"]], by_run)


def test_encode_generate_info_health_openapi(app_file, kit):
    app = App.from_yaml(app_file)
    docs = kit.corpus()[:4]
    with kit.ServerThread(create_app(app)) as url, Client(url) as client:
        client.wait_ready(READY_S)
        assert client.health()
        vectors = client.encode(docs, space=("toy-digits", 10))
        assert_vectors_close(vectors, app.encode(docs))
        generated = client.generate(["a five"], n=2, seed=3)
        assert generated.indexed and [d.provenance.seed for d in generated.documents] == [3, 3]
        info = client.info()
        assert (info["space"], info["dim"], info["modalities"]) == ("toy-digits", 10, ["audio", "image", "text"])
        schema = httpx.get(f"{url}/openapi.json").json()
        assert {"/encode", "/index", "/search", "/generate", "/upload/{shape}", "/health", "/ready"} <= set(schema["paths"])


MALFORMED = [
    ("/encode", {"docs": []}, ["body", "docs"]),
    ("/encode", {"docs": [{"modality": "text"}]}, ["body", "docs", 0]),
    ("/encode", {"docs": [{"modality": "image", "payload": {"pixels": [[1, 2]]}}]}, ["body", "docs", 0]),
    ("/encode", {"docs": [{"modality": "warp", "payload": {}}]}, ["body", "docs", 0]),
    ("/encode", {"docs": [{"modality": "video", "payload": {"frames": np.zeros((1, 2, 2, 3), "uint8").tolist(), "fps": 1}}]},
     ["body", "docs"]),
    ("/search", {"queries": [{"modality": "text", "payload": {"text": "x"}}], "k": 0}, ["body", "k"]),
    ("/search", {"queries": [{"modality": "text", "payload": {"text": "x"}}], "filter": {"a": {"b": 1}}},
     ["body", "filter", "a"]),
    ("/search", {"docs": []}, ["body", "queries"]),
    ("/generate", {"prompts": ["x"], "n": 0}, ["body", "n"]),
    ("/generate", {"prompts": ["x"], "generator": "nope"}, ["body"]),
    ("/generate", {"prompts": [""]}, ["body"]),
    ("/index", [1, 2], ["body"]),
]


def test_malformed_requests_get_4xx_with_field_errors_and_the_server_keeps_serving(app_file, kit):
    with kit.ServerThread(create_app(App.from_yaml(app_file))) as url, Client(url) as client:
        client.wait_ready(READY_S)
        for path, body, loc in MALFORMED:
            response = httpx.post(url + path, json=body)
            assert response.status_code == 422, (path, body, response.text)
            detail = response.json()["detail"]
            assert any(d["loc"][: len(loc)] == loc and d["msg"] for d in detail), (path, body, detail)
        assert httpx.post(url + "/encode", content=b"{not json", headers={"content-type": "application/json"}).status_code == 422
        with pytest.raises(ClientError, match=r"HTTP 422: body.docs.0: unknown modality; this app accepts audio, image, text"):
            client.encode([modahub.Document.model_construct(id="x", modality="warp", payload=modahub.text("x").payload)])
        assert client.encode([modahub.text("still serving")]).shape == (1, 10)


def _wav(path: Path, samples: np.ndarray, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((samples * 32767).astype("<i2").tobytes())
    return path


def test_media_uploads(app_file, kit, tmp_path):
    files = [_wav(tmp_path / f"tone-{d}.wav", kit.tone(d)) for d in range(5)]
    (tmp_path / "note.txt").write_text("a note about four")
    with kit.ServerThread(create_app(App.from_yaml(app_file))) as url, Client(url) as client:
        client.wait_ready(READY_S)
        indexed = client.upload("index", [*files, tmp_path / "note.txt"])
        assert indexed["indexed"] == ["tone-0.wav", "tone-1.wav", "tone-2.wav", "tone-3.wav", "tone-4.wav", "note.txt"]
        hits = client.upload("search", [_wav(tmp_path / "query.wav", kit.tone(4))], k=2)["results"][0]
        assert {h["id"] for h in hits} == {"tone-4.wav", "note.txt"}  # sound -> sound and text
        assert hits[0]["document"]["tags"] == {"source": hits[0]["id"]}
        (tmp_path / "x.bin").write_bytes(b"\0")
        with pytest.raises(ClientError, match="HTTP 422: body.files.0: x.bin: unknown file type .bin"):
            client.upload("search", [tmp_path / "x.bin"])
        with pytest.raises(ClientError, match="HTTP 422"):
            client.upload("search", [tmp_path / "note.txt"], modality="nope")


def test_a_full_queue_answers_503_and_accepted_work_completes(toys, kit, tmp_path):
    (tmp_path / "slow.yml").write_text(SLOW_APP % 0)
    body = {"docs": [{"modality": "text", "payload": {"text": "one"}}]}
    statuses: list[int] = []
    app = App.from_yaml(tmp_path / "slow.yml")
    encoder = app.pipeline("encode").nodes["toy-text"].executor
    with kit.ServerThread(create_app(app, queue=2)) as url, Client(url) as client:
        client.wait_ready(READY_S)
        encoder.gate = threading.Event()  # the worker holds the first request until the gate opens
        busy = [threading.Thread(target=lambda: statuses.append(httpx.post(url + "/encode", json=body, timeout=30).status_code))
                for _ in range(2)]
        for t in busy:
            t.start()
        _wait_pending(url, 2)
        refused = httpx.post(url + "/encode", json=body)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
        assert "queue is full" in refused.json()["detail"][0]["msg"]
        with pytest.raises(ServiceUnavailable, match="HTTP 503"):
            client.encode([modahub.text("one")])
        encoder.gate.set()
        for t in busy:
            t.join()
        assert statuses == [200, 200]  # the accepted requests complete
        assert client.encode([modahub.text("one")]).shape == (1, 10)  # and the queue drains


def test_bounded_load_test_has_no_5xx_but_deliberate_503s(app_file, kit):
    """Eight clients for two seconds: valid and malformed requests; only 200, 4xx and deliberate 503."""
    seen: list[tuple[str, int]] = []
    good = {"docs": [d.model_dump(mode="json") for d in kit.corpus()[:8]]}
    search = {"queries": [modahub.text("seven").model_dump(mode="json")], "k": 3}
    bad = {"docs": [{"modality": "image", "payload": {"pixels": [1]}}]}
    with kit.ServerThread(create_app(App.from_yaml(app_file), queue=4)) as url:
        Client(url).wait_ready(READY_S)
        httpx.post(url + "/index", json=good).raise_for_status()
        stop = time.monotonic() + 2.0  # two seconds of load, counted once the server is ready

        def client(n: int) -> None:
            with httpx.Client(base_url=url, timeout=30) as http:
                i = 0
                while i < 3 or time.monotonic() < stop:  # every client sends a few, however late its thread starts
                    kind = ("encode", "search", "bad")[(n + i) % 3]
                    path, body = {"encode": ("/encode", good), "search": ("/search", search), "bad": ("/encode", bad)}[kind]
                    seen.append((kind, http.post(path, json=body).status_code))
                    i += 1

        threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert Client(url).ready()
    statuses = Counter(s for _, s in seen)
    assert len(seen) >= 24  # every client got answers (the machine is shared: no throughput claim here)
    assert not [s for s in statuses if s >= 500 and s != 503], statuses
    assert all(s in (422, 503) for kind, s in seen if kind == "bad")
    assert statuses[200] > 0


def _wait_pending(url: str, count: int) -> None:
    """Wait until the server has accepted ``count`` requests (however loaded the machine is)."""
    deadline = time.monotonic() + READY_S
    while httpx.get(url + "/ready").json().get("pending", 0) < count:
        assert time.monotonic() < deadline, f"the server never held {count} pending requests"
        time.sleep(0.005)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_command_shuts_down_gracefully_finishing_accepted_work(toys, tmp_path):
    (tmp_path / "slow.yml").write_text(SLOW_APP % 2.0)
    port = _free_port()
    command = [str(Path(sys.executable).parent / "modahub"), "serve", str(tmp_path / "slow.yml"), "--port", str(port)]
    proc = subprocess.Popen(command, env={**os.environ}, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        Client(url).wait_ready(READY_S)
        result: dict[str, int] = {}
        body = {"docs": [{"modality": "text", "payload": {"text": "two"}}]}
        post = lambda: result.update(status=httpx.post(url + "/index", json=body, timeout=30).status_code)  # noqa: E731
        worker = threading.Thread(target=post)
        worker.start()
        _wait_pending(url, 1)  # until the request is accepted and being worked on
        proc.send_signal(signal.SIGTERM)
        worker.join(timeout=30)
        assert result == {"status": 200}  # accepted before SIGTERM: finished
        assert proc.wait(timeout=30) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after a clean shutdown
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = proc.stderr.read()
    assert "serving app" in log and "Traceback" not in log


def test_the_openapi_schema_describes_each_modality_s_payload_plugin_modalities_included(toys, kit, tmp_path):
    (tmp_path / "app.yml").write_text("name: tallies\nencoders:\n  - uses: toy-text\n  - uses: toy-tally\n")
    with kit.ServerThread(create_app(App.from_yaml(tmp_path / "app.yml"))) as url:
        Client(url).wait_ready(60)
        schemas = httpx.get(f"{url}/openapi.json").json()["components"]["schemas"]
        tally = schemas["TallyPayload"]
        assert {"count", "counter", "uri"} <= set(tally["properties"]) and tally["additionalProperties"] is False
        assert tally["properties"]["count"]["anyOf"][0] == {"type": "integer", "minimum": 0, "maximum": 1000}
        accepted = schemas["DocsRequest"]["properties"]["docs"]["items"]["oneOf"]
        assert sorted(ref["$ref"].rsplit("/", 1)[1] for ref in accepted) == ["TallyDocument", "TextDocument"]
        assert schemas["TallyDocument"]["properties"]["payload"] == {"$ref": "#/components/schemas/TallyPayload"}
        assert schemas["TextPayload"]["properties"]["text"]["anyOf"][0]["type"] == "string"
        assert "ImageDocument" in schemas  # answers may hold any known modality (e.g. generated images)

        ok = httpx.post(f"{url}/encode", json={"docs": [{"modality": "tally", "payload": {"count": 7, "counter": "ann"}}]})
        assert ok.status_code == 200, ok.text
        extra = httpx.post(f"{url}/encode", json={"docs": [{"modality": "tally", "payload": {"count": 7, "smell": 1}}]})
        assert extra.status_code == 422 and extra.json()["detail"][0]["loc"] == ["body", "docs", 0]
        assert "payload.smell: Extra inputs are not permitted" in extra.json()["detail"][0]["msg"]
        image = httpx.post(f"{url}/encode", json={"docs": [modahub.image(kit.flat_image(1)).model_dump(mode="json")]})
        assert image.status_code == 422
        assert image.json()["detail"][0]["msg"] == "unknown modality; this app accepts tally, text"
