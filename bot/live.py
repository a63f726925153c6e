"""Keeps a release's checklist messages in Slack equal to the database.

A refresh renders from a fresh read and pushes only the messages whose content changed.
Refreshes of one release are serialised in this process and coalesced: requests that
arrive while one runs cause exactly one more pass. Across processes, a pass that finds the
release version moved on while it was pushing runs again, so the last push always shows
the last committed state. A release's lock exists only while someone holds or waits for it.

A refresh after a decision pushes the decided item's message first, then the summary, then
whatever else changed. Rendered messages are cached by what they show (the inputs of the
builder), so a message whose inputs did not change costs neither a render nor a hash. A push
Slack refuses or never answers (5xx, 429 after the client's own retries, a timeout) leaves the
message's stored hash behind; the release is refreshed again by itself after a backoff, so a
checklist never waits for the next click to catch up.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import aiohttp
from cachetools import LRUCache
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import Metrics
from domain.model import PhaseView, ReleaseView
from domain.policy import lateness
from messages.checklist import emptied_part, phase_messages, plan_parts, summary_message
from messages.common import Rendered
from storage import checklist as store
from storage.queries import load_release_view, release_version

if TYPE_CHECKING:  # types only: the SQL lives in storage/
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

MAX_PASSES = 20
# Seconds before each retry of a release whose push failed; after the last, the next click or
# refresh starts over.
RETRY_DELAYS: tuple[float, ...] = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0)
RENDER_CACHE_SIZE = 4096  # messages whose last rendering is kept: about 7 per release
# What a push can fail with besides an error answer: the client gave up on the network.
PUSH_FAILURES = (SlackApiError, SlackRequestError, aiohttp.ClientError, asyncio.TimeoutError, OSError)


def _hash(text: str, blocks: Sequence[dict[str, object]]) -> str:
    payload = json.dumps(list(blocks), sort_keys=True) + text
    return hashlib.sha256(payload.encode()).hexdigest()


def render_all(release: ReleaseView, now: datetime) -> list[tuple[str, str, int, Rendered]]:
    """Every message of the release as (kind, phase_key, part, rendered), summary first."""
    out: list[tuple[str, str, int, Rendered]] = [("summary", "", 0, summary_message(release, now))]
    for phase in release.phases:
        for part, rendered in enumerate(phase_messages(release, phase, now)):
            out.append(("phase", phase.key, part, rendered))
    return out


@dataclass(frozen=True)
class Part:
    """One message ready to push: its slot, Web API payload and content hash."""

    kind: str
    phase_key: str
    part: int
    text: str
    blocks: tuple[dict[str, object], ...]
    content_hash: str


class RenderCache:
    """The last rendering of each message, kept with what it was rendered from. The inputs are every
    input of the builder: the release's own fields (not its version, which every decision bumps), the
    phase with its items, and each item's lateness, the only way ``now`` reaches a phase message. The
    summary also shows ``now`` to the second, so it is rendered again after every change and at most
    once per second. One entry per message (release, phase), so memory follows the messages of the
    releases refreshed lately, not the number of clicks."""

    def __init__(self, maxsize: int = RENDER_CACHE_SIZE) -> None:
        self._last: LRUCache[tuple[int, str], tuple[Hashable, tuple[Part, ...]]] = LRUCache(maxsize)
        self.renders = 0  # messages rendered (cache misses), for tests and benchmarks

    def _get(self, slot: tuple[int, str], key: Hashable) -> tuple[Part, ...] | None:
        hit = self._last.get(slot)
        return hit[1] if hit is not None and hit[0] == key else None

    def summary(self, release: ReleaseView, now: datetime) -> Part:
        slot, key = (release.id, ""), (replace(release, version=0), int(now.timestamp()))
        parts = self._get(slot, key)
        if parts is None:
            parts = (self._part("summary", "", 0, summary_message(release, now)),)
            self._last[slot] = (key, parts)
        return parts[0]

    def phase(self, release: ReleaseView, phase: PhaseView, now: datetime) -> tuple[Part, ...]:
        late = tuple(lateness(i, release, now) for i in phase.items)
        slot, key = (release.id, phase.key), (replace(release, version=0, phases=()), phase, late)
        parts = self._get(slot, key)
        if parts is None:
            parts = tuple(
                self._part("phase", phase.key, k, r) for k, r in enumerate(phase_messages(release, phase, now))
            )
            self._last[slot] = (key, parts)
        return parts

    def _part(self, kind: str, phase_key: str, part: int, r: Rendered) -> Part:
        self.renders += 1
        blocks = tuple(b.to_dict() for b in r.blocks)
        return Part(kind, phase_key, part, r.text, blocks, _hash(r.text, blocks))


def _in_order(release: ReleaseView, first: Iterable[int]) -> list[tuple[PhaseView | None, int | None]]:
    """The order of a pass: the parts holding the items just decided, then the summary, then the rest.
    Each entry is (a phase or None for the summary, the one part to push or None for all parts)."""
    wanted = set(first)
    order: list[tuple[PhaseView | None, int | None]] = []
    for phase in release.phases:
        if wanted & {i.id for i in phase.items}:
            for k, items in enumerate(plan_parts(phase, release.roles)):
                if wanted & {i.id for i in items}:
                    order.append((phase, k))
    order.append((None, None))
    order += [(phase, None) for phase in release.phases]
    return order


@dataclass
class _Turn:
    """One release's lock, kept while anyone holds or waits for it: dropping a lock in use would let
    two passes over one release run at once."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # the holder and the waiters
    dirty: bool = False  # a refresh asked for another pass
    first: set[int] = field(default_factory=set)  # items whose messages the next pass pushes first


class LiveMessages:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: AsyncWebClient,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        metrics: Metrics | None = None,
        retry_delays: Sequence[float] = RETRY_DELAYS,
    ) -> None:
        self._metrics = metrics or Metrics()
        self._sessions = sessions
        self._client = client
        self._clock = clock
        self._turns: dict[int, _Turn] = {}  # only releases being published or refreshed right now
        # Told of every release whose messages changed (the App Home of its people follows).
        self.on_change: Callable[[ReleaseView], None] = lambda _release: None
        self.cache = RenderCache()
        self._retry_delays = tuple(retry_delays)
        self._retries: dict[int, asyncio.Task[None]] = {}  # release -> its pending retry
        self._failed_passes: dict[int, int] = {}  # release -> passes in a row that failed a push

    async def publish(self, release_id: int) -> None:
        """Post the messages of a new release (summary, then one thread reply per phase part)."""
        async with self._turn(release_id) as turn:
            await self._sync(release_id, create=True, first=())
            await self._passes(release_id, turn)  # refreshes asked for meanwhile

    async def refresh(self, release_id: int, *, item_id: int | None = None) -> None:
        """Bring the release's messages up to date; ``item_id``'s message goes first."""
        turn = self._turns.get(release_id)
        if turn is not None:
            turn.dirty = True
            if item_id is not None:
                turn.first.add(item_id)
            return  # the running (or next) pass sees the dirty mark and goes again
        async with self._turn(release_id) as turn:
            turn.dirty = True
            if item_id is not None:
                turn.first.add(item_id)
            await self._passes(release_id, turn)

    @property
    def retries_pending(self) -> int:
        return len(self._retries)

    async def close(self) -> None:
        """Stop the pending retries (shutdown): the next process's first refresh catches up."""
        tasks = list(self._retries.values())
        self._retries.clear()
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=1.0)

    async def _passes(self, release_id: int, turn: _Turn) -> None:
        passes = 0
        failed = False
        while turn.dirty and passes < MAX_PASSES:
            turn.dirty = False
            first, turn.first = turn.first, set()
            passes += 1
            try:
                moved, failed = await self._metrics.refresh(self._sync(release_id, create=False, first=first))
            except Exception:
                self._retry_later(release_id)
                raise
            if moved:
                turn.dirty = True
        if failed:
            self._retry_later(release_id)
        else:
            self._failed_passes.pop(release_id, None)

    def _retry_later(self, release_id: int) -> None:
        if release_id in self._retries:
            return  # one pending retry covers every failure meanwhile
        n = self._failed_passes.get(release_id, 0)
        if n >= len(self._retry_delays):
            log.warning("release %s: giving up retrying its checklist until the next change", release_id)
            self._failed_passes.pop(release_id, None)
            return
        self._failed_passes[release_id] = n + 1
        delay = self._retry_delays[n]
        task = asyncio.get_running_loop().create_task(self._retry(release_id, delay))
        self._retries[release_id] = task

    async def _retry(self, release_id: int, delay: float) -> None:
        try:
            await asyncio.sleep(delay)
        finally:
            self._retries.pop(release_id, None)
        try:
            await self.refresh(release_id)
        except Exception:
            # Counted by the metrics; the failed pass scheduled the next retry itself.
            log.warning("retried refresh of release %s failed", release_id, exc_info=True)

    @contextlib.asynccontextmanager
    async def _turn(self, release_id: int) -> AsyncIterator[_Turn]:
        turn = self._turns.setdefault(release_id, _Turn())
        turn.users += 1
        try:
            async with turn.lock:
                yield turn
        finally:
            turn.users -= 1
            if turn.users == 0:
                # Free and nobody waits: forget it. Nothing can slip in between: no await since the release.
                del self._turns[release_id]

    async def _sync(self, release_id: int, *, create: bool, first: Iterable[int]) -> tuple[bool, bool]:
        """One pass. Returns (the release changed underneath it: go again, a push failed: retry later)."""
        async with self._sessions() as session:
            view = await load_release_view(session, release_id)
            if view is None:
                return False, False
            existing = {(m.kind, m.phase_key, m.part): m for m in await store.release_messages(session, release_id)}
        now = self._clock()
        summary_row = existing.get(("summary", "", 0))
        thread_ts = summary_row.ts if summary_row else None
        failed = False
        told = False  # on_change, once a pass finds a message that differs
        done: set[tuple[str, str, int]] = set()
        order = _in_order(view, () if create else first)
        for phase, only in order:
            parts = (self.cache.summary(view, now),) if phase is None else self.cache.phase(view, phase, now)
            for p in parts:
                slot = (p.kind, p.phase_key, p.part)
                if slot in done or (only is not None and p.part != only):
                    continue
                done.add(slot)
                row = existing.get(slot)
                if row is not None and row.content_hash == p.content_hash:
                    continue
                if not told:
                    told = True
                    self.on_change(view)
                if row is None:
                    if not create and thread_ts is None:
                        continue  # never posted (the release is still being set up)
                    try:
                        resp = await self._client.chat_postMessage(
                            channel=view.channel_id,
                            text=p.text,
                            blocks=list(p.blocks),
                            thread_ts=thread_ts if p.kind != "summary" else None,
                            unfurl_links=False,
                            unfurl_media=False,
                        )
                    except PUSH_FAILURES as e:
                        if create:
                            raise  # the release's creator hears of it
                        log.warning("chat.postMessage for %s failed: %s", view.key, _reason(e))
                        self._metrics.refresh_refused()
                        failed = True
                        continue
                    ts = str(resp["ts"])
                    if p.kind == "summary":
                        thread_ts = ts
                    await self._record(release_id, view, p, ts, thread_ts)
                else:
                    try:
                        await self._client.chat_update(
                            channel=row.channel_id, ts=row.ts, text=p.text, blocks=list(p.blocks)
                        )
                    except PUSH_FAILURES as e:
                        log.warning("chat.update of %s %s failed: %s", view.key, row.ts, _reason(e))
                        self._metrics.refresh_refused()
                        failed = True
                        continue
                    await self._mark(row.id, view.version, p.content_hash)
        # A part a phase no longer needs (items removed from the scope) would show them still: empty it.
        drawn = {(p.kind, p.phase_key, p.part) for phase in view.phases for p in self.cache.phase(view, phase, now)}
        for slot, row in existing.items():
            if slot in drawn or row.kind != "phase":
                continue
            r = emptied_part()
            blocks = tuple(b.to_dict() for b in r.blocks)
            h = _hash(r.text, blocks)
            if row.content_hash == h:
                continue
            try:
                await self._client.chat_update(channel=row.channel_id, ts=row.ts, text=r.text, blocks=list(blocks))
            except PUSH_FAILURES as e:
                log.warning("chat.update of %s %s failed: %s", view.key, row.ts, _reason(e))
                self._metrics.refresh_refused()
                failed = True
                continue
            await self._mark(row.id, view.version, h)
        async with self._sessions() as session:
            current = await release_version(session, release_id)
        return current is not None and current > view.version, failed

    async def _record(self, release_id: int, view: ReleaseView, p: Part, ts: str, thread_ts: str | None) -> None:
        async with self._sessions() as session, session.begin():
            await store.add_message(
                session,
                release_id=release_id,
                kind=p.kind,
                phase_key=p.phase_key,
                part=p.part,
                channel_id=view.channel_id,
                ts=ts,
                thread_ts=None if p.kind == "summary" else thread_ts,
                version=view.version,
                content_hash=p.content_hash,
            )

    async def _mark(self, message_id: int, version: int, content_hash: str) -> None:
        async with self._sessions() as session, session.begin():
            await store.mark_message(session, message_id, version, content_hash)


def _reason(e: BaseException) -> str:
    if isinstance(e, SlackApiError):
        return str(e.response.get("error"))
    return type(e).__name__
