"""Fixtures for the app tests: the toy plugin on sys.path, toy corpora, app files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

TOYS = Path(__file__).parent / "toys"


@pytest.fixture
def toys(monkeypatch: pytest.MonkeyPatch):
    """Make the toy plugin (and the installed ones) discoverable; a fresh plugin manager around the test."""
    from modahub.plugins import reset_manager

    monkeypatch.syspath_prepend(str(TOYS))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(TOYS), os.environ.get("PYTHONPATH")])))
    monkeypatch.delenv("MODAHUB_LOAD_PLUGINS", raising=False)
    reset_manager()
    yield TOYS
    reset_manager()


def flat_image(digit: int, size: int = 8) -> np.ndarray:
    """An image the toy image encoder reads as ``digit``."""
    return np.full((size, size, 1), digit * 25, dtype=np.uint8)


def tone(digit: int, rate: int = 8000, seconds: float = 0.25) -> np.ndarray:
    """A sine the toy audio encoder reads as ``digit``."""
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * 100 * (digit + 1) * t)).astype(np.float32)


def corpus() -> list:
    """Images of 0-9, tones of 0-4 and texts about 5-9."""
    import modahub

    words = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
    docs = [modahub.image(flat_image(d), id=f"img-{d}", tags={"digit": d}) for d in range(10)]
    docs += [modahub.audio(tone(d), 8000, id=f"snd-{d}", tags={"digit": d}) for d in range(5)]
    docs += [modahub.text(f"a story about the number {words[d]}", id=f"txt-{d}", tags={"digit": d}) for d in range(5, 10)]
    return docs


APP_YAML = """\
name: toys
encoders:
  - uses: toy-text
  - uses: toy-image
  - uses: toy-audio
index:
  uses: exact-index
  with: {path: ./index}
generators:
  - uses: toy-draw
"""


@pytest.fixture
def app_file(tmp_path: Path, toys: Path) -> Path:
    """An app file of the toy encoders and an exact index saved beside it."""
    path = tmp_path / "app.yml"
    path.write_text(APP_YAML)
    return path


class ServerThread:
    """A uvicorn server for a FastAPI app on 127.0.0.1 (ephemeral port) in a background thread."""

    def __init__(self, api) -> None:
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=0, log_level="error", lifespan="on"))
        self.thread = None

    def __enter__(self) -> str:
        import threading
        import time

        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 120  # an upper bound: a loaded machine only slows the start
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="session")
def kit():
    """The helpers of this conftest (test modules cannot import it under --import-mode=importlib)."""
    import types

    return types.SimpleNamespace(corpus=corpus, flat_image=flat_image, tone=tone, ServerThread=ServerThread, TOYS=TOYS)
