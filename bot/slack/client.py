"""Web API clients, and the few look-ups the rules need (time zones, user-group members), cached briefly."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from cachetools import TTLCache
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


def make_post_client(token: str, base_url: str, timeout: int = 10) -> AsyncWebClient:
    """For announcements: no automatic retries, since a retry after a lost answer could post twice.
    The sender decides (bot/sender.py)."""
    return AsyncWebClient(token=token, base_url=base_url, timeout=timeout, retry_handlers=[])


def make_client(token: str, base_url: str, *, timeout: int = 10) -> AsyncWebClient:
    # 429s wait out Retry-After, 5xx and dropped connections are retried with backoff.
    return AsyncWebClient(
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
