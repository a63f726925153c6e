"""Work that runs after Slack has its acknowledgement: Web API calls, writes, live updates."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError

from bot import releases
from bot.access import roles_for
from bot.announcing import cancel_pending
from bot.components import Components
from bot.grammar import Assign, NewRelease, Unassign, usage_for
from bot.replies import ephemeral, payload
from domain.model import ReleaseView, Subject
from domain.policy import may_manage
from domain.rehearsal import rehearsal_window
from domain.roles import PROJECT_MANAGER, role_name
from domain.template import available_templates, load_template
from domain.time import utcnow
from domain.timeparse import ParsedDateTime, TimeParseError, to_utc
from messages.common import Rendered, escape
from messages.dates import slack_date
from messages.help import info_message, release_created_message, usage_error_message
from messages.modals import new_release_modal

log = logging.getLogger(__name__)

MAX_LEAD = timedelta(days=730)

# Slack errors that mean the app cannot post in the channel, with what to do about it.
POST_FIXES = {
    "not_in_channel": "Invite the app to this private channel (`/invite @Cutover`) and try again.",
    "channel_not_found": "The app cannot see this channel. Invite it (`/invite @Cutover`) and try again.",
    "is_archived": "This channel is archived. Create the release in an active channel.",
    "restricted_action": "A workspace policy stops the app from posting here.",
}


async def open_new_release_modal(c: Components, trigger_id: str, channel_id: str, respond: AsyncRespond) -> None:
    templates = [(k, load_template(k).name) for k in available_templates()]
    view = new_release_modal(templates, channel_id)
    try:
        await c.client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as e:
        await respond(
            **ephemeral(
                info_message(
                    f":warning: Slack would not open the form ({e.response.get('error')}). "
                    "Try again, or use the text form: "
                    f"`{c.settings.slash_command} new <name> --cutover 2026-12-05 22:00`."
                )
            )
        )


async def user_time(
    c: Components, parsed: ParsedDateTime, user_id: str, usage: str, respond: AsyncRespond
) -> tuple[datetime, str] | None:
    """A typed time as UTC, read in the user's Slack zone unless it carries an offset; None if it
    cannot be (the user has been told why)."""
    tz = "UTC" if parsed.has_offset else await c.directory.user_tz(user_id)
    try:
        return to_utc(parsed, tz), tz
    except TimeParseError as e:
        await respond(**ephemeral(usage_error_message(str(e), usage)))
        return None


async def create_from_text(
    c: Components, cmd: NewRelease, *, team_id: str, channel_id: str, user_id: str, respond: AsyncRespond
) -> None:
    template = load_template(cmd.template or available_templates()[0])
    duration = cmd.duration or template.default_duration
    if cmd.cutover is None:
        start: datetime | None = None
        tz = None
    else:
        resolved = await user_time(c, cmd.cutover, user_id, _usage_new(c), respond)
        if resolved is None:
            return
        start, tz = resolved
    await create(
        c,
        team_id=team_id,
        channel_id=channel_id,
        user_id=user_id,
        name=cmd.name,
        workload="",
        start_utc=start,
        duration=duration,
        tz=tz,
        template_key=template.key,
        respond=respond,
        rehearsal=cmd.rehearsal,
    )


def _usage_new(c: Components) -> str:
    return usage_for("new", c.settings.slash_command)


def check_window(start_utc: datetime, duration: timedelta) -> str | None:
    """Why a cutover window cannot be used, or None."""
    now = utcnow()
    if start_utc <= now:
        return f"The cutover start {slack_date(start_utc)} is in the past. Pick a time in the future."
    if start_utc - now > MAX_LEAD:
        return "The cutover start is more than two years away. Check the year."
    if duration <= timedelta(0):
        return "The cutover window must be longer than zero."
    return None


async def create(
    c: Components,
    *,
    team_id: str,
    channel_id: str,
    user_id: str,
    name: str,
    workload: str,
    start_utc: datetime | None,
    duration: timedelta,
    tz: str | None,
    template_key: str,
    respond: AsyncRespond | None,
    rehearsal: int | None = None,
) -> None:
    """Create a release; ``start_utc`` may be None only for a rehearsal, whose clock starts now."""
    if tz is None:
        tz = await c.directory.user_tz(user_id)
    template = load_template(template_key)
    planned = start_utc
    if rehearsal is not None:
        problem = None if duration > timedelta(0) else "The cutover window must be longer than zero."
        start_utc, end_utc = rehearsal_window(template, utcnow(), duration, rehearsal)
    elif start_utc is None:
        problem = "`new` needs `--cutover <datetime>`, when the cutover window starts."
    else:
        problem = check_window(start_utc, duration)
        end_utc = start_utc + duration
    if problem or start_utc is None:
        await _tell(c, respond, channel_id, user_id, usage_error_message(problem or "", _usage_new(c)))
        return
    release = await releases.create_release(
        c.sessions,
        releases.NewReleaseSpec(
            team_id=team_id,
            channel_id=channel_id,
            created_by=user_id,
            name=name,
            workload=workload,
            cutover_start=start_utc,
            cutover_end=end_utc,
            timezone=tz,
            template=template,
            rehearsal_factor=rehearsal,
        ),
    )
    try:
        await c.live.publish(release.id)
    except SlackApiError as e:
        code = str(e.response.get("error"))
        await releases.delete_release(c.sessions, release.id)
        fix = POST_FIXES.get(code, "Try again in a moment.")
        await _tell(
            c,
            respond,
            channel_id,
            user_id,
            info_message(
                f":warning: I could not post the checklist here (`{code}`), so the release was not created. {fix}"
            ),
        )
        return
    await _tell(
        c,
        respond,
        channel_id,
        user_id,
        release_created_message(release.key, name, start_utc, end_utc, planned, rehearsal, c.settings.slash_command),
    )


async def _tell(c: Components, respond: AsyncRespond | None, channel_id: str, user_id: str, r: Rendered) -> None:
    if respond is not None:
        await respond(**ephemeral(r))
        return
    try:
        await c.client.chat_postEphemeral(channel=channel_id, user=user_id, **payload(r))
    except SlackApiError as e:
        log.warning("could not tell %s in %s: %s", user_id, channel_id, e.response.get("error"))


async def _may_manage(c: Components, view: ReleaseView, user_id: str) -> bool:
    held = await roles_for(c.directory, view, user_id, (PROJECT_MANAGER,))
    return may_manage(view, user_id, held)


async def manager_refusal(c: Components, view: ReleaseView, user_id: str, doing: str) -> Rendered | None:
    """None when the user manages the release; else the ephemeral explanation."""
    if await _may_manage(c, view, user_id):
        return None
    return info_message(
        f":no_entry: Only {view.key}'s creator or a Project Manager may {doing} it. "
        f"Project Managers: {_holders(view, PROJECT_MANAGER)}."
    )


def _mentions(subjects: list[Subject]) -> str:
    return ", ".join(s.mention for s in subjects)


async def change_roles(
    c: Components, view: ReleaseView, cmd: Assign | Unassign, *, user_id: str, respond: AsyncRespond
) -> None:
    verb = "assign" if isinstance(cmd, Assign) else "unassign"
    if refusal := await manager_refusal(c, view, user_id, f"{verb} roles on"):
        await respond(**ephemeral(refusal))
        return
    async with c.sessions() as session, session.begin():
        if isinstance(cmd, Assign):
            changed = await releases.assign(session, view.id, cmd.role, cmd.subjects, user_id)
        else:
            changed = await releases.unassign(session, view.id, cmd.role, cmd.subjects)
    role = role_name(cmd.role.key)
    if not changed:
        msg = (
            f"Nothing changed: {_mentions(list(cmd.subjects))} already "
            f"{'hold' if verb == 'assign' else 'do not hold'} {role} on {view.key}."
        )
        await respond(**ephemeral(info_message(msg)))
        return
    done = "now" if verb == "assign" else "no longer"
    notice = (
        f"<@{user_id}>: {_mentions(changed)} {done} {'hold' if len(changed) > 1 else 'holds'} *{role}* on {view.key}."
    )
    await respond(**ephemeral(info_message(f"Done. {notice}")))
    await _post_notice(c, view, notice)
    c.tasks.spawn(c.live.refresh(view.id), context=f"refresh {view.key}")


def _holders(view: ReleaseView, role_key: str) -> str:
    holders = view.holders(role_key)
    return ", ".join(s.mention for s in holders) if holders else "nobody yet"


async def _post_notice(c: Components, view: ReleaseView, text: str) -> None:
    try:
        await c.client.chat_postMessage(channel=view.channel_id, text=text)
    except SlackApiError as e:
        log.warning("notice to %s failed: %s", view.channel_id, e.response.get("error"))


async def cancel_release(c: Components, view: ReleaseView, *, user_id: str, respond: AsyncRespond) -> None:
    if refusal := await manager_refusal(c, view, user_id, "cancel"):
        await respond(**ephemeral(refusal))
        return
    async with c.sessions() as session, session.begin():
        changed = await releases.cancel(session, view.id)
        stopped = await cancel_pending(session, view.id, utcnow()) if changed else 0
    if not changed:
        await respond(
            **ephemeral(info_message(f"{view.key} is {view.state.value.replace('_', ' ')}; nothing to cancel."))
        )
        return
    extra = f" {stopped} pending announcement deliveries were cancelled." if stopped else ""
    await respond(**ephemeral(info_message(f"Cancelled {view.key}.{extra}")))
    await _post_notice(c, view, f"<@{user_id}> cancelled *{view.key}* “{escape(view.name)}”. Its checklist is closed.")
    c.tasks.spawn(c.live.refresh(view.id), context=f"refresh {view.key}")
