"""modahub_testing: the executor contract kit for plugin authors.

- :class:`EncoderContract`, :class:`IndexerContract`, :class:`TextIndexerContract`,
  :class:`SegmenterContract`, :class:`GeneratorContract`: pytest classes to subclass in a plugin's
  tests (one test per contract rule), one per executor kind.
- :func:`sample_documents`: deterministic documents of any modality.
- :func:`assert_vectors_close`, :func:`assert_same_hits`: compare results across processes and
  engines within a stated tolerance (:mod:`modahub_testing.compare`).
- :func:`manifest_from_code`: the manifest a plugin's code states, to compare with its ``modahub.toml``.
- The pytest plugin (loaded automatically) adds the ``modahub_tmp_plugin`` fixture.

Names are imported lazily: the contract classes need pytest, the rest does not.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "EncoderContract": "modahub_testing.contracts",
    "IndexerContract": "modahub_testing.contracts",
    "GeneratorContract": "modahub_testing.contracts",
    "TextIndexerContract": "modahub_testing.contracts",
    "SegmenterContract": "modahub_testing.contracts",
    "ContractViolation": "modahub_testing.rules",
    "RuleResult": "modahub_testing.rules",
    "Subject": "modahub_testing.rules",
    "RULES": "modahub_testing.rules",
    "check": "modahub_testing.rules",
    "rules_for": "modahub_testing.rules",
    "get_rule": "modahub_testing.rules",
    "run_rule": "modahub_testing.rules",
    "sample_documents": "modahub_testing.samples",
    "assert_same_hits": "modahub_testing.compare",
    "assert_vectors_close": "modahub_testing.compare",
    "manifest_from_code": "modahub_testing.manifests",
    "TmpPlugin": "modahub_testing.tmp_plugin",
    "write_plugin": "modahub_testing.tmp_plugin",
}

if TYPE_CHECKING:
    from modahub_testing.compare import assert_same_hits, assert_vectors_close  # noqa: F401
    from modahub_testing.contracts import (  # noqa: F401
        EncoderContract,
        GeneratorContract,
        IndexerContract,
        SegmenterContract,
        TextIndexerContract,
    )
    from modahub_testing.manifests import manifest_from_code  # noqa: F401
    from modahub_testing.rules import (  # noqa: F401
        RULES,
        ContractViolation,
        RuleResult,
        Subject,
        check,
        get_rule,
        rules_for,
        run_rule,
    )
    from modahub_testing.samples import sample_documents  # noqa: F401
    from modahub_testing.tmp_plugin import TmpPlugin, write_plugin  # noqa: F401


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'modahub_testing' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = sorted(_EXPORTS)
