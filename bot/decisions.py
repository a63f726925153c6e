"""Recording a decision on a checklist item: idempotent, append-only, one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.model import DecisionKind, ItemState
from storage.models import ChecklistItem, Decision, Release
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
) -> Recorded | Stale:
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
                    reason=reason if new_state is ItemState.REJECTED else None,
                )
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return Stale(same=await _was_same(session, item_id, version, kind, user_id))
            release = await session.get(Release, release_id)
            decision = Decision(
                release_id=release_id,
                item_id=item_id,
                item_version=version,
                kind=kind.value,
                user_id=user_id,
                role_key=role_key,
                reason=reason,
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
            return Stale(same=await _was_same(session, item_id, version, kind, user_id))


async def _was_same(session: AsyncSession, item_id: int, version: int, kind: DecisionKind, user_id: str) -> bool:
    row = (
        await session.execute(select(Decision).where(Decision.item_id == item_id, Decision.item_version == version))
    ).scalar_one_or_none()
    return row is not None and row.kind == kind.value and row.user_id == user_id
