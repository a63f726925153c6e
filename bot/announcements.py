"""Stakeholder channels, moving the cutover window, and ad-hoc announcements, after the ack.

Sending is the sender's job (bot/sender.py): these only write the plan, which the database keeps.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk.errors import SlackApiError

from bot.access import manager_refusal
from bot.commands.types import Announce, Move, Schedule, SetChannel
from bot.commands.usage import usage_for
from bot.components import Components
from bot.preflight import check_channel
from bot.releases import check_window, user_time
from bot.slack.payload import Actor
from bot.slack.replies import Reply, payload
from domain.announcements import channels_for
from domain.model import ReleaseState, ReleaseView
from domain.rehearsal import compressed_time
from domain.time import utcnow
from messages.common import Rendered
from messages.dates import slack_date
from messages.help import info_message, usage_error_message
from messages.schedule import schedule_message
from messages.stakeholder_notices import announcement_name
from messages.team_notices import channel_added_message, moved_message, replanned_message
from storage import announcements as store
from storage.cutover import replan
from storage.queries import load_release_view

log = logging.getLogger(__name__)


async def show_schedule(c: Components, _who: Actor, release: ReleaseView, _cmd: Schedule) -> Rendered:
    async with c.sessions() as s:
        anns = await store.schedule(s, release.id)
        channels = await store.stakeholder_channels(s, release.id)
    return schedule_message(release, anns, channels, utcnow(), command=c.settings.slash_command)


async def set_channel(c: Components, who: Actor, release: ReleaseView, cmd: SetChannel, reply: Reply) -> None:
    if refusal := await manager_refusal(c.directory, release, who.user_id, "set stakeholder channels for"):
        await reply(refusal)
        return
    problem = await check_channel(c.client, cmd.channel_id, join=not release.rehearsal_factor)
    now = utcnow()
    async with c.sessions() as s, s.begin():
        _new, pending = await store.add_channel(s, release.id, cmd.audience, cmd.channel_id, who.user_id, now, problem)
    await reply(
        channel_added_message(release, cmd.audience, cmd.channel_id, problem, pending, command=c.settings.slash_command)
    )


async def move(c: Components, who: Actor, release: ReleaseView, cmd: Move, reply: Reply) -> None:
    usage = usage_for("move", c.settings.slash_command, today=utcnow())
    if refusal := await manager_refusal(c.directory, release, who.user_id, "move the window of"):
        await reply(refusal)
        return
    if release.rehearsal_factor:
        # Its clock is compressed from the moment it was created; a moved window would not be a rehearsal of
        # the plan any more.
        await reply(
            info_message(
                f"{release.key} is a rehearsal (×{release.rehearsal_factor}): its window can't be moved. "
                f"Cancel it with `{c.settings.slash_command} cancel {release.key}` and start a new one."
            )
        )
        return
    start = await user_time(c, cmd.cutover, who.user_id, usage, reply)
    if start is None:
        return
    duration = cmd.duration or (release.cutover_end - release.cutover_start)
    if problem := check_window(start, duration):
        await reply(usage_error_message(problem, usage))
        return
    if release.state is ReleaseState.ROLLED_BACK:
        await _replan(c, who, release, start, start + duration, reply)
        return
    async with c.sessions() as s, s.begin():
        moved = await store.move_window(s, release.id, start, start + duration, who.user_id, utcnow())
    async with c.sessions() as s:
        fresh = await load_release_view(s, release.id)
    assert fresh is not None
    reopened = [i for i in fresh.items if i.id in moved.reopened]
    notice = moved_message(
        fresh, moved.old_start, moved.old_end, fresh.cutover_start, fresh.cutover_end, moved.moved, reopened
    )
    try:
        await c.client.chat_postMessage(channel=release.channel_id, **payload(notice))
    except SlackApiError as e:
        log.warning("could not tell %s about the move: %s", release.channel_id, e.response.get("error"))
    skipped = f", {moved.skipped} now in the past were skipped" if moved.skipped else ""
    await reply(
        info_message(
            f"Moved {release.key} to {slack_date(fresh.cutover_start)}. "
            f"{moved.moved} pending announcement deliveries moved with it{skipped}."
        )
    )
    c.tasks.spawn(c.live.refresh(release.id), context=f"refresh {release.key}")


async def _replan(
    c: Components, who: Actor, release: ReleaseView, start: datetime, end: datetime, reply: Reply
) -> None:
    """`move` after a rollback: the next attempt, planned from scratch for the new window."""
    async with c.sessions() as s, s.begin():
        done = await replan(s, release.id, start, end, by=who.user_id, now=utcnow())
    if done is None:
        await reply(info_message(f"{release.key} changed just before you; nothing was done."))
        return
    async with c.sessions() as s:
        fresh = await load_release_view(s, release.id)
    assert fresh is not None
    reopened = [i for i in fresh.items if i.id in done.reopened]
    try:
        notice = replanned_message(fresh, done.old_start, done.old_end, reopened)
        await c.client.chat_postMessage(channel=release.channel_id, **payload(notice))
    except SlackApiError as e:
        log.warning("could not tell %s about the re-plan: %s", release.channel_id, e.response.get("error"))
    await reply(
        info_message(
            f"Re-planned {release.key}: attempt {done.attempt} starts {slack_date(fresh.cutover_start)}. "
            f"{len(reopened)} sign-offs reopened; the announcement plan was made again."
        )
    )
    c.tasks.spawn(c.live.refresh(release.id), context=f"refresh {release.key}")


async def announce(c: Components, who: Actor, release: ReleaseView, cmd: Announce, reply: Reply) -> None:
    command = c.settings.slash_command
    usage = usage_for("announce", command, today=utcnow())
    if refusal := await manager_refusal(c.directory, release, who.user_id, "announce for"):
        await reply(refusal)
        return
    at = await user_time(c, cmd.at, who.user_id, usage, reply)
    if at is None:
        return
    now = utcnow()
    if at <= now:
        await reply(usage_error_message(f"{slack_date(at)} is in the past. Announce at a time from now on.", usage))
        return
    if release.rehearsal_factor:
        # On the rehearsal's clock, posted in its own channel: no stakeholder channel is checked or joined.
        at = compressed_time(at, now, release.rehearsal_factor)
    elif cmd.audience:
        async with c.sessions() as s:
            channels = await store.stakeholder_channels(s, release.id)
        if not channels_for((cmd.audience,), channels):
            await reply(
                usage_error_message(
                    f"No channel is set for the `{cmd.audience}` audience of {release.key} yet. Add one with "
                    f"`{command} channel {cmd.audience} #channel`, or announce to a channel directly.",
                    usage,
                )
            )
            return
    elif cmd.channel_id and (problem := await check_channel(c.client, cmd.channel_id)):
        await reply(
            usage_error_message(
                f"I cannot post in <#{cmd.channel_id}> (`{problem}`). Invite the app there (`/invite @Cutover`) "
                "and try again.",
                usage,
            )
        )
        return
    async with c.sessions() as s, s.begin():
        ann, count = await store.create_adhoc(
            s,
            release.id,
            audience=cmd.audience,
            channel_id=cmd.channel_id,
            send_at=at,
            text=cmd.text,
            by=who.user_id,
            now=now,
        )
        name = announcement_name(ann.key, adhoc_id=ann.id)
    target = f"the `{cmd.audience}` channels" if cmd.audience else f"<#{cmd.channel_id}>"
    listed = f"`{command} schedule` lists it."
    if release.rehearsal_factor:
        told = (
            f":test_tube: Scheduled {name} for {slack_date(at)} (the rehearsal's ×{release.rehearsal_factor} clock): "
            f"it posts here, marked REHEARSAL; in the release it would go to {target}. {listed}"
        )
    else:
        reach = f"{count} channel{'s' if count != 1 else ''}"
        told = f"Scheduled {name} for {slack_date(at)} to {target} ({reach}). {listed}"
    await reply(info_message(told))
