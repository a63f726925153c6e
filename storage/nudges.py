"""Nudges about waiting gates: the gates coming due, the claim that makes each nudge go out once, snoozes,
and what `/release status` says of them. Every nudge sent is also on the release's event log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.model import ItemState, ReleaseState
from storage.models import ChecklistItem, Nudge, NudgeSnooze, Release, ReleaseEvent

# Decisions are possible in these states (domain/states.py: decide), so only there does a gate wait.
NUDGED_STATES = (ReleaseState.PLANNING, ReleaseState.READY, ReleaseState.CUTTING_OVER, ReleaseState.COMPLETED)


async def gates_coming_due(session: AsyncSession, now: datetime, lead: timedelta, limit: int = 500) -> list[int]:
    """Ids of releases with a pending item due within `lead` (the longest any template asks for).
    Never a rehearsal's: it plays the plan in the release channel only, on a clock too fast for anyone's
    working hours, and must not send its approvers or Project Managers direct messages."""
    rows = await session.execute(
        select(ChecklistItem.release_id)
        .join(Release, Release.id == ChecklistItem.release_id)
        .where(
            Release.rehearsal_factor.is_(None),
            Release.state.in_([s.value for s in NUDGED_STATES]),
            ChecklistItem.state == ItemState.PENDING.value,
            ChecklistItem.due_at <= now + lead,
        )
        .distinct()
        .limit(limit)
    )
    return sorted(rows.scalars())


async def claim(
    sessions: async_sessionmaker[AsyncSession],
    *,
    release_id: int,
    item_id: int,
    user_id: str,
    kind: str,
    day: str,
    now: datetime,
    worker: str,
) -> int | None:
    """Claim one nudge; its id, or None when it is already claimed (sent, or being sent, by anyone)."""
    try:
        async with sessions() as session, session.begin():
            row = Nudge(
                release_id=release_id, item_id=item_id, user_id=user_id, kind=kind, day=day, at=now, claimed_by=worker
            )
            session.add(row)
            await session.flush()
            return row.id
    except IntegrityError:
        return None


async def sent(
    sessions: async_sessionmaker[AsyncSession], nudge_id: int, *, event: str, user_id: str, reason: str, now: datetime
) -> None:
    """The nudge went out: stamp it and put it on the release's event log."""
    async with sessions() as session, session.begin():
        row = await session.get(Nudge, nudge_id)
        if row is None:
            return
        row.sent_at = now
        session.add(ReleaseEvent(release_id=row.release_id, kind=event, user_id=user_id or None, reason=reason, at=now))


async def release_claim(sessions: async_sessionmaker[AsyncSession], nudge_id: int) -> None:
    """Slack refused the nudge: drop the claim so that a later tick tries again."""
    async with sessions() as session, session.begin():
        await session.execute(delete(Nudge).where(Nudge.id == nudge_id, Nudge.sent_at.is_(None)))


async def snooze(
    sessions: async_sessionmaker[AsyncSession],
    *,
    release_id: int,
    item_id: int,
    user_id: str,
    until: datetime,
    now: datetime,
) -> None:
    async with sessions() as session, session.begin():
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        await session.execute(
            insert(NudgeSnooze)
            .values(item_id=item_id, user_id=user_id, until=until)
            .on_conflict_do_update(index_elements=["item_id", "user_id"], set_={"until": until})
        )
        session.add(
            ReleaseEvent(
                release_id=release_id,
                kind="nudge_snoozed",
                user_id=user_id,
                reason=f"item {item_id} until {until.isoformat()}",
                at=now,
            )
        )


async def snoozes(session: AsyncSession, item_ids: list[int], now: datetime) -> set[tuple[int, str]]:
    """(item id, user) pairs snoozed at `now`."""
    if not item_ids:
        return set()
    rows = await session.execute(
        select(NudgeSnooze.item_id, NudgeSnooze.user_id).where(
            NudgeSnooze.item_id.in_(item_ids), NudgeSnooze.until > now
        )
    )
    return {(item_id, user) for item_id, user in rows}


async def escalated(session: AsyncSession, item_ids: list[int]) -> set[tuple[int, str]]:
    """(item id, kind) of the escalations already claimed, to skip their work without a claim attempt."""
    if not item_ids:
        return set()
    rows = await session.execute(
        select(Nudge.item_id, Nudge.kind).where(Nudge.item_id.in_(item_ids), Nudge.kind.in_(["thread", "pm"]))
    )
    return {(item_id, kind) for item_id, kind in rows}


@dataclass(frozen=True)
class NudgeCount:
    item_id: int
    user_id: str
    count: int
    since: datetime


async def nudge_counts(session: AsyncSession, release_id: int) -> list[NudgeCount]:
    """How often each approver was DMed about each gate, and since when (sent nudges only)."""
    rows = await session.execute(
        select(Nudge.item_id, Nudge.user_id, func.count(), func.min(Nudge.sent_at))
        .where(Nudge.release_id == release_id, Nudge.kind == "dm", Nudge.sent_at.is_not(None))
        .group_by(Nudge.item_id, Nudge.user_id)
        .order_by(Nudge.item_id, Nudge.user_id)
    )
    return [NudgeCount(item_id, user, int(n), since) for item_id, user, n, since in rows if since is not None]
