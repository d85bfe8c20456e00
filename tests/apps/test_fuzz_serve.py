"""schemathesis strategies from the served OpenAPI schema: only 2xx, 4xx and deliberate 503s; healthy and intact after.

The app: the toy encoders of three built-in modalities and one plugin modality (tally), a
segmenter, a generator and an exact index saved beside the app file, with small request limits.
Every operation gets cases generated from the schema the server publishes (schema-violating ones
where schemathesis draws them quickly);
afterwards the server is healthy, the documents indexed before are all still found, and the
saved index reopens in a fresh app and answers the same searches.
"""

from __future__ import annotations

import types
from collections import Counter

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

import modahub
from modahub_hub.appfile import read_app

APP = """\
name: fuzzed
encoders:
  - uses: toy-text
  - uses: toy-image
  - uses: toy-audio
  - uses: toy-tally
segmenters:
  - uses: text-passages
    with: {words: 16}
index:
  uses: exact-index
  with: {path: ./index}
generators:
  - uses: toy-draw
serve:
  max_request_bytes: 2000000
  max_docs: 32
  max_text_chars: 4000
  max_array_items: 100000
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, kit):
    """The fuzzed app served on 127.0.0.1 with a corpus indexed; the toy plugin discoverable for the module."""
    from modahub.plugins import reset_manager

    patch = pytest.MonkeyPatch()
    patch.syspath_prepend(str(kit.TOYS))
    patch.delenv("MODAHUB_LOAD_PLUGINS", raising=False)
    reset_manager()
    folder = tmp_path_factory.mktemp("fuzzed")
    (folder / "app.yml").write_text(APP)
    docs = kit.corpus()
    queries = [modahub.text(f"the number {w}") for w in ("two", "seven")]
    try:
        with kit.ServerThread(_create(folder)) as url:
            from modahub_hub.client import Client

            client = Client(url)
            client.wait_ready(60)
            client.index(docs)
            yield types.SimpleNamespace(url=url, client=client, folder=folder, docs=docs, queries=queries, kit=kit,
                                        schema=schemathesis.openapi.from_url(f"{url}/openapi.json"))
    finally:
        patch.undo()
        reset_manager()


def _create(folder):
    from modahub_hub.serve import create_app

    return create_app(read_app(folder / "app.yml"), queue=4)


EXAMPLES = 50
"""Cases in all, spread over the operations (no shrinking: a failure is reported as drawn)."""
POSITIVE = [("POST", "/encode"), ("POST", "/index"), ("POST", "/search"), ("POST", "/generate"),
            ("POST", "/upload/{shape}"), ("GET", "/health"), ("GET", "/ready"), ("GET", "/info")]
NEGATIVE = [("POST", "/generate"), ("POST", "/upload/{shape}")]
"""Schema-violating cases only where schemathesis draws them quickly: for the document unions it takes minutes
per case. Malformed documents are covered by test_serve.py (MALFORMED) and test_serve_untrusted.py."""


def test_fuzzed_requests_get_2xx_4xx_or_a_deliberate_503(served):
    cases = st.one_of([served.schema[path][method].as_strategy(GenerationMode.POSITIVE) for method, path in POSITIVE]
                      + [served.schema[path][method].as_strategy(GenerationMode.NEGATIVE) for method, path in NEGATIVE])
    seen: Counter[tuple[str, int]] = Counter()

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=cases)
    def call(case) -> None:
        response = case.call(base_url=served.url, timeout=60)
        status = response.status_code
        seen[(case.path, status)] += 1
        assert status < 500 or status == 503, (case.method, case.path, status, response.text[:500])
        if status == 503:  # deliberate: a full queue says when to retry
            assert response.headers.get("retry-after") == ["1"], response.text[:500]
        if 400 <= status < 500:  # a refusal that explains itself
            assert "detail" in response.json(), response.text[:500]

    call()
    assert len({path for path, _ in seen}) >= 5, seen  # the cases reached most operations
    assert any(200 <= status < 300 for _, status in seen) and any(400 <= status < 500 for _, status in seen), seen


def test_after_the_fuzzing_the_server_is_healthy_and_the_index_intact(served):
    assert httpx.get(served.url + "/health").status_code == 200
    assert httpx.get(served.url + "/ready").status_code == 200
    size = httpx.post(served.url + "/index", json={"docs": [modahub.text("one more").model_dump(mode="json")]}).json()
    assert size["index_size"] >= len(served.docs) + 1
    found = {m.id for hits in served.client.search(served.docs, k=1000, documents=False) for m in hits}
    assert {d.id for d in served.docs} <= found  # every document indexed before the fuzzing is still there
    served.client.search(served.queries, k=5)


def test_the_index_saved_after_the_fuzzing_reopens(served):
    before = [[m.id for m in hits] for hits in served.client.search(served.queries, k=5, documents=False)]
    with served.kit.ServerThread(_create(served.folder)) as url:  # a second app on the same folder: reads the saved index
        from modahub_hub.client import Client

        client = Client(url)
        client.wait_ready(60)
        assert {d.id for d in served.docs} <= {m.id for hits in client.search(served.docs, k=1000) for m in hits}
    app = read_app(served.folder / "app.yml")
    assert [[m.id for m in hits] for hits in app.search(served.queries, k=5).matches] == before
