"""End to end: render every kind with several modalities (three brand-new ones among them), publish each
to a temporary hub, install them from it into a fresh venv, run their generated tests and `modahub test`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from modahub.testing.rules import rules_for
from modahub_hub.scaffold import ScaffoldOptions, plugin_names, render

sys.path.insert(0, str(Path(__file__).parent))
from journey import PIP, Venv, new, own_tests, wheelhouse  # noqa: E402

PLUGINS = [  # name, kind, modality (spectrum, lightcurve and reading are new modalities the plugins register)
    ("jt-text", "encoder", "text"),
    ("jt-image", "encoder", "image"),
    ("jt-spectrum", "encoder", "spectrum"),
    ("jt-index", "indexer", "*"),
    ("jt-text-index", "indexer", "text"),
    ("jt-reading-index", "indexer", "reading"),
    ("jt-tones", "generator", "audio"),
    ("jt-series", "generator", "timeseries"),
    ("jt-lightcurve", "generator", "lightcurve"),
]
PLUGIN_TESTS = 2  # tests/test_plugin.py of each generated plugin


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> tuple[Venv, list[Path]]:
    """A fresh venv with every plugin rendered, published to a temporary hub and installed from it."""
    from modahub_hub.hub.publish import init_hub, publish
    from modahub_hub.hub.signing import generate_key

    tmp = tmp_path_factory.mktemp("journey")
    config = tmp / "config"
    env = Venv.create(tmp / "venv", wheelhouse(tmp), {"MODAHUB_CONFIG_DIR": str(config)})
    (name, kind, modality), *others = PLUGINS
    folders = [new(env, tmp / "work", name, kind, modality)]  # the venv's own CLI: templates ship in the wheel
    for name, kind, modality in others:
        folders.append(tmp / "work" / f"modahub-{name}")
        render(ScaffoldOptions(plugin_names(name), kind=kind, modality=modality), folders[-1])
    subprocess.run([*PIP, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp / "wheels"), *map(str, folders)],
                   check=True, capture_output=True)
    mp = pytest.MonkeyPatch()
    mp.setenv("MODAHUB_CONFIG_DIR", str(config))  # the hub's trust store, shared with the venv
    mp.delenv("MODAHUB_HUB_KEY", raising=False)
    try:
        key = generate_key(tmp / "hub.key")
        init_hub(str(tmp / "hub"), key=key)
        for wheel in sorted((tmp / "wheels").glob("*.whl")):
            publish(wheel, str(tmp / "hub"), key=key, owner="journey")
    finally:
        mp.undo()
    env.modahub("install", *(f.name for f in folders), "--hub", str(tmp / "hub"))
    return env, folders


@pytest.mark.slow
def test_installed_from_the_hub_and_listed(journey):
    env, _ = journey
    assert {name for name, _, _ in PLUGINS} <= env.listed()
    installed = {p["name"]: p["version"] for p in json.loads(env.run("python", "-m", "pip", "list", "--format", "json").stdout)}
    assert {f"modahub-{name}": "0.1.0" for name, _, _ in PLUGINS}.items() <= installed.items(), installed
    assert os.environ.get("MODAHUB_CONFIG_DIR") != env.env["MODAHUB_CONFIG_DIR"]


@pytest.mark.slow
def test_generated_tests_pass_in_the_fresh_venv(journey):
    env, folders = journey
    summary = own_tests(env, folders)
    expected = sum(len(rules_for(kind)) + PLUGIN_TESTS for _, kind, _ in PLUGINS)
    assert summary.startswith(f"{expected} passed in"), summary  # nothing failed, skipped or errored


@pytest.mark.slow
def test_modahub_test_passes_on_every_installed_plugin(journey):
    env, _ = journey
    reports = json.loads(env.modahub("test", *(name for name, _, _ in PLUGINS), "--json").stdout)
    assert [r["plugin"] for r in reports] == [f"modahub-{name}" for name, _, _ in PLUGINS]
    for report, (_, kind, _) in zip(reports, PLUGINS, strict=True):
        assert report["ok"] and [r["rule"] for r in report["results"]] == [r.id for r in rules_for(kind)], report


@pytest.mark.slow
def test_the_modahub_wheel_ships_every_template(journey):
    env, _ = journey
    listing = env.run("python", "-c", "from modahub_hub.scaffold.render import templates_root as t; "
                                      "print('\\n'.join(sorted(p.relative_to(t()).as_posix() for p in t().rglob('*.jinja'))))")
    repo = Path(__file__).resolve().parents[2] / "templates" / "plugin"
    assert listing.stdout.splitlines() == sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*.jinja"))
    assert "site-packages" in env.run("python", "-c", "import modahub_hub; print(modahub_hub.__file__)").stdout
