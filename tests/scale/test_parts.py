"""The pieces of the container and Ray machinery that need no engine and no cluster."""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from modahub.pipeline import App, PipelineError
from modahub_hub.cli import cli
from modahub_hub.containers.build import IMAGE_UID, Target, render_dockerfile
from modahub_hub.containers.engine import ContainerError, connect
from modahub_hub.containers.proxy import UnixSocketProxy
from modahub_hub.containers.serve import parse_user, safe_options, state_mounts
from modahub_hub.containers.wheels import PythonTarget, needed


def _render(app: str | None) -> str:
    return render_dockerfile(base="local/base:1", kind="app" if app else "plugin", name="x", uid=IMAGE_UID, app=app,
                             dependencies=["numpy==2.3.5"], requirements=["modahub-core==0.1.0", "modahub==0.1.0"],
                             labels={"org.modahub.kind": "app"})


def test_dockerfile_installs_offline_as_a_non_root_user() -> None:
    text = _render("app.yml")
    installs = [line for line in text.splitlines() if "pip install" in line]
    assert len(installs) == 2 and all("--no-index" in line for line in installs)
    assert text.count("FROM local/base:1") == 2
    assert "USER 10001:10001" in text and 'ENTRYPOINT ["modahub", "serve", "/app/app.yml"]' in text
    assert "COPY app/ /app/" in text and 'LABEL org.modahub.kind="app"' in text
    plugin = _render(None)
    assert "COPY app/" not in plugin and 'ENTRYPOINT ["modahub"]' in plugin


def test_safe_defaults() -> None:
    opts = safe_options(user="10001:10001", memory="2g", pids=256, network=False)
    assert opts["network_mode"] == "none" and opts["read_only"] is True and opts["cap_drop"] == ["ALL"]
    assert opts["security_opt"] == ["no-new-privileges:true"] and opts["pids_limit"] == 256
    assert opts["mem_limit"] == opts["memswap_limit"] == "2g" and set(opts["tmpfs"]) == {"/tmp"}
    assert safe_options(user="1:1", memory="1g", pids=64, network=True)["network_mode"] == "host"


def test_app_folders_are_mounted_where_the_app_in_the_image_looks(tmp_path: Path, kit: SimpleNamespace) -> None:
    from modahub_hub.containers.build import read_app_spec

    app_file = kit.write_app(tmp_path)
    assert state_mounts(app_file, read_app_spec(app_file)) == {tmp_path / "index": "/app/index"}
    spec = read_app_spec(app_file).model_copy(deep=True)
    spec.index.params["path"] = "../shared/idx"
    assert state_mounts(app_file, spec) == {(tmp_path.parent / "shared" / "idx").resolve(): "/shared/idx"}
    spec.index.params["path"] = "/data/idx"
    assert state_mounts(app_file, spec) == {Path("/data/idx"): "/data/idx"}
    spec.index.params["path"] = "."
    with pytest.raises(ContainerError, match="cannot be mounted"):
        state_mounts(app_file, spec)


def test_container_declaration_is_validated(tmp_path: Path, kit: SimpleNamespace) -> None:
    from modahub_hub.appfile import read_app

    app = read_app(kit.write_app(tmp_path / "ok", "container:\n  network: true\n  memory: 512m\n"))
    assert app.spec.container.network is True and app.spec.container.memory == "512m"
    assert read_app(kit.write_app(tmp_path / "default")).spec.container.network is False
    with pytest.raises(PipelineError, match="container.memory"):
        read_app(kit.write_app(tmp_path / "bad", "container:\n  memory: plenty\n"))
    with pytest.raises(PipelineError, match="container.ports"):
        read_app(kit.write_app(tmp_path / "extra", "container:\n  ports: [80]\n"))
    with pytest.raises(PipelineError, match="container"):  # core's schema knows no containers
        App.from_yaml(kit.write_app(tmp_path / "core", "container:\n  network: true\n"))


def test_users_and_targets() -> None:
    assert parse_user("10001:10002") == (10001, 10002) and parse_user("123") == (123, 123)
    for user in ("nobody", "10001:\u00b3", "\u0661\u0662"):  # superscript and Arabic-Indic digits are not a UID
        with pytest.raises(ContainerError, match="numeric UID:GID"):
            parse_user(user)
    assert Target.parse("exact-index").plugins == ["exact-index"]
    assert Target("app", "My App!").default_tag() == "modahub-app-my-app:latest"


def test_target_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ContainerError, match="expected an app file"):
        Target.parse(str(tmp_path / "notes.txt"))
    with pytest.raises(ContainerError, match="needs a pyproject.toml"):
        Target.parse(str(tmp_path))


def test_wheel_platforms_follow_the_base_image_glibc() -> None:
    target = PythonTarget("3.11", "2.36", "x86_64")
    tags = target.platforms()
    assert tags[0] == "manylinux_2_36_x86_64" and "manylinux_2_17_x86_64" in tags and "manylinux2014_x86_64" in tags
    assert "manylinux_2_37_x86_64" not in tags
    assert "manylinux2014_x86_64" not in PythonTarget("3.11", "2.12", "x86_64").platforms()
    args = target.pip_args()
    assert args[:5] == ["--only-binary=:all:", "--implementation", "cp", "--python-version", "3.11"]
    from packaging.requirements import Requirement

    reqs = [Requirement('a; python_version < "3.10"'), Requirement("b"), Requirement('c; extra == "train"')]
    assert [r.name for r in needed(reqs, target)] == ["b"]


def test_no_engine_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kit: SimpleNamespace) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nothing.sock")
    with pytest.raises(ContainerError, match="no container engine reachable .*scripts/docker-engine start"):
        connect()
    out = CliRunner().invoke(cli, ["image", "build", str(kit.write_app(tmp_path))])
    assert out.exit_code == 1 and "no container engine reachable" in out.output and "Traceback" not in out.output
    served = CliRunner().invoke(cli, ["serve", str(kit.write_app(tmp_path)), "--docker", "--host", "0.0.0.0"])
    assert served.exit_code == 1 and "127.0.0.1 only" in served.output


def test_unix_socket_proxy_forwards_both_ways(tmp_path: Path) -> None:
    path = str(tmp_path / "s.sock")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen()

    def echo() -> None:
        conn, _ = server.accept()
        with conn:
            conn.sendall(conn.recv(100).upper())

    threading.Thread(target=echo, daemon=True).start()
    proxy = UnixSocketProxy(path)
    port = proxy.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
            client.sendall(b"ping")
            assert client.recv(100) == b"PING"
    finally:
        proxy.close()
        server.close()


def test_ray_replicas_send_writes_to_the_writer_and_serve_reads() -> None:
    import asyncio

    from modahub_hub.engines.ray_serve import SEARCHES, WRITES, Forward, call_asgi

    def app(name: bytes):  # a tiny ASGI app that answers with its name, the path and the body it got
        async def asgi(scope: dict, receive, send) -> None:  # type: ignore[no-untyped-def]
            body = (await receive())["body"]
            await send({"type": "http.response.start", "status": 201, "headers": [(b"x-by", name)]})
            await send({"type": "http.response.body", "body": name + b" " + scope["path"].encode() + b" " + body})
        return asgi

    class Handle:  # what a Ray Serve deployment handle gives: .handle.remote(...) to await
        class handle:  # noqa: N801
            @staticmethod
            async def remote(request: dict, body: bytes) -> tuple:
                return await call_asgi(app(b"writer"), request, body)

    async def call(forward: Forward, method: str, path: str) -> tuple[int, bytes]:
        sent: list[dict] = []

        async def receive() -> dict:
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message: dict) -> None:
            sent.append(message)

        await forward({"type": "http", "method": method, "path": path, "headers": []}, receive, send)
        assert dict(sent[0]["headers"])[b"x-by"] in (b"writer", b"reader")
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    shared, unshared = Forward(app(b"reader"), Handle(), WRITES), Forward(app(b"reader"), Handle(), WRITES + SEARCHES)
    assert asyncio.run(call(shared, "POST", "/search")) == (201, b"reader /search {}")
    assert asyncio.run(call(shared, "POST", "/encode")) == (201, b"reader /encode {}")
    assert asyncio.run(call(shared, "GET", "/index")) == (201, b"reader /index {}")
    for path in ("/index", "/upload/index", "/generate/"):
        assert asyncio.run(call(shared, "POST", path)) == (201, b"writer " + path.encode() + b" {}")
    assert asyncio.run(call(unshared, "POST", "/search")) == (201, b"writer /search {}")
