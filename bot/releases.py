"""Releases: finding the one a command means, creating one (text or form), roles, cancelling.

Each function runs after Slack has its acknowledgement; writes go through storage/ in one
transaction, then the channel and the live checklist are told.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.access import manager_refusal
from bot.commands.types import Assign, Cancel, NewModal, NewRelease, SetDeputy, Unassign
from bot.commands.usage import usage_for
from bot.components import Components
from bot.slack.payload import Actor
from bot.slack.replies import Reply
from domain.model import ReleaseView, Subject
from domain.rehearsal import rehearsal_window
from domain.roles import PROJECT_MANAGER, UnknownRole, resolve_role, role_name
from domain.template import Template, available_templates, load_template
from domain.time import utcnow
from domain.timeparse import ParsedDateTime, TimeParseError, to_utc
from messages.common import escape
from messages.dates import duration_text, slack_date
from messages.help import info_message, release_created_message, usage_error_message
from messages.modals import new_release_modal
from storage import announcements as announcement_store
from storage import releases as store
from storage.queries import current_release_ids_in_channel, find_release_id, release_keys

if TYPE_CHECKING:  # types only: the SQL lives in storage/
    from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

MAX_LEAD = timedelta(days=730)

# Slack errors that mean the app cannot post in the channel, with what to do about it.
POST_FIXES = {
    "not_in_channel": "Invite the app to this private channel (`/invite @Cutover`) and try again.",
    "channel_not_found": "The app cannot see this channel. Invite it (`/invite @Cutover`) and try again.",
    "is_archived": "This channel is archived. Create the release in an active channel.",
    "restricted_action": "A workspace policy stops the app from posting here.",
}


class ReleaseNotFound(Exception):
    """Phrased for the person who typed the command."""


async def resolve_release(session: AsyncSession, who: Actor, ref: str | None, command: str) -> int:
    """The id of `REL-n`, or of the one current release of the person's channel when no key is given."""
    if ref is not None:
        found = await find_release_id(session, who.team_id, int(ref.split("-", 1)[1]))
        if found is None:
            raise ReleaseNotFound(f"There is no {ref} in this workspace. `{command} list` shows the current ones.")
        return found
    ids = await current_release_ids_in_channel(session, who.team_id, who.channel_id)
    if not ids:
        raise ReleaseNotFound(
            "There is no current release in this channel. Name one (e.g. `REL-3`), "
            f"see `{command} list`, or start one here with `{command} new`."
        )
    if len(ids) > 1:
        keys = ", ".join(await release_keys(session, ids))
        raise ReleaseNotFound(f"Several releases are current in this channel ({keys}); name one.")
    return ids[0]


async def user_time(c: Components, parsed: ParsedDateTime, user_id: str, usage: str, reply: Reply) -> datetime | None:
    """A typed time as UTC, read in the person's Slack zone unless it carries an offset; None if it
    cannot be (the person has been told why: never a guessed zone)."""
    tz = None if parsed.has_offset else await c.directory.user_tz(user_id)
    try:
        return to_utc(parsed, tz)
    except TimeParseError as e:
        await reply(usage_error_message(str(e), usage))
        return None


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


def _window(template: Template) -> str:
    return duration_text(template.default_duration, smallest=timedelta(minutes=1))


async def open_new_release_form(c: Components, who: Actor, _release: None, _cmd: NewModal, reply: Reply) -> None:
    # The default first: the form preselects the first template.
    keys = sorted(available_templates(), key=lambda k: k != c.settings.default_template)
    # Each with the window it was written for: the form's length defaults to the chosen template's.
    templates = [(k, f"{t.name} ({_window(t)} window)") for k in keys if (t := load_template(k))]
    try:
        await c.client.views_open(trigger_id=who.trigger_id, view=new_release_modal(templates, who.channel_id))
    except SlackApiError as e:
        await reply(
            info_message(
                f":warning: Slack would not open the form ({e.response.get('error')}). "
                f"Try again, or use the text form: `{c.settings.slash_command} new <name> --cutover <datetime>`."
            )
        )


async def create_from_text(c: Components, who: Actor, _release: None, cmd: NewRelease, reply: Reply) -> None:
    usage = usage_for("new", c.settings.slash_command, today=utcnow())
    if not who.channel_id.startswith(("C", "G")):
        await reply(
            usage_error_message(
                "Run this in the channel where the release will be coordinated, not in a direct message.", usage
            )
        )
        return
    template = load_template(cmd.template or c.settings.default_template)
    start: datetime | None = None
    if cmd.cutover is not None:
        start = await user_time(c, cmd.cutover, who.user_id, usage, reply)
        if start is None:
            return
    await create(
        c,
        who,
        name=cmd.name,
        workload="",
        start_utc=start,
        duration=cmd.duration or template.default_duration,
        template_key=template.key,
        reply=reply,
        rehearsal=cmd.rehearsal,
    )


async def create(
    c: Components,
    who: Actor,
    *,
    name: str,
    workload: str,
    start_utc: datetime | None,
    duration: timedelta,
    template_key: str,
    reply: Reply,
    rehearsal: int | None = None,
) -> None:
    """Create a release; ``start_utc`` may be None only for a rehearsal, whose clock starts now."""
    template = load_template(template_key)
    planned = start_utc
    end_utc: datetime | None = None
    if rehearsal is not None:
        problem = None if duration > timedelta(0) else "The cutover window must be longer than zero."
        start_utc, end_utc = rehearsal_window(template, utcnow(), duration, rehearsal)
    elif start_utc is None:
        problem = "`new` needs `--cutover <datetime>`, when the cutover window starts."
    else:
        problem = check_window(start_utc, duration)
        end_utc = start_utc + duration
    if problem or start_utc is None or end_utc is None:
        await reply(usage_error_message(problem or "", usage_for("new", c.settings.slash_command, today=utcnow())))
        return
    release = await store.create_release(
        c.sessions,
        store.NewReleaseSpec(
            team_id=who.team_id,
            channel_id=who.channel_id,
            created_by=who.user_id,
            name=name,
            workload=workload,
            cutover_start=start_utc,
            cutover_end=end_utc,
            # For reference only (times are stored in UTC and shown in each reader's zone).
            timezone=await c.directory.user_tz(who.user_id) or "UTC",
            template=template,
            rehearsal_factor=rehearsal,
        ),
    )
    try:
        await c.live.publish(release.id)
    except SlackApiError as e:
        code = str(e.response.get("error"))
        await store.delete_release(c.sessions, release.id)
        fix = POST_FIXES.get(code, "Try again in a moment.")
        await reply(
            info_message(
                f":warning: I could not post the checklist here (`{code}`), so the release was not created. {fix}"
            )
        )
        return
    await reply(
        release_created_message(
            release.key,
            name,
            start_utc,
            end_utc,
            planned,
            rehearsal,
            command=c.settings.slash_command,
            manager=role_name(PROJECT_MANAGER, template.roles),
        )
    )


def role_problem(release: ReleaseView, cmd: Assign | Unassign | SetDeputy) -> str | None:
    """Why the role word names none of this release's roles (answered in the ack), or None."""
    try:
        resolve_role(cmd.role, release.roles)
    except UnknownRole as e:
        # The roles of this release's template, not of any other.
        return f"{UnknownRole(_show_word(cmd.role), e.candidates, release.roles)} ({release.key})"
    return None


def _show_word(text: str) -> str:
    # The word is user text echoed in a code span: keep it short and free of backticks.
    return text.replace("`", "'")[:40]


def _mentions(subjects: list[Subject]) -> str:
    return ", ".join(s.mention for s in subjects)


async def change_roles(c: Components, who: Actor, release: ReleaseView, cmd: Assign | Unassign, reply: Reply) -> None:
    verb = "assign" if isinstance(cmd, Assign) else "unassign"
    if refusal := await manager_refusal(c.directory, release, who.user_id, f"{verb} roles on"):
        await reply(refusal)
        return
    if problem := role_problem(release, cmd):
        await reply(usage_error_message(problem, usage_for(verb, c.settings.slash_command, today=utcnow())))
        return
    resolved = resolve_role(cmd.role, release.roles)
    async with c.sessions() as session, session.begin():
        if isinstance(cmd, Assign):
            changed = await store.assign(session, release.id, resolved, cmd.subjects, who.user_id)
        else:
            changed = await store.unassign(session, release.id, resolved, cmd.subjects, who.user_id)
    role = resolved.name

    def holds(subjects: list[Subject]) -> str:
        one = len(subjects) == 1
        if verb == "assign":
            return "holds" if one else "hold"
        return "does not hold" if one else "do not hold"

    if not changed:
        asked = list(cmd.subjects)
        await reply(
            info_message(f"Nothing changed: {_mentions(asked)} already {holds(asked)} {role} on {release.key}.")
        )
        return
    done = "now" if verb == "assign" else "no longer"
    notice = (
        f"<@{who.user_id}>: {_mentions(changed)} {done} {'hold' if len(changed) > 1 else 'holds'} "
        f"*{role}* on {release.key}."
    )
    # One post per command, in the release channel, whoever it named. The person who typed it hears
    # privately only what that post does not tell them.
    if not await post_notice(c, release, notice):
        await reply(info_message(f"Done. {notice}"))
    else:
        extra = []
        if who.channel_id != release.channel_id:
            extra.append(f"Done: posted in <#{release.channel_id}>.")
        unchanged = [s for s in cmd.subjects if s not in changed]
        if unchanged:
            extra.append(f"Unchanged: {_mentions(unchanged)} already {holds(unchanged)} it.")
        if extra:
            await reply(info_message(" ".join(extra)))
    c.tasks.spawn(c.live.refresh(release.id), context=f"refresh {release.key}")
    c.touch_homes(release)  # the checklist does not show holders: their Homes are told directly


async def post_notice(c: Components, release: ReleaseView, text: str) -> bool:
    """A plain line in the release channel for everyone on the release; False when it could not be posted."""
    try:
        await c.client.chat_postMessage(channel=release.channel_id, text=text)
    except SlackApiError as e:
        log.warning("notice to %s failed: %s", release.channel_id, e.response.get("error"))
        return False
    return True


async def cancel_release(c: Components, who: Actor, release: ReleaseView, _cmd: Cancel, reply: Reply) -> None:
    if refusal := await manager_refusal(c.directory, release, who.user_id, "cancel"):
        await reply(refusal)
        return
    async with c.sessions() as session, session.begin():
        changed = await store.cancel(session, release.id, who.user_id)
        stopped = await announcement_store.cancel_pending(session, release.id) if changed else 0
    if not changed:
        await reply(info_message(f"{release.key} is {release.state.value.replace('_', ' ')}; nothing to cancel."))
        return
    extra = f" {stopped} pending announcement deliveries were cancelled." if stopped else ""
    await reply(info_message(f"Cancelled {release.key}.{extra}"))
    await post_notice(
        c, release, f"<@{who.user_id}> cancelled *{release.key}* “{escape(release.name)}”. Its checklist is closed."
    )
    c.tasks.spawn(c.live.refresh(release.id), context=f"refresh {release.key}")
