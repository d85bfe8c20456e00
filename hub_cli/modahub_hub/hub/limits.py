"""Size caps on what a hub sends: a download stops at its declared size, a metadata file at its cap.

Every byte a hub serves is read through :func:`copy_capped` or :func:`read_capped`, which stop one
chunk past the limit and fail, so a hostile or broken hub cannot make a client store or hold more
than it asked for. Metadata files (``registry.json`` and its signature) are capped before anything
parses them: ``$MODAHUB_MAX_METADATA_BYTES`` (default 32 MiB) and 1 MiB for a signature file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from modahub_hub.hub import HubError, HubVerificationError

METADATA_ENV = "MODAHUB_MAX_METADATA_BYTES"
DEFAULT_METADATA_BYTES = 32 << 20
SIGNATURE_BYTES = 1 << 20
CHUNK = 1 << 20


def metadata_limit() -> int:
    """The cap on one metadata file, from ``$MODAHUB_MAX_METADATA_BYTES`` or the default."""
    value = os.environ.get(METADATA_ENV)
    if not value:
        return DEFAULT_METADATA_BYTES
    try:
        limit = int(value)
        if limit <= 0:
            raise ValueError
    except ValueError:
        raise HubError(f"{METADATA_ENV}={value!r}: expected a positive number of bytes") from None
    return limit


def too_large(what: str, limit: int, size: int | None = None) -> HubError:
    found = f"is {size} bytes" if size is not None else f"is larger than {limit} bytes"
    return HubVerificationError(f"size check failed: {what} {found}, more than the {limit} allowed; stopped, nothing kept")


def check_declared(what: str, size: int | None, limit: int | None) -> None:
    """Fail early when a size announced before the transfer (Content-Length, file size) is over the limit."""
    if limit is not None and size is not None and size > limit:
        raise too_large(what, limit, size)


def copy_capped(src: BinaryIO, dest: Path, *, limit: int | None, what: str, progress: Callable[[int], None] | None = None) -> int:
    """Copy ``src`` into ``dest``, failing as soon as more than ``limit`` bytes arrive; returns the size."""
    total = 0
    with open(dest, "wb") as out:
        while chunk := src.read(CHUNK if limit is None else min(CHUNK, limit - total + 1)):
            total += len(chunk)
            if limit is not None and total > limit:
                raise too_large(what, limit)
            out.write(chunk)
            if progress:
                progress(len(chunk))
    return total


def read_capped(src: BinaryIO, *, limit: int, what: str) -> bytes:
    """All of ``src``, failing as soon as more than ``limit`` bytes arrive."""
    data = src.read(limit + 1)
    if len(data) > limit:
        raise too_large(what, limit)
    return data
