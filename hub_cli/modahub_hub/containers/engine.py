"""Reach the container engine through the docker SDK, with errors that say how to get one."""

from __future__ import annotations

import os
from typing import Any

from modahub.errors import ModahubError

DEFAULT_SOCKET = "unix:///var/run/docker.sock"


class ContainerError(ModahubError):
    """No engine, a missing base image, a failed build or run (one line and exit code 1 at the CLI)."""


def docker_module() -> Any:
    """The docker SDK, or a clear error naming the extra that installs it."""
    try:
        import docker
    except ImportError:
        raise ContainerError("containers need the docker SDK: pip install 'modahub[containers]'") from None
    return docker


def connect(timeout: float = 600) -> Any:
    """A ``docker.DockerClient`` for the engine that ``docker.from_env()`` reaches, checked with a ping.

    ``timeout`` bounds each API read; an image build's pip step can be quiet for minutes on a busy machine.
    """
    docker = docker_module()
    where = os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except docker.errors.DockerException as exc:
        raise ContainerError(
            f"no container engine reachable at {where} ({exc}). Start Docker (dockerd) or Podman "
            "('podman system service unix:///PATH') and set DOCKER_HOST=unix:///PATH; in a modahub checkout, "
            "eval \"$(scripts/docker-engine start)\" starts a private dockerd"
        ) from None
    return client


def require_image(client: Any, image: str, hint: str) -> Any:
    """The local image ``image``; never pulled (no registry is contacted)."""
    docker = docker_module()
    try:
        return client.images.get(image)
    except docker.errors.ImageNotFound:
        raise ContainerError(f"image {image!r} is not in the container engine; {hint}") from None
