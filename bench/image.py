"""Container image build time and container start time, against peers measured in the same run.

Build: ``modahub image build`` of a small app (digits-image + exact-index, wheels from the hub),
cold (the engine's layer cache ignored) and warm (cache on; only modahub's own small layer may
change). Start: from ``modahub serve --docker``'s container start to ``/ready`` answering through
127.0.0.1, against the same app served by a plain local process (``modahub serve``), and a bare
``python3 -c pass`` container of the base image (the engine's own cost). Medians over --rounds.

Needs an engine (``eval "$(scripts/docker-engine start)"``) and the base image
(``scripts/docker-engine base-image``).

    .venv/bin/python bench/image.py [--rounds 5] [--hub HUB]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

APP = """\
name: bench-image
encoders:
  - uses: digits-image
index:
  uses: exact-index
  with: {path: ./index}
"""


def ready_after(url: str, started: float, proc: subprocess.Popen | None = None) -> float:
    """Seconds from ``started`` until ``url``/ready answers 200."""
    from modahub_hub.client import Client

    with Client(url) as client:
        while True:
            try:
                if client.ready():
                    return time.perf_counter() - started
            except Exception:  # not listening yet
                if proc is not None and proc.poll() is not None:
                    sys.exit(f"the local server exited: {proc.stderr.read() if proc.stderr else ''}")
            time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--hub", help="hub for the plugin wheels (default: the configured or bundled hub)")
    args = parser.parse_args()

    from modahub_hub.containers.build import DEFAULT_BASE, build_image
    from modahub_hub.containers.engine import connect
    from modahub_hub.containers.proxy import free_port
    from modahub_hub.containers.serve import serve_container

    client = connect()
    folder = Path(tempfile.mkdtemp(prefix="bench-image-"))
    app_file = folder / "app.yml"
    app_file.write_text(APP)
    cold = build_image(str(app_file), hub=args.hub, client=client, cache=False)
    warm = build_image(str(app_file), hub=args.hub, client=client)
    size_mb = client.images.get(warm.tag).attrs["Size"] / 1e6

    container, local, bare = [], [], []
    modahub = str(Path(sys.executable).parent / "modahub")
    for _ in range(args.rounds):  # interleaved, so that load changes hit all three alike
        started = time.perf_counter()
        with serve_container(app_file, image=warm.tag, client=client) as served:
            container.append(ready_after(served.url, started))
        port = free_port()
        started = time.perf_counter()
        proc = subprocess.Popen([modahub, "serve", str(app_file), "--port", str(port)], stderr=subprocess.PIPE, text=True)
        try:
            local.append(ready_after(f"http://127.0.0.1:{port}", started, proc))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        started = time.perf_counter()
        client.containers.run(DEFAULT_BASE, ["python3", "-c", "pass"], remove=True, network_mode="none")
        bare.append(time.perf_counter() - started)

    med = statistics.median
    print(f"image {warm.tag}: {size_mb:.0f} MB on {DEFAULT_BASE}, {len(warm.requirements)} packages, "
          f"engine {client.version()['Version']}")
    print(f"{'measure':<44}{'seconds':>9}")
    print(f"{'build, cold (no layer cache)':<44}{cold.seconds:9.2f}")
    print(f"{'build, warm (layer cache)':<44}{warm.seconds:9.2f}")
    print(f"{'container start -> /ready (serve --docker)':<44}{med(container):9.2f}")
    print(f"{'local process start -> /ready (serve)':<44}{med(local):9.2f}")
    print(f"{'bare container run (python3 -c pass)':<44}{med(bare):9.2f}")
    print(f"warm / cold build                = {warm.seconds / cold.seconds:5.2f}x")
    print(f"container / local start to ready = {med(container) / med(local):5.2f}x")
    print(f"engine share of container start  = {med(bare) / med(container):5.2f}")


if __name__ == "__main__":
    main()
