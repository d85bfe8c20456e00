"""Where a hub's files live: a local folder, a static HTTP(S) host, or a Hugging Face Hub repo.

Every backend reads files by their path relative to ``registry.json``; the folder and the HF repo
also write. A write is an ordered list of ``(path, bytes | Path)``: the folder backend applies the
list in order, each file replaced atomically, under an exclusive lock file; the HF backend makes one
commit with ``parent_commit`` (later entries for the same path win), so a concurrent publish fails
with :class:`Conflict` instead of overwriting.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.parse
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from modahub.files import atomic_write
from modahub_hub.hub import REGISTRY_FILE, HubError
from modahub_hub.hub.config import locked
from modahub_hub.hub.limits import check_declared, copy_capped, metadata_limit, read_capped

Progress = Callable[[int], None]
Write = tuple[str, "bytes | Path"]
LOCK_FILE = ".modahub-hub.lock"


class Conflict(HubError):
    """Someone else changed the hub between our read and our write; read again and retry."""


def _content_length(resp) -> int | None:
    value = resp.headers.get("Content-Length")
    return int(value) if value and value.isascii() and value.isdigit() else None


def _fetch_url(url: str, dest: Path, progress: Progress | None, limit: int | None) -> None:
    try:
        with urllib.request.urlopen(url, timeout=60) as resp:
            check_declared(url, _content_length(resp), limit)
            copy_capped(resp, dest, limit=limit, what=url, progress=progress)
    except (urllib.error.URLError, OSError) as exc:
        raise HubError(f"download of {url} failed: {exc}") from None


class Backend(ABC):
    """One hub location."""

    hub_id: str
    writable: bool = False

    @abstractmethod
    def read(self, path: str, limit: int | None = None) -> bytes | None:
        """A small file's bytes (None when it does not exist); more than ``limit`` (default: the metadata cap) fails."""

    @abstractmethod
    def fetch(self, path: str, dest: Path, progress: Progress | None = None, limit: int | None = None) -> None:
        """Copy a (possibly large) file to ``dest``, failing as soon as it exceeds ``limit`` bytes."""

    def head(self) -> str | None:
        """A token for the current state that :meth:`commit` checks (HF: the commit id)."""
        return None

    def write_lock(self) -> AbstractContextManager[None]:
        """Held by a publisher around read-modify-write."""
        return nullcontext()

    def commit(self, writes: list[Write], *, parent: str | None, message: str) -> None:
        raise HubError(f"{self.hub_id} is read-only; publish to a folder or an hf:// repo and serve that")

    def url(self, path: str) -> str:
        """Where a hub file can be fetched by others (for messages and pip)."""
        return f"{self.hub_id.rstrip('/')}/{path}"

    def fetch_any(self, url: str, dest: Path, progress: Progress | None = None, limit: int | None = None) -> None:
        """Fetch an artifact URL from the registry: absolute http(s), or relative to the registry file."""
        if urllib.parse.urlsplit(url).scheme in ("http", "https"):
            _fetch_url(url, dest, progress, limit)
        else:
            self.fetch(_relative(url), dest, progress, limit)


def _relative(path: str) -> str:
    parts = Path(path).parts
    if path.startswith("/") or ".." in parts:
        raise HubError(f"hub path {path!r} must stay inside the hub (no leading '/' or '..')")
    return path


class FolderBackend(Backend):
    """A hub in a local folder (the default, and the repository's bundled hub)."""

    writable = True

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.hub_id = str(self.root)

    def read(self, path: str, limit: int | None = None) -> bytes | None:
        limit = limit or metadata_limit()
        try:
            with open(self.root / _relative(path), "rb") as src:
                check_declared(str(self.root / path), os.fstat(src.fileno()).st_size, limit)
                return read_capped(src, limit=limit, what=str(self.root / path))
        except FileNotFoundError:
            return None

    def fetch(self, path: str, dest: Path, progress: Progress | None = None, limit: int | None = None) -> None:
        try:
            with open(self.root / _relative(path), "rb") as src:
                check_declared(str(self.root / path), os.fstat(src.fileno()).st_size, limit)
                copy_capped(src, dest, limit=limit, what=str(self.root / path), progress=progress)
        except FileNotFoundError:
            raise HubError(f"{self.root / path} is listed in the registry but missing from the hub folder") from None

    def write_lock(self) -> AbstractContextManager[None]:
        self._make_dirs(self.root)
        return locked(self.root / LOCK_FILE)

    def commit(self, writes: list[Write], *, parent: str | None, message: str) -> None:
        for path, content in writes:
            target = self.root / _relative(path)
            self._make_dirs(target.parent)
            atomic_write(target, content)

    def _make_dirs(self, folder: Path) -> None:
        """Create ``folder`` and its missing parents world-readable (0755), whatever the umask."""
        if folder.is_dir():
            return
        self._make_dirs(folder.parent)
        folder.mkdir(exist_ok=True)
        folder.chmod(0o755)

    def url(self, path: str) -> str:
        return (self.root / path).as_uri()


class HttpBackend(Backend):
    """A hub served by any static HTTP(S) host (read-only)."""

    def __init__(self, base: str) -> None:
        base = base.removesuffix(REGISTRY_FILE)
        self.hub_id = base if base.endswith("/") else base + "/"

    def url(self, path: str) -> str:
        return urllib.parse.urljoin(self.hub_id, _relative(path))

    def read(self, path: str, limit: int | None = None) -> bytes | None:
        limit = limit or metadata_limit()
        try:
            with urllib.request.urlopen(self.url(path), timeout=60) as resp:
                check_declared(self.url(path), _content_length(resp), limit)
                return read_capped(resp, limit=limit, what=self.url(path))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise HubError(f"{self.url(path)}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise HubError(f"cannot reach {self.url(path)}: {exc}") from None

    def fetch(self, path: str, dest: Path, progress: Progress | None = None, limit: int | None = None) -> None:
        _fetch_url(self.url(path), dest, progress, limit)


def _transport_errors() -> tuple[type[Exception], ...]:
    """The errors of huggingface_hub's HTTP client when no answer comes (offline, refused, timed out):
    httpx's under huggingface_hub 1.x, httpx2's under 2.x."""
    import importlib

    found = []
    for client in ("httpx2", "httpx"):
        try:
            found.append(importlib.import_module(client).TransportError)
        except ImportError:
            continue
    return tuple(found)


class HfBackend(Backend):
    """A hub in a Hugging Face Hub repo (``hf://owner/repo`` or ``hf://datasets/owner/repo``).

    The endpoint is ``$HF_ENDPOINT`` (read on each use) or huggingface.co; reads are pinned to the
    commit found by :meth:`head`, so a hub read is one consistent snapshot.
    """

    writable = True

    def __init__(self, spec: str) -> None:
        rest = spec.removeprefix("hf://").strip("/")
        self.repo_type = "model"
        for prefix, kind in (("datasets/", "dataset"), ("spaces/", "space")):
            if rest.startswith(prefix):
                self.repo_type, rest = kind, rest[len(prefix) :]
        if rest.count("/") != 1 or not all(rest.split("/")):
            raise HubError(f"{spec!r} is not an HF hub; expected hf://owner/repo or hf://datasets/owner/repo")
        self.repo_id = rest
        self.hub_id = spec.rstrip("/")
        self._revision: str | None = None

    def _api(self):
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        from huggingface_hub import HfApi

        return HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None)

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

        try:
            yield
        except _transport_errors() as exc:
            endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
            raise HubError(f"{self.hub_id}: {what} failed: cannot reach {endpoint} ({exc})",
                           hint="check the network (and HF_ENDPOINT), or use a hub folder or http(s) URL with --hub") from None
        except OfflineModeIsEnabled as exc:
            raise HubError(f"{self.hub_id}: {what} needs the network but HF_HUB_OFFLINE is set ({exc})") from None
        except HfHubHTTPError as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in (409, 412):
                raise Conflict(f"{self.hub_id} changed during {what}; retrying reads the new state") from None
            raise HubError(f"{self.hub_id}: {what} failed: {exc}") from None
        except OSError as exc:
            raise HubError(f"{self.hub_id}: {what} failed: {exc}") from None

    def head(self) -> str:
        with self._errors("reading the repo"):
            self._revision = self._api().repo_info(self.repo_id, repo_type=self.repo_type).sha
        assert self._revision is not None
        return self._revision

    def _download(self, path: str, limit: int | None) -> Path:
        """The file in the HF cache; its size as the server announces it is checked before it is downloaded."""
        from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url
        from huggingface_hub.errors import OfflineModeIsEnabled

        endpoint = os.environ.get("HF_ENDPOINT") or None
        revision = self._revision or self.head()
        if limit is not None:
            url = hf_hub_url(self.repo_id, _relative(path), repo_type=self.repo_type, revision=revision, endpoint=endpoint)
            try:
                check_declared(self.url(path), get_hf_file_metadata(url).size, limit)
            except OfflineModeIsEnabled:
                pass  # the cached copy is checked as it is read
        return Path(hf_hub_download(self.repo_id, _relative(path), repo_type=self.repo_type, revision=revision,
                                    endpoint=endpoint))

    def read(self, path: str, limit: int | None = None) -> bytes | None:
        from huggingface_hub.errors import EntryNotFoundError

        limit = limit or metadata_limit()
        with self._errors(f"reading {path}"):
            try:
                with open(self._download(path, limit), "rb") as src:
                    return read_capped(src, limit=limit, what=self.url(path))
            except EntryNotFoundError:
                return None

    def fetch(self, path: str, dest: Path, progress: Progress | None = None, limit: int | None = None) -> None:
        with self._errors(f"downloading {path}"), open(self._download(path, limit), "rb") as src:
            copy_capped(src, dest, limit=limit, what=self.url(path), progress=progress)

    def url(self, path: str) -> str:
        endpoint = os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
        prefix = "" if self.repo_type == "model" else f"{self.repo_type}s/"
        return f"{endpoint}/{prefix}{self.repo_id}/resolve/main/{path}"

    def create(self) -> None:
        with self._errors("creating the repo"):
            self._api().create_repo(self.repo_id, repo_type=self.repo_type, exist_ok=True)

    def commit(self, writes: list[Write], *, parent: str | None, message: str) -> None:
        from huggingface_hub import CommitOperationAdd

        final = dict(writes)
        ops = [CommitOperationAdd(path_in_repo=_relative(p), path_or_fileobj=c if isinstance(c, bytes) else str(c))
               for p, c in final.items()]
        with self._errors("publishing"):
            info = self._api().create_commit(
                self.repo_id, ops, commit_message=message, repo_type=self.repo_type, parent_commit=parent
            )
        self._revision = info.oid


def open_backend(spec: str) -> Backend:
    """The backend for a ``--hub`` value: a folder path, an http(s) URL, or ``hf://owner/repo``."""
    if spec.startswith("hf://"):
        return HfBackend(spec)
    scheme = urllib.parse.urlsplit(spec).scheme
    if scheme in ("http", "https"):
        return HttpBackend(spec)
    if scheme == "file":
        spec = urllib.parse.unquote(urllib.parse.urlsplit(spec).path)
    elif scheme and len(scheme) > 1:
        raise HubError(f"hub {spec!r}: unknown scheme {scheme!r}; use a folder path, http(s)://… or hf://owner/repo")
    path = Path(spec).expanduser()
    if path.name == REGISTRY_FILE:
        path = path.parent
    return FolderBackend(path)
