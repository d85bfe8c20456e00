"""kill -9 of the whole process group during install, upgrade and uninstall, at chosen checkpoints and in the
middle of pip's own work: the next modahub command finds the old or the new state, with the plugin lock in
agreement, no pip leftovers, and nothing half-installed listed by 'modahub plugins'."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hub_wheels import make_wheel, publish_unchecked

pytestmark = pytest.mark.slow
FILES = 3000  # enough files that pip is still writing when the test kills it


@pytest.fixture
def big_hub(hub_dir, key, tmp_path):
    """A hub with modahub-big 0.1.0 and 0.2.0, each a few thousand files."""
    for version in ("0.1.0", "0.2.0"):
        extra = {f"modahub_big/data/f{i}.txt": f"{version} {i}\n".encode() for i in range(FILES)}
        publish_unchecked(make_wheel(tmp_path / version, "modahub-big", version, extra_files=extra), str(hub_dir), key=key,
                          owner="acme")
    return str(hub_dir)


class Env:
    """The fresh venv, this test's user config, and what to look at after a crash."""

    def __init__(self, venv, config: Path) -> None:
        self.venv, self.config = venv, config
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        self.env |= {"MODAHUB_CONFIG_DIR": str(config), "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        out = venv.run("python", "-c", "import sys, sysconfig; print(sysconfig.get_paths()['purelib']); print(sys.prefix)")
        site, prefix = out.stdout.split()
        self.site, self.prefix = Path(site), Path(prefix)

    def modahub(self, *args: str, crash_at: str | None = None, kill_when: Callable[[], bool] | None = None,
                check: bool = True) -> subprocess.CompletedProcess[str] | int:
        """Run modahub; with ``crash_at`` or ``kill_when`` it is killed (-9, its whole process group) and the code returned."""
        env = self.env | ({"MODAHUB_TEST_CRASH_AT": crash_at} if crash_at else {})
        cmd = [str(self.venv.path / "bin" / "modahub"), *args]
        if crash_at is None and kill_when is None:
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
            if check and proc.returncode != 0:
                raise AssertionError(f"{args} failed:\n{proc.stdout}\n{proc.stderr}")
            return proc
        child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 300
        while child.poll() is None and time.monotonic() < deadline:
            if kill_when is not None and kill_when():
                os.killpg(child.pid, signal.SIGKILL)
                break
            time.sleep(0.002)
        code = child.wait(timeout=60)
        assert code == -signal.SIGKILL, f"{args} was not killed (exit {code}); the moment to kill never came"
        return code

    def leftovers(self) -> list[str]:
        return sorted(p.name for p in self.site.iterdir() if p.name.startswith("~"))

    def big_version(self) -> str | None:
        infos = sorted(p.name for p in self.site.glob("modahub_big-*.dist-info"))
        return infos[0].removesuffix(".dist-info").split("-")[1] if len(infos) == 1 else (None if not infos else "several")

    def big_digest(self) -> str:
        folder = self.site / "modahub_big" / "data"
        files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
        return hashlib.sha256(b"".join(f.name.encode() + f.read_bytes() for f in files)).hexdigest()

    def locked_version(self) -> str | None:
        lock = self.config / "plugins.lock"
        for line in lock.read_text().splitlines() if lock.is_file() else []:
            if line.startswith("modahub-big=="):
                return line.split("==")[1].split()[0]
        return None

    def recover_and_check(self) -> str | None:
        """Run 'modahub plugins' (which recovers first); the state must be whole, agree with the lock, and be listed right."""
        listed = self.modahub("plugins", "--json")
        version = self.big_version()
        assert version != "several" and self.leftovers() == [] and not (self.prefix / ".modahub-txn").exists()
        assert self.locked_version() == version, (self.locked_version(), version, listed.stderr)
        dists = {p["distribution"]: p["version"] for p in json.loads(listed.stdout)["data"]}
        assert dists.get("modahub-big") == version and not any(d.startswith("~") for d in dists)
        if version is not None:
            assert len(list((self.site / "modahub_big" / "data").glob("*.txt"))) == FILES
        return version


@pytest.fixture
def env(fresh_venv, user_config):
    env = Env(fresh_venv, user_config)
    yield env
    if env.big_version() is not None:
        env.modahub("uninstall", "modahub-big", check=False)


@pytest.mark.parametrize(("crash_at", "expected"), [("journal-written", None), ("pip-done", "0.1.0")])
def test_install_killed_at_a_checkpoint(env, big_hub, crash_at, expected):
    env.modahub("install", "modahub-big==0.1.0", "--hub", big_hub, crash_at=crash_at)
    assert env.recover_and_check() == expected


def test_install_killed_while_pip_writes_files(env, big_hub):
    env.modahub("install", "modahub-big==0.1.0", "--hub", big_hub, kill_when=lambda: (env.site / "modahub_big").is_dir())
    assert env.recover_and_check() is None


def test_upgrade_killed_while_pip_swaps_versions_goes_back_to_the_old_one(env, big_hub):
    env.modahub("install", "modahub-big==0.1.0", "--hub", big_hub)
    digest = env.big_digest()
    env.modahub("upgrade", "modahub-big", "--hub", big_hub, kill_when=lambda: bool(env.leftovers()))
    assert env.recover_and_check() == "0.1.0" and env.big_digest() == digest
    env.modahub("upgrade", "modahub-big", "--hub", big_hub, crash_at="pip-done")
    assert env.recover_and_check() == "0.2.0"


def test_uninstall_killed_at_checkpoints_and_mid_pip(env, big_hub):
    env.modahub("install", "modahub-big==0.1.0", "--hub", big_hub)
    digest = env.big_digest()
    env.modahub("uninstall", "modahub-big", crash_at="journal-written")
    assert env.recover_and_check() == "0.1.0" and env.big_digest() == digest
    env.modahub("uninstall", "modahub-big", kill_when=lambda: bool(env.leftovers()))
    assert env.recover_and_check() == "0.1.0" and env.big_digest() == digest
    env.modahub("uninstall", "modahub-big", crash_at="pip-done")
    assert env.recover_and_check() is None


def test_doctor_repair_removes_pip_leftovers(env):
    (env.site / "~odahub_stale").mkdir()
    (env.site / "~odahub_stale" / "x.py").write_text("")
    repaired = env.modahub("doctor", "--repair")
    assert "removed pip leftovers: ~odahub_stale" in repaired.stderr and env.leftovers() == []
