"""Trust belongs to a hub's identity, not to the string used to reach it: one hub reached as a folder and
over HTTP (a real http.server on 127.0.0.1) is trusted once and has one rollback state; a different hub
later served at a location used before is refused, never silently re-pinned. Legacy and TUF hubs."""

from __future__ import annotations

import shutil
from pathlib import Path

from click.testing import CliRunner
from hub_wheels import publish_unchecked

from modahub_hub.cli import cli
from modahub_hub.hub.backends import FolderBackend
from modahub_hub.hub.publish import init_hub
from modahub_hub.hub.signing import SigningKey, generate_key
from modahub_hub.hub.tuf_ops import create


def _search(hub: str | Path, *extra: str):
    return CliRunner().invoke(cli, ["search", "toy", "--hub", str(hub), *extra])


def _someone_else(monkeypatch, tmp_path: Path) -> None:
    """Switch to a user who has never used any of these hubs."""
    monkeypatch.setenv("MODAHUB_CONFIG_DIR", str(tmp_path / "someone-else"))


def _replace(site: Path, source: Path) -> None:
    """What a web host serves at ``site`` becomes a copy of ``source``."""
    shutil.rmtree(site, ignore_errors=True)
    shutil.copytree(source, site)


def _legacy(where: Path, key: SigningKey, wheel) -> Path:
    init_hub(str(where), key=key)
    publish_unchecked(wheel("modahub-toy"), str(where), key=key, owner="acme")
    return where


def _tuf(where: Path, key: SigningKey, wheel) -> Path:
    create(FolderBackend(where), [key])
    publish_unchecked(wheel("modahub-toy"), str(where), key=key, owner_key=key)
    return where


def _publish_newer(hub: Path, key: SigningKey, wheel, tuf: bool) -> None:
    owner = {"owner_key": key} if tuf else {"owner": "acme"}
    publish_unchecked(wheel("modahub-toy", "0.2.0"), str(hub), key=key, **owner)


def _one_hub_over_folder_and_http(tmp_path, key, wheel, monkeypatch, serve_folder, make) -> None:
    hub = make(tmp_path / "hub", key, wheel)
    url = serve_folder(hub)
    _someone_else(monkeypatch, tmp_path)
    first = _search(url)
    assert first.exit_code == 1 and "not trusted yet" in first.stderr  # a new user, over HTTP: first use
    assert _search(hub, "--trust", key.public.text).exit_code == 0  # trusted once, as a folder
    over_http = _search(url)
    assert over_http.exit_code == 0 and "modahub-toy" in over_http.output, over_http.output  # no second trust
    old = tmp_path / "old-copy"
    shutil.copytree(hub, old)
    _publish_newer(hub, key, wheel, tuf=make is _tuf)
    assert _search(url).exit_code == 0  # the newer hub, seen over HTTP...
    stale = _search(old)
    assert stale.exit_code == 3 and "rollback check failed" in stale.stderr  # ...makes an old copy elsewhere a rollback


def test_a_legacy_hub_as_a_folder_and_over_http_is_one_hub(tmp_path, key, wheel, monkeypatch, serve_folder):
    _one_hub_over_folder_and_http(tmp_path, key, wheel, monkeypatch, serve_folder, _legacy)


def test_a_tuf_hub_as_a_folder_and_over_http_is_one_hub(tmp_path, key, wheel, monkeypatch, serve_folder):
    _one_hub_over_folder_and_http(tmp_path, key, wheel, monkeypatch, serve_folder, _tuf)


def test_a_different_legacy_hub_at_a_url_used_before_is_refused(tmp_path, key, wheel, monkeypatch, serve_folder):
    _someone_else(monkeypatch, tmp_path)
    theirs = _legacy(tmp_path / "theirs", key, wheel)  # made with the same key, by someone else
    monkeypatch.setenv("MODAHUB_CONFIG_DIR", str(tmp_path / "config"))
    ours = _legacy(tmp_path / "ours", key, wheel)
    site = tmp_path / "site"
    _replace(site, ours)
    url = serve_folder(site)
    assert _search(url).exit_code == 0
    _replace(site, theirs)
    refused = _search(url)
    assert refused.exit_code == 1 and "not trusted yet" in refused.stderr
    wrong = _search(url, "--trust", generate_key(tmp_path / "k2.key").public.text)
    assert wrong.exit_code != 0 and "does not sign" in wrong.stderr


def test_a_different_tuf_hub_at_a_url_used_before_is_refused_until_trusted_explicitly(
        tmp_path, key, wheel, monkeypatch, serve_folder):
    other = generate_key(tmp_path / "other.key")
    ours, theirs = _tuf(tmp_path / "ours", key, wheel), _tuf(tmp_path / "theirs", other, wheel)  # both trusted here
    site = tmp_path / "site"
    _replace(site, ours)
    url = serve_folder(site)
    assert _search(url).exit_code == 0
    _replace(site, theirs)
    for attempt in (_search(url), _search(url, "--trust", other.public.text)):
        assert attempt.exit_code == 1 and "now serves a different hub" in attempt.stderr
        assert f"modahub hub trust {url}" in attempt.stderr
    assert _search(theirs).exit_code == 0  # the other hub itself is fine, as a folder
    wrong = CliRunner().invoke(cli, ["hub", "trust", url, key.public.text])
    assert wrong.exit_code == 1 and "does not sign" in wrong.stderr
    assert CliRunner().invoke(cli, ["hub", "trust", url, other.public.text]).exit_code == 0  # the explicit rebind
    assert _search(url).exit_code == 0


def test_a_tuf_hub_whose_metadata_vanished_from_a_url_is_not_read_as_legacy(tmp_path, key, wheel, serve_folder):
    hub = tmp_path / "hub"
    init_hub(str(hub), key=key)
    publish_unchecked(wheel("modahub-toy"), str(hub), key=key, owner="acme")
    from modahub_hub.hub.tuf_ops import migrate
    from modahub_hub.hub.tuf_repo import Settings

    migrate(FolderBackend(hub), key, Settings())
    url = serve_folder(hub)
    assert _search(url).exit_code == 0  # read through TUF (trusted through the legacy hub it was migrated from)
    shutil.rmtree(hub / "tuf")
    downgraded = _search(url)
    assert downgraded.exit_code == 1 and "tuf/metadata/timestamp.json not found" in downgraded.stderr
