"""Per-process caches stay bounded by size and age, and behave as before; locks in use are never dropped."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, cast

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import bot.sender as sender_module
from bot import live as live_module
from bot.live import LiveMessages
from bot.sender import Sender
from bot.slack.client import Directory
from domain.time import utcnow
from storage import releases
from storage.announcements import Claimed
from storage.models import Announcement, Delivery, Release
from tests.factories import spec

Db = tuple[AsyncEngine, async_sessionmaker[AsyncSession]]


def slack_error(method: str, status: int, error: str, headers: dict[str, str] | None = None) -> SlackApiError:
    response = AsyncSlackResponse(
        client=None,
        http_verb="POST",
        api_url=f"http://127.0.0.1/api/{method}",
        req_args={},
        data={"ok": False, "error": error},
        headers=headers or {},
        status_code=status,
    )
    return SlackApiError(error, response)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- Directory: time zones and group members -----------------------------------------------------


class FakeDirectoryApi:
    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.failing: set[str] = set()

    async def users_info(self, *, user: str) -> dict[str, Any]:
        self.calls[user] += 1
        if user in self.failing:
            raise slack_error("users.info", 200, "user_not_found")
        return {"ok": True, "user": {"id": user, "tz": f"Zone/{user}"}}

    async def usergroups_users_list(self, *, usergroup: str) -> dict[str, Any]:
        self.calls[usergroup] += 1
        return {"ok": True, "users": [] if usergroup == "SEMPTY" else [f"U{usergroup}1", f"U{usergroup}2"]}


def directory(api: FakeDirectoryApi, clock: Clock, maxsize: int = 4096) -> Directory:
    return Directory(cast(AsyncWebClient, api), ttl=60.0, maxsize=maxsize, timer=clock)


async def test_directory_answers_from_its_cache_for_a_minute_then_asks_again() -> None:
    api, clock = FakeDirectoryApi(), Clock()
    d = directory(api, clock)
    assert await d.user_tz("U1") == "Zone/U1"
    assert await d.group_members("SEMPTY") == frozenset()
    assert await d.group_members("S1") == {"US11", "US12"}
    clock.now += 59
    assert await d.user_tz("U1") == "Zone/U1"
    assert await d.group_members("SEMPTY") == frozenset()  # an empty group is an answer too
    assert await d.groups_containing("US11", ["S1", "SEMPTY"]) == ("S1",)
    assert api.calls == Counter({"U1": 1, "SEMPTY": 1, "S1": 1})
    clock.now += 2
    assert await d.user_tz("U1") == "Zone/U1"
    assert await d.group_members("S1") == {"US11", "US12"}
    assert api.calls == Counter({"U1": 2, "SEMPTY": 1, "S1": 2})


async def test_directory_never_guesses_a_zone_and_asks_again_after_a_failure() -> None:
    api, clock = FakeDirectoryApi(), Clock()
    api.failing.add("UGONE")
    d = directory(api, clock)
    assert await d.user_tz("UGONE") is None
    assert await d.user_tz("UGONE") is None
    assert api.calls["UGONE"] == 2  # a passing failure must not stick for the cache's lifetime


async def test_directory_keeps_at_most_maxsize_entries_and_drops_expired_ones() -> None:
    api, clock = FakeDirectoryApi(), Clock()
    d = directory(api, clock, maxsize=5)
    for i in range(50):
        await d.user_tz(f"U{i}")
        await d.group_members(f"S{i}")
    assert len(d._tz) == 5 and len(d._groups) == 5
    # The most recent are still answered from memory; the oldest were dropped and are asked again.
    await d.user_tz("U49")
    assert api.calls["U49"] == 1
    await d.user_tz("U0")
    assert api.calls["U0"] == 2
    # After a minute nothing stale is kept: the next write sweeps the expired entries out.
    clock.now += 61
    await d.user_tz("UNEW")
    assert list(d._tz) == ["UNEW"] and d._tz.currsize == 1


# --- LiveMessages: one lock per release, only while it is in use ----------------------------------


class ScriptedLive(LiveMessages):
    """LiveMessages with the Slack and database pass replaced by a script, to watch the locking."""

    def __init__(self) -> None:
        super().__init__(cast(async_sessionmaker[AsyncSession], None), cast(AsyncWebClient, None))
        self.passes: list[tuple[int, bool]] = []
        self.running: Counter[int] = Counter()
        self.most_at_once: Counter[int] = Counter()
        self.gate: dict[int, asyncio.Event] = {}
        self.moved: dict[int, int] = {}  # release -> how many passes report "changed underneath"
        self.fail: set[int] = set()

    async def _sync(self, release_id: int, *, create: bool, first: Iterable[int] = ()) -> tuple[bool, bool]:
        self.running[release_id] += 1
        self.most_at_once[release_id] = max(self.most_at_once[release_id], self.running[release_id])
        try:
            self.passes.append((release_id, create))
            if release_id in self.gate:
                await self.gate[release_id].wait()
            else:
                await asyncio.sleep(0)
            if release_id in self.fail:
                raise RuntimeError("Slack is down")
            if self.moved.get(release_id, 0) > 0:
                self.moved[release_id] -= 1
                return True, False
            return False, False
        finally:
            self.running[release_id] -= 1


async def until(condition: Any) -> None:
    for _ in range(2000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("condition never held")


async def test_locks_of_finished_refreshes_are_forgotten() -> None:
    live = ScriptedLive()
    for release_id in range(1000):
        await live.refresh(release_id)
        await live.publish(release_id + 10_000)
    await asyncio.gather(*(live.refresh(r) for r in range(500)))
    assert live._turns == {}
    assert len(live.passes) == 2500


async def test_refreshes_during_a_pass_coalesce_into_exactly_one_more_and_never_overlap() -> None:
    live = ScriptedLive()
    live.gate[7] = asyncio.Event()
    first = asyncio.create_task(live.refresh(7))
    await until(lambda: live.running[7] == 1)
    more = [asyncio.create_task(live.refresh(7)) for _ in range(5)]
    await asyncio.gather(*more)  # they return at once: the running pass will go again
    assert 7 in live._turns and live.running[7] == 1
    live.gate[7].set()
    await first
    assert live.passes == [(7, False), (7, False)]
    assert live.most_at_once[7] == 1
    assert live._turns == {}


async def test_a_lock_that_is_held_or_awaited_is_kept() -> None:
    live = ScriptedLive()
    live.gate[3] = asyncio.Event()
    refreshing = asyncio.create_task(live.refresh(3))
    await until(lambda: live.running[3] == 1)
    turn = live._turns[3]
    publishing = asyncio.create_task(live.publish(3))  # waits for the refresh
    await until(lambda: turn.users == 2)
    first_gate, live.gate[3] = live.gate[3], asyncio.Event()  # the publish's pass will wait in turn
    first_gate.set()
    await until(lambda: refreshing.done() and live.running[3] == 1)
    # The refresh let go, but the publish holds the very same lock now: it was not dropped.
    assert live._turns.get(3) is turn and turn.users == 1 and turn.lock.locked()
    live.gate[3].set()
    await publishing
    assert live.most_at_once[3] == 1
    assert live.passes == [(3, False), (3, True)]
    assert live._turns == {}


async def test_a_refresh_asked_for_while_publishing_runs_after_it() -> None:
    live = ScriptedLive()
    live.gate[5] = asyncio.Event()
    publishing = asyncio.create_task(live.publish(5))
    await until(lambda: live.running[5] == 1)
    await live.refresh(5)
    await live.refresh(5)
    live.gate[5].set()
    await publishing
    assert live.passes == [(5, True), (5, False)]
    assert live._turns == {}


async def test_passes_stop_at_the_cap_and_the_lock_is_still_forgotten() -> None:
    live = ScriptedLive()
    live.moved[9] = 1000  # another process keeps changing the release
    await live.refresh(9)
    assert len(live.passes) == live_module.MAX_PASSES
    assert live._turns == {}


async def test_a_failed_pass_releases_and_forgets_the_lock() -> None:
    live = ScriptedLive()
    live.fail.add(4)
    with pytest.raises(RuntimeError):
        await live.refresh(4)
    assert live._turns == {}
    assert live.retries_pending == 1  # the release refreshes itself later, without a click
    live.fail.clear()
    await live.refresh(4)
    assert live.passes == [(4, False), (4, False)]
    await live.close()
    assert live.retries_pending == 0


async def test_a_cancelled_waiter_leaves_no_lock_behind() -> None:
    live = ScriptedLive()
    live.gate[6] = asyncio.Event()
    refreshing = asyncio.create_task(live.refresh(6))
    await until(lambda: live.running[6] == 1)
    publishing = asyncio.create_task(live.publish(6))
    await until(lambda: live._turns[6].users == 2)
    publishing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await publishing
    assert live._turns[6].users == 1
    live.gate[6].set()
    await refreshing
    assert live._turns == {}


# --- Sender: release views, announcements, channels -----------------------------------------------


@contextmanager
def statements(engine: AsyncEngine) -> Any:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def announcements(
    sessions: async_sessionmaker[AsyncSession], n_releases: int, per_release: int
) -> list[tuple[int, int]]:
    """(release id, announcement id) pairs of fresh releases with ad-hoc announcements."""
    out = []
    for r in range(n_releases):
        rel = await releases.create_release(sessions, spec(channel=f"CREL{r}"))
        async with sessions() as s, s.begin():
            for i in range(per_release):
                ann = Announcement(
                    release_id=rel.id,
                    key=f"adhoc-{i}",
                    kind="adhoc",
                    audiences=["all"],
                    purpose="",
                    text=f"Notice {i}",
                    send_at=utcnow(),
                    created_at=utcnow(),
                )
                s.add(ann)
                await s.flush()
                out.append((rel.id, ann.id))
    return out


def claim(release_id: int, announcement_id: int) -> Claimed:
    return Claimed(0, release_id, announcement_id, "C1", 1, utcnow(), utcnow())


def idle_client() -> AsyncWebClient:
    return cast(AsyncWebClient, object())


async def test_sender_reuses_a_release_view_as_before(db: Db, monkeypatch: pytest.MonkeyPatch) -> None:
    engine, sessions = db
    monkeypatch.setattr(sender_module, "VIEW_TTL", 0.2)
    sender = Sender(sessions, idle_client(), worker_id="t", command="/release")
    [(rel, ann)] = await announcements(sessions, 1, 1)
    view, row = await sender._content(claim(rel, ann))
    assert view is not None and row is not None and row.text == "Notice 0"
    with statements(engine) as seen:
        again, _ = await sender._content(claim(rel, ann))
    assert again is view and seen == []  # within VIEW_TTL: no database at all
    await asyncio.sleep(0.25)
    with statements(engine) as seen:
        again, _ = await sender._content(claim(rel, ann))
    assert again is view and len([q for q in seen if q.startswith("SELECT")]) == 1  # older: only the version
    async with sessions() as s, s.begin():
        await s.execute(update(Release).where(Release.id == rel).values(version=Release.version + 1))
    await asyncio.sleep(0.25)
    fresh, _ = await sender._content(claim(rel, ann))
    assert fresh is not None and fresh is not view and fresh.version == view.version + 1


async def test_sender_caches_are_bounded_by_size(db: Db, monkeypatch: pytest.MonkeyPatch) -> None:
    _engine, sessions = db
    monkeypatch.setattr(sender_module, "CACHE_SIZE", 2)
    sender = Sender(sessions, idle_client(), worker_id="t", command="/release")
    pairs = await announcements(sessions, 4, 3)
    for rel, ann in pairs:
        view, row = await sender._content(claim(rel, ann))
        assert view is not None and view.id == rel and row is not None and row.id == ann
    assert len(sender._views) == 2 and len(sender._announcements) == 8
    assert set(sender._views) == {pairs[-1][0], pairs[-4][0]}  # the releases used last


async def test_sender_caches_forget_what_was_not_used_for_a_while(db: Db, monkeypatch: pytest.MonkeyPatch) -> None:
    _engine, sessions = db
    monkeypatch.setattr(sender_module, "CACHE_AGE", 0.3)
    sender = Sender(sessions, idle_client(), worker_id="t", command="/release")
    pairs = await announcements(sessions, 2, 2)
    for rel, ann in pairs:
        await sender._content(claim(rel, ann))
    assert len(sender._views) == 2 and len(sender._announcements) == 4
    await asyncio.sleep(0.35)
    assert len(sender._views) == 0 and len(sender._announcements) == 0
    view, row = await sender._content(claim(*pairs[0]))  # and it is read again when needed
    assert view is not None and row is not None


def test_channel_deadlines_are_forgotten_once_passed_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sender_module, "CHANNELS_TRACKED", 3)
    sender = Sender(cast(async_sessionmaker[AsyncSession], None), idle_client(), worker_id="t", command="/release")
    now = time.monotonic()
    sender._channel_free_at["CPAST"] = now - 1
    assert sender._channel_free_at.get("CPAST", 0.0) == 0.0 and len(sender._channel_free_at) == 0
    for i in range(10):
        sender._channel_free_at[f"C{i}"] = now + 60 + i
        sender._paced_until[f"C{i}"] = now + 60 + i
    assert len(sender._channel_free_at) == 3 and len(sender._paced_until) == 3
    assert sender._channel_free_at["C9"] == now + 69


class FakePoster:
    """chat.postMessage that answers 429 for some channels the first time, else posts."""

    def __init__(self, limited: set[str]) -> None:
        self.limited = set(limited)
        self.posts: list[str] = []

    async def chat_postMessage(self, *, channel: str, **_kwargs: Any) -> dict[str, Any]:
        await asyncio.sleep(0)
        if channel in self.limited:
            self.limited.discard(channel)
            raise slack_error("chat.postMessage", 429, "ratelimited", {"Retry-After": "1"})
        self.posts.append(channel)
        return {"ok": True, "ts": f"{time.time():.6f}"}


async def test_sender_forgets_channels_it_has_finished_with(db: Db) -> None:
    _engine, sessions = db
    [(rel, ann)] = await announcements(sessions, 1, 1)
    channels = [f"CST{i:03d}" for i in range(30)]
    async with sessions() as s, s.begin():
        for ch in channels:
            s.add(
                Delivery(
                    announcement_id=ann,
                    release_id=rel,
                    channel_id=ch,
                    state="pending",
                    due_at=utcnow() - timedelta(seconds=1),
                    attempts=0,
                )
            )
    poster = FakePoster(limited={"CST000"})
    sender = Sender(sessions, cast(AsyncWebClient, poster), worker_id="t", command="/release", batch=50)

    async def states() -> Counter[str]:
        async with sessions() as s:
            return Counter((await s.execute(select(Delivery.state))).scalars())

    deadline = time.monotonic() + 20
    while (await states())["sent"] < 30:
        assert time.monotonic() < deadline, await states()
        await sender.tick()
        await asyncio.sleep(0.05)
    await asyncio.gather(*[t for t in sender._runners.values() if not t.done()])
    assert sorted(poster.posts) == sorted(channels)  # each once; the limited one after its Retry-After
    assert sender._queues == {} and sender._runners == {}
    # The 429 still paces that channel for a while; nothing else is remembered about any channel.
    assert set(sender._paced_until) == {"CST000"}
    assert set(sender._channel_free_at) <= {"CST000"}
    await sender.drain(grace=1)
