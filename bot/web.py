"""The HTTP surface: POST /slack/events and GET /healthz on Starlette."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.components import Components
from bot.scheduler import start_scheduler
from storage.db import ping


def create_web_app(app: AsyncApp, c: Components) -> Starlette:
    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    scheduler: list[AsyncIOScheduler] = []

    async def healthz(_request: Request) -> Response:
        db_ok = await ping(c.engine)
        if not c.settings.run_scheduler:
            sched = "off (RUN_SCHEDULER=false)"
        else:
            sched = "running" if scheduler and scheduler[0].running else "stopped"
        body: dict[str, object] = {
            "status": "ok" if db_ok else "unavailable",
            "database": "ok" if db_ok else "unreachable",
            "scheduler": sched,
            "background_tasks": c.tasks.pending,
        }
        if c.sender.last_tick is not None:
            body["sender_last_tick_seconds_ago"] = round(time.monotonic() - c.sender.last_tick, 1)
        return JSONResponse(body, status_code=200 if db_ok else 503)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if c.settings.run_scheduler:
            scheduler.append(start_scheduler(c))
        yield
        for running in scheduler:
            running.shutdown(wait=False)
        # Finish what was acknowledged before the process goes away.
        await c.sender.drain(grace=10.0)
        await c.tasks.drain(grace=10.0)
        await c.engine.dispose()

    return Starlette(
        routes=[Route("/slack/events", events, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])],
        lifespan=lifespan,
    )
