"""Which keys a user trusts for which hub, and the checks every legacy registry read passes.

Trust belongs to a hub's identity, not to the string used to reach it: the same hub reached as a
folder, over HTTP or from a copy is one hub, trusted once, with one rollback state. A TUF hub is
``tuf:<digest of its first root>`` (see :mod:`~modahub_hub.hub.tuf_client`); a legacy hub is
``hub:<its registry's name>``, or its location when its registry has no name (hubs made before names).

A legacy registry is accepted only if (1) a key the user trusts for that hub signed its exact bytes,
(2) its ``version`` is not below the last one this user accepted from that hub (and the same
version has the same bytes), and (3) it has not expired. The bundled hub's public key ships in
this package (``bundled_hub.pub``); every other hub's keys are added by ``modahub hub trust``,
``--trust`` on a command, the user's answer on first use in a terminal, or ``modahub hub init``.
"""

from __future__ import annotations

import hashlib
import os
import re
from importlib import resources
from pathlib import Path

from modahub_hub.hub import HubError, HubVerificationError
from modahub_hub.hub.backends import Backend
from modahub_hub.hub.config import read_config, read_state, updating
from modahub_hub.hub.limits import SIGNATURE_BYTES, metadata_limit
from modahub_hub.hub.registry import REGISTRY_FILE, SIGNATURE_FILE, Registry
from modahub_hub.hub.signing import PublicKey, parse_signatures, trusted_signer

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


def _bundled_identities() -> set[str]:
    """The bundled hub's identities: its location (a legacy hub without a name) and its TUF identity."""
    from modahub_hub.hub.tuf_client import genesis_identity
    from modahub_hub.hub.tuf_layout import GENESIS_ROOT

    path = bundled_hub_path()
    genesis = path / GENESIS_ROOT
    return {str(path), *([genesis_identity(genesis.read_bytes())] if genesis.is_file() else [])}


def trusted_keys(identity: str) -> list[PublicKey]:
    """The keys the user trusts to sign the hub ``identity`` (see the module's docstring)."""
    configured = read_config().get("hubs", {}).get(identity, {}).get("keys", [])
    keys = [PublicKey.parse(k, source=f"config.json hubs[{identity!r}]") for k in configured]
    if identity in _bundled_identities():
        keys += bundled_keys()
    return keys


def trust(identity: str, key: PublicKey) -> None:
    """Trust ``key`` to sign the hub ``identity`` from now on, wherever it is reached."""
    with updating("config.json") as config:
        keys = config.setdefault("hubs", {}).setdefault(identity, {}).setdefault("keys", [])
        if key.text not in keys:
            keys.append(key.text)


def legacy_identity(registry: Registry, location: str) -> str:
    """Who a legacy hub is: its registry's name, else (a registry made before names) its location."""
    return f"hub:{registry.name}" if registry.name else location


def trust_hub(backend: Backend, key: PublicKey) -> str:
    """Trust ``key`` for the hub at ``backend`` once it is checked to sign the hub; returns the hub's identity."""
    from modahub_hub.hub.tuf_client import has_tuf, trust_tuf_hub

    if has_tuf(backend):
        return trust_tuf_hub(backend, key)
    data, signatures, sig_path = _read(backend)
    source = backend.url(REGISTRY_FILE)
    try:
        trusted_signer(data, signatures, [key], source=source)  # before the bytes are parsed
    except HubError:
        raise HubError(f"key {key.keyid} does not sign {source}; nothing trusted. Check the key with the hub's owner") from None
    identity = legacy_identity(_parsed(data, sig_path, source), backend.hub_id)
    trust(identity, key)
    return identity


class UntrustedHub(HubError):
    """A hub validly signed by keys none of which the user trusts for it: its first use (as ssh's unknown host).

    ``identity`` is who the hub is (what ``--trust`` or the user's answer trusts), ``location`` where it was reached.
    """

    def __init__(self, location: str, keys: list[PublicKey], identity: str) -> None:
        self.location, self.keys, self.identity = location, keys, identity
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
            trusted_signer(data, signatures, [key], source=REGISTRY_FILE)
        except HubError:
            continue
        found.append(key)
    return found


def _read(backend: Backend) -> tuple[bytes, list[dict[str, str]], str]:
    """The registry's bytes (size-capped, not parsed yet), its signatures and where they are."""
    data = backend.read(REGISTRY_FILE, metadata_limit())
    if data is None:
        raise HubError(f"{backend.url(REGISTRY_FILE)} not found: is this a modahub hub? Create one with 'modahub hub init'")
    sig_path = signature_location(data)
    sig = backend.read(sig_path, SIGNATURE_BYTES)
    if sig is None:
        raise HubVerificationError(f"signature check failed: {backend.url(sig_path)} is missing")
    return data, parse_signatures(sig, source=sig_path), sig_path


def _parsed(data: bytes, sig_path: str, source: str) -> Registry:
    registry = Registry.from_bytes(data, source=source)
    if registry.signature_path != sig_path:
        raise HubError(f"{source} is not a valid modahub registry: files_dir does not match where its signature is")
    return registry


def _all_trusted() -> list[PublicKey]:
    """Every key the user trusts for any hub (the signature is checked against them before the bytes are parsed)."""
    hubs = read_config().get("hubs", {})
    keys = [PublicKey.parse(k, source=f"config.json hubs[{hub!r}]") for hub, entry in hubs.items() for k in entry.get("keys", [])]
    return keys + bundled_keys()


def load_verified(backend: Backend, *, extra_keys: list[PublicKey] | None = None) -> Registry:
    """Read the hub's registry and pass it through the signature, rollback and freeze checks.

    The signature is checked before the bytes are parsed; then the key that signed must be one the
    user trusts for the hub the registry says it is (:func:`legacy_identity`). ``extra_keys`` are
    trusted besides the configured ones (a publisher trusts its own key). A hub signed by no key the
    user trusts for it raises :class:`UntrustedHub`: on that first use only, the (size-capped) bytes
    are parsed to show the keys they list, each checked against the signature.
    """
    source = backend.url(REGISTRY_FILE)
    data, signatures, sig_path = _read(backend)
    extra = list(extra_keys or [])
    candidates = [*_all_trusted(), *extra]
    if not {e["keyid"] for e in signatures} & {k.keyid for k in candidates}:
        registry = _parsed(data, sig_path, source)
        offered = _signers(data, signatures, registry)
        if offered:
            raise UntrustedHub(backend.hub_id, offered, legacy_identity(registry, backend.hub_id))
    trusted_signer(data, signatures, candidates, source=source)  # before the bytes are parsed
    registry = _parsed(data, sig_path, source)
    identity = legacy_identity(registry, backend.hub_id)
    try:  # signed by a key trusted for some hub: it must be trusted for this one
        trusted_signer(data, signatures, [*trusted_keys(identity), *extra], source=source)
    except HubError:
        raise UntrustedHub(backend.hub_id, _signers(data, signatures, registry), identity) from None
    check_rollback(identity, registry, data, source)
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


def check_rollback(identity: str, registry: Registry, data: bytes, source: str) -> None:
    """Refuse a registry older than (or differing at the same version from) the last one seen of hub ``identity``; remember it."""
    digest = hashlib.sha256(data).hexdigest()
    seen = read_state().get("hubs", {}).get(identity)
    if seen and registry.version < seen["version"]:
        raise HubVerificationError(
            f"rollback check failed: {source} has version {registry.version}, older than version {seen['version']} "
            "seen before; someone may be serving a stale copy"
        )
    if seen and registry.version == seen["version"] and digest != seen["sha256"]:
        raise HubVerificationError(
            f"rollback check failed: {source} version {registry.version} differs from the copy seen before"
        )
    if not seen or registry.version > seen["version"]:
        record_seen(identity, registry.version, digest)


def record_seen(identity: str, version: int, digest: str) -> None:
    """Remember registry ``version`` (sha256 ``digest``) of hub ``identity`` as the newest seen, unless a newer one was."""
    with updating("state.json") as state:
        current = state.setdefault("hubs", {}).get(identity)
        if not current or version > current["version"]:
            state["hubs"][identity] = {"version": version, "sha256": digest}
