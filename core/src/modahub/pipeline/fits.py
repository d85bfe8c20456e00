"""Which installed executors would fit a step, read from plugin manifests (no plugin code runs)."""

from __future__ import annotations

from collections.abc import Iterable


def _describe(spec: object) -> str:
    kind, mods = spec.kind, "/".join(spec.modalities)  # type: ignore[attr-defined]
    if kind == "encoder":
        space = "space set by its parameters" if spec.space is None else f"space {spec.space!r}, dim {spec.dim}"  # type: ignore[attr-defined]
        return f"{spec.name} (encoder of {mods}; {space})"  # type: ignore[attr-defined]
    if kind == "generator":
        return f"{spec.name} (generator of {spec.output_modality})"  # type: ignore[attr-defined]
    return f"{spec.name} ({kind})"  # type: ignore[attr-defined]


def fitting(
    kind: str, *, modalities: Iterable[str] | None = None, space: str | None = None, dim: int | None = None,
    exclude: str | None = None,
) -> list[str]:
    """Installed executors of ``kind`` accepting any of ``modalities`` in ``space``/``dim`` (when given), but ``exclude``."""
    from modahub.plugins import manager

    wanted = None if modalities is None else set(modalities)
    found = []
    for _, spec in manager().executor_specs():
        if spec.kind != kind or spec.name == exclude:
            continue
        if wanted is not None and "*" not in spec.modalities and not wanted & set(spec.modalities):
            continue
        if space is not None and spec.space is not None and (spec.space, spec.dim) != (space, dim or spec.dim):
            continue
        found.append(_describe(spec))
    return sorted(found)


def fits_hint(kind: str, **criteria: object) -> str:
    """``'; installed executors that fit: a, b'`` or a pointer to ``modahub search`` when none does."""
    names = fitting(kind, **criteria)  # type: ignore[arg-type]
    if names:
        return f"; installed executors that fit: {', '.join(names)}"
    return f"; no installed {kind} fits: find one with 'modahub search' and install it with 'modahub install'"
