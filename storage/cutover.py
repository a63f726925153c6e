"""The cutover's state changes in the database: one guarded transition with its effects."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.lifecycle import FROM_STATES, TO_STATE, Action
from domain.model import ReleaseView
from storage.announcements import announce_now, cancel_pending, send_now
from storage.models import Release, ReleaseEvent
from storage.queries import bump_release_version
from storage.retro import plan_survey

# The notices that report a step as it happens go out then, not at their planned time.
REPORTED_AT_ONCE = {"start": "ann.started", "complete": "ann.outcome"}
ROLLBACK_KEY = "ann.rollback"
ROLLBACK_PURPOSE = "Rollback notice: the change was reversed; the old system is back"


async def take_step(
    session: AsyncSession,
    release: ReleaseView,
    action: Action,
    *,
    user_id: str,
    reason: str | None,
    override: str | None,
    now: datetime,
) -> bool:
    """Move the release one step; False when its state changed first (nothing written)."""
    values: dict[str, object] = {"state": TO_STATE[action].value, "updated_at": now}
    if action == "start":
        values |= {"actual_start": now, "override_reason": override, "override_by": user_id if override else None}
    elif action == "complete":
        values["actual_end"] = now
    else:
        values |= {"rollback_reason": reason, "actual_end": now}
    # The state guard makes two people clicking at once take the step once.
    result = await session.execute(
        update(Release)
        .where(Release.id == release.id, Release.state.in_([st.value for st in FROM_STATES[action]]))
        .values(**values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await bump_release_version(session, release.id)
    session.add(
        ReleaseEvent(
            release_id=release.id, kind=f"cutover_{action}", user_id=user_id, reason=reason or override, at=now
        )
    )
    if override:
        session.add(
            ReleaseEvent(release_id=release.id, kind="gonogo_override", user_id=user_id, reason=override, at=now)
        )
    if action in REPORTED_AT_ONCE:
        await send_now(session, release.id, REPORTED_AT_ONCE[action], now)
    else:
        # Nothing planned for the new system goes out; every audience hears about the rollback, once.
        await cancel_pending(session, release.id)
        await announce_now(session, release, key=ROLLBACK_KEY, audiences=("all",), purpose=ROLLBACK_PURPOSE, now=now)
    if action == "complete":
        await plan_survey(session, release.id, now, release.rehearsal_factor)
    return True
