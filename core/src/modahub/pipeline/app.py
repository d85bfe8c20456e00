"""Apps: one encoder per modality, one index, optional generators and segmenters, from YAML or Python.

An app file (``app.yml``)::

    name: digits
    encoders:                      # one per modality, all in the index's embedding space
      - uses: minilm-text
      - uses: digits-image
    index:
      uses: exact-index
      with: {path: ./index}        # relative paths are relative to the app file
    generators:
      - uses: digits-generator
    segmenters:
      - uses: text-passages
        with: {words: 64}

From it the app derives the standard pipeline shapes, all sharing the same executor instances:
``encode`` (input → encoders), ``index`` (input → segmenters → encoders → index add),
``search`` (query → encoders → index search) and ``generate`` (prompts → generator → encoders of
its output modality → index add). Loading an app builds and validates every shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from modahub.documents import Document
from modahub.executors import Filter
from modahub.pipeline.graph import Pipeline, PipelineError, read_yaml
from modahub.pipeline.runner import LocalRunner, ProgressFn, RunResult
from modahub.pipeline.steps import Step, brief

Shape = Literal["encode", "index", "search", "generate"]


class ExecutorRef(BaseModel):
    """An executor of an app: registry name, parameters, optional step name (default: ``uses``)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str | None = Field(default=None, max_length=128)
    uses: str = Field(max_length=128)
    params: dict[str, Any] = Field(default_factory=dict, alias="with")

    @property
    def step_name(self) -> str:
        return self.name or self.uses


class AppSpec(BaseModel):
    """The app file's schema (a tool that reads more sections subclasses it: see :meth:`App.from_yaml`)."""

    model_config = ConfigDict(extra="forbid")
    name: str = "app"
    encoders: list[ExecutorRef] = Field(min_length=1)
    index: ExecutorRef | None = None
    generators: list[ExecutorRef] = Field(default_factory=list)
    segmenters: list[ExecutorRef] = Field(default_factory=list)


def _details(exc: ValidationError) -> str:
    return "; ".join(f"{brief('.'.join(str(p) for p in e['loc']), 120) or '(top)'}: {brief(e['msg'])}"
                     for e in exc.errors()[:10])


class App:
    """A validated app; run its shapes with :meth:`encode`, :meth:`index`, :meth:`search`, :meth:`generate`."""

    def __init__(self, spec: AppSpec | Mapping[str, Any], *, base_dir: str | Path | None = None,
                 source: str = "app") -> None:
        if not isinstance(spec, AppSpec):
            try:
                spec = AppSpec.model_validate(spec)
            except ValidationError as exc:
                raise PipelineError(f"{source}: invalid app: {_details(exc)}") from None
        self.spec = spec
        self.base_dir = Path(base_dir) if base_dir is not None else Path.cwd()
        self._executors: dict[str, Any] = {}
        self._pipelines: dict[str, Pipeline] = {}
        names = [r.step_name for r in self._refs()]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise PipelineError(f"{source}: several executors are named {brief(', '.join(dupes))}; give each a distinct 'name'")
        for shape in ("encode", "index", "search"):
            if shape == "encode" or spec.index is not None:
                self.pipeline(shape)
        for gen in spec.generators:
            self.pipeline("generate", generator=gen.step_name)

    @classmethod
    def from_yaml(cls, path: str | Path, *, schema: type[AppSpec] = AppSpec) -> App:
        """Load an app file validated by ``schema``; relative ``path`` parameters resolve against its folder."""
        path = Path(path)
        data = read_yaml(path)
        if not isinstance(data, Mapping):
            raise PipelineError(f"{path}: an app file is a mapping with encoders, index, generators, segmenters")
        try:
            spec = schema.model_validate(data)
        except ValidationError as exc:
            raise PipelineError(f"{path}: invalid app: {_details(exc)}") from None
        return cls(spec, base_dir=path.resolve().parent, source=str(path))

    @property
    def name(self) -> str:
        return self.spec.name

    def _refs(self) -> list[ExecutorRef]:
        spec = self.spec
        return [*spec.segmenters, *spec.encoders, *([spec.index] if spec.index else []), *spec.generators]

    def _step(self, ref: ExecutorRef, needs: Sequence[str] = (), op: str | None = None) -> Step:
        params = dict(ref.params)
        path = params.get("path")
        if isinstance(path, str) and not Path(path).expanduser().is_absolute():
            params["path"] = str((self.base_dir / path).resolve())
        return Step(name=ref.step_name, uses=ref.uses, params=params, needs=list(needs), op=op)

    def pipeline(self, shape: Shape, *, generator: str | None = None) -> Pipeline:
        """The built pipeline of ``shape`` (``generator``: which generator, default the first)."""
        spec = self.spec
        if shape in ("index", "search") and spec.index is None:
            raise PipelineError(f"app {self.name!r} has no index; add an 'index' entry to {shape}")
        if shape == "generate":
            gen = self._generator(generator)
            key = f"generate:{gen.step_name}"
        else:
            key = shape
        if key in self._pipelines:
            return self._pipelines[key]
        steps: list[Step] = []
        if shape == "generate":
            steps.append(self._step(gen))
            out = self._output_modality(gen)
            encoders = [self._step(e, [gen.step_name]) for e in spec.encoders if self._accepts(e, out)]
            steps += encoders
            if encoders and spec.index is not None:
                steps.append(self._step(spec.index, [e.name for e in encoders]))
        else:
            feed: list[str] = []
            if shape == "index":
                for seg in spec.segmenters:
                    steps.append(self._step(seg, feed))
                    feed = [seg.step_name]
            steps += [self._step(e, feed) for e in spec.encoders]
            if shape != "encode":
                steps.append(self._step(spec.index, [e.step_name for e in spec.encoders],  # type: ignore[arg-type]
                                        "search" if shape == "search" else None))
        pipe = Pipeline(steps, name=f"{self.name}/{key}", executors=self._executors).build()
        self._pipelines[key] = pipe
        return pipe

    def _generator(self, name: str | None) -> ExecutorRef:
        gens = self.spec.generators
        if not gens:
            raise PipelineError(f"app {self.name!r} has no generators; add a 'generators' list")
        if name is None:
            return gens[0]
        for gen in gens:
            if name in (gen.step_name, gen.uses):
                return gen
        raise PipelineError(f"app {self.name!r} has no generator {name!r}; it has {', '.join(g.step_name for g in gens)}")

    def _output_modality(self, gen: ExecutorRef) -> str:
        from modahub.plugins import PluginError, UnknownExecutorError, manager

        try:
            spec = manager().find_executor(gen.uses)[1]
        except (UnknownExecutorError, PluginError) as exc:
            raise PipelineError(f"step {gen.step_name!r} ({gen.uses}): {exc}") from None
        if spec.kind != "generator":
            raise PipelineError(f"step {gen.step_name!r} ({gen.uses}): listed under generators but is a {spec.kind}")
        return spec.output_modality or ""

    def _accepts(self, encoder: ExecutorRef, modality: str) -> bool:
        executor = self._executors.get(encoder.step_name)
        mods = executor.modalities if executor is not None else self.pipeline("encode").nodes[encoder.step_name].accepts
        return "*" in mods or modality in mods

    # --- running -----------------------------------------------------------------------------

    def warm_up(self) -> None:
        """Load every executor's heavy state now (servers do this before reporting ready)."""
        for executor in self._executors.values():
            if hasattr(executor, "warm_up"):
                executor.warm_up()

    @property
    def space(self) -> tuple[str, int]:
        """The (space, dim) the app's encoders share (the first encoder's when they differ)."""
        node = self.pipeline("encode").nodes[self.spec.encoders[0].step_name]
        return node.flow.space or "", node.flow.dim or 0

    def run(self, shape: Shape, inputs: Sequence[Any], *, k: int = 10, filter: Filter | None = None, n: int = 1,
            seed: int | None = None, generator: str | None = None, progress: ProgressFn | None = None) -> RunResult:
        """Run the pipeline of ``shape`` on documents (or prompts, for ``generate``) with the local runner."""
        pipe = self.pipeline(shape, generator=generator)
        return LocalRunner(pipe, progress=progress).run(inputs, k=k, filter=filter, n=n, seed=seed)

    def encode(self, docs: Sequence[Document], *, progress: ProgressFn | None = None) -> np.ndarray:
        """Embed documents of any accepted modality; rows in input order."""
        result = self.run("encode", docs, progress=progress)
        return np.stack([d.embedding for d in result.documents if d.embedding is not None]).astype(np.float32, copy=False)

    def index(self, docs: Sequence[Document], *, progress: ProgressFn | None = None) -> RunResult:
        """Segment, encode and add documents to the index (saved when it lives at a path)."""
        return self.run("index", docs, progress=progress)

    def search(self, queries: Sequence[Document], *, k: int = 10, filter: Filter | None = None,
               progress: ProgressFn | None = None) -> RunResult:
        """The ``k`` best matches for each query document, of any accepted modality."""
        return self.run("search", queries, k=k, filter=filter, progress=progress)

    def generate(self, prompts: Sequence[str], *, n: int = 1, seed: int | None = None, generator: str | None = None,
                 progress: ProgressFn | None = None) -> RunResult:
        """Generate ``n`` documents per prompt, encode them and add them to the index when the app can."""
        return self.run("generate", prompts, n=n, seed=seed, generator=generator, progress=progress)

    def indexer(self) -> Any:
        """The app's index executor (None without one)."""
        return self._executors.get(self.spec.index.step_name) if self.spec.index else None

    def describe(self) -> dict[str, Any]:
        """A JSON-safe summary: name, space, dim, accepted modalities, steps of each shape."""
        space, dim = self.space
        return {
            "name": self.name,
            "space": space,
            "dim": dim,
            "modalities": self.pipeline("encode").accepted_modalities(),
            "index": self.spec.index.uses if self.spec.index else None,
            "generators": [g.step_name for g in self.spec.generators],
            "pipelines": {key: pipe.to_dict()["steps"] for key, pipe in self._pipelines.items()},
        }
