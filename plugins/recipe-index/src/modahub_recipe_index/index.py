"""The recipe index: generated documents kept as recipes, found by BM25 over their prompts."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from modahub.documents import Document, Provenance, TagValue
from modahub.executors import ExecutorError, Filter, Match, TextIndexer, matches_filter
from modahub.recipes import regenerate
from modahub_recipe_index.bm25 import BM25

_FILE = "recipes.jsonl"


class Recipe(BaseModel):
    """What the index keeps of a generated document: no payload, just enough to make it again."""

    model_config = ConfigDict(extra="forbid")
    id: str
    modality: str
    tags: dict[str, TagValue] = Field(default_factory=dict)
    provenance: Provenance


class RecipeIndex(TextIndexer):
    """Stores recipes (a few hundred bytes each, whatever the payload size), searches prompts with BM25.

    :meth:`materialize` regenerates a document from its recipe; ``save()`` writes ``path``.
    """

    name = "recipe-index"

    def __init__(self, path: str | Path | None = None, k1: float = 1.5, b: float = 0.75) -> None:
        super().__init__(path)
        try:
            self._bm25 = BM25(k1, b)
        except ValueError as exc:
            raise ExecutorError(f"{self.name}: {exc}") from None
        self._recipes: dict[str, Recipe] = {}

    def _load(self) -> None:
        if self.path is None or not (self.path / _FILE).exists():
            return
        with (self.path / _FILE).open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                try:
                    self._put(Recipe.model_validate_json(line))
                except ValueError as exc:
                    raise ExecutorError(f"{self.path / _FILE}:{number}: not a stored recipe: {exc}") from None

    def _save(self) -> None:
        """Write every recipe to ``path/recipes.jsonl`` atomically (a crash leaves the previous save)."""
        assert self.path is not None
        self.path.mkdir(parents=True, exist_ok=True)
        fd, staged = tempfile.mkstemp(dir=self.path, prefix=".recipes-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.writelines(r.model_dump_json() + "\n" for r in self._recipes.values())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(staged, self.path / _FILE)
        except BaseException:
            Path(staged).unlink(missing_ok=True)
            raise

    def _close(self) -> None:
        self._bm25 = BM25(self._bm25.k1, self._bm25.b)
        self._recipes = {}

    def _put(self, recipe: Recipe) -> None:
        self._recipes[recipe.id] = recipe
        self._bm25.add(recipe.id, recipe.provenance.prompt)

    def _add(self, docs: list[Document]) -> None:
        for i, doc in enumerate(docs):
            if doc.provenance is None:
                raise ExecutorError(
                    f"{self.name}: document {i} (id {doc.id!r}) has no provenance; only generated documents "
                    "(made by a generator) can be kept as recipes"
                )
        for doc in docs:
            self._put(Recipe(id=doc.id, modality=doc.modality, tags=doc.tags, provenance=doc.provenance))

    def _search_text(self, query: str, k: int, filter: Filter | None) -> list[Match]:
        scored = [
            (score, key) for key, score in self._bm25.scores(query).items() if matches_filter(self._recipes[key].tags, filter)
        ]
        scored.sort(key=lambda pair: (-pair[0], pair[1]))
        return [Match(id=key, score=score) for score, key in scored[:k]]

    def _delete(self, ids: list[str]) -> int:
        removed = [i for i in dict.fromkeys(ids) if self._recipes.pop(i, None) is not None]
        for i in removed:
            self._bm25.remove(i)
        return len(removed)

    def _count(self) -> int:
        return len(self._recipes)

    def recipe(self, id: str) -> Recipe:
        """The stored recipe of document ``id``."""
        self.warm_up()
        try:
            return self._recipes[id]
        except KeyError:
            raise ExecutorError(f"{self.name}: no recipe with id {id!r} ({len(self._recipes)} stored)") from None

    def materialize(self, id: str) -> Document:
        """Regenerate document ``id`` from its recipe: same id, tags, provenance and (same hardware) payload."""
        recipe = self.recipe(id)
        doc = regenerate(recipe.provenance)
        return doc.model_copy(update={"id": recipe.id, "tags": {**doc.tags, **recipe.tags}})
