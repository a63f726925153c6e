"""SlackStandIn: a loopback, strict imitation of Slack's Web API and response_url hosts.

The aiohttp server runs on its own thread and event loop so synchronous pytest tests, sync and
async slack_sdk clients and a Bolt app under test can all talk to it over real HTTP.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import time
import urllib.parse
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from sandbox import chat, directory, files, views
from sandbox.arguments import decode_json_fields
from sandbox.hooks import post_to_hook
from sandbox.limits import Fault, check_fault_kind
from sandbox.replies import Reply, fail, ratelimited
from sandbox.serving import LoopbackServer
from sandbox.workspace import DEFAULT_SCOPES, Call, Channel, Ephemeral, Message, User, Usergroup, Workspace

log = logging.getLogger(__name__)

Handler = Callable[[Workspace, dict[str, Any]], Reply]
HANDLERS: dict[str, Handler] = {**directory.HANDLERS, **chat.HANDLERS, **views.HANDLERS, **files.HANDLERS}


async def _read_args(request: web.Request) -> tuple[dict[str, Any], str | None]:
    """Query string plus body (form or JSON); returns (args, Slack error for a bad body)."""
    args: dict[str, Any] = dict(request.query)
    if request.method != "POST":
        return decode_json_fields(args), None
    raw = await request.read()
    if request.content_type == "application/json":
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError:
                return args, "invalid_json"
            if not isinstance(body, dict):
                return args, "json_not_object"
            args.update(body)
    elif request.content_type == "application/x-www-form-urlencoded" or not raw.strip():
        try:
            args.update(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            return args, "invalid_form_data"
    else:
        return args, "invalid_post_type"
    return decode_json_fields(args), None


class SlackStandIn:
    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test-token",
        team_id: str = "T0CUTOVER",
        bot_user_id: str = "UBOT",
        host: str = "127.0.0.1",
        port: int = 0,
        team_domain: str = "cutover",
        bot_id: str = "B0CUTOVER",
        app_id: str = "A0CUTOVER",
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        trigger_ttl: float = 3.0,
        response_url_ttl: float = 30 * 60.0,
    ) -> None:
        self._server = LoopbackServer(self._make_app, host=host, port=port, name="slack-standin")
        self._ws = Workspace(
            bot_token=bot_token,
            team_id=team_id,
            team_domain=team_domain,
            bot_user_id=bot_user_id,
            bot_id=bot_id,
            app_id=app_id,
            scopes=scopes,
            trigger_ttl=trigger_ttl,
            response_url_ttl=response_url_ttl,
        )

    # lifecycle

    def start(self) -> None:
        """Binds (a free port when port=0) and returns once the server accepts requests."""
        self._server.start()
        with self._ws.lock:
            self._ws.root_url = self._server.url

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> SlackStandIn:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("GET", "/api/{method}", self._handle_api)
        app.router.add_route("POST", "/api/{method}", self._handle_api)
        app.router.add_route("POST", "/hooks/{token}", self._handle_hook)
        app.router.add_route("POST", "/upload/v1/{file_id}", self._handle_upload)
        return app

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def url(self) -> str:
        """Root URL, e.g. http://127.0.0.1:PORT/ (permalinks and response_urls live under it)."""
        return self._server.url

    @property
    def base_url(self) -> str:
        """Web API base for slack_sdk clients: http://127.0.0.1:PORT/api/."""
        return f"{self.url}api/"

    @property
    def bot_token(self) -> str:
        return self._ws.bot_token

    def rotate_bot_token(self, token: str) -> None:
        """Issue a new bot token, as when an admin regenerates it: the old one is revoked."""
        with self._ws.lock:
            if token != self._ws.bot_token:
                self._ws.revoked_tokens.add(self._ws.bot_token)
                self._ws.revoked_tokens.discard(token)
                self._ws.bot_token = token

    @property
    def bot_user_id(self) -> str:
        return self._ws.bot_user_id

    @property
    def team_id(self) -> str:
        return self._ws.team_id

    # HTTP

    async def _handle_api(self, request: web.Request) -> web.Response:
        at = time.monotonic()
        method = request.match_info["method"]
        args, body_problem = await _read_args(request)
        try:
            reply = await self._answer(method, request.headers.get("Authorization", ""), args, body_problem)
        except Exception as exc:  # a stand-in bug must reach the test as a loud 500, not a hang
            log.exception("sandbox handler for %s crashed", method)
            reply = Reply({"ok": False, "error": "internal_error", "sandbox_exception": repr(exc)}, 500)
        with self._ws.lock:
            self._ws.calls.append(
                Call(method, copy.deepcopy(args), reply.status, copy.deepcopy(reply.body), at, request.method)
            )
        return web.json_response(reply.body, status=reply.status, headers=reply.headers)

    async def _answer(self, method: str, authorization: str, args: dict[str, Any], body_problem: str | None) -> Reply:
        handler = HANDLERS.get(method)
        if handler is None:
            return fail("unknown_method")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return fail("not_authed")
        if token.strip() != self._ws.bot_token:
            return fail("token_revoked" if token.strip() in self._ws.revoked_tokens else "invalid_auth")
        if body_problem is not None:
            return fail(body_problem)
        channel = args.get("channel") if isinstance(args.get("channel"), str) else None
        with self._ws.lock:
            fault = self._ws.faults.take(method, channel)
        if fault is not None:
            forced = fault.reply()
            if forced is not None:
                return forced
            await asyncio.sleep(fault.delay)
        with self._ws.lock:
            if method == "chat.postMessage" and channel:
                retry_after = self._ws.post_rate.take(channel)
                if retry_after is not None:
                    return ratelimited(retry_after)
            return handler(self._ws, args)

    async def _handle_hook(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        with self._ws.lock:
            status, text = post_to_hook(self._ws, request.match_info["token"], body)
        return web.Response(status=status, text=text, content_type="text/plain")

    async def _handle_upload(self, request: web.Request) -> web.Response:
        raw = await request.read()
        with self._ws.lock:
            status, text = files.receive_bytes(self._ws, request.match_info["file_id"], raw)
        return web.Response(status=status, text=text, content_type="text/plain")

    def uploaded_files(self) -> list[files.UploadedFile]:
        """Every file the app uploaded (bytes, title, where it was shared), oldest first."""
        with self._ws.lock:
            return [copy.copy(f) for f in self._ws.files.values()]

    # seeding (re-adding an id replaces it, so tests can change membership mid-test)

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        real_name: str | None = None,
        tz: str = "UTC",
        tz_label: str | None = None,
        tz_offset: int | None = None,
        display_name: str | None = None,
        is_bot: bool = False,
    ) -> None:
        """``tz`` must be a zone this machine knows, unless ``tz_offset`` (seconds east of UTC) says what
        Slack would send for it: that stands for a person whose zone the app's machine cannot read."""
        user = User(
            id=user_id,
            name=name,
            real_name=real_name if real_name is not None else name,
            tz=tz,
            tz_label=tz_label,
            display_name=display_name if display_name is not None else name,
            is_bot=is_bot,
            tz_offset=tz_offset,
        )
        with self._ws.lock:
            self._ws.add_user(user)

    def add_channel(
        self, channel_id: str, *, name: str, is_private: bool = False, members: tuple[str, ...] = ()
    ) -> None:
        with self._ws.lock:
            self._ws.channels[channel_id] = Channel(
                id=channel_id, name=name, is_private=is_private, members=list(dict.fromkeys(members))
            )

    def add_usergroup(
        self,
        group_id: str,
        *,
        handle: str,
        users: tuple[str, ...] = (),
        name: str | None = None,
        description: str = "",
        disabled: bool = False,
    ) -> None:
        with self._ws.lock:
            self._ws.usergroups[group_id] = Usergroup(
                id=group_id,
                handle=handle,
                name=name if name is not None else handle,
                description=description,
                users=list(dict.fromkeys(users)),
                disabled=disabled,
            )

    def dm_channel(self, user: str) -> str:
        """The app↔user DM id (what conversations.open returns and app_home_opened carries)."""
        with self._ws.lock:
            if user not in self._ws.users:
                raise KeyError(f"unknown user {user!r}")
            return self._ws.dm_channel(user).id

    # behaviour knobs

    def set_post_rate(self, per_second: float | None, burst: int = 10) -> None:
        with self._ws.lock:
            self._ws.post_rate.configure(per_second, burst)

    def inject(
        self,
        method: str,
        fault: str,
        times: int = 1,
        *,
        retry_after: int = 1,
        delay: float = 0.0,
        channel: str | None = None,
    ) -> None:
        if method not in HANDLERS:
            raise ValueError(f"unknown method {method!r}; the stand-in serves {sorted(HANDLERS)}")
        check_fault_kind(fault)
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._ws.lock:
            self._ws.faults.add(
                Fault(
                    method=method,
                    kind=fault,
                    remaining=times,
                    retry_after=retry_after,
                    delay=delay,
                    channel=channel,
                )
            )

    def clear_faults(self) -> None:
        with self._ws.lock:
            self._ws.faults.clear()

    def reset(self) -> None:
        with self._ws.lock:
            self._ws.reset()

    def new_trigger_id(self, user: str | None = None) -> str:
        with self._ws.lock:
            return self._ws.issue_trigger(user)

    def new_response_url(
        self, *, channel: str | None = None, message_ts: str | None = None, user: str | None = None
    ) -> str:
        with self._ws.lock:
            return self._ws.new_hook(channel=channel, message_ts=message_ts, user=user)

    def apply_view_response(self, user: str | None, view_id: str, body: Any) -> list[str]:
        """Plays Slack's client after a view_submission ack (see views.apply_view_response)."""
        with self._ws.lock:
            self._ws.revision += 1
            return views.apply_view_response(self._ws, user, view_id, body)

    # what Slack's client does without the app (the sandbox page plays a person's client)

    def post_as_user(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> str:
        """A message a person typed (or a command answer Slack posts in_channel); returns its ts."""
        with self._ws.lock:
            self._check_member(channel, user)
            if thread_ts is not None and self._ws.message(channel, thread_ts) is None:
                raise KeyError(f"no message {thread_ts} in {channel}")
            message = Message(
                channel=channel,
                ts=self._ws.next_ts(),
                user=user,
                text=text,
                blocks=copy.deepcopy(blocks or []),
                thread_ts=thread_ts,
            )
            self._ws.store_message(message)
            self._ws.revision += 1
            return message.ts

    def add_ephemeral(
        self,
        channel: str,
        user: str,
        *,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        source: str = "client",
    ) -> str:
        """An ephemeral Slack's client shows by itself: a command's ack body, "not a valid command"."""
        with self._ws.lock:
            self._check_member(channel, user)
            ephemeral = Ephemeral(
                channel=channel,
                user=user,
                ts=self._ws.next_ts(),
                text=text,
                blocks=copy.deepcopy(blocks or []),
                thread_ts=thread_ts,
                source=source,
            )
            self._ws.ephemerals.append(ephemeral)
            self._ws.revision += 1
            return ephemeral.ts

    def close_top_view(self, user: str, view_id: str) -> dict[str, Any]:
        """The user closes the modal on top of their stack (Cancel/×); returns it as it was."""
        with self._ws.lock:
            stack = self._ws.stacks.get(user, [])
            if not stack or stack[-1] != view_id:
                raise KeyError(f"{view_id!r} is not the modal {user!r} has open")
            stack.pop()
            self._ws.revision += 1
            return copy.deepcopy(self._ws.views[view_id])

    def _check_member(self, channel: str, user: str) -> None:
        if user not in self._ws.users:
            raise KeyError(f"unknown user {user!r}")
        found = self._ws.channels.get(channel)
        if found is None:
            raise KeyError(f"unknown channel {channel!r}")
        if user not in found.members:
            raise KeyError(f"{user!r} is not a member of {channel!r}")

    def activity(self) -> int:
        """A number that changes whenever anything visible may have changed (for live views)."""
        with self._ws.lock:
            return len(self._ws.calls) + len(self._ws.responses) + self._ws.revision

    # inspection (deep copies, so tests cannot corrupt the stand-in's state)

    def calls(self, method: str | None = None) -> list[Call]:
        with self._ws.lock:
            return [copy.deepcopy(c) for c in self._ws.calls if method is None or c.method == method]

    def messages(self, channel: str) -> list[dict[str, Any]]:
        with self._ws.lock:
            if channel not in self._ws.channels:
                raise KeyError(f"unknown channel {channel!r}")
            stored = self._ws.messages.get(channel, {})
            return [stored[ts].snapshot() for ts in sorted(stored)]

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        with self._ws.lock:
            found = self._ws.message(channel, ts)
            if found is None:
                raise KeyError(f"no message {ts} in {channel}")
            return found.snapshot()

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        return [m for m in self.messages(channel) if m["thread_ts"] == thread_ts]

    def ephemerals(self, channel: str | None = None, user: str | None = None) -> list[dict[str, Any]]:
        with self._ws.lock:
            return [
                e.snapshot()
                for e in self._ws.ephemerals
                if not e.deleted and (channel is None or e.channel == channel) and (user is None or e.user == user)
            ]

    def views_opened(self, user: str | None = None) -> list[dict[str, Any]]:
        """Views as returned by views.open/views.push (and pushes from response_action), in order."""
        with self._ws.lock:
            return [copy.deepcopy(v) for owner, v in self._ws.opened if user is None or owner == user]

    def view(self, view_id: str) -> dict[str, Any]:
        """The current state of a view (after any views.update)."""
        with self._ws.lock:
            return copy.deepcopy(self._ws.views[view_id])

    def view_stack(self, user: str) -> list[dict[str, Any]]:
        """The user's open modals, root first."""
        with self._ws.lock:
            return [copy.deepcopy(self._ws.views[v]) for v in self._ws.stacks.get(user, [])]

    def home_view(self, user: str) -> dict[str, Any] | None:
        with self._ws.lock:
            view_id = self._ws.home.get(user)
            return copy.deepcopy(self._ws.views[view_id]) if view_id else None

    def responses(self, url: str | None = None) -> list[dict[str, Any]]:
        with self._ws.lock:
            return [copy.deepcopy(body) for hook_url, body in self._ws.responses if url is None or hook_url == url]

    def user_name(self, user: str) -> str | None:
        with self._ws.lock:
            found = self._ws.users.get(user)
            return found.name if found else None

    def channel_name(self, channel: str) -> str | None:
        with self._ws.lock:
            found = self._ws.channels.get(channel)
            return found.name if found else None

    def users(self) -> list[dict[str, Any]]:
        """The directory's people (and the bot), as users.info shows them."""
        with self._ws.lock:
            return [u.to_api(self._ws.team_id) for u in self._ws.users.values()]

    def channels(self) -> list[dict[str, Any]]:
        """Every conversation, DMs included, as conversations.info shows it plus its members."""
        with self._ws.lock:
            return [{**c.to_api(self._ws.bot_user_id), "members": list(c.members)} for c in self._ws.channels.values()]

    def usergroups(self) -> list[dict[str, Any]]:
        with self._ws.lock:
            return [g.to_api(self._ws.team_id, include_users=True) for g in self._ws.usergroups.values()]
