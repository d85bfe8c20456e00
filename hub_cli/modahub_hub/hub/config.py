"""The user's hub configuration, trust state and plugin lock, in the user config dir.

The folder is ``$MODAHUB_CONFIG_DIR``, else ``$XDG_CONFIG_HOME/modahub``, else ``~/.config/modahub``;
it lives outside every environment so it survives upgrades of modahub. Files:

- ``config.json``: ``{"default_hub": "...", "hubs": {HUB_IDENTITY: {"keys": ["ed25519:..."]}}}``, keyed by who
  a hub is (``tuf:<first root digest>``, ``hub:<registry name>``), not where it is (see ``trust.py``)
- ``state.json``: the last legacy registry version seen per hub identity (rollback protection) and
  ``tuf_locations``: which TUF hub each location served when last read
- ``plugins.lock``: the plugins installed by ``modahub install``, in requirements form, so that
  ``modahub install -r ~/.config/modahub/plugins.lock`` reinstalls them.
- ``keys/``: private signing keys made by ``modahub hub keygen`` (mode 0600): ``hub.key`` signs hubs,
  ``owner.key`` signs the plugins one publishes to TUF hubs.
- ``tuf/<identity digest>/``: each TUF hub's pinned root, its other verified metadata and cached targets.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from modahub.files import atomic_write

CONFIG_ENV = "MODAHUB_CONFIG_DIR"
KEY_ENV = "MODAHUB_HUB_KEY"
OWNER_KEY_ENV = "MODAHUB_OWNER_KEY"


def config_dir() -> Path:
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "modahub"


def default_key_path() -> Path:
    """The signing key used when neither ``--key`` nor ``$MODAHUB_HUB_KEY`` names one."""
    return Path(os.environ.get(KEY_ENV) or config_dir() / "keys" / "hub.key")


def default_owner_key_path() -> Path:
    """The publisher's owner key (TUF hubs) when ``--owner-key`` is not given."""
    return Path(os.environ.get(OWNER_KEY_ENV) or config_dir() / "keys" / "owner.key")


@contextmanager
def locked(path: Path):
    """An exclusive advisory lock on ``path`` (created if missing) for the duration of the block."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _read_json(name: str) -> dict[str, Any]:
    path = config_dir() / name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        from modahub_hub.hub import HubError

        raise HubError(f"{path} is not valid JSON ({exc}); fix or delete it") from None
    return data if isinstance(data, dict) else {}


@contextmanager
def updating(name: str):
    """Read-modify-write one JSON file of the config dir under a lock."""
    with locked(config_dir() / f".{name}.lock"):
        data = _read_json(name)
        yield data
        atomic_write(config_dir() / name, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())


def read_config() -> dict[str, Any]:
    return _read_json("config.json")


def read_state() -> dict[str, Any]:
    return _read_json("state.json")


def lock_path() -> Path:
    return config_dir() / "plugins.lock"
