"""Publishing to a folder hub: layout, validation, name policy, search and info through the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hub_wheels import EXACT_INDEX_VERSION, publish_unchecked

from modahub_hub.cli import cli
from modahub_hub.hub import HubError
from modahub_hub.hub.backends import FolderBackend
from modahub_hub.hub.publish import publish
from modahub_hub.hub.registry import Registry
from modahub_hub.hub.signing import generate_key
from modahub_hub.hub.trust import load_verified


def _registry(hub_dir: Path) -> Registry:
    return load_verified(FolderBackend(hub_dir))


def test_publish_writes_the_whole_layout(hub_dir, key, wheel):
    path = wheel("modahub-toy-text", kind="encoder", modalities=("text",), summary="toy text encoder")
    entry = publish_unchecked(path, str(hub_dir), key=key, owner="acme")
    registry = _registry(hub_dir)
    assert registry.version == 2
    plugin = registry.plugins["modahub-toy-text"]
    assert plugin.owner == "acme" and plugin.dist_tags == {"latest": "0.1.0"}
    assert entry.manifest.executors[0].space == "test-space" and entry.requires_core == "<0.3,>=0.2"
    assert entry.artifact.size == path.stat().st_size
    assert (hub_dir / entry.artifact.url).read_bytes() == path.read_bytes()
    page = (hub_dir / "simple" / "modahub-toy-text" / "index.html").read_text()
    link = re.search(r'href="([^"#]+)#sha256=([0-9a-f]{64})"', page)
    assert link and link.group(2) == entry.artifact.sha256
    assert (hub_dir / "simple" / "modahub-toy-text" / link.group(1)).resolve() == (hub_dir / entry.artifact.url).resolve()
    assert "modahub-toy-text/" in (hub_dir / "simple" / "index.html").read_text()
    assert "toy text encoder" in (hub_dir / "index.html").read_text()
    assert json.loads((hub_dir / "registry.schema.json").read_text())["title"] == "Registry"


def test_republishing_a_version_is_refused(hub_dir, key, wheel):
    publish_unchecked(wheel("modahub-toy"), str(hub_dir), key=key, owner="acme")
    with pytest.raises(HubError, match="already published.*never overwritten"):
        publish_unchecked(wheel("modahub-toy"), str(hub_dir), key=key, owner="acme")
    publish_unchecked(wheel("modahub-toy", "0.2.0"), str(hub_dir), key=key, owner="acme")
    assert _registry(hub_dir).plugins["modahub-toy"].dist_tags["latest"] == "0.2.0"


@pytest.mark.parametrize("lookalike", ["modahub-exact_1ndex", "Modahub.Exact-Index0", "modahub-exactindex"])
def test_lookalike_names_of_another_owner_are_refused(hub_dir, key, wheel, lookalike):
    publish_unchecked(wheel("modahub-exact-index"), str(hub_dir), key=key, owner="modahub")
    if lookalike == "Modahub.Exact-Index0":  # not a look-alike: the extra 0 makes it different
        publish_unchecked(wheel(lookalike, executor="other"), str(hub_dir), key=key, owner="mallory")
        return
    with pytest.raises(HubError, match="looks like 'modahub-exact-index'.*name policy"):
        publish_unchecked(wheel(lookalike, executor="other"), str(hub_dir), key=key, owner="mallory")


def test_same_name_of_another_owner_is_refused(hub_dir, key, wheel):
    publish_unchecked(wheel("modahub-toy"), str(hub_dir), key=key, owner="acme")
    with pytest.raises(HubError, match="belongs to owner 'acme'"):
        publish_unchecked(wheel("modahub_toy", "0.2.0", executor="toy"), str(hub_dir), key=key, owner="mallory")


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"extra_files": {"modahub_bad/weights.pt": b"\x80\x04K\x01."}}, "could run code when loaded is refused"),
        ({"extra_files": {"modahub_bad/weights.dat": b"\x80\x04K\x01."}}, "could run code when loaded is refused"),
        ({"extra_files": {"modahub_bad/weights.dat": b"\x80\x05\x95junk"}}, "starts like a pickle"),
        ({"entry_points": "[console_scripts]\nx = y:z\n"}, "exactly one entry point in group 'modahub'"),
        ({"entry_points": "[modahub]\nbad = other_pkg.plugin\n"}, "other_pkg/modahub.toml is not in the wheel"),
        ({"manifest": "[[executors]]\nname = 'bad'\nkind = 'sorter'\nmodalities = ['*']\n"}, "invalid manifest"),
        ({"extra_files": {"../evil.py": b""}}, "outside site-packages"),
    ],
)
def test_invalid_wheels_are_refused_with_the_reason(hub_dir, key, wheel, options, error):
    with pytest.raises(HubError, match=error):
        publish_unchecked(wheel("modahub-bad", **options), str(hub_dir), key=key)
    assert _registry(hub_dir).plugins == {}


def test_a_key_the_hub_does_not_list_cannot_publish(hub_dir, wheel, tmp_path):
    stranger = generate_key(tmp_path / "stranger.key")
    with pytest.raises(HubError, match="not a signing key of"):
        publish_unchecked(wheel("modahub-toy"), str(hub_dir), key=stranger)


def test_search_and_info_read_the_registry(hub_dir, key, wheel):
    publish_unchecked(wheel("modahub-toy-text", kind="encoder", modalities=("text",), summary="words"), str(hub_dir), key=key)
    publish_unchecked(wheel("modahub-toy-image", kind="encoder", modalities=("image",), summary="pixels"), str(hub_dir), key=key)
    gen = wheel("modahub-toy-gen", kind="generator", modalities=("text",), summary="makes text")
    publish_unchecked(gen, str(hub_dir), key=key)
    runner = CliRunner()

    def names(*args: str) -> list[str]:
        result = runner.invoke(cli, ["search", *args, "--hub", str(hub_dir), "--json"])
        assert result.exit_code == 0, result.output
        return [p["name"] for p in json.loads(result.output)["data"]]

    assert names() == ["modahub-toy-gen", "modahub-toy-image", "modahub-toy-text"]
    assert names("--modality", "image") == ["modahub-toy-image"]
    assert names("--kind", "generator") == ["modahub-toy-gen"]
    assert names("pixels") == ["modahub-toy-image"]
    table = runner.invoke(cli, ["search", "toy", "--hub", str(hub_dir)])
    assert table.exit_code == 0 and "modahub-toy-gen" in table.output

    info = runner.invoke(cli, ["info", "modahub-toy-image", "--hub", str(hub_dir), "--json"])
    assert info.exit_code == 0, info.output
    data = json.loads(info.output)["data"]
    assert data["found"] == "hub" and data["installed"] is None and data["executor"] is None
    assert data["plugin"]["modalities"] == ["image"] and data["plugin"]["versions"] == ["0.1.0"]
    missing = runner.invoke(cli, ["info", "nothing-like-it", "--hub", str(hub_dir)])
    assert missing.exit_code == 2 and "neither installed nor in hub" in missing.output


def test_cli_publish_errors_go_to_stderr_without_traceback(hub_dir, key, exact_index_wheel):
    runner = CliRunner()
    path = exact_index_wheel
    ok = runner.invoke(cli, ["publish", str(path), "--hub", str(hub_dir), "--key", str(key.path)])
    assert ok.exit_code == 0 and f"published modahub_exact_index-{EXACT_INDEX_VERSION}" in ok.output
    again = runner.invoke(cli, ["publish", str(path), "--hub", str(hub_dir), "--key", str(key.path)])
    assert again.exit_code == 1
    assert f"Error: modahub-exact-index {EXACT_INDEX_VERSION} is already published" in again.stderr
    assert "Traceback" not in again.stderr


def test_exact_index_folder_publishes_from_source(hub_dir, key, exact_index_wheel):
    entry = publish(exact_index_wheel, str(hub_dir), key=key, owner="modahub")
    assert entry.entry_point == "exact-index = modahub_exact_index.plugin"
    assert [e.name for e in entry.manifest.executors] == ["exact-index"]


def test_publish_runs_the_executor_contract_and_refuses_a_breaking_plugin(hub_dir, key, wheel):
    """The synthetic wheel's indexer implements none of the index methods: the contract fails, nothing lands."""
    before = (hub_dir / "registry.json").read_bytes()
    with pytest.raises(HubError, match=r"executor contract check failed for modahub_hollow-0.1.0-py3-none-any.whl: .*hollow"):
        publish(wheel("modahub-hollow"), str(hub_dir), key=key, owner="acme")
    assert (hub_dir / "registry.json").read_bytes() == before


def test_a_plugin_folder_given_as_a_relative_path_builds(monkeypatch, tmp_path):
    """'modahub publish my-plugin' from the folder above it: pip must see a path, not a requirement name."""
    from modahub_hub.hub.build import build_wheel

    monkeypatch.chdir(Path(__file__).resolve().parents[2] / "plugins")
    wheel = build_wheel(Path("exact-index"), tmp_path)
    assert wheel.name == f"modahub_exact_index-{EXACT_INDEX_VERSION}-py3-none-any.whl"


def test_non_ascii_author_and_summary_publish_and_show_on_every_page(hub_dir, key, wheel):
    summary = "Colour histograms — fast, in “one” pass"
    publish_unchecked(wheel("modahub-colours", author="José Müller", summary=summary), str(hub_dir), key=key)
    plugin = load_verified(FolderBackend(hub_dir)).plugins["modahub-colours"]
    assert (plugin.owner, plugin.summary) == ("José Müller", summary)
    page = (hub_dir / "index.html").read_text(encoding="utf-8")
    assert "José Müller" in page and "Colour histograms — fast, in “one” pass" in page and 'charset="utf-8"' in page
    found = json.loads(CliRunner().invoke(cli, ["search", "colour", "--json", "--hub", str(hub_dir)]).output)["data"]
    assert (found[0]["owner"], found[0]["summary"]) == ("José Müller", summary)
    info = CliRunner().invoke(cli, ["info", "modahub-colours", "--hub", str(hub_dir)])
    assert "José Müller" in info.output and "—" in info.output


def test_hub_files_are_world_readable_whatever_the_umask(tmp_path, key, wheel):
    import os

    from modahub_hub.hub.publish import init_hub

    old = os.umask(0o077)
    try:
        init_hub(str(tmp_path / "hub"), key=key)
        publish_unchecked(wheel("modahub-toy"), str(tmp_path / "hub"), key=key)
    finally:
        os.umask(old)
    modes = {p.relative_to(tmp_path).as_posix(): p.stat().st_mode & 0o777 for p in (tmp_path / "hub").rglob("*")
             if p.name != ".modahub-hub.lock"}
    assert modes["hub/registry.json"] == 0o644 and modes["hub/artifacts"] == 0o755
    assert {m for p, m in modes.items() if (tmp_path / p).is_file()} == {0o644}, modes
    assert {m for p, m in modes.items() if (tmp_path / p).is_dir()} == {0o755}, modes
    assert (tmp_path / "hub").stat().st_mode & 0o777 == 0o755
