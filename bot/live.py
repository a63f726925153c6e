"""Keeps a release's checklist messages in Slack equal to the database.

A refresh renders from a fresh read and pushes only the messages whose content changed.
Refreshes of one release are serialised in this process and coalesced: requests that
arrive while one runs cause exactly one more pass. Across processes, a pass that finds the
release version moved on while it was pushing runs again, so the last push always shows
the last committed state. A release's lock exists only while someone holds or waits for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.metrics import Metrics
from domain.model import ReleaseView
from messages.checklist import emptied_part, phase_messages, summary_message
from messages.common import Rendered
from storage import checklist as store
from storage.queries import load_release_view, release_version

if TYPE_CHECKING:  # types only: the SQL lives in storage/
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

MAX_PASSES = 20


def _hash(r: Rendered) -> str:
    payload = json.dumps([b.to_dict() for b in r.blocks], sort_keys=True) + r.text
    return hashlib.sha256(payload.encode()).hexdigest()


def render_all(release: ReleaseView, now: datetime) -> list[tuple[str, str, int, Rendered]]:
    """Every message of the release as (kind, phase_key, part, rendered), summary first."""
    out: list[tuple[str, str, int, Rendered]] = [("summary", "", 0, summary_message(release, now))]
    for phase in release.phases:
        for part, rendered in enumerate(phase_messages(release, phase, now)):
            out.append(("phase", phase.key, part, rendered))
    return out


@dataclass
class _Turn:
    """One release's lock, kept while anyone holds or waits for it: dropping a lock in use would let
    two passes over one release run at once."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # the holder and the waiters
    dirty: bool = False  # a refresh asked for another pass


class LiveMessages:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        client: AsyncWebClient,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics or Metrics()
        self._sessions = sessions
        self._client = client
        self._clock = clock
        self._turns: dict[int, _Turn] = {}  # only releases being published or refreshed right now
        # Told of every release whose messages changed (the App Home of its people follows).
        self.on_change: Callable[[ReleaseView], None] = lambda _release: None

    async def publish(self, release_id: int) -> None:
        """Post the messages of a new release (summary, then one thread reply per phase part)."""
        async with self._turn(release_id) as turn:
            await self._sync(release_id, create=True)
            await self._passes(release_id, turn)  # refreshes asked for meanwhile

    async def refresh(self, release_id: int) -> None:
        turn = self._turns.get(release_id)
        if turn is not None:
            turn.dirty = True
            return  # the running (or next) pass sees the dirty mark and goes again
        async with self._turn(release_id) as turn:
            turn.dirty = True
            await self._passes(release_id, turn)

    async def _passes(self, release_id: int, turn: _Turn) -> None:
        passes = 0
        while turn.dirty and passes < MAX_PASSES:
            turn.dirty = False
            passes += 1
            if await self._metrics.refresh(self._sync(release_id, create=False)):
                turn.dirty = True

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

    async def _sync(self, release_id: int, *, create: bool) -> bool:
        """One pass. Returns True when the release changed underneath it (go again)."""
        async with self._sessions() as session:
            view = await load_release_view(session, release_id)
            if view is None:
                return False
            existing = {(m.kind, m.phase_key, m.part): m for m in await store.release_messages(session, release_id)}
        rendered = [
            (kind, phase_key, part, r, _hash(r)) for kind, phase_key, part, r in render_all(view, self._clock())
        ]
        changed = [x for x in rendered if (row := existing.get(x[:3])) is None or row.content_hash != x[4]]
        if changed:
            self.on_change(view)
        summary_ts = existing.get(("summary", "", 0))
        thread_ts = summary_ts.ts if summary_ts else None
        for kind, phase_key, part, r, h in changed:
            row = existing.get((kind, phase_key, part))
            blocks = [b.to_dict() for b in r.blocks]
            if row is None:
                if not create and thread_ts is None:
                    continue  # never posted (the release is still being set up)
                resp = await self._client.chat_postMessage(
                    channel=view.channel_id,
                    text=r.text,
                    blocks=blocks,
                    thread_ts=thread_ts if kind != "summary" else None,
                    unfurl_links=False,
                    unfurl_media=False,
                )
                ts = str(resp["ts"])
                if kind == "summary":
                    thread_ts = ts
                await self._record(release_id, view, kind, phase_key, part, ts, thread_ts, h)
            else:
                try:
                    await self._client.chat_update(channel=row.channel_id, ts=row.ts, text=r.text, blocks=blocks)
                except SlackApiError as e:
                    log.warning("chat.update of %s %s failed: %s", view.key, row.ts, e.response.get("error"))
                    self._metrics.refresh_refused()
                    continue
                await self._mark(row.id, view.version, h)
        # A part a phase no longer needs (items removed from the scope) would show them still: empty it.
        drawn = {(kind, phase_key, part) for kind, phase_key, part, _, _ in rendered}
        for spot, row in existing.items():
            if spot in drawn or row.kind != "phase":
                continue
            r = emptied_part()
            h = _hash(r)
            if row.content_hash == h:
                continue
            try:
                await self._client.chat_update(
                    channel=row.channel_id, ts=row.ts, text=r.text, blocks=[b.to_dict() for b in r.blocks]
                )
            except SlackApiError as e:
                log.warning("chat.update of %s %s failed: %s", view.key, row.ts, e.response.get("error"))
                self._metrics.refresh_refused()
                continue
            await self._mark(row.id, view.version, h)
        async with self._sessions() as session:
            current = await release_version(session, release_id)
        return current is not None and current > view.version

    async def _record(
        self,
        release_id: int,
        view: ReleaseView,
        kind: str,
        phase_key: str,
        part: int,
        ts: str,
        thread_ts: str | None,
        content_hash: str,
    ) -> None:
        async with self._sessions() as session, session.begin():
            await store.add_message(
                session,
                release_id=release_id,
                kind=kind,
                phase_key=phase_key,
                part=part,
                channel_id=view.channel_id,
                ts=ts,
                thread_ts=None if kind == "summary" else thread_ts,
                version=view.version,
                content_hash=content_hash,
            )

    async def _mark(self, message_id: int, version: int, content_hash: str) -> None:
        async with self._sessions() as session, session.begin():
            await store.mark_message(session, message_id, version, content_hash)
