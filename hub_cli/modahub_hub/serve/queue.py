"""A bounded queue in front of one worker thread: executors run one request at a time, in order."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class Unavailable(RuntimeError):
    """The queue is full or shutting down; the client should retry later (HTTP 503)."""


class WorkQueue:
    """At most ``capacity`` requests accepted (running or waiting); the rest are refused at once.

    Only the event loop thread touches ``pending``, so no lock is needed.
    """

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError(f"queue capacity must be positive, got {capacity}")
        self.capacity = capacity
        self.pending = 0
        self.closed = False
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="modahub-work")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the worker thread, or raise :class:`Unavailable` when full or closing."""
        if self.closed:
            raise Unavailable("the server is shutting down")
        if self.pending >= self.capacity:
            raise Unavailable(f"the work queue is full ({self.capacity} requests); retry shortly")
        self.pending += 1
        try:
            return await asyncio.wrap_future(self._pool.submit(fn, *args))
        finally:
            self.pending -= 1

    def submit(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """Schedule background work (e.g. warm-up) ahead of requests, outside the capacity count."""
        return asyncio.wrap_future(self._pool.submit(fn, *args))

    def close(self) -> None:
        """Refuse new work and wait for the accepted work to finish."""
        self.closed = True
        self._pool.shutdown(wait=True)
