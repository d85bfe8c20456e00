"""The user cache of derived model files (e.g. ONNX exports), written atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

CACHE_ENV = "MODAHUB_CACHE_DIR"


def cache_root() -> Path:
    """``$MODAHUB_CACHE_DIR``, else ``$XDG_CACHE_HOME/modahub``, else ``~/.cache/modahub``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "modahub"


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())


def publish_dir(dest: Path, build: Callable[[Path], None]) -> Path:
    """Make ``dest`` with ``build(tmp)`` if it is absent; all or nothing.

    ``build`` fills a temporary sibling folder, which is renamed to ``dest`` once complete, so an
    interrupted build leaves no partial ``dest``. When another process publishes first, its copy wins.
    """
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        build(tmp)
        _fsync_tree(tmp)
        try:
            os.rename(tmp, dest)
        except OSError:
            if not dest.is_dir():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest
