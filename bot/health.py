"""GET /healthz: is this process able to do its work? And the worker's own small HTTP server.

Unhealthy (503) when the database does not answer, or when this process should run the scheduler
(`serve`/`socket` with RUN_SCHEDULER=true, or `worker`) and it has not ticked for 3 ticks. The body
says why. `serve` answers on its own port (bot/web.py); `worker` on METRICS_PORT (`serve_ops`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiohttp import web

from bot.components import Components
from storage.db import ping

log = logging.getLogger(__name__)

STALE_TICKS = 3  # ticks without a tick before the scheduler counts as stopped
# A sub-second tick (tests, demos) would call a busy event loop stalled after a fraction of a second: at
# least this long, which is exactly three of the default one-second ticks.
MIN_STALE = 3.0


@dataclass(frozen=True)
class Health:
    status: int  # 200 or 503
    body: dict[str, object]


def judge(
    *,
    database_ok: bool,
    scheduler_expected: bool,
    scheduler_since: float | None,
    last_tick: float | None,
    tick: float,
    now: float,
    background_tasks: int = 0,
) -> Health:
    """The verdict from what was observed (monotonic seconds); pure, so a test can set the clock."""
    problems: list[str] = []
    body: dict[str, object] = {"database": "ok" if database_ok else "unreachable"}
    if not database_ok:
        problems.append("the database is unreachable")
    if not scheduler_expected:
        body["scheduler"] = "off (RUN_SCHEDULER=false)"
    elif scheduler_since is None:
        body["scheduler"] = "not started"
        problems.append("the scheduler has not started")
    else:
        silent = now - (last_tick if last_tick is not None else scheduler_since)
        if silent > max(STALE_TICKS * tick, MIN_STALE):
            body["scheduler"] = "stalled"
            problems.append(f"the scheduler has not ticked for {silent:.1f} s (it should every {tick:g} s)")
        else:
            body["scheduler"] = "running"
    if last_tick is not None:
        body["sender_last_tick_seconds_ago"] = round(now - last_tick, 1)
    body["background_tasks"] = background_tasks
    if problems:
        return Health(503, {"status": "unavailable", "reason": "; ".join(problems), **body})
    return Health(200, {"status": "ok", **body})


async def check(c: Components, *, scheduler_expected: bool) -> Health:
    database_ok = await ping(c.engine)
    return judge(
        database_ok=database_ok,
        scheduler_expected=scheduler_expected,
        scheduler_since=c.metrics.scheduler_since,
        last_tick=c.metrics.last_tick,
        tick=c.settings.scheduler_tick,
        now=c.metrics.clock(),
        background_tasks=c.tasks.pending,
    )


async def serve_ops(c: Components, host: str, port: int) -> web.AppRunner:
    """`worker`'s /healthz and /metrics on METRICS_PORT, on the running event loop.

    aiohttp rather than uvicorn: the worker keeps its own signal handling and shuts down in its own
    order (the scheduler first, then the sends in flight), answering 503 meanwhile."""

    async def healthz(_request: web.Request) -> web.Response:
        h = await check(c, scheduler_expected=True)
        return web.json_response(h.body, status=h.status)

    async def metrics(_request: web.Request) -> web.Response:
        body, content_type = c.metrics.exposition()
        return web.Response(body=body, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError:
        await runner.cleanup()
        raise
    log.info("health and metrics on http://%s:%d (/healthz, /metrics)", host, port)
    return runner
