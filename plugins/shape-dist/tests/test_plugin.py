"""The plugin's wiring: the manifest matches the code, and modahub finds it through its entry point."""

from importlib.metadata import PackageNotFoundError, distribution

import pytest
from modahub_shape_dist.encoder import ShapeDistEncoder
from modahub_shape_dist.generator import ShapeGenerator

from modahub.manifest import read_manifest
from modahub.plugins import PluginManager


def test_manifest_declares_the_executors():
    manifest = read_manifest("modahub_shape_dist.plugin")
    encoder, generator = manifest.executors
    assert (encoder.name, encoder.kind) == (ShapeDistEncoder.name, ShapeDistEncoder.kind)
    assert (encoder.space, encoder.dim) == (ShapeDistEncoder.space, ShapeDistEncoder.dim)
    assert tuple(encoder.modalities) == ShapeDistEncoder.modalities
    assert (generator.name, generator.kind) == (ShapeGenerator.name, ShapeGenerator.kind)
    assert generator.output_modality == ShapeGenerator.output_modality


def test_installed_plugin_loads_through_its_entry_point():
    try:
        distribution("modahub-shape-dist")
    except PackageNotFoundError:
        pytest.skip("modahub-shape-dist is not installed; run pip install -e . first")
    manager = PluginManager(strict=True, selection="shape-dist")
    assert manager.executor_class("shape-dist") is ShapeDistEncoder
    assert manager.executor_class("shape-generator") is ShapeGenerator
