"""ed25519 keys and the detached registry signature.

A private key is an unencrypted PKCS#8 PEM file (mode 0600) that never goes into a repository.
A public key is written ``ed25519:<base64 of its 32 raw bytes>``; its key id is the first 16 hex
digits of the sha256 of those bytes. The signature file ``registry.json.sig`` is JSON:
``{"signatures": [{"keyid", "sha256", "sig"}]}`` where ``sig`` is the base64 ed25519 signature of
the exact bytes of ``registry.json`` and ``sha256`` their digest (a lookup hint, never trusted).
During a publish the file briefly holds the signatures of both the old and the new registry, so a
reader always finds a signature for the registry it read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from modahub_hub.hub import HubError, HubVerificationError

_PREFIX = "ed25519:"


@dataclass(frozen=True)
class PublicKey:
    """A public key in its text form and its key id."""

    raw: bytes

    @property
    def text(self) -> str:
        return _PREFIX + base64.b64encode(self.raw).decode()

    @property
    def keyid(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()[:16]

    @classmethod
    def parse(cls, text: str, *, source: str = "public key") -> PublicKey:
        text = text.strip()
        try:
            if not text.startswith(_PREFIX):
                raise ValueError
            raw = base64.b64decode(text[len(_PREFIX) :], validate=True)
            if len(raw) != 32:
                raise ValueError
        except (ValueError, binascii.Error):
            raise HubError(f"{source}: {text[:60]!r} is not a public key; expected 'ed25519:<base64 of 32 bytes>'") from None
        return cls(raw)

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, data)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    """A private key loaded from its PEM file."""

    key: Ed25519PrivateKey
    path: Path

    @property
    def public(self) -> PublicKey:
        raw = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return PublicKey(raw)

    def sign(self, data: bytes) -> dict[str, str]:
        """One signature entry for ``data``."""
        return {
            "keyid": self.public.keyid,
            "sha256": hashlib.sha256(data).hexdigest(),
            "sig": base64.b64encode(self.key.sign(data)).decode(),
        }


def generate_key(path: Path) -> SigningKey:
    """Create a new private key file at ``path`` (refusing to overwrite one) and its ``.pub`` beside it."""
    if path.exists():
        raise HubError(f"{path} already exists; a key is never overwritten (choose another path or delete it yourself)")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    signing = SigningKey(key, path)
    path.with_name(path.name + ".pub").write_text(signing.public.text + "\n", encoding="utf-8")
    return signing


def load_key(path: Path) -> SigningKey:
    """Load a private key written by :func:`generate_key`."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise HubError(f"signing key {path} not found; create one with 'modahub hub keygen {path}'") from None
    except (ValueError, TypeError) as exc:
        raise HubError(f"{path} is not an unencrypted ed25519 PEM private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise HubError(f"{path} holds a {type(key).__name__}, not an ed25519 key")
    return SigningKey(key, path)


def signature_file(entries: list[dict[str, str]]) -> bytes:
    return json.dumps({"signatures": entries}, indent=1, sort_keys=True).encode() + b"\n"


def parse_signatures(data: bytes, *, source: str) -> list[dict[str, str]]:
    try:
        entries = json.loads(data)["signatures"]
        if not isinstance(entries, list) or not all(
            isinstance(e, dict) and all(isinstance(e.get(k), str) for k in ("keyid", "sig"))
            and isinstance(e.get("sha256", ""), str) for e in entries
        ):
            raise ValueError
    except (ValueError, KeyError, TypeError, RecursionError):
        raise HubVerificationError(f"signature check failed: {source} is not a modahub signature file") from None
    return entries


def trusted_signer(data: bytes, signatures: list[dict[str, str]], trusted: list[PublicKey], *, source: str) -> PublicKey:
    """The trusted key that signed ``data``; :class:`HubError` naming the failed check otherwise."""
    by_id = {k.keyid: k for k in trusted}
    digest = hashlib.sha256(data).hexdigest()
    candidates = [e for e in signatures if e["keyid"] in by_id and e.get("sha256", digest) == digest]
    for entry in candidates:
        try:
            sig = base64.b64decode(entry["sig"], validate=True)
        except (ValueError, binascii.Error):
            continue
        if by_id[entry["keyid"]].verify(sig, data):
            return by_id[entry["keyid"]]
    signers = sorted({e["keyid"] for e in signatures})
    if not candidates and not set(signers) & set(by_id):
        raise HubVerificationError(
            f"signature check failed: {source} is signed by key(s) {', '.join(signers) or 'none'}, none of which you "
            f"trust for this hub (trusted: {', '.join(by_id) or 'none'}); if you trust the owner, add their public key "
            "with 'modahub hub trust HUB ed25519:...'"
        )
    raise HubVerificationError(
        f"signature check failed: the signature of {source} does not match its contents (tampered or corrupt)"
    )
