"""The project's own distributions: wheels of modahub-core, modahub-testing, modahub and every first-party plugin,
a pip index serving them beside the bundled hub, and the bundled hub's rebuild.

Used by ``scripts/build-dists`` and ``scripts/build-bundled-hub`` (``python -m modahub_hub.hub.dists``).
A published version never changes its bytes: a rebuilt wheel whose files equal the published one's
keeps the published file, and one whose files differ under the same version is refused.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from modahub.files import sha256_file
from modahub_hub.hub import HubError
from modahub_hub.hub.build import build_wheel
from modahub_hub.hub.config import CONFIG_ENV
from modahub_hub.hub.layout import IndexFile, simple_pages
from modahub_hub.hub.registry import REGISTRY_FILE, PluginEntry, Registry, normalize
from modahub_hub.hub.tuf_layout import METADATA_DIR, TUF_DIR
from modahub_hub.hub.wheels import inspect_wheel

if TYPE_CHECKING:
    from modahub_hub.hub.signing import SigningKey

TOOLS = ("modahub-core", "modahub-testing", "modahub")
"""The distributions of modahub itself (not plugins): served by the pip index beside the bundled hub."""
TOOL_FOLDERS = ("core", "testing", ".")
BUNDLED_PUB = Path("hub_cli", "modahub_hub", "hub", "bundled_hub.pub")
PAGES_DIR = "hub"  # the bundled hub's pages (simple/, index.html) and its legacy files


def tool_folders(root: Path) -> list[Path]:
    """The source folders of modahub-core, modahub-testing and modahub in the checkout ``root``."""
    return [root / folder for folder in TOOL_FOLDERS]


def plugin_folders(root: Path) -> list[Path]:
    """Every ``plugins/*`` with a ``pyproject.toml``."""
    return sorted(p.parent for p in (root / "plugins").glob("*/pyproject.toml"))


def package_folders(root: Path) -> list[Path]:
    """modahub's own distributions, then every first-party plugin."""
    return [*tool_folders(root), *plugin_folders(root)]


def build_all(root: Path, out: Path) -> list[Path]:
    """Build every package of the checkout ``root`` into ``out`` (reproducibly); returns the wheels."""
    return [build_wheel(folder, out) for folder in package_folders(root)]


def _record(wheel: Path) -> bytes:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/RECORD"))
        return b"\n".join(sorted(zf.read(name).splitlines()))


def same_files(a: Path, b: Path) -> bool:
    """Whether two wheels hold the same files with the same contents (their RECORDs agree), whatever the zip metadata."""
    return sha256_file(a) == sha256_file(b) or _record(a) == _record(b)


def _dist_name(wheel: Path) -> str:
    return normalize(wheel.name.split("-")[0])


def _tuf_hub(hub_root: Path) -> bool:
    return (hub_root / METADATA_DIR / "root.json").is_file()


def write_pip_index(hub_root: Path, wheels: list[Path], dest: Path) -> Path:
    """Copy the hub at ``hub_root`` to ``dest`` with ``wheels`` (non-plugins) added to its ``simple/``; returns it."""
    if dest.exists():
        shutil.rmtree(dest)
    if _tuf_hub(hub_root):
        from modahub_hub.hub.backends import FolderBackend
        from modahub_hub.hub.tuf_repo import Transaction

        tx = Transaction.load(FolderBackend(hub_root))
        offered = {k for k, line in tx.index_rows().items() if json.loads(line)["status"] != "quarantined"}
        at, pages = Registry.model_construct(files_dir=tx.pages_dir, plugins={}), tx.pages_dir  # type: ignore[call-arg]
        parts = [TUF_DIR, *([REGISTRY_FILE] if (hub_root / REGISTRY_FILE).exists() else [])]
    else:  # every page is regenerated from the registry
        at = Registry.from_bytes((hub_root / REGISTRY_FILE).read_bytes(), source=str(hub_root / REGISTRY_FILE))
        pages, offered, parts = at.files_dir, None, [REGISTRY_FILE]
    if pages:
        dest.mkdir(parents=True)
        for part in [*parts, pages]:
            copy = shutil.copytree if (hub_root / part).is_dir() else shutil.copy2
            copy(hub_root / part, dest / part)
    else:  # the hub's files sit beside registry.json
        shutil.copytree(hub_root, dest)
    extra = []
    for wheel in wheels:
        rel = at.file(f"dists/{wheel.name}")
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(wheel, dest / rel)
        extra.append(IndexFile(_dist_name(wheel), wheel.name, rel, sha256_file(wheel), _metadata(wheel)))
    names = None if offered is None else offered | {normalize(e.project) for e in extra}
    for path, data in simple_pages(at, extra, index_names=names):
        (dest / path).parent.mkdir(parents=True, exist_ok=True)
        (dest / path).write_bytes(data)
    return dest / at.file("simple")


def _metadata(wheel: Path) -> str | None:
    """The wheel's Requires-Python."""
    from email.parser import HeaderParser

    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return HeaderParser().parsestr(zf.read(name).decode("utf-8")).get("Requires-Python")


@contextmanager
def _config_dir(folder: Path) -> Iterator[None]:
    """The builder's trust and rollback state, kept out of the user's."""
    before = os.environ.get(CONFIG_ENV)
    os.environ[CONFIG_ENV] = str(folder)
    try:
        yield
    finally:
        if before is None:
            del os.environ[CONFIG_ENV]
        else:
            os.environ[CONFIG_ENV] = before


def published_plugins(hub_root: Path) -> dict[str, PluginEntry]:
    """The plugins of the hub at ``hub_root`` as its writer reads them (TUF, else its legacy registry; statuses applied)."""
    if _tuf_hub(hub_root):
        from modahub_hub.hub.backends import FolderBackend
        from modahub_hub.hub.tuf_repo import Transaction, plugin_entry

        tx = Transaction.load(FolderBackend(hub_root))
        statuses, plugins = tx.statuses(), {}
        for key in tx.index_rows():
            entry = plugin_entry(tx, key)[1]
            if entry is not None:
                status = statuses.get(key, {})
                entry.status, entry.status_reason = status.get("status", entry.status), status.get("reason")  # type: ignore[assignment]
                plugins[key] = entry
        return plugins
    if (hub_root / REGISTRY_FILE).exists():
        return Registry.from_bytes((hub_root / REGISTRY_FILE).read_bytes(), source=str(hub_root / REGISTRY_FILE)).plugins
    return {}


def _signer_of(hub_root: Path, key: SigningKey) -> str | None:
    """What ``key`` signs of the hub at ``hub_root``: 'tuf' (its TUF root), 'legacy' (its legacy registry), else None."""
    if _tuf_hub(hub_root):
        from modahub_hub.hub.backends import FolderBackend
        from modahub_hub.hub.tuf_layout import tuf_key
        from modahub_hub.hub.tuf_repo import Transaction

        root = Transaction.load(FolderBackend(hub_root)).root.signed
        return "tuf" if tuf_key(key.public).keyid in root.roles["root"].keyids else None
    if (hub_root / REGISTRY_FILE).exists():
        registry = Registry.from_bytes((hub_root / REGISTRY_FILE).read_bytes(), source=str(hub_root / REGISTRY_FILE))
        return "legacy" if key.public.keyid in {k.keyid for k in registry.keys} else None
    return None


def rebuild_bundled_hub(root: Path, plugin_wheels: list[Path], key_path: Path, *, pub_path: Path,
                        contract: bool = True, say: Callable[[str], object] = print) -> bool:
    """Bring the bundled hub (``root/tuf`` + its pages in ``root/hub``) up to date with ``plugin_wheels``.

    The bundled hub is a TUF hub; a legacy one (``root/registry.json``) is migrated first, and its
    registry stays, frozen, for older clients. Refuses (HubError) a wheel whose files changed under
    a published version. With the key that signs the hub's root, only new versions are published,
    signed by that key as the first-party owner; with another key (the private key is not where the
    last rebuild ran) the hub is made anew, every published wheel kept byte for byte; ``pub_path``
    gets the key's public half (the key that modahub trusts for the bundled hub). New wheels pass
    the executor contract (``contract``). Returns whether anything changed.
    """
    from modahub_hub.hub.backends import FolderBackend
    from modahub_hub.hub.publish import publish
    from modahub_hub.hub.signing import generate_key, load_key
    from modahub_hub.hub.tuf_ops import create, migrate, set_status, yank
    from modahub_hub.hub.tuf_repo import Settings

    key = load_key(key_path) if key_path.exists() else generate_key(key_path)
    old = published_plugins(root)
    new: list[Path] = []
    changed: list[str] = []
    for wheel in plugin_wheels:
        info = inspect_wheel(wheel)
        plugin = old.get(normalize(info.name))
        entry = plugin.find(info.version) if plugin else None
        if entry is None:
            new.append(wheel)
        elif not same_files(wheel, root / entry.artifact.url):
            changed.append(f"{info.name} {info.version}")
    if changed:
        raise HubError(f"changed under a published version: {', '.join(changed)}. A published version never changes "
                       "its bytes: bump the version in the plugin's pyproject.toml and rebuild")
    signs = _signer_of(root, key)
    if signs == "tuf" and not new:
        say("bundled hub up to date: no new plugin version")
        return False
    parts = [p for p in (REGISTRY_FILE, PAGES_DIR, TUF_DIR) if (root / p).exists()]
    with tempfile.TemporaryDirectory(prefix="modahub-bundled-") as tmp, _config_dir(Path(tmp) / "config"):
        work = Path(tmp) / "hub"
        work.mkdir()
        for part in parts:
            (shutil.copytree if (root / part).is_dir() else shutil.copy2)(root / part, work / part)
        backend = FolderBackend(work)
        if signs == "legacy":
            say(f"migrating the bundled hub to TUF: {migrate(backend, key, Settings(expires_days=365))} plugins")
        elif signs is None:  # no hub yet, or its key is elsewhere: made anew, every published wheel kept
            shutil.rmtree(work / TUF_DIR, ignore_errors=True)
            create(backend, [key], Settings(expires_days=365, pages_dir=PAGES_DIR))
            for name, plugin in sorted(old.items()):
                for entry in reversed(plugin.sorted_versions()):
                    publish(root / entry.artifact.url, backend, key=key, owner_key=key, contract=False)
                    if entry.yanked:
                        yank(backend, name, entry.version, hub_keys=[key], owner=key, reason=entry.yanked_reason)
                if plugin.status != "active":
                    set_status(backend, name, plugin.status, hub_keys=[key], reason=plugin.status_reason)
        for wheel in new:
            say(f"publishing {wheel.name}")
            publish(wheel, backend, key=key, owner_key=key, contract=contract)
        for part in [p for p in (REGISTRY_FILE, PAGES_DIR, TUF_DIR) if (work / p).exists()]:
            _replace(work / part, root / part)
    pub_path.write_text(key.public.text + "\n")
    say(f"bundled hub rebuilt: TUF snapshot of {len(published_plugins(root))} plugins")
    return True


def _replace(src: Path, dest: Path) -> None:
    """Move ``src`` over ``dest`` (a file or a folder), the old one removed only once the new one is in place."""
    if src.is_file():
        os.replace(src, dest)
        return
    old = dest.with_name(f"{dest.name}.old")
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        os.replace(dest, old)
    shutil.move(src, dest)
    shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modahub_hub.hub.dists", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the checkout (default: the current folder)")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="wheels of every package into OUT/wheels, and OUT/bundled-hub: a pip index")
    build.add_argument("out", type=Path, nargs="?", default=Path("dist"))
    bundled = sub.add_parser("bundled-hub", help="rebuild the bundled hub (tuf/ + hub/) from the plugins' wheels")
    bundled.add_argument("--key", type=Path, required=True, help="the bundled hub's private key (made if absent)")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        with tempfile.TemporaryDirectory(prefix="modahub-dists-") as tmp:
            out = args.out.resolve() if args.command == "build" else Path(tmp)
            wheels_dir = out / "wheels"
            if wheels_dir.exists():
                shutil.rmtree(wheels_dir)
            if args.command == "bundled-hub":
                plugins = [build_wheel(f, wheels_dir) for f in plugin_folders(root)]
                rebuild_bundled_hub(root, plugins, args.key.expanduser(), pub_path=root / BUNDLED_PUB)
                return 0
            wheels = build_all(root, wheels_dir)
            tools = [w for w in wheels if _dist_name(w) in TOOLS]
            simple = write_pip_index(root, tools, out / "bundled-hub")
            print(f"{len(wheels)} wheels in {wheels_dir}")
            print(f"pip index: {simple.as_uri()}/")
    except HubError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
