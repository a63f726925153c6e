"""Deputies: who stands in for a role on a release, and until when; each change on the release's event log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import DeputyRow, ReleaseEvent
from storage.queries import bump_release_version


async def set_deputy(
    sessions: async_sessionmaker[AsyncSession],
    *,
    release_id: int,
    role_key: str,
    user_id: str,
    for_user: str | None,
    until: datetime | None,
    by: str,
    now: datetime,
) -> bool:
    """Set (or renew) a deputy in one transaction; True when they were not one for this role before."""
    async with sessions() as session, session.begin():
        row = (
            await session.execute(
                select(DeputyRow).where(
                    DeputyRow.release_id == release_id, DeputyRow.role_key == role_key, DeputyRow.user_id == user_id
                )
            )
        ).scalar_one_or_none()
        new = row is None
        if row is None:
            session.add(
                DeputyRow(
                    release_id=release_id,
                    role_key=role_key,
                    user_id=user_id,
                    for_user=for_user,
                    until=until,
                    set_by=by,
                    set_at=now,
                )
            )
        else:
            row.for_user, row.until, row.set_by, row.set_at = for_user, until, by, now
        until_text = until.isoformat() if until else "until removed"
        whose = f" for {for_user}" if for_user else ""
        session.add(
            ReleaseEvent(
                release_id=release_id,
                kind="deputy_set",
                user_id=by,
                reason=f"{user_id} deputy {role_key}{whose} until {until_text}",
                at=now,
            )
        )
        await bump_release_version(session, release_id)
    return new


async def record_expired_use(
    sessions: async_sessionmaker[AsyncSession],
    *,
    release_id: int,
    user_id: str,
    role_key: str,
    item_key: str,
    now: datetime,
) -> None:
    """An expired deputy tried to decide: refused, and kept on record."""
    async with sessions() as session, session.begin():
        session.add(
            ReleaseEvent(
                release_id=release_id,
                kind="deputy_expired",
                user_id=user_id,
                reason=f"refused as deputy {role_key} on {item_key}: the deputy standing had ended",
                at=now,
            )
        )
