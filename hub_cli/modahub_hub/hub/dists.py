"""The project's own distributions: wheels of modahub-core, modahub and every first-party plugin, a pip
index serving them beside the bundled hub, and the bundled hub's rebuild.

Used by ``scripts/build-dists`` and ``scripts/build-bundled-hub`` (``python -m modahub_hub.hub.dists``).
A published version never changes its bytes: a rebuilt wheel whose files equal the published one's
keeps the published file, and one whose files differ under the same version is refused.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from modahub.files import sha256_file
from modahub_hub.hub import HubError
from modahub_hub.hub.build import build_wheel
from modahub_hub.hub.config import CONFIG_ENV
from modahub_hub.hub.layout import IndexFile, simple_pages
from modahub_hub.hub.registry import REGISTRY_FILE, Registry, normalize
from modahub_hub.hub.wheels import inspect_wheel

TOOLS = ("modahub-core", "modahub")
BUNDLED_PUB = Path("hub_cli", "modahub_hub", "hub", "bundled_hub.pub")


def package_folders(root: Path) -> list[Path]:
    """modahub-core, modahub, then every ``plugins/*`` with a ``pyproject.toml``."""
    return [root / "core", root, *sorted(p.parent for p in (root / "plugins").glob("*/pyproject.toml"))]


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


def write_pip_index(hub_root: Path, wheels: list[Path], dest: Path) -> Path:
    """Copy the hub at ``hub_root`` to ``dest`` with ``wheels`` (non-plugins) added to its ``simple/``; returns it."""
    registry = Registry.from_bytes((hub_root / REGISTRY_FILE).read_bytes(), source=str(hub_root / REGISTRY_FILE))
    if dest.exists():
        shutil.rmtree(dest)
    if registry.files_dir:
        dest.mkdir(parents=True)
        shutil.copy2(hub_root / REGISTRY_FILE, dest / REGISTRY_FILE)
        shutil.copytree(hub_root / registry.files_dir, dest / registry.files_dir)
    else:  # the hub's files sit beside registry.json
        shutil.copytree(hub_root, dest)
    extra = []
    for wheel in wheels:
        rel = registry.file(f"dists/{wheel.name}")
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(wheel, dest / rel)
        info = _metadata(wheel)
        extra.append(IndexFile(_dist_name(wheel), wheel.name, rel, sha256_file(wheel), info))
    for path, data in simple_pages(registry, extra):
        (dest / path).parent.mkdir(parents=True, exist_ok=True)
        (dest / path).write_bytes(data)
    return dest / registry.file("simple")


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


def rebuild_bundled_hub(root: Path, plugin_wheels: list[Path], key_path: Path, *, pub_path: Path,
                        contract: bool = True, say: Callable[[str], object] = print) -> bool:
    """Bring the bundled hub (``root/registry.json`` + ``root/hub``) up to date with ``plugin_wheels``.

    Refuses (HubError) a wheel whose files changed under a published version. With the key that
    signs the current registry, only new versions are published; with another key (the private key
    is not where the last rebuild ran) the hub is made anew, every published wheel kept byte for
    byte, and the registry version continues; ``pub_path`` gets the key's public half (the key that
    modahub trusts for the bundled hub). New wheels pass the executor contract (``contract``).
    Returns whether anything changed.
    """
    from modahub_hub.hub.publish import init_hub, publish, set_status, yank
    from modahub_hub.hub.signing import generate_key, load_key

    key = load_key(key_path) if key_path.exists() else generate_key(key_path)
    old = Registry.from_bytes((root / REGISTRY_FILE).read_bytes(), source="registry.json") if (
        root / REGISTRY_FILE).exists() else None
    new: list[Path] = []
    changed: list[str] = []
    for wheel in plugin_wheels:
        info = inspect_wheel(wheel)
        plugin = old.get(info.name) if old else None
        entry = plugin.versions.get(info.version) if plugin else None
        if entry is None:
            new.append(wheel)
        elif not same_files(wheel, root / entry.artifact.url):
            changed.append(f"{info.name} {info.version}")
    if changed:
        raise HubError(f"changed under a published version: {', '.join(changed)}. A published version never changes "
                       "its bytes: bump the version in the plugin's pyproject.toml and rebuild")
    same_key = old is not None and key.public.keyid in {k.keyid for k in old.keys}
    if same_key and not new:
        say("bundled hub up to date: no new plugin version")
        return False
    with tempfile.TemporaryDirectory(prefix="modahub-bundled-") as tmp, _config_dir(Path(tmp) / "config"):
        work = Path(tmp) / "hub"
        if same_key:
            shutil.copytree(root / "hub", work / "hub")
            shutil.copy2(root / REGISTRY_FILE, work / REGISTRY_FILE)
        else:
            init_hub(str(work), key=key, files_dir="hub", start_version=(old.version + 1) if old else 1,
                     expires_after_days=365)
            for name, plugin in sorted(old.plugins.items()) if old else ():
                for entry in reversed(plugin.sorted_versions()):
                    publish(root / entry.artifact.url, str(work), key=key, owner=plugin.owner, contract=False)
                    if entry.yanked:
                        yank(str(work), name, entry.version, reason=entry.yanked_reason, key=key_path)
                if plugin.status != "active":
                    set_status(str(work), name, plugin.status, reason=plugin.status_reason, key=key_path)
        for wheel in new:
            say(f"publishing {wheel.name}")
            publish(wheel, str(work), key=key, owner="modahub", contract=contract)
        shutil.rmtree(root / "hub.old", ignore_errors=True)
        if (root / "hub").exists():
            os.replace(root / "hub", root / "hub.old")
        shutil.move(work / "hub", root / "hub")
        shutil.move(work / REGISTRY_FILE, root / REGISTRY_FILE)
        shutil.rmtree(root / "hub.old", ignore_errors=True)
    pub_path.write_text(key.public.text + "\n")
    registry = Registry.from_bytes((root / REGISTRY_FILE).read_bytes(), source="registry.json")
    say(f"bundled hub rebuilt: registry.json version {registry.version}")
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modahub_hub.hub.dists", description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="the checkout (default: the current folder)")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="wheels of every package into OUT/wheels, and OUT/bundled-hub: a pip index")
    build.add_argument("out", type=Path, nargs="?", default=Path("dist"))
    bundled = sub.add_parser("bundled-hub", help="rebuild registry.json + hub/ from the plugins' wheels")
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
                plugins = [build_wheel(f, wheels_dir) for f in package_folders(root)[2:]]
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
