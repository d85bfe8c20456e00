"""The same app on a local Ray cluster: bulk runs with Ray Data and replicas with Ray Serve give the local results."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from click.testing import CliRunner

import modahub
from modahub.executors import ExecutorError
from modahub.pipeline import App
from modahub_hub.cli import cli
from modahub_testing import assert_same_hits, assert_vectors_close

pytestmark = pytest.mark.slow


def write_jsonl(path: Path, docs: list) -> Path:
    path.write_text("".join(d.to_json() + "\n" for d in docs), encoding="utf-8")
    return path


def test_bulk_index_on_ray_gives_the_local_results(tmp_path: Path, ray_cluster: None, kit: SimpleNamespace) -> None:
    from modahub_hub.engines.ray_engine import run_on_ray

    docs, queries = kit.corpus(), kit.corpus(9, seed=99)
    local = App.from_yaml(kit.write_app(tmp_path / "local"))
    local.index(docs)
    expected = local.search(queries, k=5).matches

    app_file = kit.write_app(tmp_path / "ray")
    out = CliRunner().invoke(cli, ["run", str(app_file), "index", "--engine", "ray", "--workers", "2", "--json",
                                   "--no-progress", "-i", str(write_jsonl(tmp_path / "docs.jsonl", docs))])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)["data"]
    assert report["indexed"] == [d.id for d in docs] and report["index_size"] == len(docs)

    reopened = App.from_yaml(app_file)  # a fresh app reads the index the Ray run saved
    assert_same_hits(reopened.search(queries, k=5).matches, expected)
    assert_same_hits(run_on_ray(reopened, "search", queries, workers=2, k=5).matches, expected)


def test_bulk_encode_on_ray_gives_the_local_vectors(tmp_path: Path, ray_cluster: None, kit: SimpleNamespace) -> None:
    from modahub_hub.engines.ray_engine import run_on_ray

    app = App.from_yaml(kit.write_app(tmp_path))
    docs = kit.corpus(30, seed=3)
    expected = app.encode(docs)
    for workers in (1, 2):
        result = run_on_ray(app, "encode", docs, workers=workers)
        assert [d.id for d in result.documents] == [d.id for d in docs]
        assert_vectors_close(np.stack([d.embedding for d in result.documents]), expected)


def test_ray_engine_refuses_what_it_cannot_run(tmp_path: Path, kit: SimpleNamespace) -> None:
    from modahub_hub.engines.ray_engine import EngineError, run_on_ray

    app = App.from_yaml(kit.write_app(tmp_path))
    with pytest.raises(EngineError, match="run 'generate' with the local engine"):
        run_on_ray(app, "generate", ["a seven"])
    with pytest.raises(ExecutorError, match="modality 'text'"):
        run_on_ray(app, "index", [modahub.text("seven", id="t")])
    with pytest.raises(EngineError, match="workers must be at least 1"):
        run_on_ray(app, "encode", kit.corpus(2), workers=0)


def test_ray_serve_replicas_answer_like_local_and_take_writes(tmp_path: Path, ray_cluster: None, kit: SimpleNamespace) -> None:
    from modahub_hub.client import Client
    from modahub_hub.containers.proxy import free_port
    from modahub_hub.engines.ray_serve import serve_on_ray

    docs, queries = kit.corpus(), kit.corpus(6, seed=5)
    app_file = kit.write_app(tmp_path)
    local = App.from_yaml(app_file)
    local.index(docs)
    expected = local.search(queries, k=4).matches
    with serve_on_ray(app_file, port=free_port(), replicas=2) as url, Client(url) as client:
        client.wait_ready(timeout=120)
        assert url.startswith("http://127.0.0.1:")
        for _ in range(3):  # requests spread over both replicas
            assert_same_hits(client.search(queries, k=4), expected)
        added = client.index(docs[:3])  # the writer takes it (exact-index lives in memory: searches go there too)
        assert added.indexed == [d.id for d in docs[:3]] and added.index_size == len(docs)
        assert_same_hits(client.search(queries, k=4), expected)
