"""publish_dir: a cache entry appears whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest
from modahub_text.cache import publish_dir


def test_publish_builds_once(tmp_path: Path) -> None:
    calls = []

    def build(out: Path) -> None:
        calls.append(out)
        (out / "f").write_text("x")

    dest = tmp_path / "entry"
    assert publish_dir(dest, build) == dest and (dest / "f").read_text() == "x"
    publish_dir(dest, build)
    assert len(calls) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["entry"], "no temporary folder left behind"


def test_failed_build_leaves_nothing(tmp_path: Path) -> None:
    def build(out: Path) -> None:
        (out / "half").write_text("x")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        publish_dir(tmp_path / "entry", build)
    assert list(tmp_path.iterdir()) == []


def test_concurrent_publisher_wins(tmp_path: Path) -> None:
    dest = tmp_path / "entry"

    def build(out: Path) -> None:
        (out / "mine").write_text("x")
        dest.mkdir()  # another process finished first
        (dest / "theirs").write_text("y")

    publish_dir(dest, build)
    assert [p.name for p in dest.iterdir()] == ["theirs"] and [p.name for p in tmp_path.iterdir()] == ["entry"]
