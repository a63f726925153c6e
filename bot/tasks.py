"""Background work started after a request is acknowledged.

Every task is kept referenced until it ends (asyncio holds only weak references), its
failure is logged with the request's context, and shutdown waits for the rest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)


class TaskTracker:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self.failures = 0

    def spawn(
        self,
        coro: Coroutine[Any, Any, Any],
        *,
        context: str,
        on_error: Callable[[BaseException], Awaitable[Any]] | None = None,
    ) -> asyncio.Task[Any]:
        """Run `coro` in the background; if it fails, `on_error` may tell the person who asked."""
        task = asyncio.get_running_loop().create_task(_guarded(coro, on_error, context))
        self._tasks.add(task)
        task.add_done_callback(lambda t: self._finished(t, context))
        return task

    def _finished(self, task: asyncio.Task[Any], context: str) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            log.warning("background work cancelled: %s", context)
            return
        exc = task.exception()
        if exc is not None:
            self.failures += 1
            log.error("background work failed: %s", context, exc_info=exc)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def drain(self, grace: float = 10.0) -> None:
        """Wait for in-flight work; cancel what is still running after `grace` seconds."""
        if not self._tasks:
            return
        _done, still = await asyncio.wait(set(self._tasks), timeout=grace)
        for t in still:
            t.cancel()
        if still:
            await asyncio.wait(still, timeout=1.0)


async def _guarded(
    coro: Coroutine[Any, Any, Any], on_error: Callable[[BaseException], Awaitable[Any]] | None, context: str
) -> Any:
    try:
        return await coro
    except Exception as exc:
        if on_error is not None:
            try:
                await on_error(exc)
            except Exception:
                log.warning("could not report the failure of %s", context, exc_info=True)
        raise
