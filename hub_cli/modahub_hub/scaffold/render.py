"""Render the plugin scaffold (jinja2 templates shipped in this package) into a new folder.

Template files end in ``.jinja``; path parts are templates too (``{{ package }}``), a part that
renders empty drops the file (copier style), ``dot-`` becomes ``.``, and names starting with ``_``
(at the top) are partials that are only included.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from modahub_hub.scaffold.names import PluginNames

Kind = Literal["encoder", "indexer", "generator"]
KINDS: tuple[Kind, ...] = ("encoder", "indexer", "generator")
BUILTIN_MODALITIES = ("text", "image", "audio", "video", "mesh", "pointcloud", "timeseries")
ANY_MODALITY = "*"
_MODALITY = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
DEFAULT_DIM = {"text": 256}
FALLBACK_DIM = 64
FIELD_TYPES = {"str": "str", "int": "int", "float": "float", "bool": "bool", "array": "NDArray"}
"""``--field NAME:TYPE`` types of a new modality's payload, and the annotation each becomes."""
_FIELD = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_EXTENSION = re.compile(r"^\.[a-z0-9][a-z0-9_-]{0,15}$")


class ScaffoldError(ValueError):
    """The scaffold cannot be rendered as asked."""


@dataclass(frozen=True)
class ScaffoldOptions:
    """Every choice ``modahub new`` asks for."""

    names: PluginNames
    kind: Kind = "encoder"
    modality: str = "text"
    modality_description: str = ""
    dim: int | None = None
    space: str | None = None
    description: str = ""
    author: str = ""
    email: str = ""
    license: str = "Apache-2.0"
    fields: tuple[tuple[str, str], ...] = ()
    """A new modality's payload fields, (name, type) with a type of :data:`FIELD_TYPES`; empty: ``values``, a float array."""
    extensions: tuple[str, ...] = ()
    """File extensions a new modality reads (``.smi``)."""
    modality_provider: str = ""
    """The installed distribution that declares ``modality`` when it is another plugin's: the new plugin
    depends on it and builds on its modality instead of registering one."""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ScaffoldError(f"kind {self.kind!r}: choose one of {', '.join(KINDS)}")
        if self.modality == ANY_MODALITY and self.kind != "indexer":
            raise ScaffoldError(f"modality '*' (any) suits only indexers; a {self.kind} needs one modality")
        if self.modality != ANY_MODALITY and not _MODALITY.match(self.modality):
            raise ScaffoldError(f"modality {self.modality!r}: use lowercase letters, digits, '-' or '_' (e.g. 'spectrum')")
        for field_name in ("description", "author", "email", "license", "modality_description", "space"):
            value = getattr(self, field_name) or ""
            if any(c in value for c in '"\\\n\r') or not value.isprintable():
                raise ScaffoldError(f"{field_name} {value!r}: one printable line without quotes or backslashes, please")
        if self.dim is not None and not 2 <= self.dim <= 65536:
            raise ScaffoldError(f"dim {self.dim}: choose a vector size between 2 and 65536")
        if self.modality_provider and self.kind == "generator":
            raise ScaffoldError(f"a generator of {self.modality!r} (declared by {self.modality_provider}) is not "
                                "scaffolded; scaffold an encoder or indexer, or write the generator by hand")
        if (self.fields or self.extensions) and not self.new_modality:
            raise ScaffoldError(f"--field and --extension describe a new modality; {self.modality!r} is not one")
        names = [name for name, _ in self.fields]
        for name, type_ in self.fields:
            if not _FIELD.match(name) or name in ("uri", "data_fields") or names.count(name) > 1:
                raise ScaffoldError(f"field {name!r}: use a new lowercase identifier (letters, digits, '_'), not 'uri'")
            if type_ not in FIELD_TYPES:
                raise ScaffoldError(f"field {name}:{type_}: the type is one of {', '.join(FIELD_TYPES)}")
        for ext in self.extensions:
            if not _EXTENSION.match(ext):
                raise ScaffoldError(f"extension {ext!r}: a dot and 1-16 lowercase letters or digits, e.g. '.smi'")

    @property
    def new_modality(self) -> bool:
        """Whether the plugin registers its modality (not built in, not another plugin's)."""
        return self.modality not in (*BUILTIN_MODALITIES, ANY_MODALITY) and not self.modality_provider

    def context(self) -> dict[str, object]:
        """The variables the templates see."""
        import modahub

        major, minor = (int(p) for p in modahub.__version__.split(".")[:2])
        upper = f"{major + 1}" if major else f"{major}.{minor + 1}"
        names = self.names
        modality_class = "".join(p.capitalize() for p in re.split(r"[-_]", self.modality)) + "Payload"
        return {
            **{k: v for k, v in asdict(self).items() if k != "names"},
            "name": names.name,
            "dist": names.dist,
            "package": names.package,
            "class_name": names.camel.removesuffix(self.kind.capitalize()) + self.kind.capitalize(),  # not ...GeneratorGenerator
            "module": self.kind,
            "new_modality": self.new_modality,
            "modality_class": modality_class,
            "modality_description": self.modality_description or (
                f"{self.modality} records: {', '.join(n for n, _ in self.fields)}" if self.fields
                else f"{self.modality} readings: a float array"),
            "baseline": ("fields" if self.fields or self.modality_provider else "new") if self.new_modality
            or self.modality_provider else self.modality,
            "fields": [{"name": n, "type": t, "annotation": FIELD_TYPES[t]} for n, t in self.fields],
            "extensions": list(self.extensions),
            "dim": self.dim or DEFAULT_DIM.get(self.modality, FALLBACK_DIM),
            "space": self.space or f"{names.name}-v1",
            "description": self.description or f"{_article(self.kind).capitalize()} {self.kind} for {self._modality_words()}",
            "core_spec": f">={major}.{minor},<{upper}",
            "modahub_spec": f">={major}.{minor},<{upper}",
        }

    def _modality_words(self) -> str:
        return "any modality" if self.modality == ANY_MODALITY else f"{self.modality} documents"


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def templates_root() -> Path:
    """The folder of the plugin scaffold inside the installed ``modahub`` package."""
    root = Path(str(resources.files("modahub_hub").joinpath("templates", "plugin")))
    if not root.is_dir():
        raise ScaffoldError(f"scaffold templates missing at {root}; reinstall modahub")
    return root


def environment(root: Path):  # -> jinja2.Environment (imported lazily)
    """The jinja2 environment of the templates under ``root`` (strict: an unknown variable is an error)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(root)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _output_path(relative: str, env, context: dict[str, object]) -> Path | None:
    parts = []
    for part in Path(relative.removesuffix(".jinja")).parts:
        rendered = env.from_string(part).render(context)
        if not rendered:
            return None
        parts.append("." + rendered[4:] if rendered.startswith("dot-") else rendered)
    return Path(*parts)


def render(options: ScaffoldOptions, dest: Path) -> list[Path]:
    """Render the scaffold into the new folder ``dest`` atomically; returns the files written (relative)."""
    dest = Path(dest)
    if dest.exists():
        raise ScaffoldError(f"{dest} already exists; choose another name or --directory (nothing was overwritten)")
    root = templates_root()
    env, context = environment(root), options.context()
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    written: list[Path] = []
    try:
        for template in sorted(root.rglob("*.jinja")):
            relative = template.relative_to(root).as_posix()
            if relative.startswith("_"):  # partials, only included
                continue
            out = _output_path(relative, env, context)
            if out is None:
                continue
            target = staging / out
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(env.get_template(relative).render(context), encoding="utf-8")
            written.append(out)
        os.rename(staging, dest)  # fails if dest appeared meanwhile: nothing is overwritten
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise
    return written
