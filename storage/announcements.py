"""Announcements in the database: the plan, stakeholder channels, ad-hoc notices, moving the window,
and the atomic claim of due deliveries that makes each post happen once."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.announcements import (
    SKIPPED_STARTED,
    Anchor,
    AnnouncementKind,
    AnnouncementView,
    DeliveryState,
    DeliveryView,
    StakeholderChannel,
    after_actual_end,
    anchor,
    channels_for,
    plan,
    retime,
)
from domain.audit import iso
from domain.model import ReleaseView
from domain.rehearsal import rehearsal_target
from domain.template import Template, due_at, template_of
from storage import audit
from storage.checklist import counts_as_signed
from storage.checklist import reopen as reopen_item
from storage.models import Announcement, ChecklistItem, Delivery, Release, StakeholderChannelRow
from storage.queries import bump_release_version


@dataclass(frozen=True)
class Claimed:
    id: int
    release_id: int
    announcement_id: int
    channel_id: str
    attempts: int
    claimed_at: datetime
    due_at: datetime


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
    # A channel's notices go out in their order: while an earlier one waits out a rate limit
    # (not_before, after a 429), a later one of the same channel is not taken either.
    earlier = aliased(Delivery)
    earlier_waits = (
        select(earlier.id)
        .where(
            earlier.channel_id == Delivery.channel_id,
            earlier.state == DeliveryState.PENDING.value,
            earlier.not_before > now,
            or_(earlier.due_at < Delivery.due_at, and_(earlier.due_at == Delivery.due_at, earlier.id < Delivery.id)),
        )
        .exists()
    )
    # A CTE, not `IN (subquery)`: PostgreSQL may run an IN-subquery once per outer row, and then
    # LIMIT no longer bounds the claim (seen: 279 rows claimed with LIMIT 7). A locking CTE runs once.
    due = (
        select(Delivery.id)
        .where(
            Delivery.state == DeliveryState.PENDING.value,
            Delivery.due_at <= now,
            or_(Delivery.not_before.is_(None), Delivery.not_before <= now),
            ~earlier_waits,
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
        .returning(
            Delivery.id,
            Delivery.release_id,
            Delivery.announcement_id,
            Delivery.channel_id,
            Delivery.attempts,
            Delivery.due_at,
        )
    )
    rows = (await session.execute(stmt)).all()
    return [Claimed(r[0], r[1], r[2], r[3], r[4], now, r[5]) for r in rows]


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
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await _audit_delivery(session, c.id, "announcement_sent", {"ts": ts}, now)
    return True


async def _audit_delivery(
    session: AsyncSession, delivery_id: int, kind: str, extra: dict[str, str], at: datetime
) -> None:
    row = (
        await session.execute(
            select(Delivery.release_id, Delivery.channel_id, Delivery.due_at, Announcement.id, Announcement.key)
            .join(Announcement, Announcement.id == Delivery.announcement_id)
            .where(Delivery.id == delivery_id)
        )
    ).one_or_none()
    if row is None:
        return
    release_id, channel_id, due, ann_id, key = row
    data = {"delivery_id": delivery_id, "announcement_id": ann_id, "announcement": key, "channel": channel_id}
    await audit.append(session, release_id, kind, None, data | {"due_at": iso(due)} | extra, at)


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
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await _audit_delivery(session, c.id, "announcement_failed", {"error": error[:200]}, datetime.now(UTC))
    return True


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
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    if ts is not None:
        await _audit_delivery(session, d.id, "announcement_sent", {"ts": ts}, now)
    return True


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
    for delivery_id in sorted(rows):
        await _audit_delivery(
            session, delivery_id, "announcement_missed", {"error": "due while the app was not running"}, now
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


async def announcement_keys(session: AsyncSession, ids: Sequence[int]) -> dict[int, str]:
    rows = await session.execute(select(Announcement.id, Announcement.key).where(Announcement.id.in_(ids)))
    return {aid: key for aid, key in rows}


# --- planning --------------------------------------------------------------------------------------


async def add_template_plan(session: AsyncSession, release: Release, template: Template, now: datetime) -> None:
    """The template's announcements; deliveries appear as stakeholder channels are added.

    A rehearsal's announcements all go to its own channel, so their deliveries exist from the start.
    """
    factor = release.rehearsal_factor or 1
    anns = [
        Announcement(
            release_id=release.id,
            key=p.key,
            kind=AnnouncementKind.TEMPLATE.value,
            audiences=list(p.audiences),
            purpose=p.purpose,
            send_at=p.send_at,
            created_at=now,
            target_channel=rehearsal_target(release),
            attempt=release.attempt,
        )
        for p in plan(template, release.cutover_start, release.cutover_end, now, factor)
    ]
    session.add_all(anns)
    if release.rehearsal_factor:
        await session.flush()
        for ann in anns:
            await materialize(session, ann, [], now)


def _targets(ann: Announcement, channels: list[StakeholderChannel]) -> tuple[str, ...]:
    if ann.target_channel:
        return (ann.target_channel,)
    return channels_for(ann.audiences, channels)


async def materialize(
    session: AsyncSession, ann: Announcement, channels: list[StakeholderChannel], now: datetime
) -> int:
    """Create the missing deliveries of one announcement; returns how many will be sent."""
    have = set((await session.execute(select(Delivery.channel_id).where(Delivery.announcement_id == ann.id))).scalars())
    added = 0
    for ch in _targets(ann, channels):
        if ch in have:
            continue
        future = ann.send_at >= now and ann.cancelled_at is None
        session.add(
            Delivery(
                announcement_id=ann.id,
                release_id=ann.release_id,
                channel_id=ch,
                state=(DeliveryState.PENDING if future else DeliveryState.SKIPPED).value,
                due_at=ann.send_at,
                attempts=0,
            )
        )
        added += int(future)
    return added


async def add_channel(
    session: AsyncSession, release_id: int, audience: str, channel_id: str, by: str, now: datetime, problem: str | None
) -> tuple[bool, int]:
    """Add a stakeholder channel; returns (was new, pending announcements that now also go there)."""
    exists = (
        await session.execute(
            select(StakeholderChannelRow).where(
                StakeholderChannelRow.release_id == release_id,
                StakeholderChannelRow.audience == audience,
                StakeholderChannelRow.channel_id == channel_id,
            )
        )
    ).scalar_one_or_none()
    if exists is not None:
        exists.checked_at, exists.problem = now, problem
    else:
        session.add(
            StakeholderChannelRow(
                release_id=release_id,
                audience=audience,
                channel_id=channel_id,
                added_by=by,
                added_at=now,
                checked_at=now,
                problem=problem,
            )
        )
        data = {"audience": audience, "channel": channel_id, "problem": problem}
        await audit.append(session, release_id, "stakeholder_channel_added", by, data, now)
    await session.flush()
    channels = await stakeholder_channels(session, release_id)
    pending = 0
    anns = (
        await session.execute(
            select(Announcement).where(Announcement.release_id == release_id, Announcement.cancelled_at.is_(None))
        )
    ).scalars()
    for ann in anns:
        pending += await materialize(session, ann, channels, now)
    return exists is None, pending


async def create_adhoc(
    session: AsyncSession,
    release_id: int,
    *,
    audience: str | None,
    channel_id: str | None,
    send_at: datetime,
    text: str,
    by: str,
    now: datetime,
) -> tuple[Announcement, int]:
    release = await session.get(Release, release_id)
    if release is not None:
        channel_id = rehearsal_target(release) or channel_id
    # Keyed by its own id once inserted: numbering by counting rows would race with a concurrent announce.
    ann = Announcement(
        release_id=release_id,
        key=f"adhoc-new-{uuid.uuid4().hex}",
        kind=AnnouncementKind.ADHOC.value,
        audiences=[audience] if audience else [],
        target_channel=channel_id,
        purpose="",
        text=text,
        send_at=send_at,
        created_by=by,
        created_at=now,
    )
    session.add(ann)
    await session.flush()
    ann.key = f"adhoc-{ann.id}"
    data = {"announcement_id": ann.id, "announcement": ann.key, "audiences": ann.audiences, "channel": channel_id}
    await audit.append(session, release_id, "announcement_scheduled", by, data | {"send_at": iso(send_at)}, now)
    channels = await stakeholder_channels(session, release_id)
    return ann, await materialize(session, ann, channels, now)


@dataclass(frozen=True)
class Moved:
    old_start: datetime
    old_end: datetime
    moved: int  # pending deliveries re-timed
    skipped: int  # now in the past
    reopened: tuple[int, ...]  # window-bound sign-offs that need re-approval


async def move_window(
    session: AsyncSession, release_id: int, start: datetime, end: datetime, by: str, now: datetime
) -> Moved:
    """Move the window, and with it every pending template announcement and every due date, at once."""
    release = await session.get(Release, release_id)
    assert release is not None
    template = template_of(release.template_key, release.template_snapshot)
    old_start, old_end = release.cutover_start, release.cutover_end
    release.cutover_start, release.cutover_end, release.updated_at = start, end, now
    moved, skipped = await _retime_announcements(session, release, template, now)
    reopened = await retime_items(session, release, template, by, now, reopen=_window_bound, why="cutover window moved")
    await session.flush()
    window = {
        "from_start": iso(old_start),
        "from_end": iso(old_end),
        "window_start": iso(start),
        "window_end": iso(end),
    }
    await audit.append(session, release.id, "window_moved", by, window, now)
    await bump_release_version(session, release.id)
    return Moved(old_start, old_end, moved, skipped, reopened)


async def _retime_announcements(
    session: AsyncSession, release: Release, template: Template, now: datetime
) -> tuple[int, int]:
    """(pending deliveries moved, now in the past and skipped) for the release's new window."""
    moved = skipped = 0
    anns = (
        (
            await session.execute(
                select(Announcement).where(
                    Announcement.release_id == release.id,
                    Announcement.kind == AnnouncementKind.TEMPLATE.value,
                    Announcement.cancelled_at.is_(None),
                )
            )
        )
        .scalars()
        .all()
    )
    for ann in anns:
        at = retime(template, ann.key, release.cutover_start, release.cutover_end, release.rehearsal_factor or 1)
        if at is None or at == ann.send_at:
            continue
        ann.send_at = at
        future = at > now
        result = await session.execute(
            update(Delivery)
            .where(Delivery.announcement_id == ann.id, Delivery.state == DeliveryState.PENDING.value)
            .values(due_at=at, state=(DeliveryState.PENDING if future else DeliveryState.SKIPPED).value)
        )
        n = int(result.rowcount)  # type: ignore[attr-defined]
        if not future:
            skipped += n
            continue
        moved += n
        # Announcements skipped for the old window may fit the new one.
        revived = await session.execute(
            update(Delivery)
            .where(Delivery.announcement_id == ann.id, Delivery.state == DeliveryState.SKIPPED.value)
            .values(due_at=at, state=DeliveryState.PENDING.value)
        )
        moved += int(revived.rowcount)  # type: ignore[attr-defined]
    return moved, skipped


def _window_bound(item: ChecklistItem) -> bool:
    return item.window_bound


async def retime_items(
    session: AsyncSession,
    release: Release,
    template: Template,
    by: str,
    now: datetime,
    *,
    reopen: Callable[[ChecklistItem], bool],
    why: str,
) -> tuple[int, ...]:
    """New due dates for the release's window; the approved sign-offs `reopen` picks go back to
    waiting (their approval was for another window or attempt), each with the reason on record."""
    specs = {i.key: i for i in template.items}
    items = (
        await session.execute(
            select(ChecklistItem).where(ChecklistItem.release_id == release.id, ChecklistItem.removed_at.is_(None))
        )
    ).scalars()
    reopened = []
    for item in items:
        spec = specs.get(item.key)
        if spec is not None:
            item.due_at = due_at(
                spec, template, release.cutover_start, release.cutover_end, release.rehearsal_factor or 1
            )
        # A quorum gate's approvals so far were for that window or attempt too: they count no more.
        if counts_as_signed(item) and reopen(item):
            reopen_item(session, release, item, by=by, why=why, now=now)
            reopened.append(item.id)
    return tuple(reopened)


async def cancel_pending(session: AsyncSession, release_id: int) -> int:
    """Nothing planned goes out any more; returns how many deliveries were stopped."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.release_id == release_id, Delivery.state == DeliveryState.PENDING.value)
        .values(state=DeliveryState.CANCELLED.value)
    )
    await bump_release_version(session, release_id)
    return int(result.rowcount)  # type: ignore[attr-defined]


async def send_now(session: AsyncSession, release_id: int, key: str, now: datetime) -> None:
    """Bring a planned announcement's pending deliveries forward to now (it reports what just happened)."""
    ids = select(Announcement.id).where(
        Announcement.release_id == release_id, Announcement.key == key, Announcement.cancelled_at.is_(None)
    )
    await session.execute(
        update(Delivery)
        .where(Delivery.announcement_id.in_(ids), Delivery.state == DeliveryState.PENDING.value)
        .values(due_at=now)
    )


async def announce_now(
    session: AsyncSession,
    release: ReleaseView,
    *,
    key: str,
    audiences: Sequence[str],
    purpose: str,
    now: datetime,
) -> None:
    """A template-worded announcement decided by an event (e.g. the rollback notice), due at once."""
    ann = Announcement(
        release_id=release.id,
        key=key,
        kind=AnnouncementKind.TEMPLATE.value,
        audiences=list(audiences),
        purpose=purpose,
        send_at=now,
        created_at=now,
        target_channel=rehearsal_target(release),
        attempt=release.attempt,
    )
    session.add(ann)
    await session.flush()
    await materialize(session, ann, await stakeholder_channels(session, release.id), now)


async def _planned(session: AsyncSession, release: Release) -> Sequence[Announcement]:
    """The template announcements of the release's current plan."""
    return (
        (
            await session.execute(
                select(Announcement).where(
                    Announcement.release_id == release.id,
                    Announcement.kind == AnnouncementKind.TEMPLATE.value,
                    Announcement.attempt == release.attempt,
                    Announcement.cancelled_at.is_(None),
                )
            )
        )
        .scalars()
        .all()
    )


async def skip_before_change(session: AsyncSession, release: Release) -> int:
    """The cutover started: what only made sense before the change (freeze, reminders, notices) will
    not go out; `/release schedule` shows why. Returns the deliveries skipped."""
    template = template_of(release.template_key, release.template_snapshot)
    ids = [a.id for a in await _planned(session, release) if anchor(template, a.key) is Anchor.BEFORE]
    if not ids:
        return 0
    result = await session.execute(
        update(Delivery)
        .where(Delivery.announcement_id.in_(ids), Delivery.state == DeliveryState.PENDING.value)
        .values(state=DeliveryState.SKIPPED.value, error=SKIPPED_STARTED)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def anchor_to_actual_end(session: AsyncSession, release: Release, actual_end: datetime) -> int:
    """The cutover completed: what follows the change is timed from its real end, not the planned one.
    Returns the deliveries re-timed."""
    template = template_of(release.template_key, release.template_snapshot)
    moved = 0
    for ann in await _planned(session, release):
        if anchor(template, ann.key) is not Anchor.AFTER:
            continue
        ann.send_at = after_actual_end(ann.send_at, release.cutover_end, actual_end)
        result = await session.execute(
            update(Delivery)
            .where(Delivery.announcement_id == ann.id, Delivery.state == DeliveryState.PENDING.value)
            .values(due_at=ann.send_at)
        )
        moved += int(result.rowcount)  # type: ignore[attr-defined]
    return moved


async def retire_plan(session: AsyncSession, release_id: int, now: datetime) -> None:
    """A re-plan: the failed attempt's announcements are history (kept, never sent)."""
    await session.execute(
        update(Announcement)
        .where(Announcement.release_id == release_id, Announcement.cancelled_at.is_(None))
        .values(cancelled_at=now)
    )
    await session.execute(
        update(Delivery)
        .where(Delivery.release_id == release_id, Delivery.state == DeliveryState.PENDING.value)
        .values(state=DeliveryState.CANCELLED.value)
    )


async def plan_attempt(session: AsyncSession, release: Release, now: datetime) -> None:
    """The template's announcements for the release's current attempt, to every stakeholder channel set."""
    await add_template_plan(session, release, template_of(release.template_key, release.template_snapshot), now)
    await session.flush()
    channels = await stakeholder_channels(session, release.id)
    for ann in await _planned(session, release):
        await materialize(session, ann, channels, now)


# --- channel checks --------------------------------------------------------------------------------


async def channels_to_recheck(session: AsyncSession, now: datetime) -> Sequence[StakeholderChannelRow]:
    """Stakeholder channels with a send within a day, not checked in the last 20 hours."""
    soon = now + timedelta(days=1)
    return (
        (
            await session.execute(
                select(StakeholderChannelRow)
                .join(
                    Delivery,
                    (Delivery.release_id == StakeholderChannelRow.release_id)
                    & (Delivery.channel_id == StakeholderChannelRow.channel_id),
                )
                .where(
                    Delivery.state == DeliveryState.PENDING.value,
                    Delivery.due_at <= soon,
                    (StakeholderChannelRow.checked_at.is_(None))
                    | (StakeholderChannelRow.checked_at < now - timedelta(hours=20)),
                )
                .distinct()
            )
        )
        .scalars()
        .all()
    )


async def record_check(session: AsyncSession, row_id: int, problem: str | None, now: datetime) -> bool:
    """Store a channel check; True when it found a problem that was not known before."""
    row = await session.get(StakeholderChannelRow, row_id)
    if row is None:
        return False
    changed = problem is not None and problem != row.problem
    row.checked_at, row.problem = now, problem
    return changed


async def get_announcement(session: AsyncSession, announcement_id: int) -> Announcement | None:
    return await session.get(Announcement, announcement_id)


async def get_delivery(session: AsyncSession, delivery_id: int) -> Delivery | None:
    return await session.get(Delivery, delivery_id)
