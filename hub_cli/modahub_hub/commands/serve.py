"""``modahub serve APP``: serve an app over HTTP with FastAPI and uvicorn."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from modahub_hub.commands.run import load_app
from modahub_hub.output import warn


@click.command("serve")
@click.argument("app_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback unless you mean otherwise).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--queue", "queue", default=64, show_default=True, type=click.IntRange(min=1),
              help="Requests accepted at once (running or waiting); more get 503 with Retry-After.")
@click.option("--grace", default=30, show_default=True, type=click.IntRange(min=0),
              help="Seconds to let accepted requests finish on shutdown (Ctrl-C / SIGTERM).")
@click.option("--log-level", default="warning", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
@click.option("--uds", type=click.Path(dir_okay=False), help="Listen on this Unix socket instead of HOST:PORT.")
@click.option("--docker", "docker", is_flag=True,
              help="Run the app's image (built when missing) confined: no network unless the app declares one, "
                   "read-only root, no capabilities, non-root, memory and pid limits.")
@click.option("--image", help="With --docker: the image to run (default: the app's, modahub-app-NAME:latest).")
@click.option("--rebuild", is_flag=True, help="With --docker: rebuild the app's image first.")
@click.option("--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
              help="ray: Ray Serve replicas on a local Ray cluster, each with its own read-only copy of the index.")
@click.option("--replicas", default=2, show_default=True, type=click.IntRange(min=1), help="Ray Serve replicas (--engine ray).")
@click.option("--address", envvar="RAY_ADDRESS", metavar="HOST:PORT",
              help="With --engine ray: the Ray cluster to serve from (its head's address; default $RAY_ADDRESS); "
                   "without it, a private cluster on this machine.")
def serve(app_file: Path, host: str, port: int, queue: int, grace: int, log_level: str, uds: str | None, docker: bool,
          image: str | None, rebuild: bool, engine: str, replicas: int, address: str | None) -> None:
    """Serve APP_FILE: POST /encode /index /search /generate /upload/…; GET /health /ready /info /docs."""
    if docker:
        from modahub_hub.containers.serve import serve_forever

        return serve_forever(app_file, host=host, port=port, image=image, rebuild=rebuild, grace=grace)
    if engine == "ray":
        from modahub_hub.engines.ray_engine import cluster_address
        from modahub_hub.engines.ray_serve import serve_forever as serve_on_ray

        cluster_address(address)  # a malformed address fails before anything starts

        return serve_on_ray(app_file, host=host, port=port, replicas=replicas, queue=queue, address=address)
    import uvicorn

    from modahub_hub.serve import create_app

    app = load_app(app_file)
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        warn(f"binding {host}: the API has no authentication; anyone who reaches this address can use it")
    where = f"unix socket {uds}" if uds else f"http://{host}:{port}"
    click.echo(f"serving app {app.name!r} on {where} (OpenAPI: /docs, readiness: /ready)", err=True)
    uvicorn.run(create_app(app, queue=queue), host=host, port=port, uds=uds, log_level=log_level,
                timeout_graceful_shutdown=grace, access_log=False)
