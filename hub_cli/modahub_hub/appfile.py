"""App files as the CLI reads them: core's app schema plus ``container:``, how ``serve --docker`` runs the app."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from modahub.pipeline import App, AppSpec


class ContainerSpec(BaseModel):
    """How ``modahub serve --docker`` runs the app; the defaults are the safe ones."""

    model_config = ConfigDict(extra="forbid")
    network: bool = Field(default=False, description="give the container the host network, served on 127.0.0.1; "
                                                      "default: no network at all")
    memory: str = Field(default="2g", pattern=r"^[0-9]+[bkmg]?$", description="memory limit, e.g. 512m or 4g")
    pids: int = Field(default=256, ge=16, description="most processes and threads in the container")


class AppFile(AppSpec):
    """An app file: :class:`modahub.pipeline.AppSpec` and an optional ``container:`` section."""

    container: ContainerSpec = Field(default_factory=ContainerSpec)


def read_app(path: str | Path) -> App:
    """The app of an app file that may carry a ``container:`` section (raises core's ``PipelineError``)."""
    return App.from_yaml(path, schema=AppFile)
