"""Publishing is atomic: concurrent publishes all land, a killed publish leaves the old or the new hub,
and an HF publish that loses a race (parent_commit) retries on the new state instead of overwriting."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hub_wheels import publish_unchecked

from modahub.files import sha256_file
from modahub_hub.hub.backends import FolderBackend
from modahub_hub.hub.client import Hub
from modahub_hub.hub.publish import init_hub, update
from modahub_hub.hub.trust import load_verified

PUBLISH = """
import sys, time
import modahub_hub.hub.backends as backends
delay = float(sys.argv[4])
if delay:
    real = backends.atomic_write
    def slow(path, data):
        time.sleep(delay)
        real(path, data)
    backends.atomic_write = slow
from modahub_hub.hub.publish import publish
publish(sys.argv[1], sys.argv[2], key=sys.argv[3], owner="acme", contract=False)
"""


def _publisher(wheel: Path, hub: Path, key: Path, delay: float = 0.0) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-c", PUBLISH, str(wheel), str(hub), str(key), str(delay)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def assert_consistent(hub_dir: Path) -> int:
    """The registry verifies, every listed wheel is intact, every simple/ link resolves to a file of that hash."""
    registry = load_verified(FolderBackend(hub_dir))
    for plugin in registry.plugins.values():
        for entry in plugin.versions.values():
            assert sha256_file(hub_dir / entry.artifact.url) == entry.artifact.sha256
    for page in (hub_dir / "simple").glob("*/index.html"):
        for href, digest in re.findall(r'href="([^"#]+)#sha256=([0-9a-f]{64})"', page.read_text()):
            assert sha256_file(page.parent / href) == digest
    return registry.version


@pytest.mark.slow
def test_eight_concurrent_publishes_all_land(hub_dir, key, wheel):
    wheels = [wheel(f"modahub-conc-{chr(97 + i)}", executor=f"conc-{chr(97 + i)}") for i in range(8)]
    procs = [_publisher(w, hub_dir, key.path) for w in wheels]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    registry = load_verified(FolderBackend(hub_dir))
    assert sorted(registry.plugins) == sorted(f"modahub-conc-{chr(97 + i)}" for i in range(8))
    assert registry.version == 1 + 8
    assert assert_consistent(hub_dir) == 9


@pytest.mark.slow
def test_sigkill_during_publish_leaves_old_or_new(hub_dir, key, wheel):
    """Publishes whose file writes are slowed down are killed at different moments of their writes."""
    publish_unchecked(wheel("modahub-base"), str(hub_dir), key=key, owner="acme")
    seen = set()
    for i, kill_after in enumerate((0.4, 0.9, 1.3, 1.7, 2.2)):
        before = assert_consistent(hub_dir)
        proc = _publisher(wheel(f"modahub-killed-{i}", executor=f"killed-{i}"), hub_dir, key.path, delay=0.25)
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after = assert_consistent(hub_dir)
        assert after in (before, before + 1)
        seen.add(after - before)
    publish_unchecked(wheel("modahub-after"), str(hub_dir), key=key, owner="acme")  # the lock is free again, the hub writable
    assert "modahub-after" in load_verified(FolderBackend(hub_dir)).plugins
    assert_consistent(hub_dir)
    assert 0 in seen, seen  # at least one kill landed before the commit point


def test_hf_publish_that_loses_a_race_retries_on_the_new_commit(key, wheel, fake_hf):
    init_hub("hf://acme/race", key=key)
    rival = wheel("modahub-rival")
    read_versions: list[int] = []

    def change(registry) -> str:
        read_versions.append(registry.version)
        if len(read_versions) == 1:  # someone else commits between our read and our commit
            publish_unchecked(rival, "hf://acme/race", key=key, owner="acme")
        return "refresh"

    update("hf://acme/race", change, key=key)
    assert read_versions == [1, 2]  # the first commit was refused (parent_commit), the retry read the rival's registry
    assert fake_hf.hub.conflicts == 1
    registry = Hub.open("hf://acme/race").registry
    assert "modahub-rival" in registry.plugins and registry.version == 3
