"""Checklist writes and look-ups: decisions (idempotent, append-only), reminders, the live messages' rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.model import DecisionKind, ItemState, ReleaseState
from storage.models import ChecklistItem, Decision, Release, ReleaseMessage
from storage.queries import bump_release_version


@dataclass(frozen=True)
class Recorded:
    decision_id: int


@dataclass(frozen=True)
class Stale:
    """The item moved on since the button was drawn; `same` when it was this very decision."""

    same: bool


async def record(
    sessions: async_sessionmaker[AsyncSession],
    *,
    release_id: int,
    item_id: int,
    version: int,
    kind: DecisionKind,
    new_state: ItemState,
    user_id: str,
    role_key: str | None,
    reason: str | None = None,
    for_user: str | None = None,
    approvals: Sequence[str] = (),
) -> Recorded | Stale:
    """Record one decision in one transaction, or say why it was not (the item moved on).

    `approvals` is the gate's quorum count after this decision (empty after anything but an approval);
    `for_user` the role holder a deputy acted for."""
    now = datetime.now(UTC)
    try:
        async with sessions() as session, session.begin():
            # The version guard makes a double click, a retry or a race a no-op.
            result = await session.execute(
                update(ChecklistItem)
                .where(ChecklistItem.id == item_id, ChecklistItem.version == version)
                .values(
                    state=new_state.value,
                    version=ChecklistItem.version + 1,
                    decided_by=None if new_state is ItemState.PENDING else user_id,
                    decided_at=None if new_state is ItemState.PENDING else now,
                    decided_for=None if new_state is ItemState.PENDING else for_user,
                    reason=reason if new_state is ItemState.REJECTED else None,
                    approved_by=list(approvals),
                )
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return Stale(same=await was_same(session, item_id, version, kind, user_id))
            release = await session.get(Release, release_id)
            decision = Decision(
                release_id=release_id,
                item_id=item_id,
                item_version=version,
                kind=kind.value,
                user_id=user_id,
                role_key=role_key,
                reason=reason,
                for_user=for_user,
                at=now,
                window_start=release.cutover_start if release and kind is DecisionKind.APPROVE else None,
                window_end=release.cutover_end if release and kind is DecisionKind.APPROVE else None,
            )
            session.add(decision)
            await bump_release_version(session, release_id)
            await session.flush()
            return Recorded(decision.id)
    except IntegrityError:
        async with sessions() as session:
            return Stale(same=await was_same(session, item_id, version, kind, user_id))


def counts_as_signed(item: ChecklistItem) -> bool:
    """Approved, or a quorum gate with approvals counted so far: what a reopen takes back."""
    return item.state == ItemState.APPROVED.value or (item.state == ItemState.PENDING.value and bool(item.approved_by))


def reopen(session: AsyncSession, release: Release, item: ChecklistItem, *, by: str, why: str, now: datetime) -> None:
    """A sign-off goes back to waiting, the reason on record; approvals counted so far no longer count."""
    session.add(
        Decision(
            release_id=release.id,
            item_id=item.id,
            item_version=item.version,
            kind=DecisionKind.REOPEN.value,
            user_id=by,
            role_key=None,
            reason=why[:1000],
            at=now,
            window_start=release.cutover_start,
            window_end=release.cutover_end,
        )
    )
    item.state, item.decided_by, item.decided_at = ItemState.PENDING.value, None, None
    item.decided_for, item.approved_by = None, []
    item.version += 1


async def was_same(session: AsyncSession, item_id: int, version: int, kind: DecisionKind, user_id: str) -> bool:
    """Whether the decision taken at this item version was this very one (a repeat, not a race lost)."""
    row = (
        await session.execute(select(Decision).where(Decision.item_id == item_id, Decision.item_version == version))
    ).scalar_one_or_none()
    return row is not None and row.kind == kind.value and row.user_id == user_id


@dataclass(frozen=True)
class ClickedItem:
    release_id: int
    version: int  # the item's version now
    repeat: bool  # the decision recorded at the clicked version was this very one


async def clicked_item(
    session: AsyncSession, item_id: int, team_id: str, version: int, kind: DecisionKind, user_id: str
) -> ClickedItem | None:
    """One indexed read per click: where the item is, its version now, and whether the click repeats
    the decision taken at the version its button showed (a double click, a Slack retry)."""
    stmt = (
        select(ChecklistItem.release_id, ChecklistItem.version, Decision.kind, Decision.user_id)
        .join(Release, Release.id == ChecklistItem.release_id)
        .outerjoin(Decision, (Decision.item_id == ChecklistItem.id) & (Decision.item_version == version))
        .where(ChecklistItem.id == item_id)
    )
    if team_id:
        stmt = stmt.where(Release.team_id == team_id)
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        return None
    release_id, current, decided_kind, decided_by = row
    repeat = current != version and decided_kind == kind.value and decided_by == user_id
    return ClickedItem(release_id=release_id, version=current, repeat=repeat)


async def release_of_item(session: AsyncSession, item_id: int, team_id: str) -> int | None:
    """The release an item belongs to, if it is in this workspace ("" for any: a trusted caller)."""
    stmt = select(Release.id).join(ChecklistItem, ChecklistItem.release_id == Release.id)
    stmt = stmt.where(ChecklistItem.id == item_id)
    if team_id:
        stmt = stmt.where(Release.team_id == team_id)
    return (await session.execute(stmt)).scalar_one_or_none()


# --- overdue reminders -----------------------------------------------------------------------------


async def overdue_unreminded(session: AsyncSession, now: datetime, limit: int = 100) -> list[tuple[int, int]]:
    """(item id, release id) of pending post-cutover items past due that nobody has been reminded of."""
    rows = await session.execute(
        select(ChecklistItem.id, ChecklistItem.release_id)
        .join(Release, Release.id == ChecklistItem.release_id)
        .where(
            Release.state.in_([ReleaseState.CUTTING_OVER.value, ReleaseState.COMPLETED.value]),
            ChecklistItem.state == ItemState.PENDING.value,
            ChecklistItem.reminded_at.is_(None),
            ChecklistItem.removed_at.is_(None),
            ChecklistItem.due_at < now,
            ChecklistItem.due_at >= Release.cutover_start,
        )
        .limit(limit)
    )
    return [(item_id, release_id) for item_id, release_id in rows]


async def claim_reminder(session: AsyncSession, item_id: int, now: datetime) -> bool:
    """Whoever marks it first sends it: several processes may look at once."""
    won = await session.execute(
        update(ChecklistItem)
        .where(ChecklistItem.id == item_id, ChecklistItem.reminded_at.is_(None))
        .values(reminded_at=now)
    )
    return won.rowcount == 1  # type: ignore[attr-defined]


# --- the live checklist messages -------------------------------------------------------------------


async def release_messages(session: AsyncSession, release_id: int) -> Sequence[ReleaseMessage]:
    stmt = select(ReleaseMessage).where(ReleaseMessage.release_id == release_id).order_by(ReleaseMessage.id)
    return (await session.execute(stmt)).scalars().all()


async def add_message(
    session: AsyncSession,
    *,
    release_id: int,
    kind: str,
    phase_key: str,
    part: int,
    channel_id: str,
    ts: str,
    thread_ts: str | None,
    version: int,
    content_hash: str,
) -> None:
    session.add(
        ReleaseMessage(
            release_id=release_id,
            kind=kind,
            phase_key=phase_key,
            part=part,
            channel_id=channel_id,
            ts=ts,
            thread_ts=thread_ts,
            rendered_version=version,
            content_hash=content_hash,
        )
    )


async def mark_message(session: AsyncSession, message_id: int, version: int, content_hash: str) -> None:
    await session.execute(
        update(ReleaseMessage)
        .where(ReleaseMessage.id == message_id)
        .values(rendered_version=version, content_hash=content_hash)
    )
