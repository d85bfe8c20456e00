"""``modahub serve --docker``: an app's image run with safe defaults, reachable on 127.0.0.1.

Defaults: no network (the server listens on a Unix socket in a mounted folder, and this process
forwards 127.0.0.1:PORT to it), read-only root with a small ``/tmp`` tmpfs, all capabilities
dropped, no new privileges, a non-root user, memory and pid limits. An app that declares
``container: {network: true}`` gets the host network instead, its server bound to 127.0.0.1.
The folders of the app's executors (``path`` parameters, e.g. the index) are mounted read-write.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modahub_hub.containers.build import IMAGE_UID, Target, build_image, read_app_spec
from modahub_hub.containers.engine import ContainerError, connect, docker_module
from modahub_hub.containers.proxy import UnixSocketProxy, free_port

RUN_DIR = "/run/modahub"
SOCKET = "http.sock"
APP_DIR = "/app"


def safe_options(*, user: str, memory: str, pids: int, network: bool) -> dict[str, Any]:
    """The ``containers.run`` keyword arguments that confine a container."""
    docker = docker_module()
    return {
        "network_mode": "host" if network else "none",
        "read_only": True,
        "tmpfs": {"/tmp": "rw,nosuid,nodev,noexec,size=64m"},
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges:true"],
        "user": user,
        "mem_limit": memory,
        "memswap_limit": memory,
        "pids_limit": pids,
        # explicit limits under the usual hard limits (Podman's defaults exceed them on some hosts)
        "ulimits": [docker.types.Ulimit(name="nofile", soft=4096, hard=4096)],
    }


def default_user() -> tuple[int, int]:
    """The calling user when not root (mounted files stay theirs), else the image's ``modahub`` user."""
    uid = os.getuid()
    return (uid, os.getgid()) if uid != 0 else (IMAGE_UID, IMAGE_UID)


def parse_user(user: str) -> tuple[int, int]:
    """``UID:GID`` (or ``UID``, with the same GID) as numbers."""
    parts = user.split(":")
    if len(parts) > 2 or not all(p.isascii() and p.isdigit() for p in parts):
        raise ContainerError(f"--user {user!r}: expected numeric UID:GID, e.g. 10001:10001")
    return int(parts[0]), int(parts[-1])


def state_mounts(app_file: Path, spec: Any) -> dict[Path, str]:
    """Host folder → container folder for every ``path`` parameter of the app's executors."""
    refs = [*spec.segmenters, *spec.encoders, *([spec.index] if spec.index else []), *spec.generators]
    mounts: dict[Path, str] = {}
    for ref in refs:
        raw = ref.params.get("path")
        if not isinstance(raw, str):
            continue
        declared = Path(raw).expanduser()
        host = declared if declared.is_absolute() else (app_file.parent / declared).resolve()
        inside = str(declared) if declared.is_absolute() else posixpath.normpath(posixpath.join(APP_DIR, raw))
        if inside == APP_DIR or inside.startswith(("/proc", "/sys", "/dev", RUN_DIR)):
            raise ContainerError(f"{app_file}: {ref.step_name}.path {raw!r} cannot be mounted in a container at {inside}")
        mounts[host] = inside
    return mounts


def _writable_for(folder: Path, uid: int, gid: int) -> None:
    """Make ``folder`` writable for the container user: chown when we are root, else it must be ours already."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.getuid() == 0:
        for path in [folder, *folder.rglob("*")]:
            os.lchown(path, uid, gid)
    elif not os.access(folder, os.W_OK):
        raise ContainerError(f"{folder} is not writable by you; the container would not be able to save to it")


@dataclass
class Served:
    """A running app container: its URL on 127.0.0.1 and the container object."""

    url: str
    container: Any
    network: bool
    mounts: dict[Path, str] = field(default_factory=dict)

    def logs(self, lines: int = 40) -> str:
        return self.container.logs(tail=lines).decode(errors="replace")


def ensure_image(client: Any, app_file: Path, image: str | None, rebuild: bool, log: Any = None) -> str:
    """The image to run: ``image`` if given (must exist), else the app's default tag, built when missing or asked."""
    docker = docker_module()
    if image is not None:
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            raise ContainerError(
                f"image {image!r} is not in the container engine; build it: modahub image build {app_file}"
            ) from None
        return image
    tag = Target.parse(str(app_file)).default_tag()
    if not rebuild:
        with contextlib.suppress(docker.errors.ImageNotFound):
            client.images.get(tag)
            return tag
    return build_image(str(app_file), tag=tag, client=client, log=log).tag


@contextlib.contextmanager
def serve_container(app_file: str | Path, *, image: str | None = None, port: int = 0, rebuild: bool = False,
                    user: str | None = None, grace: int = 10, ready_timeout: float = 120, client: Any = None,
                    log: Any = None) -> Iterator[Served]:
    """Run the app's image confined, yield once its server listens, stop and remove it afterwards."""
    app_file = Path(app_file).resolve()
    spec = read_app_spec(app_file)
    limits = spec.container
    client = client or connect()
    tag = ensure_image(client, app_file, image, rebuild, log)
    uid, gid = parse_user(user) if user else default_user()
    if uid == 0:
        raise ContainerError("refusing to run the container as root; pass a non-root --user UID:GID")
    mounts = state_mounts(app_file, spec)
    for folder in mounts:
        _writable_for(folder, uid, gid)
    scratch = Path(tempfile.mkdtemp(prefix="modahub-serve-"))
    run_dir = scratch / "run"
    _writable_for(run_dir, uid, gid)
    volumes = {str(h): {"bind": c, "mode": "rw"} for h, c in mounts.items()}
    volumes[str(run_dir)] = {"bind": RUN_DIR, "mode": "rw"}
    if limits.network:
        port = port or free_port()
        command = ["--host", "127.0.0.1", "--port", str(port), "--grace", str(grace)]
    else:
        command = ["--uds", f"{RUN_DIR}/{SOCKET}", "--grace", str(grace)]
    options = safe_options(user=f"{uid}:{gid}", memory=limits.memory, pids=limits.pids, network=limits.network)
    proxy: UnixSocketProxy | None = None
    container = None
    try:
        container = client.containers.run(tag, command, detach=True, volumes=volumes,
                                          labels={"org.modahub.app": spec.name}, **options)
        _wait_listening(container, run_dir / SOCKET if not limits.network else None, port, ready_timeout)
        if not limits.network:
            proxy = UnixSocketProxy(run_dir / SOCKET, "127.0.0.1", port)
            port = proxy.start()
        yield Served(url=f"http://127.0.0.1:{port}", container=container, network=limits.network, mounts=mounts)
    finally:
        if proxy is not None:
            proxy.close()
        if container is not None:
            with contextlib.suppress(Exception):
                container.stop(timeout=grace)
            with contextlib.suppress(Exception):
                container.remove(force=True)
        shutil.rmtree(scratch, ignore_errors=True)


def _wait_listening(container: Any, sock: Path | None, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        container.reload()
        if container.status in ("exited", "dead"):
            logs = container.logs(tail=30).decode(errors="replace")
            raise ContainerError(f"the app container stopped (exit {container.attrs['State']['ExitCode']}):\n{logs}")
        if sock is not None and sock.exists():
            return
        if sock is None:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        time.sleep(0.2)
    raise ContainerError(f"the app container did not start listening within {timeout:.0f} s")


def _loopback_only(host: str) -> None:
    if host not in ("127.0.0.1", "localhost"):
        raise ContainerError(f"--docker serves on 127.0.0.1 only (got --host {host})")


def serve_forever(app_file: Path, *, host: str = "127.0.0.1", port: int = 8000, image: str | None = None,
                  rebuild: bool = False, grace: int = 10) -> None:
    """The ``modahub serve --docker`` command: run until Ctrl-C or SIGTERM, or until the container stops."""
    import signal
    import sys

    import click

    _loopback_only(host)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with serve_container(app_file, image=image, port=port, rebuild=rebuild, grace=grace,
                         log=lambda m: click.echo(m, err=True)) as served:
        c = served.container
        network = "host network, 127.0.0.1 only" if served.network else "no network"
        click.echo(f"serving {app_file} from image {c.image.tags[0] if c.image.tags else c.image.id} in container "
                   f"{c.short_id} ({network}, read-only, non-root) on {served.url} (readiness: /ready)", err=True)
        try:
            while True:
                c.reload()
                if c.status in ("exited", "dead"):
                    raise ContainerError(f"the app container stopped:\n{served.logs()}")
                time.sleep(1)
        except KeyboardInterrupt:
            click.echo("stopping the container", err=True)
