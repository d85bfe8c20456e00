"""``modahub serve APP --engine ray``: the app's HTTP API as Ray Serve replicas, with one writer.

Each reader replica builds the app and the same FastAPI application as ``modahub serve`` and
opens the index at the index's path, so replicas answer encode and search requests in parallel,
spread over the cluster's nodes. Requests that change the index (``/index``, ``/upload/index``,
``/generate``) are forwarded to one writer deployment, which runs the very same application as a
local ``modahub serve`` (same queue, same durability: each write is committed before the answer,
and the index is saved when the writer stops). An index whose folder several processes can share
(``embedded-index``, ``hnsw-index``: they catch up with other processes' commits before every
call) is read by every replica, which sees a write on its first request after the write was
answered; any other index is searched on the writer too, so that reads always see the writes.
Ray Serve's proxy listens on 127.0.0.1 on the head node.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modahub_hub.engines.ray_engine import EngineError, cluster_address, import_ray, ray_session

APP_NAME = "modahub"
WRITES = ("/index", "/upload/index", "/generate")
"""Paths that change the index: served by the writer."""
SEARCHES = ("/search", "/upload/search")
"""Paths that read the index: served by the writer too when replicas cannot share the index's folder."""


def _path(scope: dict[str, Any]) -> str:
    return str(scope["path"]).rstrip("/")


async def call_asgi(api: Any, request: dict[str, Any], body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Run one HTTP request (``method``, ``path``, ``query_string``, ``headers``) through the ASGI app ``api``."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http", "root_path": "",
             "method": request["method"], "path": request["path"], "raw_path": request["path"].encode(),
             "query_string": request["query_string"], "headers": request["headers"],
             "client": ("127.0.0.1", 0), "server": ("127.0.0.1", 0)}
    delivered = False
    status, headers, content = 500, [], bytearray()

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.Event().wait()  # the client stays connected until the answer is complete
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, headers
        if message["type"] == "http.response.start":
            status, headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            content.extend(message.get("body", b""))

    await api(scope, receive, send)
    return status, headers, bytes(content)


def bind_replica_grpc_to_node() -> None:
    """In a replica process: make Ray Serve open the replica's inter-deployment gRPC server on this
    node's own address (127.0.0.1 on a loopback cluster) instead of every interface.

    Ray Serve 2.60 binds it to ``[::]:0`` with no setting to change that; the replica's constructor
    runs before Serve starts that server, so replacing the helper Serve calls is enough.
    """
    import ray
    from ray.serve._private import replica

    original = replica.add_port_to_grpc_server
    if getattr(original, "modahub_bound", False):
        return
    host = ray.util.get_node_ip_address()
    host = f"[{host}]" if ":" in host else host

    def bind(server: Any, address: str) -> Any:
        return original(server, f"{host}:0" if address == "[::]:0" else address)

    bind.modahub_bound = True  # type: ignore[attr-defined]
    replica.add_port_to_grpc_server = bind


class Writer:
    """The one replica that changes the index: the app's whole HTTP API, as ``modahub serve`` runs it."""

    def __init__(self, app_file: str, queue: int) -> None:
        bind_replica_grpc_to_node()
        self.app_file, self.queue = app_file, queue
        self._api: Any = None
        self._lifespan: Any = None
        self._starting = asyncio.Lock()

    async def _started(self) -> Any:
        async with self._starting:
            if self._api is None:
                from modahub_hub.appfile import read_app
                from modahub_hub.serve import create_app

                api = create_app(read_app(self.app_file), queue=self.queue)
                lifespan = api.router.lifespan_context(api)
                await lifespan.__aenter__()  # warm-up queued first; on exit: finish the work, save the index
                self._api, self._lifespan = api, lifespan
        return self._api

    async def handle(self, request: dict[str, Any], body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Answer one forwarded request."""
        return await call_asgi(await self._started(), request, body)

    async def __del__(self) -> None:  # Ray Serve calls it when the replica stops
        if self._lifespan is not None:
            await self._lifespan.__aexit__(None, None, None)


class Forward:
    """ASGI: the requests that must reach the writer go to it through its handle; the rest to the local app."""

    def __init__(self, app: Any, writer: Any, paths: tuple[str, ...]) -> None:
        self.app, self.writer, self.paths = app, writer, paths

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or _path(scope) not in self.paths:
            await self.app(scope, receive, send)
            return
        body, more = bytearray(), True
        while more:
            message = await receive()
            body.extend(message.get("body", b""))
            more = message.get("more_body", False)
        request = {"method": scope["method"], "path": scope["path"], "query_string": scope.get("query_string", b""),
                   "headers": [(bytes(k), bytes(v)) for k, v in scope.get("headers", [])]}
        status, headers, content = await self.writer.handle.remote(request, bytes(body))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": content})


class AppReplica:
    """One reader replica: the app and its FastAPI application, built when Ray Serve starts the replica."""

    def __init__(self, app_file: str, queue: int, writer: Any) -> None:
        bind_replica_grpc_to_node()
        self.app_file, self.queue, self.writer = app_file, queue, writer

    def __serve_build_asgi_app__(self) -> Any:
        from modahub_hub.appfile import read_app
        from modahub_hub.serve import create_app

        app = read_app(self.app_file)
        api = create_app(app, queue=self.queue)
        index = app.indexer()
        if index is None:
            return api
        shared = getattr(index, "shares_folder", False) and getattr(index, "path", None) is not None
        return Forward(api, self.writer, WRITES if shared else WRITES + SEARCHES)


@contextlib.contextmanager
def serve_on_ray(app_file: str | Path, *, port: int, replicas: int = 2, queue: int = 64,
                 temp_dir: str | Path | None = None, host: str = "127.0.0.1", address: str | None = None) -> Iterator[str]:
    """Deploy ``replicas`` reader replicas and one writer behind Ray Serve's proxy on ``host:port``; yields the URL.

    ``address`` (or ``RAY_ADDRESS``) names a running cluster to deploy on (the proxy runs on its
    head node; Serve is shut down on it at the end); without one a private cluster runs. A cluster
    where Ray Serve already runs is refused: its proxy would not listen on ``port``.
    """
    if host not in ("127.0.0.1", "localhost"):
        raise EngineError(f"--engine ray serves on 127.0.0.1 only (got --host {host})")
    app_file = Path(app_file).resolve()
    import_ray()
    try:
        from ray import serve
    except ImportError:
        raise EngineError("serving on Ray needs Ray Serve: pip install 'modahub[ray]'") from None
    with ray_session(num_cpus=replicas + 1, temp_dir=temp_dir, address=address):
        if serve.status().proxies:  # its proxy keeps the port it has: ours would not be where we say
            raise EngineError("Ray Serve already runs on this cluster; 'modahub serve --engine ray' starts and stops its "
                              "own: shut the other down ('serve shutdown') or use another cluster")
        serve.start(http_options={"host": "127.0.0.1", "port": port}, proxy_location="HeadOnly",
                    logging_config={"log_level": "WARNING"})
        try:
            # the writer reserves no CPU: it only takes writes, and the readers get the cluster's CPUs
            writer = serve.deployment(name="modahub-writer", num_replicas=1, ray_actor_options={"num_cpus": 0})(Writer)
            readers = serve.deployment(name="modahub-app", num_replicas=replicas,
                                       ray_actor_options={"num_cpus": 1})(serve.ingress()(AppReplica))
            serve.run(readers.bind(str(app_file), queue, writer.bind(str(app_file), queue)), name=APP_NAME,
                      route_prefix="/")
            yield f"http://127.0.0.1:{port}"
        finally:
            serve.shutdown()  # the Serve it started (controller, proxy, replicas); an attached cluster keeps running


def serve_forever(app_file: Path, *, host: str = "127.0.0.1", port: int = 8000, replicas: int = 2, queue: int = 64,
                  address: str | None = None) -> None:
    """The ``modahub serve --engine ray`` command: run until Ctrl-C or SIGTERM."""
    import signal
    import sys

    import click

    with serve_on_ray(app_file, port=port, replicas=replicas, queue=queue, host=host, address=address) as url:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # after ray.init, which installs its own handler
        where = f"the Ray cluster at {cluster_address(address)}" if cluster_address(address) else "a private Ray cluster"
        click.echo(f"serving {app_file} with {replicas} Ray Serve replicas and one writer on {where}, at {url} "
                   "(readiness: /ready)", err=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)
