"""A plugin stays inside its own files: at publish, at install (before pip runs) and at uninstall, against
wheels and RECORDs crafted to reach modahub's own code, other distributions and the rest of the venv."""

from __future__ import annotations

import importlib.metadata as md
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from crafted import add_file, resign
from hub_wheels import make_wheel, publish_unchecked

from modahub_hub.cli import cli
from modahub_hub.hub import HubError
from modahub_hub.hub import install as install_module
from modahub_hub.hub.backends import FolderBackend
from modahub_hub.hub.confine import confined_record
from modahub_hub.hub.pipenv import installed
from modahub_hub.hub.trust import load_verified

SCRIPT_EP = "[modahub]\nevil = modahub_evil.plugin\n[console_scripts]\n{} = modahub_evil.plugin:main\n"
HOSTILE = [
    ({"extra_files": {"../evil.py": b""}}, "outside site-packages"),
    ({"extra_files": {"/etc/evil.py": b""}}, "outside site-packages"),
    ({"extra_files": {"modahub_hub/cli.py": b"print('owned')"}}, "'modahub_hub' is modahub's own package"),
    ({"extra_files": {"modahub/__init__.py": b""}}, "'modahub' is modahub's own package"),
    ({"extra_files": {"evil.pth": b"import os"}}, "run code at every Python start-up"),
    ({"extra_files": {"sitecustomize.py": b""}}, "run code at every Python start-up"),
    ({"extra_files": {"modahub_evil-0.1.0.data/data/bin/modahub": b"#!/bin/sh"}}, r"\.data/data is refused"),
    ({"extra_files": {"modahub_evil-0.1.0.data/headers/x.h": b""}}, r"\.data/headers is refused"),
    ({"extra_files": {"click-8.0.dist-info/RECORD": b""}}, "another distribution's metadata folder"),
    ({"entry_points": SCRIPT_EP.format("modahub")}, "script 'modahub' is modahub's own command"),
    ({"entry_points": SCRIPT_EP.format("../../x")}, "is not a plain file name"),
    ({"extra_record": ("../../../bin/python,,",)}, r"RECORD lists '\.\./\.\./\.\./bin/python'"),
    ({"extra_record": ("modahub_hub/cli.py,,",)}, "RECORD lists 'modahub_hub/cli.py'"),
]


@pytest.mark.parametrize(("options", "error"), HOSTILE)
def test_publish_refuses_a_wheel_that_reaches_beyond_its_files(hub_dir, key, wheel, options, error):
    with pytest.raises(HubError, match=error):
        publish_unchecked(wheel("modahub-evil", **options), str(hub_dir), key=key, owner="mallory")
    assert load_verified(FolderBackend(hub_dir)).plugins == {}


def _smuggle(hub_dir, key, tmp_path, **options) -> None:
    """Put a wheel that publish would refuse into the hub anyway (signed by the key holder, or published before the rule)."""
    publish_unchecked(make_wheel(tmp_path / "clean", "modahub-evil"), str(hub_dir), key=key, owner="mallory")
    bad = make_wheel(tmp_path / "bad", "modahub-evil", "0.2.0", **options)
    art = add_file(hub_dir, f"artifacts/{bad.name}", bad)

    def edit(data):
        versions = data["plugins"]["modahub-evil"]["versions"]
        versions["0.2.0"] = dict(versions["0.1.0"], version="0.2.0", artifact=art, published_at="2030-01-01T00:00:00Z")

    resign(hub_dir, key, edit)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        *HOSTILE[2:4],
        *HOSTILE[-2:],
        ({"entry_points": SCRIPT_EP.format("pip")}, "script 'pip' belongs to pip"),
        ({"extra_files": {"click/__init__.py": b""}}, "package 'click' belongs to click"),
        ({"extra_files": {"modahub_evil-0.2.0.data/purelib/click/core.py": b""}}, "package 'click' belongs to click"),
    ],
)
def test_install_refuses_a_signed_wheel_that_reaches_beyond_its_files(hub_dir, key, tmp_path, monkeypatch, options, error):
    calls = []
    monkeypatch.setattr(install_module, "pip_install", lambda wheels, reqs, txn, weights=(): calls.append(wheels))
    _smuggle(hub_dir, key, tmp_path, **options)
    result = CliRunner().invoke(cli, ["install", "modahub-evil==0.2.0", "--hub", str(hub_dir)])
    assert result.exit_code == 1, result.output
    assert "refused" in result.stderr and "Traceback" not in result.stderr
    assert __import__("re").search(error, result.stderr), result.stderr
    assert calls == []


def test_uninstall_keeps_record_entries_outside_the_distribution():
    """confined_record on a real installed distribution whose RECORD also names other distributions' files."""

    class Hostile(md.PathDistribution):
        def read_text(self, filename):
            text = super().read_text(filename)
            extra = ["../../../bin/python", "/etc/passwd", "pydantic/main.py", "modahub_hub/cli.py", "../../../bin/pip"]
            return text + "".join(f"{e},,\n" for e in extra) if filename == "RECORD" and text else text

    click_dist = md.distribution("click")
    keep, refused = confined_record(Hostile(click_dist._path), installed())
    assert set(refused) == {"../../../bin/python", "/etc/passwd", "pydantic/main.py", "modahub_hub/cli.py", "../../../bin/pip"}
    assert "click/core.py" in keep and "click-" in next(k for k in keep if k.endswith("RECORD"))


@pytest.mark.slow
def test_uninstall_in_a_real_venv_deletes_only_the_plugins_own_files(fresh_venv, user_config, tmp_path):
    """A plugin installed by plain pip keeps its wheel's RECORD rows; 'modahub uninstall' must not follow them out."""
    env = {"MODAHUB_CONFIG_DIR": str(user_config)}
    site = Path(fresh_venv.run("python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip())
    victim = fresh_venv.path / "victim.txt"
    victim.write_text("keep me")
    rel = os.path.relpath(victim, site)
    path = make_wheel(tmp_path, "modahub-evil", extra_record=(f"{rel},,", "modahub_hub/cli.py,,"))
    fresh_venv.run("python", "-m", "pip", "install", "-q", "--no-deps", str(path))
    record = next(site.glob("modahub_evil-0.1.0.dist-info")) / "RECORD"
    assert rel in record.read_text()  # pip kept the hostile rows
    result = fresh_venv.run("modahub", "uninstall", "modahub-evil", env=env)
    assert victim.read_text() == "keep me" and (site / "modahub_hub" / "cli.py").is_file()
    assert f"kept modahub-evil: {rel}" in result.stderr and not (site / "modahub_evil").exists()


@pytest.mark.parametrize("filename", ["../../evil-0.1.0-py3-none-any.whl", "/tmp/modahub_evil-0.1.0-py3-none-any.whl",
                                      "sub/modahub_evil-0.1.0-py3-none-any.whl", "modahub_other-0.1.0-py3-none-any.whl",
                                      "modahub_evil-0.9.0-py3-none-any.whl", "modahub_evil-0.1.0-py3-none-any.whl\n"])
def test_an_artifact_file_name_is_never_a_path(hub_dir, key, tmp_path, filename):
    """pull and install write the wheel under its registry file name: the schema refuses anything but its own plain name."""
    publish_unchecked(make_wheel(tmp_path / "w", "modahub-evil"), str(hub_dir), key=key, owner="mallory")
    resign(hub_dir, key, lambda data: data["plugins"]["modahub-evil"]["versions"]["0.1.0"]["artifact"].update(filename=filename))
    dest = tmp_path / "deep" / "down" / "dl"
    result = CliRunner().invoke(cli, ["pull", "modahub-evil", "--hub", str(hub_dir), "-d", str(dest)])
    assert result.exit_code == 1 and "not a valid modahub registry" in result.stderr and "wheel file" in result.stderr
    assert not (tmp_path / "deep" / "evil-0.1.0-py3-none-any.whl").exists() and not dest.exists()
