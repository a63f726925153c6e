"""Announcement use cases: plan, stakeholder channels, ad-hoc notices, moving the window, cancelling."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.announcements import AnnouncementKind, DeliveryState, StakeholderChannel, channels_for, plan, retime
from domain.model import DecisionKind, ItemState, ReleaseView
from domain.template import Template, due_at, load_template
from storage.announcements import stakeholder_channels
from storage.models import Announcement, ChecklistItem, Decision, Delivery, Release, StakeholderChannelRow
from storage.queries import bump_release_version


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
        )
        for p in plan(template, release.cutover_start, release.cutover_end, now, factor)
    ]
    session.add_all(anns)
    if release.rehearsal_factor:
        await session.flush()
        for ann in anns:
            await materialize(session, ann, [], now)


def rehearsal_target(release: Release | ReleaseView) -> str | None:
    """Where every announcement of a rehearsal goes instead of the stakeholder channels (None: a real release).

    Every announcement a rehearsal makes (template, ad-hoc, rollback) takes its target from here."""
    return release.channel_id if release.rehearsal_factor else None


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
    session: AsyncSession, release: Release, start: datetime, end: datetime, by: str, now: datetime
) -> Moved:
    """Move the window, and with it every pending template announcement and every due date, at once."""
    template = load_template(release.template_key)
    old_start, old_end = release.cutover_start, release.cutover_end
    release.cutover_start, release.cutover_end, release.updated_at = start, end, now
    release.version += 1
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
        at = retime(template, ann.key, start, end, release.rehearsal_factor or 1)
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
        if future:
            moved += n
        else:
            skipped += n
        if future:  # announcements skipped for the old window may fit the new one
            revived = await session.execute(
                update(Delivery)
                .where(Delivery.announcement_id == ann.id, Delivery.state == DeliveryState.SKIPPED.value)
                .values(due_at=at, state=DeliveryState.PENDING.value)
            )
            moved += int(revived.rowcount)  # type: ignore[attr-defined]
    specs = {i.key: i for i in template.items}
    items = (await session.execute(select(ChecklistItem).where(ChecklistItem.release_id == release.id))).scalars()
    reopened = []
    for item in items:
        spec = specs.get(item.key)
        if spec is not None:
            item.due_at = due_at(spec, template, start, end, release.rehearsal_factor or 1)
        if item.window_bound and item.state == ItemState.APPROVED.value:
            # The approval was for the old window: record why it reopened, then ask again.
            session.add(
                Decision(
                    release_id=release.id,
                    item_id=item.id,
                    item_version=item.version,
                    kind=DecisionKind.REOPEN.value,
                    user_id=by,
                    role_key=None,
                    reason="cutover window moved",
                    at=now,
                    window_start=start,
                    window_end=end,
                )
            )
            item.state, item.decided_by, item.decided_at = ItemState.PENDING.value, None, None
            item.version += 1
            reopened.append(item.id)
    return Moved(old_start, old_end, moved, skipped, tuple(reopened))


async def cancel_pending(session: AsyncSession, release_id: int, now: datetime) -> int:
    result = await session.execute(
        update(Delivery)
        .where(Delivery.release_id == release_id, Delivery.state == DeliveryState.PENDING.value)
        .values(state=DeliveryState.CANCELLED.value)
    )
    await bump_release_version(session, release_id)
    return int(result.rowcount)  # type: ignore[attr-defined]
