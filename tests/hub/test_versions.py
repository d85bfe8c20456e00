"""PEP 440 versions and the plugin lock: one version has one set of bytes, whatever its spelling, and
``install -r plugins.lock`` installs exactly the locked bytes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from crafted import add_file, resign
from hub_wheels import publish_unchecked

from modahub_hub.cli import cli
from modahub_hub.hub import HubError
from modahub_hub.hub import install as install_module
from modahub_hub.hub.backends import FolderBackend
from modahub_hub.hub.trust import load_verified


@pytest.fixture
def pip_calls(monkeypatch):
    """pip replaced by a recorder: what would have been installed."""
    calls: list[list[Path]] = []
    monkeypatch.setattr(install_module, "pip_install", lambda wheels, reqs, txn, weights=(): calls.append(wheels))
    return calls


SPELLINGS = [("0.2.0", "0.2"), ("0.2", "0.2.0"), ("1.0a1", "1.0.0.ALPHA1"), ("1!0.1", "1!0.1.0")]


@pytest.mark.parametrize(("first", "again"), SPELLINGS)
def test_every_spelling_of_a_published_version_is_already_published(hub_dir, key, wheel, first, again):
    publish_unchecked(wheel("modahub-toy", first), str(hub_dir), key=key, owner="acme")
    with pytest.raises(HubError, match=rf"modahub-toy {again} is already published \(as {first}"):
        publish_unchecked(wheel("modahub-toy", again), str(hub_dir), key=key, owner="acme")
    assert list(load_verified(FolderBackend(hub_dir)).plugins["modahub-toy"].versions) == [first]


def test_a_version_is_stored_in_its_normal_form(hub_dir, key, wheel):
    entry = publish_unchecked(wheel("modahub-toy", "1.0.0.ALPHA1"), str(hub_dir), key=key, owner="acme")
    assert entry.version == "1.0.0a1"
    assert list(load_verified(FolderBackend(hub_dir)).plugins["modahub-toy"].versions) == ["1.0.0a1"]


def _add_shadow(hub_dir, key, wheel) -> None:
    """A registry signed before the rule existed: '0.2' published after '0.2.0', with other bytes."""
    shadow = wheel("modahub-toy", "0.2", summary="shadow")
    art = add_file(hub_dir, f"artifacts/{shadow.name}", shadow)

    def edit(data):
        versions = data["plugins"]["modahub-toy"]["versions"]
        entry = dict(versions["0.2.0"], version="0.2", artifact=art, published_at="2099-01-01T00:00:00Z")
        versions["0.2"] = entry

    resign(hub_dir, key, edit)


@pytest.mark.parametrize("spec", ["modahub-toy==0.2.0", "modahub-toy==0.2", "modahub-toy"])
def test_install_never_picks_a_shadow_spelling(hub_dir, key, wheel, pip_calls, spec):
    publish_unchecked(wheel("modahub-toy", "0.2.0"), str(hub_dir), key=key, owner="acme")
    _add_shadow(hub_dir, key, wheel)
    result = CliRunner().invoke(cli, ["install", spec, "--hub", str(hub_dir)])
    assert result.exit_code == 0, result.output
    assert [w.name for w in pip_calls[0]] == ["modahub_toy-0.2.0-py3-none-any.whl"]


def test_install_from_the_lock_refuses_bytes_that_changed(hub_dir, key, wheel, pip_calls, user_config, tmp_path):
    original = wheel("modahub-toy", "0.1.0")
    publish_unchecked(original, str(hub_dir), key=key, owner="acme")
    assert CliRunner().invoke(cli, ["install", "modahub-toy", "--hub", str(hub_dir)]).exit_code == 0
    lock = tmp_path / "plugins.lock"
    shutil.copy(user_config / "plugins.lock", lock)
    # the key holder replaces 0.1.0 with other bytes under the same name and version
    other = wheel("modahub-toy", "0.1.0", summary="replaced")
    art = add_file(hub_dir, f"artifacts/{other.name}", other)
    resign(hub_dir, key, lambda data: data["plugins"]["modahub-toy"]["versions"]["0.1.0"].update(artifact=art))
    result = CliRunner().invoke(cli, ["install", "-r", str(lock), "--force"])
    assert result.exit_code == 3
    assert "lock check failed" in result.stderr and "nothing installed" in result.stderr and "Traceback" not in result.stderr
    assert len(pip_calls) == 1  # only the first install reached pip


def test_install_from_the_lock_with_matching_bytes(hub_dir, key, wheel, pip_calls, user_config, tmp_path):
    publish_unchecked(wheel("modahub-toy", "0.1.0"), str(hub_dir), key=key, owner="acme")
    publish_unchecked(wheel("modahub-toy", "0.2.0"), str(hub_dir), key=key, owner="acme")
    assert CliRunner().invoke(cli, ["install", "modahub-toy==0.1.0", "--hub", str(hub_dir)]).exit_code == 0
    lock = tmp_path / "plugins.lock"
    shutil.copy(user_config / "plugins.lock", lock)
    result = CliRunner().invoke(cli, ["install", "-r", str(lock), "--force"])
    assert result.exit_code == 0, result.output
    assert [w.name for w in pip_calls[1]] == ["modahub_toy-0.1.0-py3-none-any.whl"]
