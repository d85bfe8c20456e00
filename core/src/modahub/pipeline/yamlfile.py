"""Reading app and pipeline YAML that may come from anyone: bounded, strict, never recursive in Python.

``yaml.safe_load`` builds no objects, but it still (1) expands aliases by reference, so a
"billion laughs" file is a few lines that turn into billions of values as soon as something walks
them, (2) composes nested collections recursively (a deep file is a ``RecursionError``) and
(3) keeps the last of duplicate keys silently. :func:`load_yaml` refuses all three with the line.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_NODES = 100_000
"""Most values a document may expand to, aliases counted as the values they stand for."""
MAX_DEPTH = 64
"""Deepest nesting of collections."""

_MERGE = "tag:yaml.org,2002:merge"


class YAMLLimitError(ValueError):
    """The YAML is valid but too big, too deep, or has a duplicate key."""


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader that counts expanded size while composing and refuses duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._sizes: dict[int, int] = {}
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:  # noqa: D102 (PyYAML's hook)
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            target = self.anchors.get(event.anchor)
            if target is not None and id(target) not in self._sizes:
                raise YAMLLimitError(f"line {event.start_mark.line + 1}: alias *{event.anchor} refers to itself")
        self._depth += 1
        if self._depth > MAX_DEPTH:
            line = self.peek_event().start_mark.line + 1  # type: ignore[no-untyped-call]
            raise YAMLLimitError(f"line {line}: nested deeper than {MAX_DEPTH} levels")
        try:
            composed = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        assert composed is not None  # compose_node is called only where a node starts
        node = composed
        size = self._sizes.get(id(node))
        if size is None:
            if isinstance(node, SequenceNode):
                children = node.value
            elif isinstance(node, MappingNode):
                children = [n for pair in node.value for n in pair]
            else:
                children = []
            size = 1 + sum(self._sizes.get(id(c), 1) for c in children)
            self._sizes[id(node)] = size
        if size > MAX_NODES:
            raise YAMLLimitError(
                f"line {node.start_mark.line + 1}: expands to more than {MAX_NODES:,} values "
                "(aliases count as what they stand for)"
            )
        return node

    def construct_object(self, node: Node, deep: bool = False) -> Any:  # noqa: D102 (PyYAML's hook)
        try:
            return super().construct_object(node, deep=deep)
        except YAMLLimitError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as exc:
            # PyYAML's safe constructors raise these for a tag that does not fit its value (`!!set x`, `!!int x`)
            raise ConstructorError(None, None, f"cannot read a {node.tag} value ({type(exc).__name__})",
                                   node.start_mark) from None

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:  # noqa: D102
        if not isinstance(node, MappingNode):  # e.g. `!!set x`: the base constructor names the problem and its line
            return super().construct_mapping(node, deep=deep)
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE:
                continue
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            try:
                first = seen.get(key)
            except TypeError:
                continue  # unhashable: the base constructor reports it
            if first is not None:
                raise YAMLLimitError(f"line {line}: duplicate key {str(key)[:60]!r} (first on line {first})")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """Parse YAML like ``yaml.safe_load``; :class:`YAMLLimitError` for duplicates, deep or huge documents."""
    loader = _StrictLoader(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
