"""Pipelines and apps: DAGs of executors resolved through the plugin registry, and the local runner."""

from modahub.pipeline.app import App, AppSpec, ExecutorRef
from modahub.pipeline.graph import Node, Pipeline, PipelineError, read_yaml
from modahub.pipeline.runner import LocalRunner, RunResult
from modahub.pipeline.steps import INPUT, SEGMENTERS, Flow, Step

__all__ = [
    "INPUT", "SEGMENTERS", "App", "AppSpec", "ExecutorRef", "Flow", "LocalRunner", "Node",
    "Pipeline", "PipelineError", "RunResult", "Step", "read_yaml",
]
