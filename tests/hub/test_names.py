"""Plugin names: ASCII PEP 508 names only, look-alikes refused whoever owns the original, and every hub
page escapes what it prints."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from crafted import resign
from hub_wheels import publish_unchecked

from modahub_hub.cli import cli
from modahub_hub.hub import HubError
from modahub_hub.hub.backends import FolderBackend
from modahub_hub.hub.layout import directory_page, simple_pages
from modahub_hub.hub.trust import load_verified

BAD_NAMES = ["has space", "modahub-<script>", "modahub-t\u043ey", "modahub-toy\u200b", "-leading", "modahub-ﬁ"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_names_that_are_not_ascii_package_names_are_refused_by_validation(hub_dir, key, wheel, name):
    path = wheel(name)
    result = CliRunner().invoke(cli, ["publish", str(path), "--hub", str(hub_dir), "--key", str(key.path), "--owner", "x"])
    assert result.exit_code != 0
    assert "is not a plugin name" in result.stderr or "not a wheel file name" in result.stderr, result.output
    assert "Traceback" not in result.output + result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert load_verified(FolderBackend(hub_dir)).plugins == {}


@pytest.mark.parametrize("name", ["has space", "modahub-<b>x", "modahub-t\u043ey"])
def test_a_signed_registry_holding_a_bad_name_is_refused_in_one_line(hub_dir, key, wheel, name):
    publish_unchecked(wheel("modahub-toy"), str(hub_dir), key=key, owner="acme")
    resign(hub_dir, key, lambda data: data["plugins"]["modahub-toy"].update(name=name))
    result = CliRunner().invoke(cli, ["search", "--hub", str(hub_dir)])
    assert result.exit_code == 1 and "not a valid modahub registry" in result.stderr and "not a plugin name" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_owners_own_lookalike_needs_the_flag(hub_dir, key, wheel):
    publish_unchecked(wheel("modahub-toy"), str(hub_dir), key=key, owner="acme")
    with pytest.raises(HubError, match="looks like 'modahub-toy'.*--allow-lookalike"):
        publish_unchecked(wheel("modahub_t0y", executor="t0y"), str(hub_dir), key=key, owner="acme")
    publish_unchecked(wheel("modahub_t0y", executor="t0y"), str(hub_dir), key=key, owner="acme", allow_lookalike=True)
    assert sorted(load_verified(FolderBackend(hub_dir)).plugins) == ["modahub-t0y", "modahub-toy"]


def test_the_flag_does_not_open_another_owners_lookalike(hub_dir, key, wheel):
    publish_unchecked(wheel("modahub-toy"), str(hub_dir), key=key, owner="acme")
    with pytest.raises(HubError, match="looks like 'modahub-toy' \\(owner 'acme'\\)"):
        publish_unchecked(wheel("modahub-T0Y", executor="t0y"), str(hub_dir), key=key, owner="mallory", allow_lookalike=True)


def test_cli_flag_allow_lookalike(hub_dir, key, wheel, monkeypatch):
    from modahub_hub.hub import publish as publish_module

    monkeypatch.setattr(publish_module, "_check_contract", lambda wheel: None)  # synthetic executors; the name is the point
    publish_unchecked(wheel("modahub-toy"), str(hub_dir), key=key, owner="acme")
    path = wheel("modahub-t0y", executor="t0y")
    args = ["publish", str(path), "--hub", str(hub_dir), "--key", str(key.path), "--owner", "acme"]
    refused = CliRunner().invoke(cli, args)
    assert refused.exit_code == 1 and "looks like" in refused.stderr
    allowed = CliRunner().invoke(cli, [*args, "--allow-lookalike"])
    assert allowed.exit_code == 0, allowed.output


HOSTILE = '<script>alert(1)</script>"\'&'


def test_every_page_escapes_what_it_prints(hub_dir, key, wheel):
    publish_unchecked(wheel("modahub-toy", summary="x"), str(hub_dir), key=key, owner="acme")

    def edit(data):
        plugin = data["plugins"]["modahub-toy"]
        plugin.update(summary=HOSTILE, owner=HOSTILE, license=HOSTILE, status_reason=HOSTILE)
        version = plugin["versions"]["0.1.0"]
        version.update(requires_python=">=3.10", yanked=True, yanked_reason=HOSTILE)
        version["manifest"]["executors"][0]["summary"] = HOSTILE

    resign(hub_dir, key, edit)
    registry = load_verified(FolderBackend(hub_dir))
    pages = [content.decode() for _, content in simple_pages(registry)] + [directory_page(registry).decode()]
    for page in pages:
        assert "<script>alert" not in page and "'&" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[-1]
    assert 'data-yanked="&lt;script&gt;' in pages[1]


@pytest.mark.parametrize("url", ["javascript:alert(1)", "/etc/passwd", "../../outside.whl", "file:///etc/passwd",
                                 "artifacts/../../x.whl", "//evil.example/x.whl"])
def test_artifact_urls_are_http_or_inside_the_hub(hub_dir, key, wheel, url):
    publish_unchecked(wheel("modahub-toy"), str(hub_dir), key=key, owner="acme")
    resign(hub_dir, key, lambda data: data["plugins"]["modahub-toy"]["versions"]["0.1.0"]["artifact"].update(url=url))
    result = CliRunner().invoke(cli, ["search", "--hub", str(hub_dir), "--json"])
    assert result.exit_code == 1 and "url" in result.stderr and "not a valid modahub registry" in result.stderr


@pytest.mark.parametrize("requirement", ["modahub-t\u043ey", "has space", "modahub-<b>", "modahub-toy==\u0661"])
def test_install_of_a_name_that_is_no_package_name_is_one_line(hub_dir, requirement):
    result = CliRunner().invoke(cli, ["install", requirement, "--hub", str(hub_dir)])
    assert result.exit_code == 1 and "is not NAME or NAME==VERSION" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.isascii()
