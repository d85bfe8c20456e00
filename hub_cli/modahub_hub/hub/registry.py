"""The registry schema (``registry.json``), its canonical bytes, and name and version rules.

The file is written only by :mod:`modahub_hub.hub.publish` as canonical JSON (sorted keys, compact,
UTF-8), so the bytes that are signed are exactly the bytes on disk. Plugin names are ASCII PEP 508
names, keyed by their PEP 503 normal form; :func:`skeleton` folds look-alikes (separators, case,
0/o, 1/l). A version is its PEP 440 normal form, and two spellings of one version (``0.2`` and
``0.2.0``) are one version: :meth:`PluginEntry.find` returns the first one published. An artifact's
file name is a plain wheel file name of its own plugin and version, checked before anything is
written under it.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

if TYPE_CHECKING:
    from modahub_hub.hub.wheels import WheelInfo

from modahub.manifest import Manifest
from modahub_hub.hub import REGISTRY_FILE as REGISTRY_FILE  # re-exported: importers of the schema know the file by it
from modahub_hub.hub import HubError, HubVerificationError

SCHEMA_VERSION: Literal[1] = 1
SIGNATURE_FILE = "registry.json.sig"
SCHEMA_FILE = "registry.schema.json"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_DIGEST_IMAGE = re.compile(r"^[^\s@]+@sha256:[0-9a-f]{64}$")
_NAME = re.compile(r"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$", re.ASCII)  # PEP 508, ASCII only
_TAG = r"-[A-Za-z0-9_.]+"
_WHEEL_FILE = re.compile(rf"^[A-Za-z0-9_.]+-[A-Za-z0-9_.!+]+(-[0-9][A-Za-z0-9_]*)?{_TAG}{_TAG}{_TAG}\.whl$", re.ASCII)


def normalize(name: str) -> str:
    """The PEP 503 normal form of a distribution name."""
    return str(canonicalize_name(name))


def check_name(name: str) -> str:
    """``name`` if it is an ASCII PEP 508 distribution name; ValueError saying what is wrong otherwise."""
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > 100:
        shown = name.encode("ascii", "backslashreplace").decode() if isinstance(name, str) else repr(name)
        raise ValueError(
            f"{shown!r} is not a plugin name: use 1-100 ASCII letters, digits, '-', '_' and '.', starting and ending "
            "with a letter or digit (PEP 508)"
        )
    return name


def canonical_version(value: str) -> str:
    """The PEP 440 normal form of ``value`` (``1.0-ALPHA1`` -> ``1.0a1``); ValueError if it is no version."""
    try:
        return str(Version(value))
    except (InvalidVersion, TypeError):
        raise ValueError(f"{value!r} is not a valid version (PEP 440)") from None


def check_wheel_filename(filename: str, name: str | None = None, version: str | None = None) -> str:
    """``filename`` if it is a plain wheel file name (no folder, ASCII) of ``name`` ``version``; ValueError otherwise."""
    try:
        if not isinstance(filename, str) or not _WHEEL_FILE.match(filename):
            raise InvalidWheelFilename(filename)
        dist, wheel_version, _, _ = parse_wheel_filename(filename)
    except (InvalidWheelFilename, InvalidVersion):
        raise ValueError(f"{filename!r} is not a plain wheel file name (NAME-VERSION-PY-ABI-PLATFORM.whl, no folders)") from None
    if name is not None and dist != normalize(name):
        raise ValueError(f"wheel file {filename!r} is not a wheel of {name}")
    if version is not None and wheel_version != Version(version):
        raise ValueError(f"wheel file {filename!r} is not version {version}")
    return filename


def skeleton(name: str) -> str:
    """A look-alike key: no separators, lowercase, 0 read as o and 1 (and i) read as l."""
    return re.sub(r"[-_.]+", "", name).lower().translate(str.maketrans("01i", "oll"))


def _specifier(value: str | None) -> str | None:
    if value is not None:
        try:
            SpecifierSet(value)
        except InvalidSpecifier:
            raise ValueError(f"{value!r} is not a version specifier (e.g. '>=0.1,<0.2')") from None
    return value


def _sha256(value: str) -> str:
    if not _SHA256.match(value):
        raise ValueError("sha256 must be 64 lowercase hex digits")
    return value


class Artifact(BaseModel):
    """One wheel file: where it is (relative to the registry file, or absolute) and what it must hash to."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["wheel"] = "wheel"
    filename: str  # a plain wheel file name of its plugin and version, never a path (checked below)
    url: str = Field(description="relative to the registry file, or an absolute http(s) URL")
    size: int = Field(ge=0)
    sha256: str

    _hex = field_validator("sha256")(_sha256)
    _file = field_validator("filename")(lambda value: check_wheel_filename(value))

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urllib.parse.urlsplit(value)
        if parts.scheme in ("http", "https") and parts.netloc and value.isascii() and value.isprintable():
            return value
        if parts.scheme or parts.netloc or value.startswith("/") or ".." in value.split("/") or "\\" in value or (
            not value.isascii() or not value.isprintable()
        ):
            raise ValueError(f"url {value!r} must be an http(s) URL or a plain path inside the hub (no '..', no leading '/')")
        return value


class WeightsFile(BaseModel):
    """One pinned weight file."""

    model_config = ConfigDict(extra="forbid")
    path: str
    sha256: str
    size: int | None = Field(default=None, ge=0)

    _hex = field_validator("sha256")(_sha256)


class WeightsDownload(BaseModel):
    """Weights a plugin downloads: a repository at a 40-hex commit, each file with its sha256."""

    model_config = ConfigDict(extra="forbid")
    hub: Literal["hf"] = "hf"
    repo_id: str
    repo_type: Literal["model", "dataset", "space"] = "model"
    revision: str = Field(description="a 40-hex commit, never a branch")
    files: list[WeightsFile] = Field(min_length=1)

    @field_validator("revision")
    @classmethod
    def _commit(cls, value: str) -> str:
        if not _COMMIT.match(value):
            raise ValueError(f"revision {value!r} must be a 40-hex commit id (branches move)")
        return value


class VersionEntry(BaseModel):
    """One published version of a plugin."""

    model_config = ConfigDict(extra="forbid")
    version: str
    requires_core: str | None = Field(default=None, description="modahub-core versions the wheel accepts")
    requires_python: str | None = None
    dependencies: list[str] = Field(default_factory=list, description="the wheel's Requires-Dist")
    entry_point: str = Field(description="'name = module' of the wheel's modahub entry point")
    manifest: Manifest
    artifact: Artifact
    weights: list[WeightsDownload] = Field(default_factory=list)
    container: str | None = Field(default=None, description="an image pinned by digest: name@sha256:<64hex>")
    yanked: bool = False
    yanked_reason: str | None = None
    published_at: datetime

    _specs = field_validator("requires_core", "requires_python")(_specifier)

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        canonical_version(value)
        return value

    @classmethod
    def published_now(cls, info: WheelInfo, version: str, url: str, *, weights: list[WeightsDownload] | None = None,
                      container: str | None = None) -> VersionEntry:
        """The entry for a wheel (read by :func:`~modahub_hub.hub.wheels.inspect_wheel`) published now at ``url``."""
        return cls(
            version=version, requires_core=info.requires_core, requires_python=info.requires_python,
            dependencies=info.dependencies, entry_point=info.entry_point, manifest=info.manifest,
            artifact=Artifact(filename=info.path.name, url=url, size=info.size, sha256=info.sha256),
            weights=weights or [], container=container, published_at=datetime.now(UTC).replace(microsecond=0),
        )

    @field_validator("container")
    @classmethod
    def _digest(cls, value: str | None) -> str | None:
        if value is not None and not _DIGEST_IMAGE.match(value):
            raise ValueError(f"container {value!r} must be pinned by digest: name@sha256:<64 hex>")
        return value

    def kinds(self) -> list[str]:
        return sorted({e.kind for e in self.manifest.executors})

    def modalities(self) -> list[str]:
        return sorted({m for e in self.manifest.executors for m in e.modalities} | {m.name for m in self.manifest.modalities})


class PluginEntry(BaseModel):
    """A plugin (one distribution) and all its published versions."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="the distribution name as its author spells it")
    summary: str = ""
    owner: str
    license: str | None = None
    homepage: str | None = None
    status: Literal["active", "deprecated", "quarantined"] = "active"
    status_reason: str | None = None
    dist_tags: dict[str, str] = Field(default_factory=dict, description="e.g. {'latest': '1.2.0'}")
    versions: dict[str, VersionEntry] = Field(default_factory=dict)

    _name = field_validator("name")(lambda value: check_name(value))

    @model_validator(mode="after")
    def _consistent(self) -> PluginEntry:
        for key, entry in self.versions.items():
            if key != entry.version:
                raise ValueError(f"versions[{key!r}] holds version {entry.version!r}")
            check_wheel_filename(entry.artifact.filename, self.name, entry.version)
        return self

    def sorted_versions(self) -> list[VersionEntry]:
        """Versions, newest first; of two spellings of one version (``0.2``, ``0.2.0``) only the first published."""
        first: dict[Version, VersionEntry] = {}
        for entry in sorted(self.versions.values(), key=lambda v: v.published_at):
            first.setdefault(Version(entry.version), entry)
        return [first[v] for v in sorted(first, reverse=True)]

    def find(self, version: str) -> VersionEntry | None:
        """The published entry of ``version`` under any of its spellings (the first published one)."""
        try:
            wanted = Version(version)
        except InvalidVersion:
            return None
        return next((e for e in self.sorted_versions() if Version(e.version) == wanted), None)

    def latest(self) -> VersionEntry | None:
        tag = self.dist_tags.get("latest")
        return self.find(tag) if tag else next(iter(self.sorted_versions()), None)


class RegistryKey(BaseModel):
    """A key allowed to sign the registry: its key id and its public key in text form."""

    model_config = ConfigDict(extra="forbid")
    keyid: str
    public: str = Field(description="'ed25519:<base64 of the 32 raw bytes>'")


class Registry(BaseModel):
    """The whole ``registry.json``."""

    model_config = ConfigDict(extra="forbid")
    schema_version: Literal[1] = SCHEMA_VERSION
    name: str = Field(default="", max_length=100, description="who the hub is, with its keys, wherever it is served")
    version: int = Field(ge=1, description="rises with every change; clients refuse an older one")
    generated_at: datetime
    expires: datetime = Field(description="clients refuse the file after this time (freeze attacks)")
    expires_after_days: int = Field(default=90, ge=1, description="how far each publish moves 'expires'")
    files_dir: str = Field(default="", description="folder, relative to registry.json, holding the other hub files")
    keys: list[RegistryKey] = Field(default_factory=list, description="keys allowed to sign this registry")
    plugins: dict[str, PluginEntry] = Field(default_factory=dict, description="keyed by PEP 503 normalised name")

    @model_validator(mode="after")
    def _keys(self) -> Registry:
        for key, plugin in self.plugins.items():
            if key != normalize(plugin.name):
                raise ValueError(f"plugins[{key!r}] holds {plugin.name!r}; the key must be its PEP 503 normal form")
        return self

    @field_validator("files_dir")
    @classmethod
    def _relative(cls, value: str) -> str:
        value = value.strip("/")
        if value.startswith(".") or "\\" in value or "//" in value:
            raise ValueError(f"files_dir {value!r} must be a plain relative folder like 'hub'")
        return value

    def file(self, relpath: str) -> str:
        """Path of a hub file (``artifacts/…``, ``simple/…``) relative to the registry file."""
        return f"{self.files_dir}/{relpath}" if self.files_dir else relpath

    @property
    def signature_path(self) -> str:
        return self.file(SIGNATURE_FILE)

    def get(self, name: str) -> PluginEntry | None:
        return self.plugins.get(normalize(name))

    def to_bytes(self) -> bytes:
        """The canonical bytes that are written and signed."""
        data = self.model_dump(mode="json", exclude_none=True)
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, *, source: str) -> Registry:
        try:
            return cls.model_validate_json(data)
        except ValidationError as exc:
            details = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()[:5])
            raise HubError(f"{source} is not a valid modahub registry: {details}") from None

    def check_fresh(self, source: str, now: datetime | None = None) -> None:
        """Refuse an expired registry."""
        now = now or datetime.now(UTC)
        if self.expires <= now:
            raise HubVerificationError(
                f"{source}: registry expired at {self.expires.isoformat()} (freeze check); the hub owner must "
                "republish or run 'modahub hub refresh'"
            )


def parse_version(value: str) -> Version:
    try:
        return Version(value)
    except InvalidVersion:
        raise HubError(f"{value!r} is not a valid version (PEP 440)") from None


def json_schema() -> str:
    """The JSON Schema of ``registry.json``, as written to ``registry.schema.json``."""
    return json.dumps(Registry.model_json_schema(), indent=2, sort_keys=True) + "\n"
