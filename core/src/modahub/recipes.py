"""Recipes of generated documents: how generators record them, and how to replay them.

A generated document's :class:`~modahub.documents.Provenance` is its recipe: the plugin
distribution and version, the executor, the weights pin, the seed, the prompt and the
generator's constructor parameters. Replaying it on the same hardware gives the same bytes.

Conventions every generator follows (the helpers below implement them):

- Sample ``j`` of ``generate(prompts, n, seed)`` for a prompt is the document of seed
  ``seed + j`` (:func:`document_seeds`), and it depends on nothing but its prompt, that seed and
  the parameters, never on the other prompts of the batch (:func:`document_rng` draws its
  randomness). So a recipe replays with ``generate([prompt], n=1, seed=recipe.seed)``.
- A generated document's id is derived from its recipe (:func:`recipe_id`): the same recipe
  gives the same id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from modahub.documents import Document, Provenance, WeightsPin
from modahub.errors import EXIT_VERIFICATION, ModahubError
from modahub.executors import ExecutorError, Generator
from modahub.payloads import Payload
from modahub.weights import weights_pin

MAX_SEED = 2**63 - 1


class RecipeError(ModahubError, ValueError):
    """A recipe cannot be replayed here (no recipe, another plugin version, other weights, ...)."""


class RegenerationMismatchError(RecipeError):
    """Replaying a recipe gave a payload that differs from the document's; ``document`` is the replay."""

    exit_code = EXIT_VERIFICATION

    def __init__(self, message: str, document: Document) -> None:
        super().__init__(message)
        self.document = document


def packaged_weights(distribution: str, path: str | Path) -> WeightsPin:
    """The pin of a weights file shipped inside a distribution: repo = distribution, revision = its version."""
    path = Path(path)
    return weights_pin(path.parent, repo=distribution, revision=metadata.version(distribution), filename=path.name)


def document_seeds(seed: int, n: int) -> range:
    """The seeds of the ``n`` samples of one prompt: ``seed, seed + 1, ..., seed + n - 1`` (``seed`` >= 0)."""
    if not 0 <= seed <= MAX_SEED - n:
        raise ExecutorError(f"seed {seed} is out of range; use an integer from 0 to {MAX_SEED - n}")
    return range(seed, seed + n)


def document_rng(prompt: str, seed: int) -> np.random.Generator:
    """The random generator of one document: seeded by its seed and its prompt's text.

    Mixing the prompt in makes different prompts with one seed give different documents, while
    the same (prompt, seed) always gives the same stream.
    """
    words = hashlib.sha256(prompt.encode("utf-8")).digest()[:16]
    return np.random.default_rng([seed, *np.frombuffer(words, dtype="<u4").tolist()])


def recipe_id(provenance: Provenance) -> str:
    """A stable id for the document a recipe makes (32 hex characters of its sha256)."""
    canonical = json.dumps(provenance.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def make_document(
    generator: Generator,
    *,
    payload: Mapping[str, Any] | Payload,
    prompt: str,
    seed: int,
    weights: WeightsPin | None,
    tags: Mapping[str, Any] | None = None,
) -> Document:
    """A generated document of ``generator.output_modality`` carrying its recipe and recipe id."""
    from modahub.plugins import manager

    record, _ = manager().find_executor(generator.name)
    provenance = Provenance(
        plugin=record.dist,
        plugin_version=record.version,
        executor=generator.name,
        weights=weights,
        seed=seed,
        prompt=prompt,
        parameters=generator.parameters(),
    )
    return Document(
        id=recipe_id(provenance),
        modality=generator.output_modality,
        payload=payload,
        tags=dict(tags or {}),
        provenance=provenance,
    )


def payload_bytes(payload: Payload) -> bytes:
    """Canonical bytes of a payload's data (arrays exact, the ``uri`` left out) for comparisons."""
    data = payload.load().model_dump(mode="json", exclude={"uri"}, exclude_none=True)
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")


def payload_sha256(payload: Payload) -> str:
    """Hex sha256 of :func:`payload_bytes`."""
    return hashlib.sha256(payload_bytes(payload)).hexdigest()


def _short(sha: str) -> str:
    return sha[:12] + "…"


def _describe(pin: WeightsPin | None) -> str:
    return "no weights" if pin is None else f"{pin.repo}@{pin.revision} sha256 {_short(pin.sha256)}"


def open_generator(recipe: Provenance) -> Generator:
    """Instantiate the generator a recipe names, after checking that the installed plugin is the recipe's."""
    from modahub.plugins import PluginError, UnknownExecutorError, manager

    install = f"pip install '{recipe.plugin}=={recipe.plugin_version}'"
    try:
        record, _ = manager().find_executor(recipe.executor)
    except (UnknownExecutorError, PluginError) as exc:
        raise RecipeError(f"cannot regenerate: {exc}. The recipe needs {install}") from None
    if record.dist != recipe.plugin:
        raise RecipeError(
            f"cannot regenerate: executor {recipe.executor!r} comes from {record.dist} here, "
            f"but the recipe was made by {recipe.plugin}; {install}"
        )
    if record.version != recipe.plugin_version:
        raise RecipeError(
            f"cannot regenerate: the recipe was made by {recipe.plugin} {recipe.plugin_version}, "
            f"installed is {record.version}; install the recipe's version with {install}"
        )
    try:
        cls = manager().executor_class(recipe.executor)
    except PluginError as exc:
        raise RecipeError(f"cannot regenerate: {exc}") from None
    if not issubclass(cls, Generator):
        raise RecipeError(f"cannot regenerate: executor {recipe.executor!r} is a {cls.kind}, not a generator")
    try:
        return cls(**recipe.parameters)
    except (TypeError, ValueError) as exc:
        raise RecipeError(
            f"cannot regenerate: {recipe.executor} refuses the recipe's parameters {recipe.parameters}: {exc}"
        ) from None


def regenerate(source: Document | Provenance) -> Document:
    """Replay a recipe (a generated document's, or a bare one) and return the new document.

    Raises :class:`RecipeError` when the installed plugin version or weights differ from the
    recipe's. A document keeps its id; the payload is not compared here (see :func:`verify`).
    """
    if isinstance(source, Provenance):
        recipe = source
    elif source.provenance is None:
        raise RecipeError(f"document {source.id!r} has no provenance: only generated documents can be regenerated")
    else:
        recipe = source.provenance
    generator = open_generator(recipe)
    new = generator.generate([recipe.prompt], n=1, seed=recipe.seed)[0]
    made = new.provenance
    assert made is not None  # Generator.generate guarantees it
    if made.weights != recipe.weights:
        raise RecipeError(
            f"cannot regenerate: weights differ: the recipe pins {_describe(recipe.weights)}, "
            f"the installed {recipe.plugin} {recipe.plugin_version} has {_describe(made.weights)}"
        )
    if made != recipe:
        fields = [f for f in Provenance.model_fields if getattr(made, f) != getattr(recipe, f)]
        details = "; ".join(f"{f}: recipe {getattr(recipe, f)!r}, replay {getattr(made, f)!r}" for f in fields)
        raise RecipeError(f"cannot regenerate: {recipe.executor} replays a different recipe ({details})")
    if isinstance(source, Document):
        return new.model_copy(update={"id": source.id, "tags": {**new.tags, **source.tags}})
    return new


def verify(doc: Document) -> Document:
    """Regenerate ``doc`` and check that its payload is byte-for-byte identical; returns the new document."""
    new = regenerate(doc)
    if payload_bytes(new.payload) != payload_bytes(doc.payload):
        raise RegenerationMismatchError(
            f"document {doc.id!r}: the regenerated payload differs (sha256 {_short(payload_sha256(new.payload))} "
            f"vs the document's {_short(payload_sha256(doc.payload))}); different hardware or libraries, "
            "or the payload was edited after generation",
            new,
        )
    return new
