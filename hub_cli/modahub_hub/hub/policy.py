"""What a publish may add to a registry: a valid name that is not a look-alike, and a version not yet published.

Kept apart from how a registry is stored and signed, so every metadata format calls the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping

from modahub_hub.hub import HubError
from modahub_hub.hub.registry import PluginEntry, canonical_version, check_name, normalize, skeleton


def check_new_version(
    plugins: Mapping[str, PluginEntry], name: str, version: str, *, owner: str | None = None, allow_lookalike: bool = False
) -> str:
    """The canonical form of ``version`` if ``name`` may publish it; :class:`HubError` naming the rule otherwise.

    ``name`` must be an ASCII PEP 508 name; every spelling of a published version (``0.2`` and
    ``0.2.0``) counts as published; a new name must not fold to the skeleton of any existing name,
    whoever owns it; ``allow_lookalike`` lets ``owner`` add a deliberate sibling of its own names only.
    Ownership (who may publish under an existing name) is the trust layer's rule, not this one.
    """
    try:
        check_name(name)
        canonical = canonical_version(version)
    except ValueError as exc:
        raise HubError(f"{exc} (name policy)") from None
    key = normalize(name)
    existing = plugins.get(key)
    if existing is not None:
        published = existing.find(canonical)
        if published is not None:
            spelled = "" if published.version == version else f" (as {published.version}; PEP 440 makes them one version)"
            raise HubError(
                f"{name} {version} is already published{spelled}; a published version is never overwritten. "
                "Raise the version in pyproject.toml and publish again"
            )
        return canonical
    for other_key, other in plugins.items():
        if skeleton(other_key) == skeleton(key) and not (allow_lookalike and owner is not None and other.owner == owner):
            raise HubError(
                f"name {name!r} looks like {other.name!r} (owner {other.owner!r}) once case, separators, 0/o and 1/l "
                "are folded; choose a clearly different name (name policy; its owner may pass --allow-lookalike)"
            )
    return canonical
