"""A TUF hub as a :class:`~modahub_hub.hub.client.Hub`: plugins resolve from their owner-signed ``plugin.json``."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from modahub_hub.hub import HubError, UnknownPlugin
from modahub_hub.hub.backends import Backend
from modahub_hub.hub.client import Hub
from modahub_hub.hub.registry import PluginEntry, Registry, normalize
from modahub_hub.hub.tuf_client import TufReader
from modahub_hub.hub.tuf_layout import plugin_target


class TufHub(Hub):
    """A hub read through TUF (see :mod:`modahub_hub.hub.tuf_client`)."""

    @classmethod
    def for_backend(cls, backend: Backend) -> TufHub:
        hub = cls(backend)
        hub.reader  # noqa: B018  refresh now, so trust errors surface at open
        return hub

    @cached_property
    def reader(self) -> TufReader:
        return TufReader(self.backend)

    @property
    def registry(self) -> Registry:
        raise HubError(f"{self.backend.hub_id} is a TUF hub: it has no single registry (use search/info/install)")

    def rows(self, query: str = "", *, modality: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        return self.reader.rows(query, modality=modality, kind=kind)

    def find(self, name: str) -> PluginEntry | None:
        data = self.reader.target(plugin_target(name, self.reader.digits))
        if data is None:
            return None
        try:
            entry = PluginEntry.model_validate_json(data)
        except ValueError as exc:
            raise HubError(f"{self.backend.hub_id}: the signed metadata of {name} is not a plugin entry: {exc}") from None
        if normalize(entry.name) != normalize(name):
            raise HubError(f"{self.backend.hub_id}: the signed metadata at {name}'s path describes {entry.name!r}; refused")
        status = self.reader.statuses.get(normalize(name))
        if status:
            entry.status, entry.status_reason = status["status"], status.get("reason")  # type: ignore[assignment]
        return entry

    def plugin(self, name: str) -> PluginEntry:
        """The plugin called ``name``: its distribution name, or its entry-point or executor name."""
        entry = self.find(name)
        if entry is not None:
            return entry
        rows = self.reader.rows()
        matches = [r["name"] for r in rows if name == r["entry_point"] or name in {e["name"] for e in r["executors"]}]
        if len(matches) == 1 and (found := self.find(matches[0])) is not None:
            return found
        if matches:
            raise HubError(f"several plugins provide {name!r}: {', '.join(matches)}")
        raise UnknownPlugin(name, self.backend.hub_id)

