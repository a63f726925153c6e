"""Web API clients, and the few look-ups the rules need (time zones, user-group members), cached briefly."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import aiohttp
from cachetools import TTLCache
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class HttpSession:
    """One kept-alive aiohttp session for every Web API call of the process.

    It is made on first use, inside the running event loop (an aiohttp session belongs to the loop
    that made it), and closed by ``close()`` at shutdown. A caller on another loop (a second
    ``asyncio.run`` in one process) gets a session of its own loop.

    The timeout belongs to the session: slack_sdk applies its ``timeout`` only to the one-off
    sessions it makes itself, so a shared session without one would wait up to aiohttp's 300 s."""

    def __init__(self, timeout: float = 10.0) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> aiohttp.ClientSession | None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None  # outside a loop: the client makes a one-off session per call, as before
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, connector=aiohttp.TCPConnector(limit=100, keepalive_timeout=30)
            )
            self._loop = loop
        return self._session

    async def close(self) -> None:
        session, self._session = self._session, None
        if session is not None and not session.closed and self._loop is asyncio.get_running_loop():
            await session.close()


class SharedSessionClient(AsyncWebClient):
    """An AsyncWebClient whose ``session`` is the process's shared one. Bolt's per-request clients
    copy ``session`` from the app's client, so listeners share it too."""

    def __init__(self, *, http: HttpSession, **kwargs: Any) -> None:
        self._http = http
        super().__init__(**kwargs)

    @property  # type: ignore[override]
    def session(self) -> aiohttp.ClientSession | None:
        return self._http.get()

    @session.setter
    def session(self, _value: aiohttp.ClientSession | None) -> None:
        pass  # always the shared session


def _client(http: HttpSession | None, **kwargs: Any) -> AsyncWebClient:
    # Without a shared session each call opens (and closes) a connection of its own.
    return AsyncWebClient(**kwargs) if http is None else SharedSessionClient(http=http, **kwargs)


def make_post_client(
    token: str, base_url: str, timeout: int = 10, *, http: HttpSession | None = None
) -> AsyncWebClient:
    """For announcements: no automatic retries, since a retry after a lost answer could post twice.
    The sender decides (bot/sender.py)."""
    return _client(http, token=token, base_url=base_url, timeout=timeout, retry_handlers=[])


def make_client(token: str, base_url: str, *, timeout: int = 10, http: HttpSession | None = None) -> AsyncWebClient:
    # 429s wait out Retry-After, 5xx and dropped connections are retried with backoff.
    return _client(
        http,
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


class Directory:
    """Users' time zones and user-group members, cached for a minute (at most `maxsize` of each)."""

    def __init__(
        self,
        client: AsyncWebClient,
        ttl: float = 60.0,
        maxsize: int = 4096,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._tz: TTLCache[str, str] = TTLCache(maxsize, ttl, timer)
        self._groups: TTLCache[str, frozenset[str]] = TTLCache(maxsize, ttl, timer)

    async def user_tz(self, user_id: str) -> str | None:
        """The person's IANA zone from their Slack profile; None when Slack would not say.

        Never a guess: a time typed without an offset is refused rather than read in a zone the
        person is not in."""
        hit = self._tz.get(user_id)
        if hit is not None:
            return hit
        try:
            resp = await self._client.users_info(user=user_id)
        except SlackApiError as e:
            log.warning("users.info failed for %s: %s", user_id, e.response.get("error"))
            return None
        tz = (resp.get("user") or {}).get("tz")
        if not tz:
            return None
        self._tz[user_id] = str(tz)
        return str(tz)

    async def group_members(self, group_id: str) -> frozenset[str]:
        hit = self._groups.get(group_id)
        if hit is not None:
            return hit
        resp = await self._client.usergroups_users_list(usergroup=group_id)
        members = frozenset(resp.get("users") or ())
        self._groups[group_id] = members
        return members

    async def groups_containing(self, user_id: str, group_ids: Iterable[str]) -> tuple[str, ...]:
        found = []
        for gid in group_ids:
            try:
                if user_id in await self.group_members(gid):
                    found.append(gid)
            except SlackApiError as e:
                log.warning("usergroups.users.list failed for %s: %s", gid, e.response.get("error"))
        return tuple(found)
