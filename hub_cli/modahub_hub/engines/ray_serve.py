"""``modahub serve APP --engine ray``: the app's HTTP API as Ray Serve replicas on a local Ray cluster.

Each replica builds the app and the same FastAPI application as ``modahub serve`` and loads its own
copy of the index from the index's path, so replicas answer encode and search requests in
parallel. Writes would reach one replica only, so they are refused (409): index in bulk with
``modahub run APP index --engine ray``, then start the replicas. Ray Serve listens on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from modahub_hub.engines.ray_engine import EngineError, import_ray, ray_session

WRITES = ("/index", "/upload/index", "/generate")
"""Paths that change the index: refused on replicas."""


class ReadOnly:
    """An ASGI wrapper that answers 409 to the requests that would change one replica's index."""

    def __init__(self, app: Any, replicas: int) -> None:
        self.app, self.replicas = app, replicas

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"].rstrip("/") in WRITES:
            from starlette.responses import JSONResponse

            msg = (f"this server runs {self.replicas} Ray Serve replicas, each with its own copy of the index; add documents "
                   "with 'modahub run APP index --engine ray' and start the replicas again")
            response = JSONResponse({"detail": [{"loc": ["path"], "msg": msg, "type": "read_only"}]}, status_code=409)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class AppReplica:
    """One replica: the app and its FastAPI application, built when Ray Serve starts the replica."""

    def __init__(self, app_file: str, queue: int, replicas: int) -> None:
        self.app_file, self.queue, self.replicas = app_file, queue, replicas

    def __serve_build_asgi_app__(self) -> Any:
        from modahub.pipeline import App
        from modahub_hub.serve import create_app

        app = App.from_yaml(self.app_file)
        api = create_app(app, queue=self.queue)
        return ReadOnly(api, self.replicas) if app.spec.index is not None else api


@contextlib.contextmanager
def serve_on_ray(app_file: str | Path, *, port: int, replicas: int = 2, queue: int = 64,
                 temp_dir: str | Path | None = None, host: str = "127.0.0.1") -> Iterator[str]:
    """Deploy ``replicas`` replicas of the app behind Ray Serve's proxy on ``host:port``; yields the URL."""
    if host not in ("127.0.0.1", "localhost"):
        raise EngineError(f"--engine ray serves on 127.0.0.1 only (got --host {host})")
    app_file = Path(app_file).resolve()
    import_ray()
    try:
        from ray import serve
    except ImportError:
        raise EngineError("serving on Ray needs Ray Serve: pip install 'modahub[ray]'") from None
    with ray_session(num_cpus=replicas + 1, temp_dir=temp_dir):
        serve.start(http_options={"host": "127.0.0.1", "port": port}, logging_config={"log_level": "WARNING"})
        try:
            deployment = serve.deployment(name="modahub-app", num_replicas=replicas,
                                          ray_actor_options={"num_cpus": 1})(serve.ingress()(AppReplica))
            serve.run(deployment.bind(str(app_file), queue, replicas), name="modahub", route_prefix="/")
            yield f"http://127.0.0.1:{port}"
        finally:
            serve.shutdown()


def serve_forever(app_file: Path, *, host: str = "127.0.0.1", port: int = 8000, replicas: int = 2, queue: int = 64) -> None:
    """The ``modahub serve --engine ray`` command: run until Ctrl-C or SIGTERM."""
    import signal
    import sys

    import click

    with serve_on_ray(app_file, port=port, replicas=replicas, queue=queue, host=host) as url:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # after ray.init, which installs its own handler
        click.echo(f"serving {app_file} with {replicas} Ray Serve replicas on {url} (readiness: /ready)", err=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)
