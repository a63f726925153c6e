"""The HTTP surface: POST /slack/events, GET /healthz and GET /metrics on Starlette."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.components import Components
from bot.health import check
from bot.scheduler import start_scheduler


def create_web_app(app: AsyncApp, c: Components) -> Starlette:
    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    scheduler: list[AsyncIOScheduler] = []

    async def healthz(_request: Request) -> Response:
        h = await check(c, scheduler_expected=c.settings.run_scheduler)
        return JSONResponse(h.body, status_code=h.status)

    async def metrics(_request: Request) -> Response:
        body, content_type = c.metrics.exposition()
        return Response(body, headers={"Content-Type": content_type})

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
        await c.close()

    return Starlette(
        routes=[
            Route("/slack/events", events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/metrics", metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
