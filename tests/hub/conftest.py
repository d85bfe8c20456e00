"""Fixtures for the hub tests: an isolated user config, signing keys, folder/HTTP/HF hubs, plugin wheels,
and (for the slow end-to-end tests) one fresh virtual environment per session."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import venv
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "authoring"))  # journey.wheelhouse, shared with the authoring tests

from fake_hf import FakeHfServer  # noqa: E402
from hub_wheels import make_wheel  # noqa: E402
from journey import wheelhouse  # noqa: E402

from modahub_hub.hub.publish import init_hub  # noqa: E402
from modahub_hub.hub.signing import SigningKey, generate_key  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
HF_ENV = {"HF_HUB_DISABLE_XET": "1", "HF_TOKEN": "dummy-token", "HF_HUB_DISABLE_TELEMETRY": "1",
          "HF_HUB_DISABLE_PROGRESS_BARS": "1"}


@pytest.fixture(autouse=True)
def user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own user config dir, HF cache and no default hub."""
    folder = tmp_path / "config"
    monkeypatch.setenv("MODAHUB_CONFIG_DIR", str(folder))
    monkeypatch.delenv("MODAHUB_HUB_KEY", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    for key, value in HF_ENV.items():
        monkeypatch.setenv(key, value)
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setattr(hf_constants, "HF_HUB_DISABLE_XET", True)
    return folder


@pytest.fixture
def key(tmp_path: Path) -> SigningKey:
    return generate_key(tmp_path / "keys" / "hub.key")


@pytest.fixture
def hub_dir(tmp_path: Path, key: SigningKey) -> Path:
    """An empty signed folder hub, trusted by this test's user config."""
    init_hub(str(tmp_path / "hub"), key=key)
    return tmp_path / "hub"


@pytest.fixture
def wheel(tmp_path: Path) -> Callable[..., Path]:
    """``wheel(name, version="0.1.0", **options)``: a synthetic plugin wheel (see hub_wheels.make_wheel)."""
    return partial(make_wheel, tmp_path / "wheels")


@pytest.fixture(scope="session")
def exact_index_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real plugins/exact-index, built once per session."""
    from modahub_hub.hub.build import build_wheel

    return build_wheel(ROOT / "plugins" / "exact-index", tmp_path_factory.mktemp("exact-index-wheel"))


@pytest.fixture
def fake_hf(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHfServer]:
    """A local HF-Hub-API server on 127.0.0.1; HF_ENDPOINT points at it."""
    with FakeHfServer() as server:
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        yield server


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def serve_folder() -> Iterator[Callable[[Path], str]]:
    """``serve_folder(path)`` serves a folder read-only on 127.0.0.1 and returns its base URL."""
    servers: list[ThreadingHTTPServer] = []

    def start(folder: Path) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@dataclass
class Venv:
    """A fresh virtual environment with modahub-core, modahub-testing and modahub installed from local wheels."""

    path: Path
    wheelhouse: Path

    @property
    def python(self) -> Path:
        return self.path / "bin" / "python"

    def run(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``bin/<args[0]>`` of the venv with the test's environment (config dir, HF settings) plus ``env``."""
        full = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))} | (env or {})
        full["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        proc = subprocess.run([str(self.path / "bin" / args[0]), *args[1:]], capture_output=True, text=True, env=full,
                              timeout=300)
        if check and proc.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def freeze(self) -> str:
        return self.run("pip", "freeze", "--all").stdout


@pytest.fixture(scope="session")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """One fresh venv per session, with modahub installed offline from a local wheelhouse."""
    tmp = tmp_path_factory.mktemp("fresh-venv")
    house = wheelhouse(tmp)
    path = tmp / "venv"
    venv.create(path, with_pip=True)
    env = Venv(path, house)
    env.run("python", "-m", "pip", "install", "-q", "--no-index", "--find-links", str(house), "modahub-core", "modahub")
    return env
