"""Static plugin manifests: what a plugin provides, readable without importing its code.

A plugin ships ``modahub.toml`` at the root of the top-level package named by its ``modahub``
entry point. It is found with :func:`importlib.util.find_spec` on that top-level name, which
locates the package without executing it.
"""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from modahub.errors import ModahubInputError

MANIFEST_FILE = "modahub.toml"
SCHEMA_VERSION: Literal[1] = 1
_EXECUTOR_NAME = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
_EXTENSION = re.compile(r"^\.[a-z0-9][a-z0-9_-]{0,15}$")


class ManifestError(ModahubInputError):
    """A plugin manifest is missing or invalid."""


class ExecutorSpec(BaseModel):
    """One executor a plugin provides."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="registry name, unique across plugins, e.g. 'minilm-text'")
    kind: Literal["encoder", "indexer", "text-indexer", "segmenter", "generator"]
    modalities: list[str] = Field(min_length=1, description="accepted modalities ('*' for any)")
    space: str | None = Field(
        default=None, description="embedding space of an encoder; omit (with dim) when set by parameters, e.g. a model id"
    )
    dim: int | None = Field(default=None, gt=0, description="vector size of an encoder (omit with space, see above)")
    output_modality: str | None = Field(default=None, description="what a generator makes")
    summary: str = ""
    extras: list[str] = Field(default_factory=list, description="requirements beyond the plugin's own")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _EXECUTOR_NAME.match(value):
            raise ValueError(f"executor name {value!r} must be lowercase letters, digits and '-' (2-63 chars)")
        return value

    @model_validator(mode="after")
    def _kind_fields(self) -> ExecutorSpec:
        if self.kind == "encoder" and (self.space is None) != (self.dim is None):
            raise ValueError(
                f"encoder {self.name!r} must declare both space and dim, or neither when they depend on its parameters"
            )
        if self.kind == "generator" and self.output_modality is None:
            raise ValueError(f"generator {self.name!r} must declare output_modality")
        return self


class ModalitySpec(BaseModel):
    """A new modality a plugin registers."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    extensions: list[str] = Field(
        default_factory=list, description="file extensions its payload reads from a uri, e.g. ['.smi'] (lower case)"
    )

    @field_validator("extensions")
    @classmethod
    def _extensions(cls, value: list[str]) -> list[str]:
        for ext in value:
            if not _EXTENSION.match(ext):
                raise ValueError(f"file extension {ext!r} must be a dot and 1-16 lowercase letters, digits, '-' or '_'")
        return value


class Manifest(BaseModel):
    """The whole ``modahub.toml``."""

    model_config = ConfigDict(extra="forbid")
    schema_version: Literal[1] = SCHEMA_VERSION
    executors: list[ExecutorSpec] = Field(default_factory=list)
    modalities: list[ModalitySpec] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list, description="CLI commands the plugin adds")

    @model_validator(mode="after")
    def _unique(self) -> Manifest:
        names = [e.name for e in self.executors]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"executor names declared twice: {', '.join(dupes)}")
        return self


def parse_manifest(text: str, *, source: str) -> Manifest:
    """Parse manifest TOML text; errors name the source file and the offending field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{source}: not valid TOML: {exc}") from None
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise ManifestError(f"{source}: invalid manifest: {details}") from None


def manifest_path(module: str) -> Path:
    """Where the manifest of the plugin whose entry point names ``module`` lives (no import)."""
    top = module.split(":")[0].split(".")[0]
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError) as exc:
        raise ManifestError(f"package {top!r} cannot be located: {exc}") from None
    if spec is None or not spec.submodule_search_locations:
        raise ManifestError(
            f"package {top!r} is not installed as a package folder; a plugin must be a package with {MANIFEST_FILE}"
        )
    return Path(next(iter(spec.submodule_search_locations))) / MANIFEST_FILE


def read_manifest(module: str) -> Manifest:
    """Read and validate the manifest of the plugin whose entry point names ``module``."""
    path = manifest_path(module)
    if not path.is_file():
        raise ManifestError(f"{path}: missing; every plugin ships a {MANIFEST_FILE} beside its __init__.py")
    return parse_manifest(path.read_text(encoding="utf-8"), source=str(path))

