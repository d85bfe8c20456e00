"""``modahub new``: render a complete plugin (encoder, indexer or generator) from jinja2 templates."""

from modahub_hub.scaffold.names import PluginNameError, PluginNames, plugin_names
from modahub_hub.scaffold.render import BUILTIN_MODALITIES, KINDS, ScaffoldError, ScaffoldOptions, render

__all__ = [
    "BUILTIN_MODALITIES",
    "KINDS",
    "PluginNameError",
    "PluginNames",
    "ScaffoldError",
    "ScaffoldOptions",
    "plugin_names",
    "render",
]
