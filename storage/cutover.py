"""The cutover's state changes in the database: one guarded transition with its effects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit import iso
from domain.lifecycle import FROM_STATES, TO_STATE, Action
from domain.model import ReleaseState, ReleaseView
from domain.states import Verb, after, from_states
from domain.template import template_of
from storage import audit
from storage.announcements import (
    anchor_to_actual_end,
    announce_now,
    cancel_pending,
    plan_attempt,
    retime_items,
    retire_plan,
    send_now,
    skip_before_change,
)
from storage.models import ChecklistItem, Release, ReleaseEvent
from storage.queries import bump_release_version
from storage.retro import plan_survey, survey_for

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
    row = await session.get(Release, release.id, populate_existing=True)
    assert row is not None
    if action == "start":
        await skip_before_change(session, row)
    elif action == "complete":
        await anchor_to_actual_end(session, row, now)
    if action in REPORTED_AT_ONCE:
        await send_now(session, release.id, REPORTED_AT_ONCE[action], now)
    else:
        # Nothing planned for the new system goes out; every audience hears about the rollback, once.
        await cancel_pending(session, release.id)
        await announce_now(session, release, key=ROLLBACK_KEY, audiences=("all",), purpose=ROLLBACK_PURPOSE, now=now)
    if action == "complete" and await survey_for(session, release.id) is None:
        await plan_survey(session, release.id, now, release.rehearsal_factor)
    return True


@dataclass(frozen=True)
class Replanned:
    old_start: datetime
    old_end: datetime
    attempt: int  # the attempt now planned
    reopened: tuple[int, ...]  # sign-offs that depended on the failed attempt


def _rides_on_the_attempt(item: ChecklistItem) -> bool:
    # Window-bound sign-offs were given for the failed window; go/no-go ones for the failed attempt.
    return item.window_bound or item.blocks_cutover


async def replan(
    session: AsyncSession, release_id: int, start: datetime, end: datetime, *, by: str, now: datetime
) -> Replanned | None:
    """After a rollback: back to planning with a new window and a fresh announcement plan for the next
    attempt. The failed attempt stays in the event log and its announcements stay as history. None when
    the release was no longer rolled back (nothing written)."""
    row = await session.get(Release, release_id, populate_existing=True)
    if row is None:
        return None
    old_start, old_end, failed = row.cutover_start, row.cutover_end, row.attempt
    result = await session.execute(
        update(Release)
        .where(Release.id == release_id, Release.state.in_([s.value for s in from_states(Verb.MOVE)]))
        .values(
            state=after(ReleaseState.ROLLED_BACK, Verb.MOVE).value,
            attempt=failed + 1,
            cutover_start=start,
            cutover_end=end,
            actual_start=None,
            actual_end=None,
            rollback_reason=None,
            override_reason=None,
            override_by=None,
            updated_at=now,
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    await session.refresh(row)
    session.add(
        ReleaseEvent(release_id=release_id, kind="replanned", user_id=by, reason=f"attempt {row.attempt}", at=now)
    )
    await retire_plan(session, release_id, now)
    reopened = await retime_items(
        session,
        row,
        template_of(row.template_key, row.template_snapshot),
        by,
        now,
        reopen=_rides_on_the_attempt,
        why=f"re-planned after attempt {failed} was rolled back",
    )
    window = {
        "from_start": iso(old_start),
        "from_end": iso(old_end),
        "window_start": iso(start),
        "window_end": iso(end),
    }
    await audit.append(session, release_id, "window_moved", by, window | {"attempt": row.attempt}, now)
    await plan_attempt(session, row, now)
    await bump_release_version(session, release_id)
    return Replanned(old_start, old_end, row.attempt, reopened)
