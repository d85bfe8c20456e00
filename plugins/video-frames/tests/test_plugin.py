"""The plugin's wiring: the manifest matches the code, and modahub finds it through its entry point."""

from importlib.metadata import PackageNotFoundError, distribution

import pytest
from modahub_video_frames.encoder import VideoFramesEncoder

from modahub.manifest import read_manifest
from modahub.plugins import PluginManager


def test_manifest_declares_the_executor():
    manifest = read_manifest("modahub_video_frames.plugin")
    (spec,) = manifest.executors
    assert (spec.name, spec.kind) == (VideoFramesEncoder.name, VideoFramesEncoder.kind)
    assert (spec.space, spec.dim) == (VideoFramesEncoder.space, VideoFramesEncoder.dim)


def test_installed_plugin_loads_through_its_entry_point():
    try:
        distribution("modahub-video-frames")
    except PackageNotFoundError:
        pytest.skip("modahub-video-frames is not installed; run pip install -e . first")
    manager = PluginManager(strict=True, selection="video-frames")
    assert manager.executor_class("video-frames") is VideoFramesEncoder
