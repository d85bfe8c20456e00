"""Resolvers for names a registry does not know yet (the plugin manager adds one; registries ask them).

Free of imports on purpose: the plugin manager registers its resolver here without importing the
modality registry (and so numpy and pydantic models), and the registry asks resolvers without
importing the plugin manager. Each resolver is called with an unknown name and registers it
when it can (e.g. by loading the plugin whose manifest declares it).
"""

from __future__ import annotations

from collections.abc import Callable

Resolver = Callable[[str], None]

modality_resolvers: list[Resolver] = []
"""Asked, in order, about a modality name that :mod:`modahub.modalities` does not know."""
