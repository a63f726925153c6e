"""The app factory: one function builds the Bolt app and everything behind it from settings."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.components import Components
from bot.home import wire_homes
from bot.listeners import register_all
from bot.live import LiveMessages
from bot.logs import bind
from bot.metrics import Metrics, TimedAsyncApp
from bot.sender import Sender
from bot.settings import Settings
from bot.slack.client import Directory, HttpSession, make_client, make_post_client
from bot.tasks import TaskTracker
from bot.templates import prepare_templates
from storage.db import make_async_engine, make_sessionmaker

log = logging.getLogger(__name__)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def build_components(settings: Settings) -> Components:
    prepare_templates(settings)  # TEMPLATES_DIR's templates join the built-in ones, or nothing starts
    token = settings.slack_bot_token.get_secret_value()
    metrics = Metrics()  # this instance's own registry: nothing is shared between apps in one process
    http = HttpSession(
        timeout=settings.slack_timeout
    )  # one kept-alive connection pool for both clients, made on first use
    client = make_client(token, settings.slack_api_url, timeout=settings.slack_timeout, http=http)
    post_client = make_post_client(token, settings.slack_api_url, timeout=settings.slack_timeout, http=http)
    for web_client in (client, post_client):
        # First in line, so it sees every answer (and counts the 429s) before any retry handler decides.
        # Bolt's per-request clients copy this list.
        web_client.retry_handlers.insert(0, metrics.rate_limit_hook())
    engine = make_async_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    sender = Sender(
        sessions,
        post_client,
        worker_id=worker_id(),
        command=settings.slash_command,
        grace=timedelta(seconds=settings.announcement_grace),
        # Longer than any post of a live sender can take, so only abandoned claims look stale.
        stale_after=timedelta(seconds=2 * settings.slack_timeout + 5),
        settle_after=2.0 * settings.slack_timeout,
        metrics=metrics,
    )
    tasks = TaskTracker()
    metrics.watch_tasks(tasks)
    c = Components(
        settings=settings,
        engine=engine,
        sessions=sessions,
        client=client,
        directory=Directory(client),
        live=LiveMessages(sessions, client, metrics=metrics),
        tasks=tasks,
        sender=sender,
        metrics=metrics,
        http=http,
    )
    c.home = wire_homes(c)
    return c


def create_app(settings: Settings, *, socket_mode: bool = False) -> tuple[AsyncApp, Components]:
    c = build_components(settings)
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    app = TimedAsyncApp(
        metrics=c.metrics,
        client=c.client,
        signing_secret=secret,
        # Socket Mode payloads arrive over an authenticated websocket, unsigned.
        request_verification_enabled=not socket_mode,
        # Listeners ack first and hand slow work to background tasks, so the HTTP answer
        # can go out as soon as the listener returns instead of after Bolt's 10 ms ack poll.
        process_before_response=True,
        logger=logging.getLogger("slack_bolt"),
    )

    @app.middleware
    async def bind_request(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> None:
        # Slack has no request id header for these payloads; the trigger id is unique per request.
        actions_ = body.get("actions") or [{}]
        bind(
            request_id=str(body.get("trigger_id") or actions_[0].get("action_ts") or uuid.uuid4().hex[:12]),
            user=str(body.get("user_id") or (body.get("user") or {}).get("id") or "") or None,
            release=None,
        )
        await next()

    register_all(app, c)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any]) -> None:
        log.error("unhandled error for %s request", body.get("type") or body.get("command"), exc_info=error)

    return app, c
