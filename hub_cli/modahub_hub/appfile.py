"""App files as the CLI reads them: core's app schema plus ``serve:`` (what an HTTP request may do) and
``container:`` (how ``serve --docker`` runs the app).

::

    serve:                         # optional; these are the defaults
      uri_dirs: []                 # folders whose files documents may name by uri (none: no uri at all)
      max_request_bytes: 67108864  # body, or all uploaded files together
      max_docs: 256                # documents (chunks included), queries, or prompts × n
      max_text_chars: 100000
      max_array_items: 67108864    # values in one array
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from modahub.pipeline import App, AppSpec


class ServeSpec(BaseModel):
    """What ``modahub serve`` lets a request do; the defaults are the safe ones (requests come from anyone)."""

    model_config = ConfigDict(extra="forbid")
    uri_dirs: list[str] = Field(default_factory=list, max_length=64,
                                description="folders (relative to the app file) whose files documents sent over "
                                            "HTTP may name by uri; default: none, no document may carry a uri")
    max_request_bytes: int = Field(default=64 * 2**20, ge=1024, le=2**36,
                                   description="largest request body (JSON or all uploaded files together)")
    max_docs: int = Field(default=256, ge=1, le=100_000,
                          description="most documents (chunks included), queries, or prompts × n per request")
    max_text_chars: int = Field(default=100_000, ge=1, le=2**31, description="longest text or prompt")
    max_array_items: int = Field(default=2**26, ge=1, le=2**40,
                                 description="most values in one array (pixels, samples, frames, vertices…)")


class ContainerSpec(BaseModel):
    """How ``modahub serve --docker`` runs the app; the defaults are the safe ones."""

    model_config = ConfigDict(extra="forbid")
    network: bool = Field(default=False, description="give the container the host network, served on 127.0.0.1; "
                                                      "default: no network at all")
    memory: str = Field(default="2g", pattern=r"^[0-9]+[bkmg]?$", description="memory limit, e.g. 512m or 4g")
    pids: int = Field(default=256, ge=16, description="most processes and threads in the container")


class AppFile(AppSpec):
    """An app file: :class:`modahub.pipeline.AppSpec` and optional ``serve:`` and ``container:`` sections."""

    serve: ServeSpec = Field(default_factory=ServeSpec)
    container: ContainerSpec = Field(default_factory=ContainerSpec)


def read_app(path: str | Path) -> App:
    """The app of an app file that may carry a ``container:`` section (raises core's ``PipelineError``)."""
    return App.from_yaml(path, schema=AppFile)


def serve_limits(app: App) -> ServeSpec:
    """The ``serve:`` settings of an app read by :func:`read_app`; the defaults for any other app."""
    return app.spec.serve if isinstance(app.spec, AppFile) else ServeSpec()
