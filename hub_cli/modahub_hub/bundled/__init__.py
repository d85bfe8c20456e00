"""The bundled hub as package data: a TUF hub (``tuf/``) with every first-party plugin, its pages
(``hub/simple``, ``hub/index.html``, the wheels it had before TUF) and its frozen legacy ``registry.json``.

In the repository these are links to the top-level ``tuf/``, ``hub/`` and ``registry.json`` (their one
source, rebuilt by ``scripts/build-bundled-hub``); building the ``modahub`` wheel copies them in, so every
install carries the hub that ``modahub search`` and ``modahub demo`` read by default.
"""
