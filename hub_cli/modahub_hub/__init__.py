"""modahub: the hub client, the CLI, scaffolding and containers (import name ``modahub_hub``)."""

__version__ = "0.2.1"
