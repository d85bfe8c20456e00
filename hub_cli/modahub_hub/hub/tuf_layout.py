"""Where a TUF hub keeps its files, how roles are named, and how hub keys become TUF keys and signers.

A TUF hub lives under ``tuf/`` of the hub: ``tuf/metadata/`` holds the role metadata
(``N.root.json`` for every root version plus ``root.json``, the newest; ``timestamp.json``; and
``N.ROLE.json`` for snapshot, targets and delegated roles: consistent snapshots, so a publish only
adds files and ``timestamp.json`` is its single commit point) and ``tuf/targets/`` the target files,
each stored as ``DIR/<sha256>.NAME``.

Roles: ``root`` (a threshold of keys), ``timestamp``, ``snapshot`` and ``targets`` signed by the
hub's key holder; ``targets`` delegates every plugin path to a hash bin ``bin-XY`` (also the key
holder's), and a bin delegates each plugin name to the ``owner-…`` role of the key(s) that own it.
A plugin's files sit under ``p/XY/NAME/`` where ``XY`` are the first hex digits of sha256(NAME), so
one path pattern per name picks its owner.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name as normalize

if TYPE_CHECKING:
    from securesystemslib.signer import CryptoSigner, Key, SSlibKey

    from modahub_hub.hub.signing import PublicKey, SigningKey

TUF_DIR = "tuf"
METADATA_DIR = f"{TUF_DIR}/metadata"
TARGETS_DIR = f"{TUF_DIR}/targets"
GENESIS_ROOT = f"{METADATA_DIR}/1.root.json"  # the first root: the hub's identity (see tuf_client.genesis_identity)
HUB_ID_FIELD = "x-modahub-hub"  # a random id in the first root, so that two hubs made alike still differ
INDEX_TARGET = "hub/index.jsonl.gz"
STATUS_TARGET = "hub/status.json"
PLUGIN_FILE = "plugin.json"
BIN_PREFIX = "bin-"
OWNER_PREFIX = "owner-"


def bin_of(name: str, digits: int) -> str:
    """The hash bin (``digits`` hex digits) of a plugin name."""
    return hashlib.sha256(normalize(name).encode()).hexdigest()[:digits]


def plugin_dir(name: str, digits: int) -> str:
    """The target folder of a plugin: ``p/XY/NAME``."""
    return f"p/{bin_of(name, digits)}/{normalize(name)}"


def plugin_target(name: str, digits: int) -> str:
    """The target path of a plugin's signed metadata (its :class:`~modahub_hub.hub.registry.PluginEntry`)."""
    return f"{plugin_dir(name, digits)}/{PLUGIN_FILE}"


def bin_role(prefix: str) -> str:
    return f"{BIN_PREFIX}{prefix}"


def bin_pattern(prefix: str) -> str:
    """The delegation pattern covering every file of every plugin in a bin (TUF matches segment by segment)."""
    return f"p/{prefix}/*/*"


def name_pattern(name: str, digits: int) -> str:
    """The delegation pattern covering the files of one plugin."""
    return f"{plugin_dir(name, digits)}/*"


def owner_role(keys: list[PublicKey], threshold: int = 1) -> str:
    """The delegated role of an owner: ``owner-<keyid>`` for one key, else named after the keys and threshold.

    The name is chosen when the role is first delegated and never changes when its keys rotate.
    """
    if len(keys) == 1 and threshold == 1:
        return f"{OWNER_PREFIX}{keys[0].keyid}"
    group = "|".join(sorted(k.keyid for k in keys)) + f"/{threshold}"
    return f"{OWNER_PREFIX}{hashlib.sha256(group.encode()).hexdigest()[:16]}"


def tuf_key(key: PublicKey) -> SSlibKey:
    """A hub public key as a TUF key (ed25519; TUF computes its own key id)."""
    return _tuf_key(key.raw)


@lru_cache(maxsize=4096)
def _tuf_key(raw: bytes) -> SSlibKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from securesystemslib.signer import SSlibKey

    return SSlibKey.from_crypto(Ed25519PublicKey.from_public_bytes(raw))


def signer(key: SigningKey) -> CryptoSigner:
    from securesystemslib.signer import CryptoSigner

    return CryptoSigner(key.key, tuf_key(key.public))


def raw_public(key: Key) -> bytes:
    """The 32 raw bytes of an ed25519 TUF key (to compare with a hub :class:`PublicKey`)."""
    return bytes.fromhex(key.keyval["public"])
