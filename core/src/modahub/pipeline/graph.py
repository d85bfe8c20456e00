"""The pipeline: a DAG of named steps, built in Python or loaded from YAML, validated at build time.

Executors resolve only through the plugin registry (``modahub.plugins.manager()``) or core's
own segmenter; never through import paths. :meth:`Pipeline.build` instantiates every step
(constructors are cheap; weights load on first use) and checks that modalities, spaces and
dimensions line up. A :class:`PipelineError` names the step, what it expected, what it got, and the
installed executors that would fit.

Routing: when several encoders (or segmenters) read the same step, each document goes to the one
that accepts its modality; an index reads every document of the steps it needs.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from modahub.errors import ModahubInputError
from modahub.pipeline.fits import fits_hint
from modahub.pipeline.steps import INPUT, SEGMENTERS, Flow, Step, brief

INDEX_KINDS = ("indexer", "text-indexer")
"""Kinds whose steps ``add`` (the default) or ``search`` (``op``)."""


class PipelineError(ModahubInputError):
    """A pipeline is malformed or its steps do not fit together."""


def read_yaml(source: str | Path) -> Any:
    """Parse YAML safely (:func:`~modahub.pipeline.yamlfile.load_yaml`) from a file (a Path, or a str naming a
    .yml/.yaml file) or text."""
    import yaml

    from modahub.pipeline.yamlfile import YAMLLimitError, load_yaml

    is_file = isinstance(source, Path) or ("\n" not in source and source.endswith((".yml", ".yaml")))
    where = str(source) if is_file else "YAML text"
    try:
        text = Path(source).read_text(encoding="utf-8") if is_file else str(source)
    except OSError as exc:
        raise PipelineError(f"{where}: cannot read: {exc.strerror or exc}") from None
    try:
        return load_yaml(text)
    except YAMLLimitError as exc:
        raise PipelineError(f"{where}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PipelineError(f"{where}{at}: not valid YAML: {brief(problem, 500)}",
                            hint="fix the YAML there (the app file's form: docs/apps.md)") from None


@dataclass
class Node:
    """A built step: its executor instance, the steps it reads, what it outputs, who reads it."""

    step: Step
    executor: Any
    inputs: list[str]
    flow: Flow
    consumers: list[str] = field(default_factory=list)
    routed: bool = field(init=False)
    """Whether it takes only the documents of its modalities from a shared producer."""
    accepts: frozenset[str] = field(init=False)

    @property
    def kind(self) -> str:
        return str(self.executor.kind)

    @property
    def op(self) -> str:
        """encode, segment, generate, add or search."""
        ops = {"encoder": "encode", "segmenter": "segment", "generator": "generate"}
        return ops.get(self.kind) or self.step.op or "add"

    def __post_init__(self) -> None:
        self.routed = self.kind in ("encoder", "segmenter")
        self.accepts = frozenset(self.executor.modalities)
        self._any = "*" in self.accepts

    def takes(self, modality: str) -> bool:
        return self._any or modality in self.accepts


def _validation_message(exc: ValidationError, where: str) -> str:
    return "; ".join(f"{where}.{brief('.'.join(str(p) for p in e['loc']), 120)}: {brief(e['msg'])}" for e in exc.errors()[:10])


def _check_params(step: Step, cls: type) -> None:
    """Refuse unknown or missing constructor parameters with the list of accepted ones."""
    sig = inspect.signature(cls.__init__)  # type: ignore[misc]  # the class's own constructor, self first
    params = [p for p in list(sig.parameters.values())[1:] if p.kind not in (p.VAR_POSITIONAL,)]
    if any(p.kind == p.VAR_KEYWORD for p in params):
        return
    accepted = [p.name for p in params]
    unknown = sorted(set(step.params) - set(accepted))
    if unknown:
        raise PipelineError(
            f"{step.label()}: unknown parameter(s) {brief(', '.join(unknown))}; accepted: {', '.join(accepted) or 'none'}"
        )
    missing = [p.name for p in params if p.default is p.empty and p.name not in step.params]
    if missing:
        raise PipelineError(f"{step.label()}: missing required parameter(s) {', '.join(missing)}")


class Pipeline:
    """A DAG of named steps. Add steps, then :meth:`build` (idempotent) before running.

    ``executors`` lets several pipelines share executor instances by step name (an app's index,
    search and generate pipelines use the same encoders and index).
    """

    def __init__(
        self, steps: Iterable[Step | Mapping[str, Any]] = (), *, name: str = "pipeline",
        executors: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.steps: dict[str, Step] = {}
        self.nodes: dict[str, Node] = {}
        self.order: list[str] = []
        self.input_kind: str | None = None
        self._shared = {} if executors is None else executors
        for step in steps:
            self.add_step(step)

    # --- construction ------------------------------------------------------------------------

    def add(self, name: str, uses: str, params: Mapping[str, Any] | None = None, *,
            needs: Iterable[str] = (), op: str | None = None) -> Pipeline:
        """Add a step; returns the pipeline so that calls chain."""
        return self.add_step({"name": name, "uses": uses, "with": dict(params or {}), "needs": list(needs), "op": op})

    def add_step(self, step: Step | Mapping[str, Any]) -> Pipeline:
        """Add a :class:`Step` or its dict form (YAML keys: name, uses, with, needs, op)."""
        if not isinstance(step, Step):
            where = f"steps[{len(self.steps)}]"
            try:
                step = Step.model_validate(dict(step))
            except ValidationError as exc:
                raise PipelineError(f"pipeline {self.name!r}: {_validation_message(exc, where)}") from None
        if step.name in self.steps:
            raise PipelineError(f"pipeline {self.name!r}: two steps are named {step.name!r}; step names must be unique")
        self.steps[step.name] = step
        self.nodes, self.order = {}, []
        return self

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, executors: dict[str, Any] | None = None) -> Pipeline:
        """A pipeline from ``{"name": ..., "steps": [{"name", "uses", "with", "needs", "op"}, ...]}``."""
        if not isinstance(data, Mapping) or not isinstance(data.get("steps"), list):
            raise PipelineError("a pipeline is a mapping with a 'steps' list (each: name, uses, with, needs, op)")
        extra = sorted(set(data) - {"name", "steps"})
        if extra:
            raise PipelineError(f"pipeline: unknown key(s) {', '.join(extra)}; allowed: name, steps")
        return cls(data["steps"], name=str(data.get("name", "pipeline")), executors=executors)

    @classmethod
    def from_yaml(cls, source: str | Path) -> Pipeline:
        """A pipeline from a YAML file path or YAML text (``yaml.safe_load``)."""
        return cls.from_dict(read_yaml(source))

    def to_dict(self) -> dict[str, Any]:
        """The YAML-safe dict form (round-trips through :meth:`from_dict`)."""
        return {
            "name": self.name,
            "steps": [s.model_dump(by_alias=True, exclude_defaults=True) for s in self.steps.values()],
        }

    # --- build and validation ----------------------------------------------------------------

    def build(self) -> Pipeline:
        """Resolve and instantiate every step and check that the flows line up."""
        if self.nodes:
            return self
        if not self.steps:
            raise PipelineError(f"pipeline {self.name!r} has no steps")
        order = self._toposort()
        nodes: dict[str, Node] = {}
        for name in order:
            step = self.steps[name]
            inputs = step.needs or [INPUT]
            flows = [self._input_flow() if i == INPUT else nodes[i].flow for i in inputs]
            nodes[name] = self._node(step, inputs, flows)
        for node in nodes.values():
            for i in node.inputs:
                if i != INPUT:
                    nodes[i].consumers.append(node.step.name)
        self.input_kind = self._check_input(nodes)
        self._check_routes(nodes)
        self.nodes, self.order = nodes, order
        return self

    def _toposort(self) -> list[str]:
        for step in self.steps.values():
            for need in step.needs:
                if need != INPUT and need not in self.steps:
                    raise PipelineError(
                        f"{step.label()}: needs unknown step {need!r}; steps are: {brief(', '.join(self.steps))}"
                    )
        order: list[str] = []
        done: set[str] = set()
        for root in self.steps:  # depth-first with an explicit stack: any depth, no RecursionError
            if root in done:
                continue
            path: list[str] = [root]
            on_path = {root}
            pending = [iter(self.steps[root].needs)]
            while pending:
                need = next(pending[-1], "")
                if not need:
                    name = path.pop()
                    on_path.discard(name)
                    pending.pop()
                    done.add(name)
                    order.append(name)
                elif need == INPUT or need in done:
                    continue
                elif need in on_path:
                    cycle = [*path[path.index(need):], need]
                    raise PipelineError(f"pipeline {self.name!r} has a cycle: {brief(' -> '.join(cycle))}")
                else:
                    path.append(need)
                    on_path.add(need)
                    pending.append(iter(self.steps[need].needs))
        return order

    @staticmethod
    def _input_flow() -> Flow:
        return Flow("docs", INPUT)

    def _instantiate(self, step: Step, extra: Mapping[str, Any] | None = None) -> Any:
        shared = self._shared.get(step.name)
        if shared is not None:
            return shared
        cls = self._resolve(step)
        params = {**step.params, **(extra or {})}
        _check_params(step.model_copy(update={"params": params}), cls)
        try:
            instance = cls(**params)
        except (TypeError, ValueError) as exc:
            raise PipelineError(f"{step.label()}: bad parameters {brief(step.params)}: {brief(str(exc))}") from None
        self._shared[step.name] = instance
        return instance

    @staticmethod
    def _resolve(step: Step) -> type:
        """The executor class of a step: one of core's own or a registry name, nothing else."""
        if step.uses in SEGMENTERS:
            return SEGMENTERS[step.uses]
        from modahub.plugins import PluginError, UnknownExecutorError, manager

        try:
            return manager().executor_class(step.uses)
        except (UnknownExecutorError, PluginError) as exc:
            raise PipelineError(f"{step.label()}: {exc}") from None

    def _node(self, step: Step, inputs: list[str], flows: list[Flow]) -> Node:
        for flow in flows:
            if flow.kind == "matches":
                raise PipelineError(
                    f"{step.label()}: cannot read search results from {flow.origin()}; a search step ends a pipeline"
                )
        cls_kind = self._kind_of(step)
        if step.op is not None and cls_kind not in INDEX_KINDS:
            raise PipelineError(f"{step.label()}: 'op' applies to index steps only; a {cls_kind} has one operation")
        if cls_kind == "generator":
            return self._generator_node(step, inputs)
        for flow in flows:
            if flow.kind != "docs":
                raise PipelineError(f"{step.label()}: expected documents; got {flow.describe()} from {flow.origin()}")
        if cls_kind == "indexer":
            return self._index_node(step, inputs, flows)
        if cls_kind == "text-indexer":
            return self._text_index_node(step, inputs, flows)
        executor = self._instantiate(step)
        for flow in flows:
            if flow.embedded:
                raise PipelineError(
                    f"{step.label()}: expected raw documents; got {flow.describe()} from {flow.origin()}, "
                    "which are encoded already; feed it from the pipeline input or a segmenter"
                )
        mods = None if any(f.modalities is None for f in flows) else frozenset().union(*(f.modalities or () for f in flows))
        accepts = frozenset(executor.modalities)
        out_mods = (mods if "*" in accepts else accepts if mods is None else accepts & mods)
        if cls_kind == "segmenter":
            return Node(step, executor, inputs, Flow("docs", step.name, out_mods))
        if not executor.space or not executor.dim:
            raise PipelineError(f"{step.label()}: the encoder declares no embedding space/dim; set them in its parameters")
        return Node(step, executor, inputs, Flow("docs", step.name, out_mods, executor.space, int(executor.dim)))

    def _kind_of(self, step: Step) -> str:
        shared = self._shared.get(step.name)
        if shared is not None:
            return str(shared.kind)
        if step.uses in SEGMENTERS:
            return "segmenter"
        from modahub.plugins import PluginError, UnknownExecutorError, manager

        try:
            return manager().find_executor(step.uses)[1].kind
        except (UnknownExecutorError, PluginError) as exc:
            raise PipelineError(f"{step.label()}: {exc}") from None

    def _generator_node(self, step: Step, inputs: list[str]) -> Node:
        if inputs != [INPUT]:
            raise PipelineError(
                f"{step.label()}: a generator reads prompts from the pipeline input; remove needs {step.needs}"
            )
        executor = self._instantiate(step)
        return Node(step, executor, inputs, Flow("docs", step.name, frozenset({executor.output_modality})))

    def _index_node(self, step: Step, inputs: list[str], flows: list[Flow]) -> Node:
        declared = step.params.get("space"), step.params.get("dim")
        for flow in flows:
            if not flow.embedded:
                mods = None if flow.modalities is None else sorted(flow.modalities)
                raise PipelineError(
                    f"{step.label()}: expected embedded documents; got {flow.describe()} from {flow.origin()}; "
                    "put an encoder step between them" + fits_hint("encoder", modalities=mods, space=declared[0])
                )
        want_space = declared[0] if declared[0] is not None else flows[0].space
        want_dim = declared[1] if declared[1] is not None else flows[0].dim
        basis = "its parameters" if declared[0] is not None else flows[0].origin()
        for flow in flows:
            if (flow.space, flow.dim) != (want_space, want_dim):
                mods = None if flow.modalities is None else sorted(flow.modalities)
                raise PipelineError(
                    f"{step.label()}: expected vectors of space {want_space!r} (dim {want_dim}, from {basis}); "
                    f"got {flow.describe()} from {flow.origin()}; every encoder feeding an index must share its space"
                    + fits_hint("encoder", modalities=mods, space=want_space, dim=want_dim)
                )
        executor = self._instantiate(step, {"space": want_space, "dim": want_dim})
        if (executor.space, executor.dim) != (want_space, want_dim):
            raise PipelineError(
                f"{step.label()}: the index holds space {executor.space!r} dim {executor.dim}; "
                f"its inputs are space {want_space!r} dim {want_dim}"
            )
        if step.op == "search":
            return Node(step, executor, inputs, Flow("matches", step.name))
        kept = None if any(f.modalities is None for f in flows) else frozenset().union(*(f.modalities or () for f in flows))
        return Node(step, executor, inputs, Flow("docs", step.name, kept, want_space, want_dim))

    def _text_index_node(self, step: Step, inputs: list[str], flows: list[Flow]) -> Node:
        """A text index stores documents as they come (embedded or not) and is searched by text documents."""
        executor = self._instantiate(step)
        if step.op == "search":
            return Node(step, executor, inputs, Flow("matches", step.name))
        kept = None if any(f.modalities is None for f in flows) else frozenset().union(*(f.modalities or () for f in flows))
        return Node(step, executor, inputs, Flow("docs", step.name, kept))

    def _check_input(self, nodes: dict[str, Node]) -> str:
        roots = [n for n in nodes.values() if INPUT in n.inputs]
        kinds = {"prompts" if n.kind == "generator" else "docs" for n in roots}
        if len(kinds) > 1:
            gens = [n.step.name for n in roots if n.kind == "generator"]
            others = [n.step.name for n in roots if n.kind != "generator"]
            raise PipelineError(
                f"pipeline {self.name!r}: generators {gens} read prompts but steps {others} read documents "
                "from the same input; split them into two pipelines"
            )
        return kinds.pop()

    def _check_routes(self, nodes: dict[str, Node]) -> None:
        producers: dict[str, list[Node]] = {INPUT: [n for n in nodes.values() if INPUT in n.inputs]}
        for node in nodes.values():
            producers[node.step.name] = [nodes[c] for c in node.consumers]
        for source, consumers in producers.items():
            routed = [c for c in consumers if c.routed]
            for i, a in enumerate(routed):
                for b in routed[i + 1:]:
                    union = a.accepts | b.accepts
                    both = sorted(a.accepts & b.accepts) or (sorted(union) if "*" in union else [])
                    if both:
                        origin = Flow("docs", source).origin()
                        raise PipelineError(
                            f"{b.step.label()}: {'/'.join(both)} documents from {origin} would go to both "
                            f"step {a.step.name!r} ({a.step.uses}) and step {b.step.name!r} ({b.step.uses}); "
                            "keep one encoder per modality"
                        )
            produced = None if source == INPUT else nodes[source].flow
            if produced is None or produced.modalities is None or not routed:
                continue
            for c in routed:
                if not any(c.takes(m) for m in produced.modalities):
                    space = getattr(c.executor, "space", None)
                    raise PipelineError(
                        f"{c.step.label()}: expected {'/'.join(sorted(c.accepts))} documents; got {produced.describe()} "
                        f"from {produced.origin()}"
                        + fits_hint(c.kind, modalities=sorted(produced.modalities), space=space or None)
                    )
            stray = sorted(m for m in produced.modalities if not any(c.takes(m) for c in routed))
            if stray:
                readers = ", ".join(f"{c.step.name!r} takes {'/'.join(sorted(c.accepts))}" for c in routed)
                raise PipelineError(
                    f"{produced.origin()} outputs {'/'.join(stray)} documents that none of the steps reading it "
                    f"accepts ({readers})" + fits_hint("encoder", modalities=stray)
                )

    # --- introspection -----------------------------------------------------------------------

    def sinks(self) -> list[Node]:
        """Built nodes that no other step reads: the pipeline's outputs."""
        self.build()
        return [self.nodes[n] for n in self.order if not self.nodes[n].consumers]

    def routes(self, source: str) -> list[Node]:
        """The built nodes that read ``source`` (a step name or ``INPUT``)."""
        self.build()
        return [self.nodes[n] for n in self.order if source in self.nodes[n].inputs]

    def accepted_modalities(self) -> list[str]:
        """Modalities the pipeline input accepts (``*`` when any)."""
        return sorted({m for n in self.routes(INPUT) for m in n.accepts})
