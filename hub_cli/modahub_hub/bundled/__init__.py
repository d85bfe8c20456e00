"""The bundled hub as package data: ``registry.json`` and ``hub/`` with every first-party plugin.

In the repository both are links to the top-level ``registry.json`` and ``hub/`` (their one source,
rebuilt by ``scripts/build-bundled-hub``); building the ``modahub`` wheel copies them in, so every
install carries the hub that ``modahub search`` and ``modahub demo`` read by default.
"""
