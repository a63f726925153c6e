"""The sandbox page's HTTP side: the static Slack-like client and the JSON API it talks to.

GET  /                      the page (sandbox/static/index.html); /static/… its script and styles
GET  /api/state?user=       the workspace as that person sees it (people, channels, their DM)
GET  /api/channel?user=&channel=        top-level messages + that person's ephemerals, rendered
GET  /api/thread?user=&channel=&ts=     a thread's replies, rendered
GET  /api/modal?user=       the person's open modal (top of their stack) with validation errors
GET  /api/changes?since=N   long poll: returns once the activity number differs from N (or ~20 s)
GET  /api/emoji             {"labels": {emoji: label}}: what the page writes where it cannot draw colour emoji
POST /api/slash   {user, channel, text}               the composer: /commands and plain messages
POST /api/action  {user, channel, ts | view_id, action_id, block_id?, selected?}
POST /api/submit  {user, view_id, values}             values as {block_id: {action_id: raw}}
POST /api/close   {user, view_id}
POST /api/dismiss {user, channel, ts}                 hides one of the person's ephemerals
Bad input answers 400 {"ok": false, "error": "…"} and changes nothing; 502 means the app did not answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from sandbox.driver import SlackDriver
from sandbox.page_api import PageActions
from sandbox.page_view import BadRequest
from sandbox.render.emoji import text_labels
from sandbox.serving import LoopbackServer
from sandbox.team import Team
from sandbox.webapi import SlackStandIn

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
LONG_POLL = 20.0
POLL_INTERVAL = 0.1
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
NO_STORE = {"Cache-Control": "no-store"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, headers=NO_STORE)


def _problem(message: str, status: int = 400) -> web.Response:
    return _json({"ok": False, "error": message}, status)


async def _body(request: web.Request) -> Mapping[str, Any]:
    # Requiring JSON keeps other web pages from posting here with a plain cross-site form.
    if request.content_type != "application/json":
        raise BadRequest("send the body as application/json")
    try:
        body = json.loads(await request.read())
    except ValueError:
        raise BadRequest("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object")
    return body


def make_page_app(
    actions: PageActions, *, loopback_only: bool = True, stopping: threading.Event | None = None
) -> web.Application:
    """The page's aiohttp application (a fresh one per call: aiohttp apps cannot be reused).

    Setting ``stopping`` answers pending long polls at once, so shutdown does not cut them off.
    """
    view = actions.view
    stopping = stopping or threading.Event()

    def reader(read: Callable[[Mapping[str, str]], Any]) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            return _json(await asyncio.to_thread(read, dict(request.query)))

        return handle

    def writer(write: Callable[[Mapping[str, Any]], dict[str, Any]]) -> Handler:
        async def handle(request: web.Request) -> web.StreamResponse:
            body = await _body(request)
            return _json(await asyncio.to_thread(write, body))

        return handle

    async def changes(request: web.Request) -> web.StreamResponse:
        try:
            since = int(request.query.get("since", "-1"))
            wait = min(float(request.query.get("wait", LONG_POLL)), LONG_POLL)
            if not math.isfinite(wait):
                raise ValueError(wait)
        except ValueError:
            raise BadRequest("'since' must be an integer and 'wait' a number of seconds") from None
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            current = actions.activity()
            # Any difference counts, not only growth: a reset of the stand-in shrinks the number.
            if current != since or time.monotonic() >= deadline or stopping.is_set():
                return _json({"revision": current, "changed": current != since})
            await asyncio.sleep(POLL_INTERVAL)

    async def index(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC / "index.html", headers=NO_STORE)

    async def no_icon(request: web.Request) -> web.StreamResponse:
        return web.Response(status=204)  # browsers ask for it; an empty answer keeps their consoles clean

    app = web.Application(middlewares=[_guard(loopback_only)])
    app.router.add_get("/", index)
    app.router.add_get("/favicon.ico", no_icon)
    app.router.add_static("/static/", STATIC, append_version=False)
    app.router.add_get("/api/state", reader(lambda q: view.state(q.get("user"))))
    app.router.add_get("/api/channel", reader(lambda q: view.channel(q.get("user"), q.get("channel"))))
    app.router.add_get("/api/thread", reader(lambda q: view.thread(q.get("user"), q.get("channel"), q.get("ts"))))
    app.router.add_get("/api/modal", reader(lambda q: {"modal": view.modal(q.get("user"))}))
    app.router.add_get("/api/home", reader(lambda q: {"home": view.home(q.get("user"))}))
    app.router.add_post("/api/home", writer(actions.open_home))
    app.router.add_get("/api/changes", changes)
    app.router.add_get("/api/emoji", reader(lambda q: {"labels": text_labels()}))
    app.router.add_post("/api/slash", writer(actions.compose))
    app.router.add_post("/api/action", writer(actions.action))
    app.router.add_post("/api/submit", writer(actions.submit))
    app.router.add_post("/api/close", writer(actions.close))
    app.router.add_post("/api/dismiss", writer(actions.dismiss))
    return app


# Another site must not frame the page and lure clicks on Approve or Start cutover; the policy also
# backs up the renderer's escaping should a message ever carry markup.
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: http: https:; style-src 'self' 'unsafe-inline'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
}


def _guard(loopback_only: bool) -> Any:
    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        # A loopback page must refuse other host names, or a rebinding DNS name could drive it.
        if loopback_only and (request.url.host or "") not in LOOPBACK_NAMES:
            return _problem("this sandbox only answers on a loopback address", 403)
        try:
            response = await handler(request)
            response.headers.update(SECURITY_HEADERS)
            return response
        except BadRequest as e:
            return _problem(str(e))
        except httpx.HTTPError as e:  # the app is down or hung: say so instead of a bare 500
            return _problem(f"the app did not answer ({type(e).__name__}); see its log", 502)
        except web.HTTPException:
            raise
        except Exception as e:  # a sandbox bug must show in the page, not as a hung request
            log.exception("sandbox page request %s %s failed", request.method, request.path)
            return _problem(f"the sandbox failed: {e!r}", 500)

    return guard


class PageServer:
    """The page on its own thread (like the stand-in), so synchronous callers can run it."""

    def __init__(
        self,
        *,
        standin: SlackStandIn,
        driver: SlackDriver,
        team: Team,
        host: str = "127.0.0.1",
        port: int = 8080,
        slash_command: str = "/release",
    ) -> None:
        self.actions = PageActions(standin, driver, team, slash_command=slash_command)
        loopback = host in LOOPBACK_NAMES
        self._stopping = threading.Event()
        self._server = LoopbackServer(
            lambda: make_page_app(self.actions, loopback_only=loopback, stopping=self._stopping),
            host=host,
            port=port,
            name="sandbox-page",
        )

    def start(self) -> None:
        self._stopping.clear()
        self._server.start()

    def stop(self) -> None:
        if not self._server.running:
            return
        self._stopping.set()
        time.sleep(POLL_INTERVAL * 2)  # lets pending long polls answer before the loop goes away
        self._server.stop()

    @property
    def url(self) -> str:
        return self._server.url
