"""Delivers due announcements: each (announcement, channel) is claimed in the database, then posted.

The database is the source of truth; any number of senders may run. A claim moves a delivery to
`sending` before the Web API call. Slack's answer settles it: posted (`sent`, with its ts), not
posted (429: back to the queue after Retry-After), or refused for good (`failed`, reported to the
release channel). When the answer is lost (timeout, 5xx, a crash), the post carries message
metadata naming the delivery, so the channel's history tells whether it went out; only if it did
not is it queued again. That is how a delivery is posted once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import aiohttp
from cachetools import TLRUCache, TTLCache
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import Metrics
from bot.slack.replies import payload
from domain.announcements import channels_for
from domain.model import ReleaseView
from domain.time import utcnow
from messages.stakeholder_notices import NoWordingError, announcement_message
from messages.team_notices import delivery_failed_message, missed_message
from storage import announcements as q
from storage.announcements import stakeholder_channels
from storage.queries import load_release_view, release_version

if TYPE_CHECKING:  # types only: the SQL lives in storage/
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from storage.models import Announcement, Delivery

log = logging.getLogger(__name__)

EVENT_TYPE = "cutover_announcement"
PACE = 1.0  # seconds between posts to one channel: Slack's documented chat.postMessage limit
PACED_FOR = 60.0
HOUSEKEEPING_EVERY = 2.0  # seconds between looks for stale claims, missed sends and unreported failures
MAX_QUEUED = 3  # claims one channel may hold in this process at a time
MAX_HOLD = 5.0  # seconds a claimed delivery may wait for its channel before it is queued again
VIEW_TTL = 1.0  # seconds a rendered release may be reused without asking for its version
# What this process remembers between posts is bounded, so a long-running sender does not grow with
# every release, announcement and channel it ever served.
CACHE_AGE = 600.0  # seconds an unused release view or announcement is kept
CACHE_SIZE = 256  # release views kept; announcements: 4×
CHANNELS_TRACKED = 10_000  # channels whose pacing is remembered (only while it is still ahead)
TRANSIENT = (asyncio.TimeoutError, aiohttp.ClientError, OSError)


class Sender:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: AsyncWebClient,
        *,
        worker_id: str,
        command: str,
        grace: timedelta = timedelta(hours=1),
        batch: int = 50,
        stale_after: timedelta = timedelta(seconds=30),
        settle_after: float = 20.0,
        clock: Callable[[], datetime] = utcnow,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics or Metrics()
        self._sessions = sessions
        self._client = client
        self.worker_id = worker_id
        self._command = command  # the slash command, as hints in reports name it
        self._grace = grace
        self._batch = batch
        self._stale_after = stale_after
        self._settle_after = settle_after
        self._clock = clock
        # Monotonic deadlines, each forgotten once it has passed (a passed deadline means nothing).
        self._channel_free_at: TLRUCache[str, float] = _deadlines()  # when a channel may be posted to again
        self._paced_until: TLRUCache[str, float] = _deadlines()  # after a 429, space that channel's posts
        self._lock = asyncio.Lock()
        self._queues: dict[str, deque[q.Claimed]] = {}
        self._runners: dict[str, asyncio.Task[None]] = {}
        self._closing = False
        self._next_housekeeping = 0.0
        self._views: TTLCache[int, tuple[float, ReleaseView]] = TTLCache(CACHE_SIZE, CACHE_AGE)
        self._announcements: TTLCache[int, Announcement] = TTLCache(4 * CACHE_SIZE, CACHE_AGE)
        self.sent = 0

    async def tick(self) -> None:
        """One pass: settle lost answers, expire what is too late, hand due deliveries to channel runners.

        It claims one batch and returns without waiting for the posts, so several senders share
        the work and a slow channel never holds up the others.
        """
        if self._lock.locked() or self._closing:
            return
        # Shielded: shutting the scheduler down cancels a running job, and a pass cut between its
        # claim and its queueing would leave claims nobody sends. drain() waits for it instead.
        await asyncio.shield(self._tick())

    async def _tick(self) -> None:
        async with self._lock:
            housekeeping = time.monotonic() >= self._next_housekeeping
            if housekeeping:
                # Rare work, kept off the hot path: on SQLite every write waits for the one write lock.
                self._next_housekeeping = time.monotonic() + HOUSEKEEPING_EVERY
                await self._expire()
                await self._reconcile_stale()
            async with self._sessions() as s, s.begin():
                claimed = await q.claim_due(s, now=self._clock(), worker=self.worker_id, limit=self._batch)
            for c in claimed:
                queue = self._queues.setdefault(c.channel_id, deque())
                if len(queue) >= MAX_QUEUED:
                    # Hold only what the channel can take soon; the rest stays claimable by any sender.
                    async with self._sessions() as s, s.begin():
                        await q.give_back(s, c, self.worker_id, not_before=None, error=None)
                    continue
                queue.append(c)
                runner = self._runners.get(c.channel_id)
                if runner is None or runner.done():
                    self._runners[c.channel_id] = asyncio.create_task(self._run_channel(c.channel_id))
            if housekeeping:
                await self._report()

    async def drain(self, grace: float = 10.0) -> None:
        """On shutdown: finish posts in flight, give back what is only queued."""
        self._closing = True
        async with self._lock:
            pass  # a tick that was claiming when shutdown began has queued its claims by now
        runners = [t for t in self._runners.values() if not t.done()]
        if runners:
            await asyncio.wait(runners, timeout=grace)
        for channel in list(self._queues):
            await self._give_back_all(channel, not_before=None)

    async def _run_channel(self, channel: str) -> None:
        # One channel in order, channels in parallel: Slack allows about 1 post/s per channel.
        queue = self._queues[channel]
        try:
            await self._post_queued(channel, queue)
        finally:
            # Nothing left for this channel: forget its queue and this runner, or both would be kept
            # for every channel ever posted to. (A queue still holding claims stays, for drain().)
            if not queue and self._queues.get(channel) is queue:
                del self._queues[channel]
                if self._runners.get(channel) is asyncio.current_task():
                    del self._runners[channel]

    async def _post_queued(self, channel: str, queue: deque[q.Claimed]) -> None:
        while queue and not self._closing:
            wait = self._channel_free_at.get(channel, 0.0) - time.monotonic()
            if wait > MAX_HOLD:
                # Don't sit on claims: queue them again for when the channel is free.
                await self._give_back_all(channel, not_before=self._clock() + timedelta(seconds=wait))
                return
            if wait > 0:
                await asyncio.sleep(wait)
            if self._clock() - queue[0].claimed_at > self._stale_after / 2:
                # Held too long (a slow Slack): another sender could soon take these claims for
                # abandoned. Hand them back rather than post one that may be retried elsewhere.
                await self._give_back_all(channel, not_before=None)
                return
            c = queue.popleft()
            if not await self._send(c):
                await self._give_back_all(channel, not_before=None)
                return

    async def _give_back_all(self, channel: str, *, not_before: datetime | None) -> None:
        queue = self._queues.get(channel)
        while queue:
            c = queue.popleft()
            async with self._sessions() as s, s.begin():
                await q.give_back(s, c, self.worker_id, not_before=not_before, error=None)

    async def _expire(self) -> None:
        async with self._sessions() as s, s.begin():
            missed = await q.expire_missed(s, now=self._clock(), grace=self._grace)
        self._metrics.announcements_missed(len(missed))
        if missed:
            log.warning("%d announcement deliveries were due more than %s ago; marked missed", len(missed), self._grace)

    async def _send(self, c: q.Claimed) -> bool:
        """Post one claimed delivery. False when the channel is rate limited."""
        release, ann = await self._content(c)
        if release is None or ann is None:
            async with self._sessions() as s, s.begin():
                await q.mark_failed(s, c, self.worker_id, error="release_deleted")
            self._metrics.announcement_failed("release_deleted")
            return True
        try:
            r = announcement_message(
                release,
                ann.key,
                tuple(ann.audiences),
                ann.text,
                self._clock(),
                command=self._command,
                rehearsal=release.rehearsal_factor is not None,
                rehearsal_channels=await self._rehearsal_channels(release, tuple(ann.audiences)),
            )
        except NoWordingError as e:
            # A template announcement nobody wrote words for: reported to the release channel, never stuck.
            log.error("%s", e)
            async with self._sessions() as s, s.begin():
                await q.mark_failed(s, c, self.worker_id, error="no_wording")
            self._metrics.announcement_failed("no_wording")
            return True
        started = time.monotonic()
        try:
            resp = await self._client.chat_postMessage(
                channel=c.channel_id,
                metadata={"event_type": EVENT_TYPE, "event_payload": {"delivery_id": c.id, "release": release.key}},
                unfurl_links=False,
                unfurl_media=False,
                **payload(r),
            )
        except SlackApiError as e:
            status = e.response.status_code
            if status == 429:
                retry_after = _retry_after(e)
                self._channel_free_at[c.channel_id] = time.monotonic() + retry_after
                self._paced_until[c.channel_id] = time.monotonic() + PACED_FOR
                async with self._sessions() as s, s.begin():
                    await q.give_back(
                        s,
                        c,
                        self.worker_id,
                        not_before=self._clock() + timedelta(seconds=retry_after),
                        error="ratelimited",
                    )
                return False
            if status >= 500:
                await self._settle_unknown(c, f"http_{status}")
                return True
            error = str(e.response.get("error") or "unknown_error")
            async with self._sessions() as s, s.begin():
                await q.mark_failed(s, c, self.worker_id, error=error)
            self._metrics.announcement_failed(error)
            log.warning("announcement %s to %s failed: %s", ann.key, c.channel_id, error)
            return True
        except TRANSIENT as e:
            await self._settle_unknown(c, type(e).__name__)
            return True
        if self._paced_until.get(c.channel_id, 0.0) > time.monotonic():
            # Slack limited this channel recently: keep to its 1 post/s instead of hitting 429 again,
            # on a fixed beat so round trips don't add up.
            slot = max(self._channel_free_at.get(c.channel_id, 0.0), started)
            self._channel_free_at[c.channel_id] = slot + PACE
        async with self._sessions() as s, s.begin():
            if await q.mark_sent(s, c, self.worker_id, ts=str(resp["ts"]), now=self._clock()):
                self.sent += 1
                self._metrics.announcement_sent(self._clock() - c.due_at)
        return True

    async def _content(self, c: q.Claimed) -> tuple[ReleaseView | None, Announcement | None]:
        """The release and announcement to render, cached briefly.

        A burst of deliveries for one release would otherwise load its whole checklist for every
        post; the release is re-read when it is older than a second and its version moved.
        """
        now = time.monotonic()
        cached = self._views.get(c.release_id)
        ann = self._announcements.get(c.announcement_id)
        if cached is not None and ann is not None and now - cached[0] < VIEW_TTL:
            return cached[1], ann
        async with self._sessions() as s:
            version = await release_version(s, c.release_id)
            if version is None:
                return None, None
            if cached is None or cached[1].version != version:
                view = await load_release_view(s, c.release_id)
                if view is None:
                    return None, None
                cached = (now, view)
            self._views[c.release_id] = (now, cached[1])
            if ann is None:
                ann = await q.get_announcement(s, c.announcement_id)
                if ann is not None:
                    self._announcements[c.announcement_id] = ann
        return cached[1], ann

    async def _rehearsal_channels(self, release: ReleaseView, audiences: tuple[str, ...]) -> tuple[str, ...] | None:
        """For a rehearsal, the stakeholder channels the real release would post this to."""
        if release.rehearsal_factor is None:
            return None
        async with self._sessions() as s:
            return channels_for(audiences, await stakeholder_channels(s, release.id))

    async def _settle_unknown(self, c: q.Claimed, why: str) -> None:
        """Slack's answer was lost: look for our post before trying again.

        The wait lets a request that Slack is still working on land first; a post completing later
        than this after we gave up is the one case that could still appear twice.
        """
        backoff = min(30.0, 0.5 * 2 ** min(c.attempts, 6))
        await asyncio.sleep(max(backoff, self._settle_after))
        async with self._sessions() as s:
            row = await q.get_delivery(s, c.id)
        if row is None:
            return
        ts = await self._find_posted(row)
        if ts is _UNKNOWN:
            return  # history unreadable now: the stale-claim pass settles it later
        async with self._sessions() as s, s.begin():
            await q.resolve_stale(
                s,
                row,
                ts=ts if isinstance(ts, str) else None,
                now=self._clock(),
                retry_after=timedelta(seconds=backoff),
            )
        log.info("delivery %s: answer lost (%s); %s", c.id, why, "found in history" if ts else "queued again")

    async def _find_posted(self, d: Delivery) -> str | object | None:
        """The ts of our post for this delivery, None if it is not there, _UNKNOWN if we cannot tell."""
        assert d.claimed_at is not None
        oldest = f"{d.claimed_at.timestamp() - 5:.6f}"
        try:
            cursor = None
            for _ in range(5):
                resp = await self._client.conversations_history(
                    channel=d.channel_id, oldest=oldest, include_all_metadata=True, limit=200, cursor=cursor
                )
                for m in resp.get("messages") or []:
                    meta = m.get("metadata") or {}
                    if (
                        meta.get("event_type") == EVENT_TYPE
                        and (meta.get("event_payload") or {}).get("delivery_id") == d.id
                    ):
                        return str(m["ts"])
                cursor = (resp.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return None
        except (SlackApiError, *TRANSIENT) as e:
            log.warning("could not read history of %s: %s", d.channel_id, e)
            return _UNKNOWN
        return _UNKNOWN

    async def _reconcile_stale(self) -> None:
        async with self._sessions() as s:
            stale = await q.stale_sending(s, older_than=self._clock() - self._stale_after)
        for d in stale:
            ts = await self._find_posted(d)
            if ts is _UNKNOWN:
                continue
            async with self._sessions() as s, s.begin():
                await q.resolve_stale(
                    s, d, ts=ts if isinstance(ts, str) else None, now=self._clock(), retry_after=timedelta(0)
                )

    async def _report(self) -> None:
        """Tell each release channel, once, about deliveries that failed or were missed."""
        async with self._sessions() as s:
            rows = await q.unreported(s)
        if not rows:
            return
        async with self._sessions() as s, s.begin():
            won = set(await q.mark_reported(s, [r.id for r in rows], self._clock()))
        by_release: dict[int, list[Delivery]] = defaultdict(list)
        for r in rows:
            if r.id in won:
                by_release[r.release_id].append(r)
        for release_id, dels in by_release.items():
            async with self._sessions() as s:
                release = await load_release_view(s, release_id)
                names = await q.announcement_keys(s, [d.announcement_id for d in dels])
            keys = {d.announcement_id: names.get(d.announcement_id, "?") for d in dels}
            if release is None:
                continue
            missed = [(keys[d.announcement_id], d.channel_id, d.due_at) for d in dels if d.state == "missed"]
            messages = [missed_message(release, missed, command=self._command)] if missed else []
            messages += [
                delivery_failed_message(
                    release, keys[d.announcement_id], d.channel_id, d.error or "unknown_error", command=self._command
                )
                for d in dels
                if d.state == "failed"
            ]
            for m in messages:
                try:
                    await self._client.chat_postMessage(channel=release.channel_id, **payload(m))
                except (SlackApiError, *TRANSIENT) as e:
                    log.warning("could not report to %s: %s", release.channel_id, e)


_UNKNOWN = object()


def _deadlines() -> TLRUCache[str, float]:
    return TLRUCache(CHANNELS_TRACKED, lambda _channel, deadline, _now: deadline, timer=time.monotonic)


def _retry_after(e: SlackApiError) -> float:
    headers = {str(k).lower(): v for k, v in (e.response.headers or {}).items()}
    raw = headers.get("retry-after", 1)
    try:
        return max(1.0, float(raw[0] if isinstance(raw, list) else raw))
    except (TypeError, ValueError):
        return 1.0
