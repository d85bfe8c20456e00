"""The plugin's wiring: the manifest matches the code, and modahub finds it through its entry point."""

from importlib.metadata import PackageNotFoundError, distribution

import pytest
from modahub_series_rocket.encoder import SeriesRocketEncoder

from modahub.manifest import read_manifest
from modahub.plugins import PluginManager


def test_manifest_declares_the_executor():
    manifest = read_manifest("modahub_series_rocket.plugin")
    (spec,) = manifest.executors
    assert (spec.name, spec.kind) == (SeriesRocketEncoder.name, SeriesRocketEncoder.kind)
    assert (spec.space, spec.dim) == (SeriesRocketEncoder.space, SeriesRocketEncoder.dim)


def test_installed_plugin_loads_through_its_entry_point():
    try:
        distribution("modahub-series-rocket")
    except PackageNotFoundError:
        pytest.skip("modahub-series-rocket is not installed; run pip install -e . first")
    manager = PluginManager(strict=True, selection="series-rocket")
    assert manager.executor_class("series-rocket") is SeriesRocketEncoder
