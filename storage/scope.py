"""Scope changes on a running release: items added, edited or removed, each in one transaction with
its event, the scope-bound sign-offs it reopens and the release version bump.

A removed item keeps its row (and so its decisions) with `removed_at` set; the checklist hides it.
Item numbers are per release and never reused: the next is one more than the highest ever given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import ItemState
from storage.checklist import counts_as_signed, reopen
from storage.models import ChecklistItem, Decision, Release, ReleaseEvent
from storage.queries import bump_release_version

# ReleaseEvent kinds: readable in the audit trail with their reason.
SCOPE_ADDED, SCOPE_EDITED, SCOPE_REMOVED = "scope_added", "scope_edited", "scope_removed"


@dataclass(frozen=True)
class ScopeChanged:
    item_id: int
    number: int
    reason: str  # as recorded in the event: what changed, in words
    reopened: tuple[int, ...]  # the scope-bound sign-offs that went back to waiting


@dataclass(frozen=True)
class NewItem:
    phase_key: str
    phase_title: str
    phase_position: int
    title: str
    responsible: Sequence[str]
    approvers: Sequence[str]
    due_at: datetime


async def removed_item(session: AsyncSession, release_id: int, number: int | None, key: str | None) -> datetime | None:
    """When the item (by number or key) was removed from the release, or None if there is no such removed item."""
    stmt = select(ChecklistItem.removed_at).where(
        ChecklistItem.release_id == release_id, ChecklistItem.removed_at.is_not(None)
    )
    stmt = stmt.where(ChecklistItem.number == number) if number is not None else stmt.where(ChecklistItem.key == key)
    return (await session.execute(stmt.limit(1))).scalar_one_or_none()


async def decision_count(session: AsyncSession, item_id: int) -> int:
    return int(await session.scalar(select(func.count()).select_from(Decision).where(Decision.item_id == item_id)) or 0)


async def add_item(
    session: AsyncSession, release_id: int, new: NewItem, *, by: str, now: datetime, reason: Callable[[int], str]
) -> ScopeChanged:
    """Add an item at the end of its phase; ``reason(number)`` words the change for the audit trail."""
    release = await session.get(Release, release_id, with_for_update=True)
    assert release is not None
    number = (
        int(
            await session.scalar(select(func.max(ChecklistItem.number)).where(ChecklistItem.release_id == release_id))
            or 0
        )
        + 1
    )
    position = await session.scalar(
        select(func.max(ChecklistItem.position)).where(
            ChecklistItem.release_id == release_id, ChecklistItem.phase_key == new.phase_key
        )
    )
    item = ChecklistItem(
        release_id=release_id,
        phase_key=new.phase_key,
        phase_title=new.phase_title,
        phase_position=new.phase_position,
        position=(position if position is not None else -1) + 1,
        # Unique per release, never typed: the number is what people use.
        key=f"added.{number}",
        title=new.title,
        responsible_roles=list(new.responsible),
        approver_roles=list(new.approvers),
        due_at=new.due_at,
        window_bound=False,
        blocks_cutover=False,
        scope_bound=False,
        state=ItemState.PENDING.value,
        version=0,
        number=number,
    )
    session.add(item)
    await session.flush()
    return await _changed(session, release, item, SCOPE_ADDED, reason(number), by, now)


async def edit_item(
    session: AsyncSession,
    release_id: int,
    item_id: int,
    *,
    title: str | None,
    due_at: datetime | None,
    approvers: Sequence[str] | None,
    by: str,
    now: datetime,
    reason: str,
) -> ScopeChanged | None:
    """None when the item is gone (removed meanwhile)."""
    release = await session.get(Release, release_id, with_for_update=True)
    item = await session.get(ChecklistItem, item_id, with_for_update=True)
    if release is None or item is None or item.release_id != release_id or item.removed_at is not None:
        return None
    if title is not None:
        item.title = title
    if due_at is not None:
        item.due_at = due_at
        item.reminded_at = None  # a new due date earns its own overdue reminder
    if approvers is not None:
        item.approver_roles = list(approvers)
    item.version += 1  # buttons drawn before the change are stale
    return await _changed(session, release, item, SCOPE_EDITED, reason, by, now)


async def remove_item(
    session: AsyncSession, release_id: int, item_id: int, *, by: str, now: datetime, reason: str
) -> ScopeChanged | None:
    """Hide the item from the checklist; its row and decisions stay. None when it is already gone."""
    release = await session.get(Release, release_id, with_for_update=True)
    item = await session.get(ChecklistItem, item_id, with_for_update=True)
    if release is None or item is None or item.release_id != release_id or item.removed_at is not None:
        return None
    item.removed_at = now
    item.version += 1
    return await _changed(session, release, item, SCOPE_REMOVED, reason, by, now)


async def _changed(
    session: AsyncSession, release: Release, item: ChecklistItem, kind: str, reason: str, by: str, now: datetime
) -> ScopeChanged:
    session.add(ReleaseEvent(release_id=release.id, kind=kind, user_id=by, reason=reason, at=now))
    reopened = await _reopen_scope_bound(
        session, release, except_id=item.id, why=f"scope changed: {reason}", by=by, now=now
    )
    release.updated_at = now
    await bump_release_version(session, release.id)
    return ScopeChanged(item.id, item.number, reason, reopened)


async def _reopen_scope_bound(
    session: AsyncSession, release: Release, *, except_id: int, why: str, by: str, now: datetime
) -> tuple[int, ...]:
    """Approved sign-offs about the scope go back to waiting, each with the change on record."""
    rows = (
        await session.execute(
            select(ChecklistItem).where(
                ChecklistItem.release_id == release.id,
                ChecklistItem.scope_bound.is_(True),
                ChecklistItem.removed_at.is_(None),
                ChecklistItem.state.in_((ItemState.APPROVED.value, ItemState.PENDING.value)),
                ChecklistItem.id != except_id,
            )
        )
    ).scalars()
    reopened: list[int] = []
    for item in rows:
        if not counts_as_signed(item):
            continue
        reopen(session, release, item, by=by, why=why, now=now)
        reopened.append(item.id)
    return tuple(reopened)
