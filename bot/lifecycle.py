"""Starting, completing and rolling back the cutover: the go/no-go check, the state change and its effects."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.access import roles_for
from bot.announcing import materialize, rehearsal_target
from bot.components import Components
from bot.replies import payload
from domain.announcements import AnnouncementKind, DeliveryState
from domain.lifecycle import (
    ALLOWED_ROLES,
    FROM_STATES,
    OVERRIDE_ROLES,
    TO_STATE,
    Action,
    missing_for_complete,
    missing_for_start,
    wrong_state,
)
from domain.model import ReleaseView
from domain.rehearsal import scaled
from domain.retro import SurveyState
from domain.time import utcnow
from messages.common import Rendered
from messages.help import info_message, refusal_message
from messages.lifecycle import LifecycleAction, complete_refusal_message, gonogo_refusal_message, lifecycle_notice
from storage.announcements import stakeholder_channels
from storage.models import Announcement, Delivery, Release, ReleaseEvent, Survey
from storage.queries import load_release_view

log = logging.getLogger(__name__)

Tell = Callable[[Rendered], Awaitable[None]]

SURVEY_OPENS_AFTER = timedelta(days=1)  # CAF: learn while it is fresh, after the dust settles
SURVEY_OPEN_FOR = timedelta(days=7)
ROLLBACK_KEY = "ann.rollback"
DONE: dict[str, LifecycleAction] = {"start": "started", "complete": "completed", "rollback": "rolled_back"}
CONFIRMATIONS = {
    "start": "The cutover of {key} has started; the channel has been told.",
    "complete": "The cutover of {key} is complete; the retrospective survey opens in a day.",
    "rollback": "{key} is rolled back; pending announcements were cancelled and every audience is told.",
}
ACTION_WORDS = {"start": "start the cutover of", "complete": "complete the cutover of", "rollback": "roll back"}


async def transition(
    c: Components,
    view: ReleaseView,
    action: Action,
    user_id: str,
    tell: Tell,
    *,
    reason: str | None = None,
    override: str | None = None,
) -> bool:
    """Check and take one lifecycle step. Returns True when it happened."""
    if problem := wrong_state(view, action):
        await tell(info_message(f":no_entry: {problem}"))
        return False
    held = await roles_for(c.directory, view, user_id, ALLOWED_ROLES[action] + OVERRIDE_ROLES)
    allowed = user_id == view.created_by or bool(held & set(ALLOWED_ROLES[action]))
    if not allowed:
        await tell(
            refusal_message(ACTION_WORDS[action], view.key, [(r, view.holders(r)) for r in ALLOWED_ROLES[action]])
        )
        return False
    command = c.settings.slash_command
    if action == "start":
        missing = missing_for_start(view)
        if missing and not override:
            await tell(gonogo_refusal_message(view, missing, command))
            return False
        if override and not (user_id == view.created_by or held & set(OVERRIDE_ROLES)):
            await tell(info_message(":no_entry: Only a Project Manager may override the go/no-go."))
            return False
        if not missing:
            override = None  # nothing to override
    if action == "complete" and (missing := missing_for_complete(view)):
        await tell(complete_refusal_message(view, missing, command))
        return False
    now = utcnow()
    async with c.sessions() as s, s.begin():
        values: dict[str, object] = {"state": TO_STATE[action].value, "updated_at": now, "version": Release.version + 1}
        if action == "start":
            values |= {"actual_start": now, "override_reason": override, "override_by": user_id if override else None}
        elif action == "complete":
            values["actual_end"] = now
        else:
            values |= {"rollback_reason": reason, "actual_end": now}
        # The state guard makes two people clicking at once take the step once.
        result = await s.execute(
            update(Release)
            .where(Release.id == view.id, Release.state.in_([st.value for st in FROM_STATES[action]]))
            .values(**values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            await tell(info_message(f"{view.key} changed just before you; nothing was done. Check `{command} status`."))
            return False
        s.add(
            ReleaseEvent(
                release_id=view.id, kind=f"cutover_{action}", user_id=user_id, reason=reason or override, at=now
            )
        )
        if override:
            s.add(ReleaseEvent(release_id=view.id, kind="gonogo_override", user_id=user_id, reason=override, at=now))
        await _announcement_effects(s, view, action, now)
        if action == "complete":
            s.add(
                Survey(
                    release_id=view.id,
                    state=SurveyState.SCHEDULED.value,
                    anonymous=True,
                    salt=secrets.token_hex(16),
                    opens_at=now + scaled(SURVEY_OPENS_AFTER, view.rehearsal_factor),
                    closes_at=now + scaled(SURVEY_OPENS_AFTER + SURVEY_OPEN_FOR, view.rehearsal_factor),
                    invited=0,
                )
            )
    async with c.sessions() as s:
        fresh = await load_release_view(s, view.id)
    assert fresh is not None
    done: LifecycleAction = DONE[action]
    try:
        await c.client.chat_postMessage(
            channel=view.channel_id, **payload(lifecycle_notice(fresh, done, user_id, reason, override, now))
        )  # type: ignore[arg-type]
    except SlackApiError as e:
        log.warning("could not post the %s notice of %s: %s", action, view.key, e.response.get("error"))
    c.tasks.spawn(c.live.refresh(view.id), context=f"refresh {view.key}")
    await tell(info_message(CONFIRMATIONS[action].format(key=view.key)))
    return True


async def _announcement_effects(s: AsyncSession, view: ReleaseView, action: Action, now: datetime) -> None:
    if action in ("start", "complete"):
        # The "started" / "outcome" notices go out now, not at the planned time.
        key = "ann.started" if action == "start" else "ann.outcome"
        ids = select(Announcement.id).where(Announcement.release_id == view.id, Announcement.key == key)
        await s.execute(
            update(Delivery)
            .where(Delivery.announcement_id.in_(ids), Delivery.state == DeliveryState.PENDING.value)
            .values(due_at=now)
        )
        return
    # Rollback: nothing planned for the new system goes out; every audience hears about the rollback, once.
    await s.execute(
        update(Delivery)
        .where(Delivery.release_id == view.id, Delivery.state == DeliveryState.PENDING.value)
        .values(state=DeliveryState.CANCELLED.value)
    )
    ann = Announcement(
        release_id=view.id,
        key=ROLLBACK_KEY,
        kind=AnnouncementKind.TEMPLATE.value,
        audiences=["all"],
        purpose="Rollback notice: the change was reversed; the old system is back",
        send_at=now,
        created_at=now,
        target_channel=rehearsal_target(view),
    )
    s.add(ann)
    await s.flush()
    await materialize(s, ann, await stakeholder_channels(s, view.id), now)
