"""The new-release form (opened by `/release new` with no arguments)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext

from bot import releases
from bot.components import Components
from bot.slack.payload import Actor, actor, picked_datetime, selected, text_input
from bot.slack.replies import in_channel
from domain.limits import RELEASE_NAME_MAX, WORKLOAD_MAX
from domain.rehearsal import factor_problem
from domain.template import available_templates, load_template
from domain.timeparse import TimeParseError, parse_duration
from messages import ids


def register(app: AsyncApp, c: Components) -> None:
    async def on_new_release_submit(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        errors, values = validate_new_release(view)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        # The form remembers the channel it was opened from: the release is coordinated there.
        who = actor(context, body)
        who = Actor(who.team_id, who.user_id, str(view.get("private_metadata") or ""))
        c.tasks.spawn(
            releases.create(
                c,
                who,
                name=values["name"],
                workload=values["workload"],
                start_utc=values["start"],
                duration=values["duration"],
                template_key=values["template"],
                reply=in_channel(c.client, who.channel_id, who.user_id),
                rehearsal=values["rehearsal"],
            ),
            context=f"new release (form) by {who.user_id}",
        )

    app.view(ids.NEW_RELEASE_CALLBACK)(on_new_release_submit)


def validate_new_release(view: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    """The form's errors by block (they must travel in the ack), and its values."""
    errors: dict[str, str] = {}
    name = text_input(view, ids.NEW_NAME).strip()
    if not name:
        errors[ids.NEW_NAME] = "Give the release a name."
    elif len(name) > RELEASE_NAME_MAX:
        errors[ids.NEW_NAME] = f"Keep the name under {RELEASE_NAME_MAX} characters."
    elif any(s in name for s in ("<@", "<!", "<#")):
        errors[ids.NEW_NAME] = "Names cannot contain mentions or channel links."
    workload = text_input(view, ids.NEW_WORKLOAD).strip()
    if len(workload) > WORKLOAD_MAX:
        errors[ids.NEW_WORKLOAD] = f"Keep the workload under {WORKLOAD_MAX} characters."
    raw = picked_datetime(view, ids.NEW_CUTOVER)
    start: datetime | None = None
    if raw is None:
        errors[ids.NEW_CUTOVER] = "Pick the date and time the cutover starts."
    else:
        try:
            start = datetime.fromtimestamp(int(str(raw)), UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            errors[ids.NEW_CUTOVER] = "That date and time could not be read; pick it again."
    template = selected(view, ids.NEW_TEMPLATE) or available_templates()[0]
    if template not in available_templates():
        errors[ids.NEW_TEMPLATE] = "Pick one of the listed templates."
    duration: timedelta | None = None
    length = selected(view, ids.NEW_DURATION) or ids.TEMPLATE_LENGTH
    if length == ids.TEMPLATE_LENGTH:
        duration = load_template(template).default_duration if ids.NEW_TEMPLATE not in errors else None
    else:
        try:
            duration = parse_duration(length)
        except TimeParseError:
            errors[ids.NEW_DURATION] = "Pick a window length."
    mode = selected(view, ids.NEW_REHEARSAL) or "0"
    rehearsal = int(mode) if mode.isdigit() else -1
    if rehearsal != 0 and factor_problem(rehearsal):
        errors[ids.NEW_REHEARSAL] = "Pick the real release or one of the listed rehearsal speeds."
    if start is not None and duration is not None and ids.NEW_CUTOVER not in errors:
        if releases.check_window(start, duration):
            errors[ids.NEW_CUTOVER] = "The cutover must start in the future (and within two years)."
    values = {"name": name, "workload": workload, "start": start, "duration": duration, "template": template}
    return errors, values | {"rehearsal": rehearsal or None}
