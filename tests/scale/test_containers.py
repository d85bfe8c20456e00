"""The app as a container image: same results as locally when served on 127.0.0.1, and confined by default."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from modahub.pipeline import App
from modahub_hub.cli import cli
from modahub_testing import assert_same_hits

pytestmark = pytest.mark.slow
MODAHUB = str(Path(sys.executable).parent / "modahub")
REPO = Path(__file__).resolve().parents[2]

# Run inside the container by the confinement test: what the process is allowed to do.
PROBE = """
import json, os, socket, sys
report = {"uid": os.getuid(), "interfaces": sorted(os.listdir("/sys/class/net"))}
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
report["cap_eff"] = int(status["CapEff"].strip(), 16)
report["no_new_privs"] = int(status["NoNewPrivs"].strip())
try:
    open("/usr/written-by-test", "w")
    report["root_writable"] = True
except OSError:
    report["root_writable"] = False
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3).close()
    report["host_port"] = "connected"
except OSError as exc:
    report["host_port"] = type(exc).__name__
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A signed folder hub with the app's plugins published from this checkout (so the image runs the tested code).

    The executor contract is skipped here (the hub's own tests cover it): this hub only carries wheels.
    """
    from modahub_hub.hub.publish import publish

    root = tmp_path_factory.mktemp("hub")
    saved = os.environ.get("MODAHUB_CONFIG_DIR")
    os.environ["MODAHUB_CONFIG_DIR"] = str(root / "config")  # the hub's key is trusted here only
    key, folder = root / "hub.key", root / "hub"
    try:
        for args in (["hub", "keygen", str(key)], ["hub", "init", str(folder), "--key", str(key)]):
            out = CliRunner().invoke(cli, args)
            assert out.exit_code == 0, out.output
        for plugin in ("image", "audio", "exact-index"):
            publish(REPO / "plugins" / plugin, str(folder), key=key, contract=False)
        yield str(folder)
    finally:
        if saved is None:
            os.environ.pop("MODAHUB_CONFIG_DIR", None)
        else:
            os.environ["MODAHUB_CONFIG_DIR"] = saved


@pytest.fixture(scope="module")
def app_image(docker_client: Any, hub: str, tmp_path_factory: pytest.TempPathFactory, kit: SimpleNamespace) -> dict[str, Any]:
    """The test app's image, built with ``modahub image build APP`` (plugin wheels from the hub)."""
    app_file = kit.write_app(tmp_path_factory.mktemp("image"))
    out = CliRunner().invoke(cli, ["image", "build", str(app_file), "--hub", hub, "--json"])
    assert out.exit_code == 0, out.output
    built = json.loads(out.stdout)["data"]
    image = docker_client.images.get(built["tag"])
    assert image.attrs["Config"]["User"] == "10001:10001"
    assert any(r.startswith("modahub-audio==") for r in built["requirements"])  # a plugin's hub dependency
    return built


def test_container_on_loopback_gives_the_local_results(tmp_path: Path, app_image: dict, docker_client: Any,
                                                       kit: SimpleNamespace) -> None:
    from modahub_hub.client import Client
    from modahub_hub.containers.proxy import free_port

    docs, queries = kit.corpus(), kit.corpus(9, seed=99)
    local = App.from_yaml(kit.write_app(tmp_path / "local"))
    local.index(docs)
    expected = local.search(queries, k=5).matches

    app_file = kit.write_app(tmp_path / "served")
    port = free_port()
    server = subprocess.Popen([MODAHUB, "serve", str(app_file), "--docker", "--port", str(port), "--grace", "5"],
                              stderr=subprocess.PIPE, text=True)
    try:
        with Client(f"http://127.0.0.1:{port}") as client:
            client.wait_ready(timeout=120)
            assert client.index(docs).index_size == len(docs)
            assert_same_hits(client.search(queries, k=5), expected)
        running = docker_client.containers.list(filters={"label": "org.modahub.app=scale-digits"})
        assert len(running) == 1 and running[0].attrs["HostConfig"]["NetworkMode"] == "none"
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=60)
    assert server.returncode == 0, err
    assert not docker_client.containers.list(all=True, filters={"label": "org.modahub.app=scale-digits"})
    # the server saved its index into the app's folder on shutdown: the local runner reopens it
    assert_same_hits(App.from_yaml(app_file).search(queries, k=5).matches, expected)


def test_container_has_no_network_and_runs_confined(tmp_path: Path, app_image: dict, kit: SimpleNamespace) -> None:
    from modahub_hub.client import Client
    from modahub_hub.containers.serve import serve_container

    listener = socket.create_server(("127.0.0.1", 0))  # a host service the container must not reach
    port = listener.getsockname()[1]
    socket.create_connection(("127.0.0.1", port), timeout=3).close()  # the host itself reaches it
    try:
        with serve_container(kit.write_app(tmp_path), image=app_image["tag"]) as served:
            host = served.container.attrs["HostConfig"]
            assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] is True
            assert host["CapDrop"] == ["ALL"] and "no-new-privileges:true" in host["SecurityOpt"]
            assert host["Memory"] == 2 * 2**30 and host["PidsLimit"] == 256
            out = served.container.exec_run(["python3", "-c", PROBE, str(port)])
            assert out.exit_code == 0, out.output
            report = json.loads(out.output)  # the probe's own report, not a modahub envelope
            assert report["uid"] == (os.getuid() or 10001) and report["uid"] != 0
            assert report["interfaces"] == ["lo"]
            assert report["cap_eff"] == 0 and report["no_new_privs"] == 1
            assert report["root_writable"] is False
            assert report["host_port"] == "ConnectionRefusedError"
            with Client(served.url) as client:  # yet it serves, through the socket proxy on 127.0.0.1
                client.wait_ready(timeout=120)
                assert served.url.startswith("http://127.0.0.1:")
    finally:
        listener.close()


def test_declared_network_is_the_host_network_on_loopback(tmp_path: Path, app_image: dict, kit: SimpleNamespace) -> None:
    from modahub_hub.client import Client
    from modahub_hub.containers.serve import serve_container

    app_file = kit.write_app(tmp_path, "container:\n  network: true\n  memory: 1g\n  pids: 128\n")
    docs = kit.corpus(6)
    with serve_container(app_file, image=app_image["tag"]) as served:
        host = served.container.attrs["HostConfig"]
        assert host["NetworkMode"] == "host" and host["Memory"] == 2**30 and host["PidsLimit"] == 128
        with Client(served.url) as client:
            client.wait_ready(timeout=120)
            assert client.index(docs).index_size == len(docs)
        port = int(served.url.rsplit(":", 1)[1])
        tcp = served.container.exec_run(["cat", "/proc/net/tcp"]).output.decode()
        listening = {line.split()[1] for line in tcp.splitlines()[1:] if line.split()[3] == "0A"}
        assert f"0100007F:{port:04X}" in listening  # bound to 127.0.0.1 only
        assert f"00000000:{port:04X}" not in listening


def test_missing_base_image_is_a_clear_error(docker_client: Any, tmp_path: Path, kit: SimpleNamespace) -> None:
    from modahub_hub.containers.build import build_image
    from modahub_hub.containers.engine import ContainerError

    with pytest.raises(ContainerError, match="scripts/docker-engine base-image"):
        build_image(str(kit.write_app(tmp_path)), base="modahub/no-such-base:0", client=docker_client)


def test_plugin_image_lists_its_executors(docker_client: Any, hub: str) -> None:
    from modahub_hub.containers.serve import safe_options

    out = CliRunner().invoke(cli, ["image", "build", "exact-index", "--hub", hub, "--json"])
    assert out.exit_code == 0, out.output
    tag = json.loads(out.stdout)["data"]["tag"]
    assert tag == "modahub-plugin-exact-index:latest"
    listed = docker_client.containers.run(tag, ["list", "--json"], remove=True,
                                          **safe_options(user="10001:10001", memory="512m", pids=64, network=False))
    assert [e["name"] for e in json.loads(listed)["data"]] == ["exact-index"]
