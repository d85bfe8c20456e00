"""Small plugin wheels written directly as zips (no build backend), for fast hub tests."""

from __future__ import annotations

import base64
import hashlib
import re
import tomllib
import zipfile
from pathlib import Path

EXACT_INDEX = Path(__file__).resolve().parents[2] / "plugins" / "exact-index"
EXACT_INDEX_VERSION = tomllib.loads((EXACT_INDEX / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
"""The version of plugins/exact-index, the real plugin the hub tests publish."""

PLUGIN_PY = '''from modahub.hookspecs import hookimpl


@hookimpl
def register_executors(register):
    from modahub.executors import Indexer

    class Index(Indexer):
        name = "{executor}"

    register(Index)
'''


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def make_wheel(
    out: Path,
    name: str,
    version: str = "0.1.0",
    *,
    kind: str = "indexer",
    modalities: tuple[str, ...] = ("*",),
    executor: str | None = None,
    requires: tuple[str, ...] = ("modahub-core>=0.2,<0.3",),
    summary: str = "a test plugin",
    extra_files: dict[str, bytes] | None = None,
    entry_points: str | None = None,
    manifest: str | None = None,
    extra_record: tuple[str, ...] = (),
    author: str | None = None,
) -> Path:
    """Write a plugin wheel ``<dist>-<version>-py3-none-any.whl`` into ``out`` and return its path.

    ``extra_record`` lines are added to RECORD without a file in the zip (a hostile RECORD).
    """
    dist = re.sub(r"[-_.]+", "_", name)
    pkg = dist.lower()
    executor = executor or name.removeprefix("modahub-")
    spec = f'name = "{executor}"\nkind = "{kind}"\nmodalities = {list(modalities)!r}\nsummary = "{summary}"\n'.replace("'", '"')
    if kind == "encoder":
        spec += 'space = "test-space"\ndim = 4\n'
    if kind == "generator":
        spec += 'output_modality = "text"\n'
    info = f"{dist}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: {summary}\nRequires-Python: >=3.10\n"
    metadata += f"Author: {author}\n" if author else ""
    metadata += "".join(f"Requires-Dist: {r}\n" for r in requires)
    files: dict[str, bytes] = {
        f"{pkg}/__init__.py": b"",
        f"{pkg}/plugin.py": PLUGIN_PY.format(executor=executor).encode(),
        f"{pkg}/modahub.toml": (manifest if manifest is not None else f"schema_version = 1\n\n[[executors]]\n{spec}").encode(),
        **(extra_files or {}),
        f"{info}/METADATA": metadata.encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: modahub-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{info}/entry_points.txt": (
            entry_points if entry_points is not None else f"[modahub]\n{executor} = {pkg}.plugin\n"
        ).encode(),
    }
    record = [_record_line(n, d) for n, d in files.items()] + list(extra_record) + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{dist}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in files.items():
            zf.writestr(member, data)
    return path


def publish_unchecked(path: Path, hub: str, **kwargs: object) -> object:
    """Publish one of these synthetic wheels: their executors are placeholders, so the contract check is off.

    Real plugins (``exact_index_wheel``) go through the full ``publish`` with the contract.
    """
    from modahub_hub.hub.publish import publish

    return publish(path, hub, contract=False, **kwargs)
