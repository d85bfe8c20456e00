"""Contract test classes for pytest: subclass one per executor and every rule becomes a test.

.. code-block:: python

    from modahub_testing import EncoderContract
    from my_plugin.encoder import MyEncoder

    class TestMyEncoder(EncoderContract):
        executor = MyEncoder          # or its registry name, "my-encoder"
        params = {"size": 64}         # constructor parameters (optional; over MyEncoder.contract_params())

Override :meth:`sample_documents` to feed your own documents, or a single ``test_<rule>`` to
refine one check; a failure message starts with the broken rule's id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest

from modahub import plugins  # also lets the modality registry find plugin modalities
from modahub.documents import Document
from modahub.executors import Executor, Kind
from modahub.manifest import ExecutorSpec, ManifestError, read_manifest
from modahub_testing import samples
from modahub_testing.rules import Rule, Subject, check, contract_params, rules_for


def _executor_class(executor: type[Executor] | str) -> type[Executor]:
    if isinstance(executor, str):
        return plugins.manager().executor_class(executor)
    return executor


def _manifest_spec(cls: type[Executor]) -> ExecutorSpec | None:
    """The manifest entry of ``cls`` when its package ships a manifest, else None."""
    try:
        manifest = read_manifest(cls.__module__)
    except ManifestError:
        return None
    return next((s for s in manifest.executors if s.name == cls.name), None)


class _Contract:
    kind: ClassVar[Kind]
    executor: ClassVar[type[Executor] | str]
    """The executor class under test, or its registry name."""
    params: ClassVar[dict[str, Any]] = {}
    """Constructor parameters, over those of the executor's ``contract_params()`` (indexers also get space, dim
    and path from the kit)."""

    def sample_documents(self, modality: str, n: int, seed: int) -> list[Document]:
        """``n`` different documents of ``modality``, the same for the same seed."""
        return samples.sample_documents(modality, n, seed)

    @pytest.fixture
    def contract_subject(self, tmp_path: Path) -> Subject:
        cls = _executor_class(self.executor)
        if getattr(cls, "kind", None) != self.kind:
            pytest.fail(f"{type(self).__name__} tests {self.kind}s, but {cls.__name__} is a {getattr(cls, 'kind', '?')}")
        _require_modalities(cls)
        params = {**contract_params(cls, tmp_path), **self.params}
        return Subject(cls, _manifest_spec(cls), params, self.sample_documents, tmp_path)


def _require_modalities(cls: type[Executor]) -> None:
    """Fail clearly when a modality the executor uses is unknown (its plugin is not installed)."""
    from modahub.modalities import UnknownModalityError, get

    used = [*cls.modalities, *([getattr(cls, "output_modality", "")] if getattr(cls, "output_modality", "") else [])]
    for modality in (m for m in used if m != "*"):
        try:
            get(modality)
        except UnknownModalityError:
            pytest.fail(
                f"modality {modality!r} of {cls.__name__} is not registered: install the plugin that provides it "
                "(pip install -e . in the plugin folder) so modahub finds it through its entry point"
            )


def _rule_test(r: Rule) -> Any:
    def test(self: _Contract, contract_subject: Subject) -> None:
        check(r.id, contract_subject)

    test.__name__ = test.__qualname__ = "test_" + r.id.replace("-", "_")
    test.__doc__ = r.summary
    return test


class EncoderContract(_Contract):
    """The encoder contract: space and dim, shape and dtype, batch invariance, determinism, modality errors."""

    kind = "encoder"


class IndexerContract(_Contract):
    """The indexer contract: add/count, ranking, delete, tag filters, persistence, dimension errors."""

    kind = "indexer"


class TextIndexerContract(_Contract):
    """The text-indexer contract: add/count, word search, delete, tag filters, persistence."""

    kind = "text-indexer"


class SegmenterContract(_Contract):
    """The segmenter contract: pieces with unique ids that keep their parent's tags, determinism, modality errors."""

    kind = "segmenter"


class GeneratorContract(_Contract):
    """The generator contract: output modality, provenance, seeded determinism, regeneration from provenance."""

    kind = "generator"


for _contract in (EncoderContract, IndexerContract, TextIndexerContract, SegmenterContract, GeneratorContract):
    for _r in rules_for(_contract.kind):
        setattr(_contract, "test_" + _r.id.replace("-", "_"), _rule_test(_r))
