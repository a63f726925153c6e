"""Announcement storage on every backend: atomic claims, re-timing, cancelling."""

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from domain.announcements import DeliveryState
from domain.model import DecisionKind, ItemState
from storage import announcements as announcing
from storage import announcements as q
from storage import checklist as decisions
from storage import releases
from storage.models import Announcement, ChecklistItem, Decision, Delivery
from tests.conftest import Db
from tests.factories import spec


async def _release_with_channels(sessions, n_channels: int = 3):
    rel = await releases.create_release(sessions, spec())
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        for i in range(n_channels):
            await announcing.add_channel(s, rel.id, "all", f"C{i:03d}", "UPM", now, None)
    return rel


async def test_template_plan_and_channels_create_deliveries(db: Db) -> None:
    _engine, sessions = db
    rel = await _release_with_channels(sessions)
    async with sessions() as s:
        anns = await q.schedule(s, rel.id)
    keys = {a.key for a in anns}
    assert {"ann.initial", "ann.reminder", "ann.started", "ann.outcome"} <= keys
    reminder = next(a for a in anns if a.key == "ann.reminder")
    assert sorted(d.channel_id for d in reminder.deliveries) == ["C000", "C001", "C002"]
    assert all(d.state is DeliveryState.PENDING for d in reminder.deliveries)
    # A business-only announcement goes nowhere until a business channel exists.
    initial = next(a for a in anns if a.key == "ann.initial")
    assert len(initial.deliveries) == 3  # "all" channels receive every audience


async def test_two_claimers_never_take_the_same_delivery(db: Db) -> None:
    _engine, sessions = db
    rel = await _release_with_channels(sessions, n_channels=10)
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        for i in range(30):
            await announcing.create_adhoc(
                s,
                rel.id,
                audience="all",
                channel_id=None,
                send_at=now + timedelta(seconds=1),
                text=f"note {i}",
                by="UPM",
                now=now,
            )
    later = now + timedelta(seconds=2)

    async def claimer(name: str) -> list[int]:
        got: list[int] = []
        while True:
            async with sessions() as s, s.begin():
                batch = await q.claim_due(s, now=later, worker=name, limit=7)
            assert len(batch) <= 7, "a claim never takes more than its limit"
            if not batch:
                return got
            got += [c.id for c in batch]
            # A sender posts between claims. Without this pause two SQLite claimers can pass the write lock
            # back and forth while the third sleeps in its busy handler and never gets a turn.
            await asyncio.sleep(0.01)

    a, b, c = await asyncio.gather(claimer("a"), claimer("b"), claimer("c"))
    claimed = a + b + c
    assert a and b and c, (len(a), len(b), len(c))
    assert len(claimed) == 300 and len(set(claimed)) == 300
    async with sessions() as s:
        rows = (await s.execute(select(Delivery).where(Delivery.state == "sending"))).scalars().all()
    assert len(rows) == 300


async def test_sent_and_give_back_need_the_claim(db: Db) -> None:
    _engine, sessions = db
    rel = await _release_with_channels(sessions, n_channels=1)
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        await announcing.create_adhoc(
            s, rel.id, audience=None, channel_id="C000", send_at=now, text="x", by="UPM", now=now - timedelta(seconds=1)
        )
    async with sessions() as s, s.begin():
        (claim,) = await q.claim_due(s, now=now, worker="w1", limit=10)
    async with sessions() as s, s.begin():
        assert not await q.mark_sent(s, claim, "w2", ts="1.1", now=now)  # not w2's claim
        assert await q.mark_sent(s, claim, "w1", ts="1700000000.000100", now=now)
        assert not await q.give_back(s, claim, "w1", not_before=None, error=None)  # already settled


async def test_a_later_notice_waits_while_an_earlier_one_of_its_channel_waits_out_a_429(db: Db) -> None:
    _engine, sessions = db
    rel = await _release_with_channels(sessions, n_channels=2)
    t0 = datetime.now(UTC)

    async def note(channel: str, due: datetime, text: str) -> None:
        async with sessions() as s, s.begin():
            await announcing.create_adhoc(
                s, rel.id, audience=None, channel_id=channel, send_at=due, text=text, by="UPM", now=t0
            )

    await note("C000", t0 + timedelta(seconds=1), "first")
    async with sessions() as s, s.begin():
        (first,) = await q.claim_due(s, now=t0 + timedelta(seconds=1), worker="w1", limit=10)
    # Slack answered 429 with Retry-After 30: the first is given back until then.
    async with sessions() as s, s.begin():
        assert await q.give_back(s, first, "w1", not_before=t0 + timedelta(seconds=31), error=None)
    await note("C000", t0 + timedelta(seconds=10), "second")
    await note("C001", t0 + timedelta(seconds=10), "elsewhere")
    async with sessions() as s, s.begin():
        meanwhile = await q.claim_due(s, now=t0 + timedelta(seconds=15), worker="w2", limit=10)
    # Only the other channel's notice goes out meanwhile; the second of C000 does not overtake the first.
    assert [c.channel_id for c in meanwhile] == ["C001"]
    async with sessions() as s, s.begin():
        after = await q.claim_due(s, now=t0 + timedelta(seconds=31), worker="w2", limit=10)
    assert [(c.channel_id, c.id) for c in after] == [("C000", first.id), ("C000", first.id + 1)]


async def test_move_retimes_pending_and_reopens_window_approvals(db: Db) -> None:
    _engine, sessions = db
    rel = await _release_with_channels(sessions)
    async with sessions() as s:
        gate = (
            await s.execute(
                select(ChecklistItem).where(ChecklistItem.release_id == rel.id, ChecklistItem.key == "cc.window_appr")
            )
        ).scalar_one()
    await decisions.record(
        sessions,
        release_id=rel.id,
        item_id=gate.id,
        version=0,
        kind=DecisionKind.APPROVE,
        new_state=ItemState.APPROVED,
        user_id="UWBO",
        role_key="workload-business-owner",
    )
    new_start = rel.cutover_start + timedelta(days=7)
    async with sessions() as s, s.begin():
        moved = await announcing.move_window(
            s, rel.id, new_start, new_start + timedelta(hours=4), "UPM", datetime.now(UTC)
        )
    assert moved.old_start == rel.cutover_start and moved.reopened == (gate.id,) and moved.moved > 0
    async with sessions() as s:
        anns = {a.key: a for a in await q.schedule(s, rel.id)}
        item = await s.get(ChecklistItem, gate.id)
        kinds = (
            (await s.execute(select(Decision.kind).where(Decision.item_id == gate.id).order_by(Decision.id)))
            .scalars()
            .all()
        )
    assert anns["ann.reminder"].send_at == new_start - timedelta(days=1)
    assert all(d.due_at == new_start - timedelta(days=1) for d in anns["ann.reminder"].deliveries)
    assert item is not None and item.state == "pending" and item.due_at == new_start - timedelta(days=14)
    assert list(kinds) == ["approve", "reopen"]


async def test_cancel_and_missed(db: Db) -> None:
    _engine, sessions = db
    rel = await _release_with_channels(sessions, n_channels=2)
    now = datetime.now(UTC)
    async with sessions() as s, s.begin():
        old, _ = await announcing.create_adhoc(
            s, rel.id, audience="all", channel_id=None, send_at=now, text="late", by="UPM", now=now - timedelta(hours=3)
        )
        await s.execute(
            Delivery.__table__.update()
            .where(Delivery.announcement_id == old.id)
            .values(due_at=now - timedelta(hours=2))
        )
    async with sessions() as s, s.begin():
        missed = await q.expire_missed(s, now=now, grace=timedelta(hours=1))
    assert len(missed) == 2
    async with sessions() as s, s.begin():
        cancelled = await announcing.cancel_pending(s, rel.id)
    async with sessions() as s:
        states = (await s.execute(select(Delivery.state).where(Delivery.release_id == rel.id))).scalars().all()
        n_ann = len((await s.execute(select(Announcement.id).where(Announcement.release_id == rel.id))).all())
    assert cancelled == states.count("cancelled") and cancelled > 0
    assert "pending" not in states and states.count("missed") == 2 and n_ann > 2
