"""Names of a new plugin: PEP 503 normalisation, the derived names, and the look-alike check.

The normal form and the look-alike skeleton are the hub's own (:mod:`modahub_hub.hub.registry`), so
a name that ``modahub new`` accepts is not refused later by ``modahub publish`` for its shape.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from modahub_hub.hub.registry import normalize, skeleton

PREFIX = "modahub-"
RESERVED = frozenset({"core", "hub", "cli", "testing", "plugin", "plugins"})
_SHAPE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class PluginNameError(ValueError):
    """A plugin name that cannot be used, with the reason and a fix."""


@dataclass(frozen=True)
class PluginNames:
    """Every name derived from the short plugin name (``color-hist``)."""

    name: str
    """Short name: entry point and executor name (``color-hist``)."""

    @property
    def dist(self) -> str:
        """Distribution name (``modahub-color-hist``)."""
        return PREFIX + self.name

    @property
    def package(self) -> str:
        """Import package (``modahub_color_hist``)."""
        return self.dist.replace("-", "_")

    @property
    def camel(self) -> str:
        """CamelCase stem for class names (``ColorHist``)."""
        return "".join(part.capitalize() for part in self.name.split("-"))


def plugin_names(raw: str) -> PluginNames:
    """Normalise ``raw`` (PEP 503; a leading ``modahub-`` is dropped) and check its shape."""
    name = normalize(raw.strip()).removeprefix(PREFIX)
    if not _SHAPE.match(name) or not 2 <= len(name) <= 50:
        raise PluginNameError(
            f"plugin name {raw!r}: use 2-50 lowercase letters, digits and single '-' between them, "
            "starting with a letter (e.g. 'color-hist')"
        )
    if name in RESERVED or name == "modahub":
        raise PluginNameError(f"plugin name {raw!r} is reserved for modahub itself; pick a name that says what it does")
    return PluginNames(name)


def clash(names: PluginNames, taken: set[str]) -> str | None:
    """The taken distribution name that ``names`` equals or would be confused with (same skeleton), if any."""
    key = skeleton(names.dist)
    return next((other for other in sorted(taken) if skeleton(other) == key), None)


def taken_names() -> set[str]:
    """Distribution names of installed plugins and of the bundled hub (its legacy registry read as plain JSON,
    and its TUF plugin folders ``tuf/targets/p/<bin>/<name>``)."""
    from importlib.metadata import entry_points

    from modahub.plugins import ENTRY_POINT_GROUP

    taken = {PREFIX + "core", "modahub"}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        taken.add(normalize(ep.dist.name) if ep.dist else PREFIX + normalize(ep.name))
    try:
        from modahub_hub.hub.registry import REGISTRY_FILE
        from modahub_hub.hub.trust import bundled_hub_path
        from modahub_hub.hub.tuf_layout import TARGETS_DIR

        taken.update(normalize(p.name) for p in (bundled_hub_path() / TARGETS_DIR / "p").glob("*/*") if p.is_dir())
        data = json.loads((bundled_hub_path() / REGISTRY_FILE).read_text(encoding="utf-8"))
        taken.update(normalize(n) for n in data.get("plugins", {}))
    except (OSError, ValueError, AttributeError):
        pass  # no bundled registry here: installed plugins are checked
    return taken
