"""Fixtures for the scale-out tests: a small two-modality app, its corpus, a local Ray cluster, a container engine.

The container engine is the one ``DOCKER_HOST`` reaches (``.ci/run`` starts one); without it, a
private dockerd is started for the session when this runs as root with dockerd installed. Under
CI a missing engine fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import modahub
from modahub.documents import Document

REPO = Path(__file__).resolve().parents[2]
APP_YAML = """\
name: scale-digits
encoders:
  - uses: digits-image
    with: {batch_size: 8}
  - uses: digits-audio
    with: {batch_size: 8}
index:
  uses: exact-index
  with: {path: ./index}
"""


def corpus(n: int = 48, seed: int = 7) -> list[Document]:
    """Images and short tones, interleaved, with tags (deterministic)."""
    rng = np.random.default_rng(seed)
    docs = []
    for i in range(n):
        if i % 3 == 2:
            t = np.arange(4000, dtype=np.float32) / 8000
            tone = (0.4 * np.sin(2 * np.pi * rng.uniform(150, 900) * t)).astype(np.float32)
            docs.append(modahub.audio(tone, 8000, id=f"tone-{i}", tags={"group": i % 4}))
        else:
            docs.append(modahub.image(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8), id=f"img-{i}", tags={"group": i % 4}))
    return docs


def write_app(folder: Path, extra: str = "") -> Path:
    """The test app file in ``folder`` (its index goes to ``folder/index``)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "app.yml"
    path.write_text(APP_YAML + extra, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """The helpers above, for the test modules (importlib mode cannot import conftest)."""
    return SimpleNamespace(corpus=corpus, write_app=write_app)


@pytest.fixture(scope="module")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One local Ray cluster (127.0.0.1, no usage stats, no dashboard, temp dir inside pytest's) per module."""
    from modahub_hub.engines.ray_engine import ray_session

    with ray_session(num_cpus=3, temp_dir=tmp_path_factory.mktemp("ray")):
        yield


def _engine_unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"no container engine in CI: {reason}")
    pytest.skip(f"no container engine here: {reason}")


@pytest.fixture(scope="session")
def docker_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A docker SDK client with the local base image present (a private dockerd when none is reachable)."""
    from modahub_hub.containers.build import DEFAULT_BASE
    from modahub_hub.containers.engine import ContainerError, connect

    started: dict[str, str] | None = None
    try:
        client = connect()
    except ContainerError as exc:
        if os.geteuid() != 0 or shutil.which("dockerd") is None:
            _engine_unavailable(str(exc))
        started = {**os.environ, "MODAHUB_ENGINE_DIR": str(tmp_path_factory.mktemp("engine"))}
        out = subprocess.run([REPO / "scripts" / "docker-engine", "start"], env=started, capture_output=True, text=True)
        if out.returncode != 0:
            _engine_unavailable(out.stderr)
        os.environ["DOCKER_HOST"] = out.stdout.strip().split("=", 1)[1]
        client = connect()
    try:
        built = subprocess.run([REPO / "scripts" / "docker-engine", "base-image"], capture_output=True, text=True,
                               env={**os.environ, "MODAHUB_BASE_IMAGE": DEFAULT_BASE})
        assert built.returncode == 0, built.stderr
        yield client
    finally:
        client.close()
        if started is not None:
            subprocess.run([REPO / "scripts" / "docker-engine", "stop"], env=started, check=False)
            os.environ.pop("DOCKER_HOST", None)
