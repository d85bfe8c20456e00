"""The modahub pytest plugin (entry point ``pytest11``): fixtures for plugin authors.

``modahub_tmp_plugin(name, code, manifest)`` writes a temporary plugin folder and makes it the only
plugin the process-wide manager knows, until the test ends.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest


@pytest.fixture
def modahub_tmp_plugin(tmp_path: Path) -> Iterator[Callable[..., object]]:
    """Factory: ``modahub_tmp_plugin(name, code, manifest)`` -> an active :class:`TmpPlugin`."""
    from modahub import plugins
    from modahub_testing.tmp_plugin import TmpPlugin, forget_modules, write_plugin

    made: list[TmpPlugin] = []
    saved_path, saved_manager = list(sys.path), plugins._manager

    def make(name: str, code: str, manifest: str, *, version: str = "0.1.0") -> TmpPlugin:
        plugin = write_plugin(tmp_path / "plugins", name, code, manifest, version=version)
        made.append(plugin)
        sys.path.insert(0, str(plugin.source))
        plugins._manager = plugins.PluginManager(
            [p.entry_point() for p in made], strict=True, selection=",".join(p.name for p in made)
        )
        return plugin

    yield make
    sys.path[:] = saved_path
    for plugin in made:
        forget_modules(plugin.package)
    plugins._manager = saved_manager
