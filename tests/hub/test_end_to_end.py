"""The whole journey in a fresh virtual environment: publish → search → install → list → uninstall on a
folder hub, a hub served over HTTP on 127.0.0.1 and a local HF-Hub-API server; plain pip from the
hub's simple/ index; an all-or-nothing multi-plugin install; upgrade; the bundled hub offline."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hub_wheels import EXACT_INDEX_VERSION, publish_unchecked

from modahub_hub.hub.publish import init_hub, publish
from modahub_hub.output import read_envelope

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _executors(venv, env: dict[str, str]) -> list[str]:
    return [e["name"] for e in json.loads(venv.run("modahub", "list", "--json", env=env).stdout)["data"]]


def _version(venv, dist: str) -> str:
    code = f"import importlib.metadata as m\ntry: print(m.version({dist!r}))\nexcept m.PackageNotFoundError: print('missing')"
    return venv.run("python", "-c", code).stdout.strip()


def _round_trip(venv, hub: str, env: dict[str, str]) -> None:
    found = json.loads(venv.run("modahub", "search", "exact", "--hub", hub, "--json", env=env).stdout)["data"]
    assert [p["name"] for p in found] == ["modahub-exact-index"]
    assert "exact-index" not in _executors(venv, env)
    installed = venv.run("modahub", "install", "modahub-exact-index", "--hub", hub, "--json", env=env | {"PIP_NO_INDEX": "1"})
    expected = [{"name": "modahub-exact-index", "version": EXACT_INDEX_VERSION}]
    assert read_envelope(installed.stdout)["data"]["installed"] == expected
    assert "exact-index" in _executors(venv, env)
    lock = (Path(env["MODAHUB_CONFIG_DIR"]) / "plugins.lock").read_text()
    assert f"modahub-exact-index=={EXACT_INDEX_VERSION}  # hub=" in lock
    removed = venv.run("modahub", "uninstall", "modahub-exact-index", "--json", env=env)
    assert read_envelope(removed.stdout)["data"] == {"uninstalled": ["modahub-exact-index"], "kept": []}
    assert "exact-index" not in _executors(venv, env)
    assert "modahub-exact-index" not in (Path(env["MODAHUB_CONFIG_DIR"]) / "plugins.lock").read_text()


@pytest.fixture
def venv_env(fresh_venv, user_config):
    """The environment the venv's commands run with: this test's user config (which trusts hub_dir's key)."""
    return {"MODAHUB_CONFIG_DIR": str(user_config)}


def test_folder_hub_round_trip(fresh_venv, venv_env, hub_dir, key, exact_index_wheel):
    publish(exact_index_wheel, str(hub_dir), key=key, owner="modahub")
    _round_trip(fresh_venv, str(hub_dir), venv_env)


def test_http_hub_round_trip_and_plain_pip(fresh_venv, venv_env, hub_dir, key, exact_index_wheel, serve_folder):
    publish(exact_index_wheel, str(hub_dir), key=key, owner="modahub")
    url = serve_folder(hub_dir)
    fresh_venv.run("modahub", "hub", "trust", url, key.public.text, env=venv_env)
    _round_trip(fresh_venv, url, venv_env)

    fresh_venv.run("pip", "install", "-q", "--index-url", f"{url}simple/", "modahub-exact-index")
    assert "exact-index" in _executors(fresh_venv, venv_env)
    fresh_venv.run("pip", "uninstall", "-y", "-q", "modahub-exact-index")


def test_hf_hub_round_trip(fresh_venv, venv_env, key, exact_index_wheel, fake_hf):
    init_hub("hf://acme/plugins", key=key)
    publish(exact_index_wheel, "hf://acme/plugins", key=key, owner="modahub")
    env = venv_env | {k: os.environ[k] for k in ("HF_ENDPOINT", "HF_HUB_DISABLE_XET", "HF_TOKEN", "HF_HUB_CACHE")}
    _round_trip(fresh_venv, "hf://acme/plugins", env)
    assert any(r.startswith("GET /acme/plugins/resolve/") and r.endswith(".whl") for r in fake_hf.hub.requests)


def test_a_pip_failure_mid_install_leaves_the_environment_as_before(fresh_venv, venv_env, hub_dir, key, wheel):
    """B needs A>=0.2 and has a broken console script: pip upgrades A, then fails on B; A 0.1 must come back."""
    for path in (
        wheel("modahub-alpha", "0.1.0"),
        wheel("modahub-alpha", "0.2.0"),
        wheel("modahub-beta", requires=("modahub-core>=0.2,<0.3", "modahub-alpha>=0.2"),
              entry_points="[modahub]\nbeta = modahub_beta.plugin\n[console_scripts]\nbeta-tool = not a valid reference\n"),
    ):
        publish_unchecked(path, str(hub_dir), key=key, owner="acme")
    hub = str(hub_dir)
    fresh_venv.run("modahub", "install", "modahub-alpha==0.1.0", "--hub", hub, env=venv_env)
    before = fresh_venv.freeze()
    assert _version(fresh_venv, "modahub-alpha") == "0.1.0"

    failed = fresh_venv.run("modahub", "install", "modahub-alpha", "modahub-beta", "--hub", hub, env=venv_env, check=False)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "pip install failed" in failed.stderr and "the environment was restored" in failed.stderr
    assert "beta-tool" in failed.stderr  # pip got as far as installing beta, after upgrading alpha
    assert "Traceback" not in failed.stderr
    assert fresh_venv.freeze() == before
    assert _version(fresh_venv, "modahub-alpha") == "0.1.0" and _version(fresh_venv, "modahub-beta") == "missing"

    upgraded = fresh_venv.run("modahub", "upgrade", "modahub-alpha", "--hub", hub, "--json", env=venv_env)
    assert read_envelope(upgraded.stdout)["data"] == {"upgraded": [{"name": "modahub-alpha", "version": "0.2.0"}]}
    lock = Path(venv_env["MODAHUB_CONFIG_DIR"]) / "plugins.lock"
    assert "modahub-alpha==0.2.0" in lock.read_text()
    fresh_venv.run("modahub", "uninstall", "modahub-alpha", env=venv_env)
    assert _version(fresh_venv, "modahub-alpha") == "missing"
    (lock.parent / "wanted.txt").write_text(f"modahub-alpha==0.1.0  # hub={hub_dir.resolve()}\n")
    fresh_venv.run("modahub", "install", "-r", str(lock.parent / "wanted.txt"), env=venv_env)
    assert _version(fresh_venv, "modahub-alpha") == "0.1.0"
    fresh_venv.run("modahub", "uninstall", "modahub-alpha", env=venv_env)


def test_bundled_hub_installs_offline_without_hub_option(fresh_venv, venv_env):
    """No --hub and no configured hub: the bundled hub shipped inside the modahub wheel, trusted through its key."""
    env = venv_env | {"PIP_NO_INDEX": "1"}
    fresh_venv.run("modahub", "install", "exact-index", env=env)
    assert "exact-index" in _executors(fresh_venv, env)
    fresh_venv.run("modahub", "uninstall", "modahub-exact-index", env=env)


_RECORDED = """import importlib.metadata as m, json, sys
d = m.distribution(sys.argv[1])
print(json.dumps({"installer": (d.read_text("INSTALLER") or "").strip(), "files": sorted(map(str, d.files or []))}))"""


def _recorded(venv, dist: str) -> dict:
    return json.loads(venv.run("python", "-c", _RECORDED, dist).stdout)


def test_a_plugin_with_nothing_to_resolve_is_unpacked_as_pip_would_install_it(fresh_venv, venv_env, hub_dir, key, wheel):
    """Nothing to resolve or replace: modahub unpacks the wheel itself (pypa/installer, no pip start-up). The files are
    the ones pip writes, pip can uninstall them, and a wheel that cannot be installed leaves the venv as it was."""
    points = "[modahub]\n{0} = modahub_{0}.plugin\n[console_scripts]\n{0}-tool = {1}\n"
    gamma = wheel("modahub-gamma", entry_points=points.format("gamma", "modahub_gamma.plugin:main"))
    delta = wheel("modahub-delta", entry_points=points.format("delta", "not a reference"))
    for built in (gamma, delta):
        publish_unchecked(built, str(hub_dir), key=key, owner="acme")
    site = Path(fresh_venv.run("python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())

    fresh_venv.run("modahub", "install", "modahub-gamma", "--hub", str(hub_dir), env=venv_env)
    ours = _recorded(fresh_venv, "modahub-gamma")
    assert ours["installer"] == "modahub"  # unpacked by modahub, not by pip
    assert "gamma" in _executors(fresh_venv, venv_env) and (fresh_venv.path / "bin" / "gamma-tool").is_file()
    fresh_venv.run("pip", "uninstall", "-y", "-q", "modahub-gamma")
    assert not (site / "modahub_gamma").exists() and not (fresh_venv.path / "bin" / "gamma-tool").exists()
    fresh_venv.run("pip", "install", "-q", "--no-deps", str(gamma))
    theirs = _recorded(fresh_venv, "modahub-gamma")
    fresh_venv.run("pip", "uninstall", "-y", "-q", "modahub-gamma")

    def same(files: list[str]) -> set[str]:  # pip also records REQUESTED, direct_url.json and the .pyc it compiled
        return {f for f in files if "__pycache__" not in f and f.rsplit("/", 1)[-1] not in {"REQUESTED", "direct_url.json"}}

    assert same(ours["files"]) == same(theirs["files"]) and "../../../bin/gamma-tool" in ours["files"]

    before = fresh_venv.freeze()
    failed = fresh_venv.run("modahub", "install", "modahub-delta", "--hub", str(hub_dir), env=venv_env, check=False)
    assert failed.returncode == 1 and "cannot install modahub_delta-0.1.0-py3-none-any.whl" in failed.stderr
    assert "the environment was restored as it was" in failed.stderr and "Traceback" not in failed.stderr
    assert fresh_venv.freeze() == before and not (site / "modahub_delta").exists()
    assert not list(site.glob("modahub_delta*")) and not (fresh_venv.path / "bin" / "delta-tool").exists()
