"""Which keys a user trusts for which hub, and the checks every registry read passes.

A registry is accepted only if (1) a key the user trusts for that hub signed its exact bytes,
(2) its ``version`` is not below the last one this user accepted from that hub (and the same
version has the same bytes), and (3) it has not expired. The bundled hub's public key ships in
this package (``bundled_hub.pub``); every other hub's keys are added by ``modahub hub trust`` (or
automatically by ``modahub hub init`` for the hub one creates).
"""

from __future__ import annotations

import hashlib
import os
import re
from importlib import resources
from pathlib import Path

from modahub_hub.hub import HubError
from modahub_hub.hub.backends import Backend
from modahub_hub.hub.config import read_config, read_state, updating
from modahub_hub.hub.limits import SIGNATURE_BYTES, metadata_limit
from modahub_hub.hub.registry import REGISTRY_FILE, SIGNATURE_FILE, Registry
from modahub_hub.hub.signing import PublicKey, parse_signatures, verify

BUNDLED_ENV = "MODAHUB_BUNDLED_HUB"
BUNDLED_KEY_FILE = "bundled_hub.pub"
_FILES_DIR = re.compile(rb'"files_dir":"([A-Za-z0-9_][A-Za-z0-9_./-]{0,200})"')


def bundled_hub_path() -> Path:
    """The bundled hub: ``$MODAHUB_BUNDLED_HUB`` (an override), else the copy shipped as package data."""
    explicit = os.environ.get(BUNDLED_ENV)
    if explicit:
        return Path(explicit).resolve()
    return Path(str(resources.files("modahub_hub.bundled"))).resolve()


def bundled_keys() -> list[PublicKey]:
    text = resources.files("modahub_hub.hub").joinpath(BUNDLED_KEY_FILE).read_text(encoding="utf-8")
    return [PublicKey.parse(line, source=BUNDLED_KEY_FILE) for line in text.splitlines() if line.strip()]


def trusted_keys(hub_id: str) -> list[PublicKey]:
    configured = read_config().get("hubs", {}).get(hub_id, {}).get("keys", [])
    keys = [PublicKey.parse(k, source=f"config.json hubs[{hub_id!r}]") for k in configured]
    if hub_id == str(bundled_hub_path()):
        keys += bundled_keys()
    return keys


def trust(hub_id: str, key: PublicKey) -> None:
    """Trust ``key`` to sign the registry of hub ``hub_id`` from now on."""
    with updating("config.json") as config:
        keys = config.setdefault("hubs", {}).setdefault(hub_id, {}).setdefault("keys", [])
        if key.text not in keys:
            keys.append(key.text)


class UntrustedHub(HubError):
    """A hub validly signed by keys none of which the user trusts for it: its first use (as ssh's unknown host)."""

    def __init__(self, location: str, keys: list[PublicKey]) -> None:
        self.location, self.keys = location, keys
        listed = "".join(f"\n  key {k.keyid}  {k.text}" for k in keys)
        super().__init__(
            f"{location} is a hub you have not trusted yet: it is signed by key(s) none of which you trust for this hub; "
            f"check the key with the hub's owner, then add --trust {keys[0].text} to this command or run once: "
            f"modahub hub trust {location} {keys[0].text}{listed}"
        )


def _signers(data: bytes, signatures: list[dict[str, str]], registry: Registry) -> list[PublicKey]:
    """The keys the registry lists whose signature over ``data`` verifies."""
    found = []
    for listed in registry.keys:
        key = PublicKey.parse(listed.public, source=f"{REGISTRY_FILE} keys")
        try:
            verify(data, signatures, [key], source=REGISTRY_FILE)
        except HubError:
            continue
        found.append(key)
    return found


def load_verified(backend: Backend, *, extra_keys: list[PublicKey] | None = None) -> Registry:
    """Read the hub's registry and pass it through the signature, rollback and freeze checks.

    ``extra_keys`` are trusted besides the configured ones (a publisher trusts its own key).
    """
    source = backend.url(REGISTRY_FILE)
    data = backend.read(REGISTRY_FILE, metadata_limit())
    if data is None:
        raise HubError(f"{source} not found: is this a modahub hub? Create one with 'modahub hub init'")
    sig_path = signature_location(data)
    sig = backend.read(sig_path, SIGNATURE_BYTES)
    if sig is None:
        raise HubError(f"signature check failed: {backend.url(sig_path)} is missing")
    trusted = [*trusted_keys(backend.hub_id), *(extra_keys or [])]
    signatures = parse_signatures(sig, source=sig_path)
    if not {e["keyid"] for e in signatures} & {k.keyid for k in trusted}:
        # first use only: the (size-capped) bytes are parsed to show the keys they list, each checked against the signature
        offered = _signers(data, signatures, Registry.from_bytes(data, source=source))
        if offered:
            raise UntrustedHub(backend.hub_id, offered)
    verify(data, signatures, trusted, source=source)  # before the bytes are parsed
    registry = Registry.from_bytes(data, source=source)
    if registry.signature_path != sig_path:
        raise HubError(f"{source} is not a valid modahub registry: files_dir does not match where its signature is")
    _check_rollback(backend.hub_id, registry, hashlib.sha256(data).hexdigest(), source)
    registry.check_fresh(source)
    return registry


def signature_location(data: bytes) -> str:
    """Where the signature of registry bytes ``data`` lives, found without parsing them (they are not verified yet).

    Canonical JSON has sorted keys and no spaces, so the top-level ``"files_dir":"…"`` is a plain substring;
    whatever it says is checked again once the verified bytes are parsed.
    """
    match = _FILES_DIR.search(data[:4096]) or _FILES_DIR.search(data)
    folder = match.group(1).decode("ascii") if match else ""
    return f"{folder}/{SIGNATURE_FILE}" if folder else SIGNATURE_FILE


def _check_rollback(hub_id: str, registry: Registry, digest: str, source: str) -> None:
    seen = read_state().get("hubs", {}).get(hub_id)
    if seen and registry.version < seen["version"]:
        raise HubError(
            f"rollback check failed: {source} has version {registry.version}, older than version {seen['version']} "
            "seen before; someone may be serving a stale copy"
        )
    if seen and registry.version == seen["version"] and digest != seen["sha256"]:
        raise HubError(f"rollback check failed: {source} version {registry.version} differs from the copy seen before")
    if not seen or registry.version > seen["version"]:
        with updating("state.json") as state:
            current = state.setdefault("hubs", {}).get(hub_id)
            if not current or registry.version > current["version"]:
                state["hubs"][hub_id] = {"version": registry.version, "sha256": digest}
