"""``modahub serve``: an app over HTTP (FastAPI + uvicorn) with a bounded work queue."""

from modahub_hub.serve.http import DEFAULT_QUEUE, create_app

__all__ = ["DEFAULT_QUEUE", "create_app"]
