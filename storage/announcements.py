"""Queries behind announcements: the schedule, and the atomic claim of due deliveries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.announcements import (
    AnnouncementKind,
    AnnouncementView,
    DeliveryState,
    DeliveryView,
    StakeholderChannel,
)
from storage.models import Announcement, Delivery, StakeholderChannelRow


@dataclass(frozen=True)
class Claimed:
    id: int
    release_id: int
    announcement_id: int
    channel_id: str
    attempts: int
    claimed_at: datetime


async def stakeholder_channels(session: AsyncSession, release_id: int) -> list[StakeholderChannel]:
    rows = (
        await session.execute(
            select(StakeholderChannelRow)
            .where(StakeholderChannelRow.release_id == release_id)
            .order_by(StakeholderChannelRow.id)
        )
    ).scalars()
    return [StakeholderChannel(r.audience, r.channel_id, r.problem) for r in rows]


async def schedule(session: AsyncSession, release_id: int) -> list[AnnouncementView]:
    anns = (
        (
            await session.execute(
                select(Announcement)
                .where(Announcement.release_id == release_id)
                .order_by(Announcement.send_at, Announcement.id)
            )
        )
        .scalars()
        .all()
    )
    dels = (
        (await session.execute(select(Delivery).where(Delivery.release_id == release_id).order_by(Delivery.id)))
        .scalars()
        .all()
    )
    by_ann: dict[int, list[DeliveryView]] = {}
    for d in dels:
        by_ann.setdefault(d.announcement_id, []).append(
            DeliveryView(
                d.id, d.channel_id, DeliveryState(d.state), d.due_at, d.attempts, d.sent_at, d.ts, None, d.error
            )
        )
    return [
        AnnouncementView(
            id=a.id,
            key=a.key,
            kind=AnnouncementKind(a.kind),
            audiences=tuple(a.audiences),
            purpose=a.purpose,
            send_at=a.send_at,
            text=a.text,
            created_by=a.created_by,
            deliveries=tuple(by_ann.get(a.id, ())),
            cancelled=a.cancelled_at is not None,
        )
        for a in anns
    ]


async def claim_due(session: AsyncSession, *, now: datetime, worker: str, limit: int) -> list[Claimed]:
    """Move due pending deliveries to `sending` for this worker, atomically.

    The status guard in the outer WHERE makes two claimers race safely on any backend; on
    PostgreSQL, SKIP LOCKED also keeps them from waiting on each other's rows.
    """
    # A CTE, not `IN (subquery)`: PostgreSQL may run an IN-subquery once per outer row, and then
    # LIMIT no longer bounds the claim (seen: 279 rows claimed with LIMIT 7). A locking CTE runs once.
    due = (
        select(Delivery.id)
        .where(
            Delivery.state == DeliveryState.PENDING.value,
            Delivery.due_at <= now,
            or_(Delivery.not_before.is_(None), Delivery.not_before <= now),
        )
        .order_by(Delivery.due_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
        .cte("due")
    )
    stmt = (
        update(Delivery)
        .where(Delivery.state == DeliveryState.PENDING.value, Delivery.id.in_(select(due.c.id)))
        .values(state=DeliveryState.SENDING.value, claimed_by=worker, claimed_at=now, attempts=Delivery.attempts + 1)
        .returning(Delivery.id, Delivery.release_id, Delivery.announcement_id, Delivery.channel_id, Delivery.attempts)
    )
    rows = (await session.execute(stmt)).all()
    return [Claimed(r[0], r[1], r[2], r[3], r[4], now) for r in rows]


def _mine(delivery_id: int, worker: str, claimed_at: datetime) -> object:
    return and_(
        Delivery.id == delivery_id,
        Delivery.state == DeliveryState.SENDING.value,
        Delivery.claimed_by == worker,
        Delivery.claimed_at == claimed_at,
    )


async def mark_sent(session: AsyncSession, c: Claimed, worker: str, *, ts: str, now: datetime) -> bool:
    result = await session.execute(
        update(Delivery)
        .where(_mine(c.id, worker, c.claimed_at))  # type: ignore[arg-type]
        .values(state=DeliveryState.SENT.value, ts=ts, sent_at=now, error=None)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def give_back(
    session: AsyncSession, c: Claimed, worker: str, *, not_before: datetime | None, error: str | None
) -> bool:
    """Return a claimed delivery to the queue (Slack said it did not post: 429, or never reached)."""
    result = await session.execute(
        update(Delivery)
        .where(_mine(c.id, worker, c.claimed_at))  # type: ignore[arg-type]
        .values(state=DeliveryState.PENDING.value, claimed_by=None, claimed_at=None, not_before=not_before, error=error)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def mark_failed(session: AsyncSession, c: Claimed, worker: str, *, error: str) -> bool:
    result = await session.execute(
        update(Delivery)
        .where(_mine(c.id, worker, c.claimed_at))  # type: ignore[arg-type]
        .values(state=DeliveryState.FAILED.value, error=error[:200])
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def stale_sending(session: AsyncSession, *, older_than: datetime, limit: int = 100) -> Sequence[Delivery]:
    """Deliveries claimed long ago whose outcome nobody recorded (a crash or a lost answer)."""
    return (
        (
            await session.execute(
                select(Delivery)
                .where(Delivery.state == DeliveryState.SENDING.value, Delivery.claimed_at < older_than)
                .order_by(Delivery.claimed_at)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )


async def resolve_stale(
    session: AsyncSession, d: Delivery, *, ts: str | None, now: datetime, retry_after: timedelta
) -> bool:
    """Settle a stale claim: sent (Slack has our message) or back to pending. One resolver wins."""
    values: dict[str, object]
    if ts is not None:
        values = {"state": DeliveryState.SENT.value, "ts": ts, "sent_at": now, "error": None}
    else:
        values = {
            "state": DeliveryState.PENDING.value,
            "claimed_by": None,
            "claimed_at": None,
            "not_before": now + retry_after,
        }
    result = await session.execute(
        update(Delivery)
        .where(Delivery.id == d.id, Delivery.state == DeliveryState.SENDING.value, Delivery.claimed_at == d.claimed_at)
        .values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def expire_missed(session: AsyncSession, *, now: datetime, grace: timedelta) -> list[int]:
    """Pending deliveries overdue beyond the grace period become `missed` (reported, never sent late)."""
    rows = (
        (
            await session.execute(
                update(Delivery)
                .where(Delivery.state == DeliveryState.PENDING.value, Delivery.due_at < now - grace)
                .values(state=DeliveryState.MISSED.value, error="due while the app was not running")
                .returning(Delivery.id)
            )
        )
        .scalars()
        .all()
    )
    return list(rows)


async def unreported(session: AsyncSession, limit: int = 200) -> Sequence[Delivery]:
    return (
        (
            await session.execute(
                select(Delivery)
                .where(
                    Delivery.state.in_([DeliveryState.FAILED.value, DeliveryState.MISSED.value]),
                    Delivery.reported_at.is_(None),
                )
                .order_by(Delivery.release_id, Delivery.id)
                .limit(limit)
            )
        )
        .scalars()
        .all()
    )


async def mark_reported(session: AsyncSession, ids: Sequence[int], now: datetime) -> list[int]:
    """Claim the right to report these; returns the ids this caller won."""
    if not ids:
        return []
    won = (
        (
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.reported_at.is_(None))
                .values(reported_at=now)
                .returning(Delivery.id)
            )
        )
        .scalars()
        .all()
    )
    return list(won)
