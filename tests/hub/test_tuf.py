"""TUF hubs, played as an attacker would: forged owner metadata, keys that do not own a name, rotated root
and owner keys, thresholds, expired and rolled-back metadata — each refused by the client (python-tuf's
ngclient) or by the writer, with the failed check named; and the key holder's recovery paths."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hub_wheels import publish_unchecked

from modahub_hub.cli import cli
from modahub_hub.hub import HubError, tuf_repo
from modahub_hub.hub.backends import FolderBackend, open_backend
from modahub_hub.hub.client import Hub
from modahub_hub.hub.publish import init_hub
from modahub_hub.hub.publish import yank as legacy_yank
from modahub_hub.hub.signing import SigningKey, generate_key
from modahub_hub.hub.trust import trust_hub
from modahub_hub.hub.tuf_hub import TufHub
from modahub_hub.hub.tuf_layout import METADATA_DIR, plugin_target, signer
from modahub_hub.hub.tuf_ops import create, delegate, migrate, refresh, revoke, rotate_owner, rotate_root, set_status
from modahub_hub.hub.tuf_repo import Keyring, Settings, Transaction, apply


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, SigningKey]:
    return {who: generate_key(tmp_path / "keys" / f"{who}.key") for who in ("alice", "bob", "mallory", "root2", "root3")}


@pytest.fixture
def tuf_dir(tmp_path: Path, key: SigningKey) -> Path:
    create(FolderBackend(tmp_path / "tuf-hub"), [key])
    return tmp_path / "tuf-hub"


def _publish(wheel_path: Path, hub: Path | str, key: SigningKey, owner: SigningKey):
    return publish_unchecked(wheel_path, str(hub), key=key, owner_key=owner)


def _client(hub: Path | str) -> TufHub:
    """This user's client, which remembers the metadata it trusted before (rollback protection)."""
    opened = Hub.open(str(hub))
    assert isinstance(opened, TufHub)
    return opened


def test_first_publish_binds_the_name_to_its_owner_key_and_clients_verify_it(tuf_dir, key, keys, wheel, tmp_path):
    built = wheel("modahub-toy")
    entry = _publish(built, tuf_dir, key, keys["alice"])
    hub = Hub.open(str(tuf_dir))
    assert isinstance(hub, TufHub)
    plugin, found = hub.resolve("modahub-toy")
    assert found.version == entry.version == "0.1.0"
    assert plugin.owner == f"owner-{keys['alice'].public.keyid}"
    assert hub.download(found, tmp_path / "dl").read_bytes() == built.read_bytes()
    assert [r["name"] for r in hub.rows("toy")] == ["modahub-toy"]
    assert hub.rows("no-such-words") == []


def test_a_key_that_does_not_own_a_name_cannot_publish_it_even_with_the_hub_key(tuf_dir, key, keys, wheel):
    _publish(wheel("modahub-toy"), tuf_dir, key, keys["alice"])
    with pytest.raises(HubError, match="belongs to owner-.*delegation policy"):
        _publish(wheel("modahub-toy", "0.2.0"), tuf_dir, key, keys["mallory"])
    with pytest.raises(HubError, match="looks like 'modahub-toy'"):
        _publish(wheel("modahub_t0y", "0.1.0", executor="other"), tuf_dir, key, keys["mallory"])
    _publish(wheel("modahub-toy", "0.2.0"), tuf_dir, key, keys["alice"])
    assert Hub.open(str(tuf_dir)).resolve("modahub-toy")[1].version == "0.2.0"


def test_owner_metadata_signed_by_another_key_is_refused_by_clients(tuf_dir, key, keys, wheel, monkeypatch):
    """The attacker holds the hub's key and storage, and re-signs alice's role with its own key."""
    _publish(wheel("modahub-toy"), tuf_dir, key, keys["alice"])
    Hub.open(str(tuf_dir))  # the client has seen the honest hub
    real = Keyring.signers_for

    def forged(self, role, keyids, threshold):
        return [signer(keys["mallory"])] if role.startswith("owner-") else real(self, role, keyids, threshold)

    def evil(tx: Transaction) -> str:
        role, plugin = tuf_repo.plugin_entry(tx, "modahub-toy")
        plugin.summary = "now with a backdoor"
        tx.add_target(role.name, plugin_target("modahub-toy", tx.digits), plugin.model_dump_json().encode())
        return "forged"

    with monkeypatch.context() as patched:
        patched.setattr(Keyring, "signers_for", forged)
        apply(FolderBackend(tuf_dir), evil, Keyring([key]))

    with pytest.raises(HubError, match="signature check failed|TUF check failed"):
        _client(tuf_dir).plugin("modahub-toy")


def test_the_key_holder_delegates_and_revokes_names(tuf_dir, key, keys, wheel):
    _publish(wheel("modahub-toy"), tuf_dir, key, keys["alice"])
    delegate(FolderBackend(tuf_dir), "modahub-toy", [keys["bob"].public], hub_keys=[key])
    with pytest.raises(HubError, match="belongs to"):
        _publish(wheel("modahub-toy", "0.2.0"), tuf_dir, key, keys["alice"])
    _publish(wheel("modahub-toy", "0.2.0"), tuf_dir, key, keys["bob"])
    assert _client(tuf_dir).plugin("modahub-toy").owner == f"owner-{keys['bob'].public.keyid}"
    revoke(FolderBackend(tuf_dir), "modahub-toy", hub_keys=[key])
    with pytest.raises(HubError, match="no plugin 'modahub-toy'"):
        _client(tuf_dir).plugin("modahub-toy")
    with pytest.raises(HubError, match="needs 1 of its keys"):
        delegate(FolderBackend(tuf_dir), "modahub-toy", [keys["bob"].public], hub_keys=[keys["mallory"]])


def test_owner_key_rotation_keeps_clients_working_and_retires_the_old_key(tuf_dir, key, keys, wheel):
    _publish(wheel("modahub-toy"), tuf_dir, key, keys["alice"])
    Hub.open(str(tuf_dir))
    new = generate_key(Path(keys["alice"].path).with_name("alice2.key"))
    rotate_owner(FolderBackend(tuf_dir), keys["alice"].public, new, hub_keys=[key])
    assert _client(tuf_dir).resolve("modahub-toy")[1].version == "0.1.0"
    with pytest.raises(HubError, match="belongs to"):
        _publish(wheel("modahub-toy", "0.2.0"), tuf_dir, key, keys["alice"])
    _publish(wheel("modahub-toy", "0.2.0"), tuf_dir, key, new)
    assert _client(tuf_dir).resolve("modahub-toy")[1].version == "0.2.0"


def test_root_rotation_to_a_threshold_is_followed_and_enforced(tuf_dir, key, keys, wheel):
    _publish(wheel("modahub-toy"), tuf_dir, key, keys["alice"])
    Hub.open(str(tuf_dir))  # pins root version 1
    backend = FolderBackend(tuf_dir)
    new_root = [keys["root2"].public, keys["root3"].public]
    with pytest.raises(HubError, match="signing root needs 2 of its keys"):
        rotate_root(backend, keys=[key, keys["root2"]], root_keys=new_root, threshold=2)
    assert rotate_root(backend, keys=[key, keys["root2"], keys["root3"]], root_keys=new_root, threshold=2) == 2
    assert _client(tuf_dir).resolve("modahub-toy")[1].version == "0.1.0"  # followed 1.root -> 2.root
    # the old root key alone can no longer make root 3, and a root 3 forged with one of two new keys is refused
    with pytest.raises(HubError, match="signing root needs 2"):
        rotate_root(backend, keys=[key, keys["root2"]], root_keys=[key.public], threshold=1)
    tx = Transaction.load(backend)
    tx.root.signed.version += 1
    tx.root.signatures.clear()
    tx.root.sign(signer(keys["root2"]))
    (tuf_dir / METADATA_DIR / "3.root.json").write_bytes(tx.root.to_bytes())
    with pytest.raises(HubError, match="root"):
        _client(tuf_dir)


def test_an_expired_hub_is_refused_then_recovered_by_its_key_holder(tuf_dir, key, keys, wheel, monkeypatch):
    _publish(wheel("modahub-toy"), tuf_dir, key, keys["alice"])
    with monkeypatch.context() as patched:
        patched.setattr(tuf_repo, "_expiry", lambda days: datetime.now(UTC).replace(microsecond=0) - timedelta(days=1))
        refresh(FolderBackend(tuf_dir), hub_keys=[key])  # signs timestamp, snapshot and targets already expired
    with pytest.raises(HubError, match="freeze check failed.*modahub hub refresh"):
        _client(tuf_dir)
    result = CliRunner().invoke(cli, ["hub", "refresh", "--hub", str(tuf_dir), "--key", str(key.path)])
    assert result.exit_code == 0, result.output
    assert _client(tuf_dir).resolve("modahub-toy")[1].version == "0.1.0"


def test_rolled_back_metadata_is_refused(tuf_dir, key, keys, wheel, tmp_path):
    _publish(wheel("modahub-toy"), tuf_dir, key, keys["alice"])
    old = (tuf_dir / METADATA_DIR / "timestamp.json").read_bytes()
    _publish(wheel("modahub-toy", "0.2.0"), tuf_dir, key, keys["alice"])
    assert Hub.open(str(tuf_dir)).resolve("modahub-toy")[1].version == "0.2.0"
    (tuf_dir / METADATA_DIR / "timestamp.json").write_bytes(old)
    with pytest.raises(HubError, match="rollback check failed"):
        _client(tuf_dir)


def test_a_hub_whose_root_no_trusted_key_signed_is_refused_on_first_use(tmp_path, keys, key, wheel):
    create(FolderBackend(tmp_path / "theirs"), [keys["mallory"]])
    from modahub_hub.hub.config import config_dir

    shutil.rmtree(config_dir())  # this user never trusted mallory's hub
    with pytest.raises(HubError, match=r"none of which you trust.*modahub hub trust"):
        Hub.open(str(tmp_path / "theirs"))
    trust_hub(FolderBackend(tmp_path / "theirs"), keys["mallory"].public)
    assert isinstance(Hub.open(str(tmp_path / "theirs")), TufHub)


def test_quarantine_is_set_by_the_key_holder_and_refused_at_install(tuf_dir, key, keys, wheel):
    _publish(wheel("modahub-toy"), tuf_dir, key, keys["alice"])
    set_status(FolderBackend(tuf_dir), "modahub-toy", "quarantined", hub_keys=[key], reason="malware")
    with pytest.raises(HubError, match="quarantined.*malware"):
        _client(tuf_dir).resolve("modahub-toy")
    assert _client(tuf_dir).rows("toy")[0]["status"] == "quarantined"


def test_migration_moves_a_legacy_hub_and_freezes_its_registry(tmp_path, key, wheel):
    legacy = tmp_path / "legacy"
    init_hub(str(legacy), key=key, files_dir="hub")  # laid out like the bundled hub
    publish_unchecked(wheel("modahub-toy"), str(legacy), key=key, owner="acme")
    assert not isinstance(Hub.open(str(legacy)), TufHub)  # before: the legacy registry is read
    assert migrate(FolderBackend(legacy), key, Settings()) == 1
    hub = Hub.open(str(legacy))
    assert isinstance(hub, TufHub)
    plugin, entry = hub.resolve("modahub-toy")
    assert plugin.owner == f"owner-{key.public.keyid}"
    assert hub.download(entry, tmp_path / "dl").name == "modahub_toy-0.1.0-py3-none-any.whl"
    assert f"owner-{key.public.keyid}" in (legacy / "hub" / "index.html").read_text()  # its page, where it was
    assert not (legacy / "index.html").exists()
    with pytest.raises(HubError, match="TUF hub: its legacy registry.json is frozen"):
        legacy_yank(str(legacy), "modahub-toy", "0.1.0", key=key)
    # a client that pinned the TUF root never falls back to the legacy registry (downgrade)
    shutil.rmtree(legacy / "tuf")
    with pytest.raises(HubError, match="download failed|TUF check failed"):
        Hub.open(str(legacy))


def test_http_hub_is_read_through_tuf(tuf_dir, key, keys, wheel, serve_folder, tmp_path):
    built = wheel("modahub-toy")
    _publish(built, tuf_dir, key, keys["alice"])
    url = serve_folder(tuf_dir)
    hub = Hub.open(url)  # trusted as a folder when created: the same hub over HTTP
    assert isinstance(hub, TufHub)
    _, entry = hub.resolve("modahub-toy")
    assert hub.download(entry, tmp_path / "dl").read_bytes() == built.read_bytes()
    (tuf_dir / METADATA_DIR / "timestamp.json").write_bytes(b'{"signed": "garbage"}')
    with pytest.raises(HubError, match=url.rstrip("/")):
        _client(url)


def test_hf_hub_publish_and_read(fake_hf, key, keys, wheel, tmp_path):
    create(open_backend("hf://acme/tuf"), [key])
    _publish(wheel("modahub-toy"), "hf://acme/tuf", key, keys["alice"])
    with pytest.raises(HubError, match="belongs to"):
        _publish(wheel("modahub-toy", "0.2.0"), "hf://acme/tuf", key, keys["mallory"])
    _, entry = Hub.open("hf://acme/tuf").resolve("modahub-toy")
    assert Hub.open("hf://acme/tuf").download(entry, tmp_path / "dl").stat().st_size == entry.artifact.size


def test_cli_init_makes_a_tuf_hub_and_publish_refuses_free_text_owners(tmp_path, key, wheel):
    runner = CliRunner()
    result = runner.invoke(cli, ["hub", "init", str(tmp_path / "h"), "--key", str(key.path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "h" / METADATA_DIR / "1.root.json").is_file()
    result = runner.invoke(cli, ["publish", str(wheel("modahub-toy")), "--hub", str(tmp_path / "h"), "--key", str(key.path),
                                 "--owner", "acme"])
    assert result.exit_code == 1 and "an owner is a key" in result.output


def test_cli_search_filters_the_signed_index_and_migrate_moves_a_legacy_hub(tmp_path, key, keys, wheel):
    legacy = tmp_path / "legacy"
    init_hub(str(legacy), key=key)
    publish_unchecked(wheel("modahub-words", kind="encoder", modalities=("text",)), str(legacy), key=key, owner="acme")
    publish_unchecked(wheel("modahub-pixels", kind="encoder", modalities=("image",)), str(legacy), key=key, owner="acme")
    runner = CliRunner()
    result = runner.invoke(cli, ["hub", "migrate", str(legacy), "--key", str(key.path)])
    assert result.exit_code == 0 and "migrated 2 plugins" in result.output, result.output

    def names(*args: str) -> list[str]:
        result = runner.invoke(cli, ["search", *args, "--json", "--hub", str(legacy)])
        assert result.exit_code == 0, result.output
        return [row["name"] for row in json.loads(result.output)["data"]]

    assert names() == ["modahub-pixels", "modahub-words"]
    assert names("--modality", "image") == ["modahub-pixels"]
    assert names("words", "--kind", "encoder") == ["modahub-words"]
    assert names("--kind", "indexer") == []
    assert Hub.open(str(legacy)).plugin("pixels").name == "modahub-pixels"  # by executor name


def test_plain_pip_installs_from_the_simple_pages_of_a_tuf_hub(tuf_dir, key, keys, wheel, tmp_path):
    import subprocess
    import sys

    _publish(wheel("modahub-toy"), tuf_dir, key, keys["alice"])
    _publish(wheel("modahub-other"), tuf_dir, key, keys["bob"])
    assert "modahub-other" in (tuf_dir / "simple" / "index.html").read_text()
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--disable-pip-version-check",
                           "-d", str(tmp_path / "got"), "--index-url", (tuf_dir / "simple").as_uri(), "modahub-toy"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert [p.name for p in (tmp_path / "got").iterdir()] == ["modahub_toy-0.1.0-py3-none-any.whl"]


def test_a_name_delegated_to_a_threshold_of_owner_keys_needs_them_all(tuf_dir, key, keys, wheel, monkeypatch):
    delegate(FolderBackend(tuf_dir), "modahub-team", [keys["alice"].public, keys["bob"].public], hub_keys=[key], threshold=2)
    with pytest.raises(HubError, match="needs 2 of its keys"):
        _publish(wheel("modahub-team"), tuf_dir, key, keys["alice"])
    publish_unchecked(wheel("modahub-team"), str(tuf_dir), key=key, owner_key=[keys["alice"], keys["bob"]])
    assert _client(tuf_dir).resolve("modahub-team")[1].version == "0.1.0"
    real = Keyring.signers_for  # an attacker with alice's key (and the hub's) alone re-signs the team's role

    def one_of_two(self, role, keyids, threshold):
        return real(self, role, keyids, 1 if role.startswith("owner-") else threshold)

    def evil(tx: Transaction) -> str:
        role, plugin = tuf_repo.plugin_entry(tx, "modahub-team")
        plugin.summary = "one key was enough?"
        tx.add_target(role.name, plugin_target("modahub-team", tx.digits), plugin.model_dump_json().encode())
        return "forged"

    with monkeypatch.context() as patched:
        patched.setattr(Keyring, "signers_for", one_of_two)
        apply(FolderBackend(tuf_dir), evil, Keyring([key, keys["alice"]]))
    with pytest.raises(HubError, match="signature check failed|TUF check failed"):
        _client(tuf_dir).plugin("modahub-team")


def test_the_key_holder_re_signs_a_transferred_name_with_the_new_owner_key(tuf_dir, key, keys, wheel, tmp_path):
    _publish(wheel("modahub-toy"), tuf_dir, key, keys["alice"])
    result = CliRunner().invoke(cli, ["hub", "delegate", "modahub-toy", keys["bob"].public.text, "--owner-key",
                                      str(keys["bob"].path), "--hub", str(tuf_dir), "--key", str(key.path)])
    assert result.exit_code == 0 and "re-signed" in result.output, result.output
    hub = _client(tuf_dir)
    plugin, entry = hub.resolve("modahub-toy")  # still installable: re-signed into bob's role, which lists the wheel
    assert plugin.owner == f"owner-{keys['bob'].public.keyid}" and entry.version == "0.1.0"
    assert hub.download(entry, tmp_path / "dl").name == "modahub_toy-0.1.0-py3-none-any.whl"
    _publish(wheel("modahub-toy", "0.2.0"), tuf_dir, key, keys["bob"])  # the new owner's publish keeps the history
    assert [v.version for v in _client(tuf_dir).plugin("modahub-toy").sorted_versions()] == ["0.2.0", "0.1.0"]
    with pytest.raises(HubError, match="belongs to"):
        _publish(wheel("modahub-toy", "0.3.0"), tuf_dir, key, keys["alice"])
    with pytest.raises(HubError, match="must be one of the owner keys"):  # re-signing with a key the name is not given to
        delegate(FolderBackend(tuf_dir), "modahub-toy", [keys["bob"].public], hub_keys=[key], owner_signers=[keys["mallory"]])


def test_a_tuf_publish_regenerates_the_directory_page(tuf_dir, key, keys, wheel):
    _publish(wheel("modahub-toy", summary="a <b>bold</b> toy"), tuf_dir, key, keys["alice"])
    page = (tuf_dir / "index.html").read_text()
    assert "modahub-toy" in page and 'href="simple/modahub-toy/"' in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page  # escaped
    _publish(wheel("modahub-other"), tuf_dir, key, keys["bob"])
    page = (tuf_dir / "index.html").read_text()
    assert "modahub-toy" in page and "modahub-other" in page and "2 plugins" in page
    set_status(FolderBackend(tuf_dir), "modahub-toy", "quarantined", hub_keys=[key], reason="malware")
    assert "status-quarantined" in (tuf_dir / "index.html").read_text()
