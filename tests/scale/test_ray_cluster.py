"""A real two-node Ray cluster (separate `ray start` processes on 127.0.0.1): run and serve attach to it with --address.

One cluster per module: the head and a second node, one CPU each, so two shard actors or two
replicas land one per node. Every Ray listener must be on loopback, for that cluster and for a
private one.
"""

from __future__ import annotations

import ipaddress
import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from modahub.pipeline import App
from modahub_hub.cli import cli
from modahub_testing.compare import assert_same_hits, assert_vectors_close

pytestmark = pytest.mark.slow

APP = """\
name: cluster-digits
encoders:
  - uses: digits-image
    with: {{batch_size: 8}}
  - uses: digits-audio
    with: {{batch_size: 8}}
index:
  uses: embedded-index
  with: {{path: ./index{shards}}}
"""


def write_app(folder: Path, shards: int | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "app.yml"
    path.write_text(APP.format(shards=f", shards: {shards}" if shards else ""), encoding="utf-8")
    return path


def write_jsonl(path: Path, docs: list) -> Path:
    path.write_text("".join(d.to_json() + "\n" for d in docs), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from modahub_hub.engines.cluster import LocalCluster

    with pytest.MonkeyPatch.context() as env, LocalCluster(tmp_path_factory.mktemp("c"), nodes=(1, 1)) as running:
        for key, value in running.client_env.items():  # (a short folder name: Ray's socket paths have a length limit)
            env.setenv(key, value)
        yield running


def listeners(pids: list[int]) -> list[tuple[str, int, str]]:
    """(address, port, process name) of every listening TCP socket of ``pids``."""
    import psutil

    found = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
            found += [(c.laddr.ip, c.laddr.port, proc.name()) for c in proc.net_connections(kind="inet") if c.status == "LISTEN"]
        except psutil.NoSuchProcess:
            continue
    return found


def off_loopback(found: list[tuple[str, int, str]]) -> list[tuple[str, int, str]]:
    def loopback(ip: str) -> bool:
        addr = ipaddress.ip_address(ip.split("%")[0])
        mapped = getattr(addr, "ipv4_mapped", None)
        return (mapped or addr).is_loopback

    return [entry for entry in found if not loopback(entry[0])]


def test_every_ray_listener_is_on_loopback(cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    import psutil

    from modahub_hub.engines.ray_engine import ray_session

    found = listeners(cluster.pids())
    assert len(found) >= 8, found  # GCS, two raylets (two ports each), agents: the check sees the real sockets
    assert off_loopback(found) == []
    with ray_session(num_cpus=1, temp_dir=tmp_path_factory.mktemp("p")):
        private = listeners([p.pid for p in psutil.Process().children(recursive=True)] + [psutil.Process().pid])
    assert len(private) >= 4, private
    assert off_loopback(private) == []


def test_sharded_index_and_search_on_the_cluster_equal_one_process(tmp_path: Path, cluster: Any, kit: SimpleNamespace) -> None:
    docs, queries = kit.corpus(), kit.corpus(9, seed=99)
    single = App.from_yaml(write_app(tmp_path / "single"))
    single.index(docs)
    expected = single.search(queries, k=5).matches

    app_file = write_app(tmp_path / "sharded", shards=2)
    out = CliRunner().invoke(cli, ["run", str(app_file), "index", "--engine", "ray", "--address", cluster.address, "--json",
                                   "--no-progress", "-i", str(write_jsonl(tmp_path / "docs.jsonl", docs))])
    assert out.exit_code == 0, out.output
    report = json.loads(out.stdout)["data"]
    assert report["indexed"] == [d.id for d in docs] and report["index_size"] == len(docs)
    shards = sorted(p.name for p in (tmp_path / "sharded" / "index").iterdir() if p.is_dir())
    assert shards == ["shard-000", "shard-001"]

    reopened = App.from_yaml(app_file)  # this process merges the two shards the cluster built
    assert_same_hits(reopened.search(queries, k=5).matches, expected)
    out = CliRunner().invoke(cli, ["run", str(app_file), "search", "--engine", "ray", "--address", cluster.address,
                                   "--json", "--no-progress", "-k", "5", "-i", str(write_jsonl(tmp_path / "q.jsonl", queries))])
    assert out.exit_code == 0, out.output
    assert_same_hits([row["matches"] for row in json.loads(out.stdout)["data"]["results"]], expected)


def test_shard_actors_run_on_both_nodes(tmp_path: Path, cluster: Any, kit: SimpleNamespace) -> None:
    from modahub_hub.engines.ray_engine import index_shards_on_ray, ray_session, split

    app = App.from_yaml(write_app(tmp_path, shards=3))  # more shards than the cluster's 2 CPUs: actors take turns
    spec, tail, pipe = split(app, "index")
    with ray_session(num_cpus=1, address=cluster.address):
        indexed, nodes = index_shards_on_ray(spec, tail, pipe, kit.corpus(12))
    assert len(indexed) == 12 and len(nodes) == 3 and len(set(nodes)) == 2
    assert len(App.from_yaml(tmp_path / "app.yml").indexer()) == 12


def test_ray_address_from_the_environment(tmp_path: Path, cluster: Any, kit: SimpleNamespace,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from modahub_hub.engines.ray_engine import run_on_ray

    monkeypatch.setenv("RAY_ADDRESS", cluster.address)
    app = App.from_yaml(write_app(tmp_path))
    docs = kit.corpus(20, seed=4)
    result = run_on_ray(app, "encode", docs, workers=2)
    assert [d.id for d in result.documents] == [d.id for d in docs]
    assert_vectors_close([d.embedding for d in result.documents], app.encode(docs))


def test_a_wrong_address_is_a_clear_error(tmp_path: Path, kit: SimpleNamespace) -> None:
    from modahub_hub.containers.proxy import free_port

    app_file, docs = write_app(tmp_path), str(write_jsonl(tmp_path / "d.jsonl", kit.corpus(2)))
    for address, says in (("127.0.0.1:notaport", "expected HOST:PORT"), (f"127.0.0.1:{free_port()}", "no Ray cluster answers")):
        out = CliRunner().invoke(cli, ["run", str(app_file), "encode", "--engine", "ray", "--address", address, "-i", docs])
        assert out.exit_code != 0 and says in out.output and "Traceback" not in out.output, out.output


def test_serve_on_the_cluster_reads_and_writes(tmp_path: Path, cluster: Any, kit: SimpleNamespace) -> None:
    from modahub_hub.client import Client
    from modahub_hub.containers.proxy import free_port
    from modahub_hub.engines.ray_serve import serve_on_ray

    docs, queries = kit.corpus(), kit.corpus(6, seed=5)
    app_file = write_app(tmp_path / "served")
    App.from_yaml(app_file).index(docs[:30])
    local = App.from_yaml(write_app(tmp_path / "local"))
    local.index(docs)
    with serve_on_ray(app_file, port=free_port(), replicas=2, address=cluster.address) as url, Client(url) as client:
        client.wait_ready(timeout=180)
        names = [cluster.processes(node) for node in range(2)]
        assert all(any("ServeReplica" in name for name in node) for node in names), names  # a replica on each node
        assert off_loopback(listeners(cluster.pids())) == []  # the replicas' own gRPC servers included
        assert client.index(docs[30:]).index_size == len(docs)  # one writer takes the write, durably
        started = time.monotonic()
        for _ in range(4):  # every replica sees the write on its next request (the stated delay: none)
            assert_same_hits(client.search(queries, k=4), local.search(queries, k=4).matches)
        assert time.monotonic() - started < 60
    assert len(App.from_yaml(app_file).indexer()) == len(docs)  # and it is on disk
