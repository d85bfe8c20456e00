"""What an attacker who holds (or stole) a hub's key can sign: registries edited as raw JSON, re-signed.

Tests use these to check that the client's own rules (schema, names, versions, confinement) hold even
when the signature does, and for registries published before a rule existed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modahub_hub.hub.signing import SigningKey, signature_file


def sign_raw(hub_dir: Path, key: SigningKey, data: bytes) -> None:
    """Write ``data`` as the folder hub's registry.json with a valid signature of ``key``."""
    files_dir = json.loads(data).get("files_dir", "") if data.lstrip().startswith(b"{") else ""
    sig = hub_dir / (f"{files_dir}/registry.json.sig" if files_dir else "registry.json.sig")
    (hub_dir / "registry.json").write_bytes(data)
    sig.write_bytes(signature_file([key.sign(data)]))


def resign(hub_dir: Path, key: SigningKey, edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Edit the registry as plain JSON (no schema), raise its version, sign it with ``key``; returns the data."""
    data = json.loads((hub_dir / "registry.json").read_bytes())
    edit(data)
    data["version"] += 1
    sign_raw(hub_dir, key, json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode())
    return data


def add_file(hub_dir: Path, relpath: str, source: Path) -> dict[str, Any]:
    """Copy ``source`` into the hub at ``relpath``; returns an artifact entry describing it."""
    import hashlib

    target = hub_dir / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(source.read_bytes())
    data = target.read_bytes()
    return {"kind": "wheel", "filename": Path(relpath).name, "url": relpath, "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest()}
