"""One atomic write and one sha256 for core, the CLI and plugins."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from modahub.files import atomic_write, sha256_file


def test_sha256_file_reads_in_chunks(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"abc" * 500_000)
    assert sha256_file(path) == hashlib.sha256(b"abc" * 500_000).hexdigest()


def test_atomic_write_replaces_whole_and_sets_the_mode_whatever_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.json"
    old = os.umask(0o077)
    try:
        atomic_write(target, b"one")
        atomic_write(target, b"two")
    finally:
        os.umask(old)
    assert target.read_bytes() == b"two" and target.stat().st_mode & 0o777 == 0o644
    source = tmp_path / "wheel.whl"
    source.write_bytes(b"w" * 3_000_000)
    atomic_write(target, source)
    assert target.read_bytes() == source.read_bytes()
    assert [p.name for p in target.parent.iterdir()] == ["file.json"]


def test_a_failed_atomic_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "file"
    atomic_write(target, b"old")

    def crash(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, b"new")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["file"]
