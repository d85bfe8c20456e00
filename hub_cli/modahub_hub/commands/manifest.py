"""``modahub manifest``: a plugin folder's modahub.toml generated from its code, or checked against it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from modahub_hub.output import UserError, VerificationFailed, emit_result, json_option

if TYPE_CHECKING:
    from modahub.manifest import Manifest


def _differences(declared: Manifest, generated: Manifest) -> list[str]:
    """What differs between two manifests, entry by entry (``executor 'x': dim: 8 in the file, 16 in the code``)."""
    out = []
    for table, what in (("executors", "executor"), ("modalities", "modality")):
        have = {e.name: e.model_dump() for e in getattr(declared, table)}
        want = {e.name: e.model_dump() for e in getattr(generated, table)}
        out += [f"{what} {n!r} is in the code, not in the file" for n in want if n not in have]
        out += [f"{what} {n!r} is in the file, not in the code" for n in have if n not in want]
        out += [f"{what} {n!r}: {k}: {have[n][k]!r} in the file, {want[n][k]!r} in the code"
                for n in want if n in have for k in want[n] if have[n][k] != want[n][k]]
    return out


def manifest_toml(manifest: Manifest) -> str:
    """``manifest`` as the text of a ``modahub.toml`` (what ``modahub manifest --write`` writes)."""

    def value(v: object) -> str:
        return str(v) if isinstance(v, int) else json.dumps(v, ensure_ascii=False)  # JSON strings and lists are TOML

    lines = ["# What this plugin provides, read by modahub without importing its code (see docs/authoring.md).",
             "# Generated from the code by 'modahub manifest --write'; 'modahub manifest --check' tells when it is stale.",
             f"schema_version = {manifest.schema_version}"]
    if manifest.commands:
        lines.append(f"commands = {value(manifest.commands)}")
    for table, entries in (("executors", manifest.executors), ("modalities", manifest.modalities)):
        for entry in entries:
            lines += ["", f"[[{table}]]"]
            lines += [f"{k} = {value(v)}" for k, v in entry.model_dump(exclude_defaults=True).items()]
    return "\n".join(lines) + "\n"


def generate(folder: Path) -> list[tuple[Path, Manifest | None, Manifest]]:
    """(manifest path, the manifest in the file or None, the manifest the code states) per entry point of ``folder``."""
    from modahub.manifest import MANIFEST_FILE, parse_manifest
    from modahub_hub.contract_targets import ContractTargetError, folder_source, isolated
    from modahub_testing.manifests import manifest_from_code

    try:
        source = folder_source(folder.resolve())
    except ContractTargetError as exc:
        raise UserError(str(exc)) from None
    found: list[tuple[Path, Manifest | None, Manifest]] = []
    for ep in source.eps:
        path = source.path / ep.value.split(":")[0].split(".")[0] / MANIFEST_FILE
        declared = parse_manifest(path.read_text(encoding="utf-8"), source=str(path)) if path.is_file() else None
        with isolated(source.path):
            found.append((path, declared, manifest_from_code(ep.value, declared)))
    return found


@click.command("manifest")
@click.argument("folder", default=".", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--write", "write", is_flag=True, help="Write modahub.toml from the code (else check it, exit 3 when stale).")
@json_option
def manifest(folder: Path, write: bool, as_json: bool) -> None:
    """Generate FOLDER's modahub.toml from the code its hooks register (--write), or check it is up to date."""
    from modahub.files import atomic_write

    written, current, stale = [], [], []
    for path, declared, generated in generate(folder):
        if write:
            atomic_write(path, manifest_toml(generated).encode("utf-8"))
            written.append(str(path))
        elif declared is None:
            stale.append(f"{path}: missing")
        elif declared != generated:
            stale.append(f"{path}: {'; '.join(_differences(declared, generated)) or 'commands or order differ'}")
        else:
            current.append(str(path))
    data = {"written": written, "up_to_date": current, "stale": stale}
    if stale:
        raise VerificationFailed(f"modahub.toml differs from the code ({'; '.join(stale)})", data=data,
                                 hint="run 'modahub manifest --write' and review the change")
    if as_json:
        emit_result(data)
        return
    for line in [*(f"wrote {p}" for p in written), *(f"{p} is up to date" for p in current)]:
        click.echo(line)
