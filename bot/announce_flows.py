"""After-ack work for stakeholder channels, moving the window and ad-hoc announcements."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError

from bot import announcing
from bot.components import Components
from bot.flows import check_window, manager_refusal, user_time
from bot.grammar import Announce, Move, SetChannel, usage_for
from bot.preflight import check_channel
from bot.replies import ephemeral, payload
from domain.announcements import channels_for
from domain.model import ReleaseView
from domain.rehearsal import compressed_time
from domain.time import utcnow
from messages.announcements import channel_added_message, moved_message
from messages.dates import slack_date
from messages.help import info_message, usage_error_message
from storage.announcements import stakeholder_channels
from storage.models import Release
from storage.queries import load_release_view

log = logging.getLogger(__name__)


async def set_channel(
    c: Components, view: ReleaseView, cmd: SetChannel, *, user_id: str, respond: AsyncRespond
) -> None:
    if refusal := await manager_refusal(c, view, user_id, "set stakeholder channels for"):
        await respond(**ephemeral(refusal))
        return
    problem = await check_channel(c.client, cmd.channel_id, join=not view.rehearsal_factor)
    now = utcnow()
    async with c.sessions() as s, s.begin():
        _new, pending = await announcing.add_channel(s, view.id, cmd.audience, cmd.channel_id, user_id, now, problem)
    await respond(**ephemeral(channel_added_message(view, cmd.audience, cmd.channel_id, problem, pending)))


async def move(c: Components, view: ReleaseView, cmd: Move, *, user_id: str, respond: AsyncRespond) -> None:
    if refusal := await manager_refusal(c, view, user_id, "move the window of"):
        await respond(**ephemeral(refusal))
        return
    if view.rehearsal_factor:
        # Its clock is compressed from the moment it was created; a moved window would not be a rehearsal of
        # the plan any more.
        await respond(
            **ephemeral(
                info_message(
                    f"{view.key} is a rehearsal (×{view.rehearsal_factor}): its window can't be moved. "
                    f"Cancel it with `{c.settings.slash_command} cancel {view.key}` and start a new one."
                )
            )
        )
        return
    resolved = await user_time(c, cmd.cutover, user_id, usage_for("move", c.settings.slash_command), respond)
    if resolved is None:
        return
    start, _tz = resolved
    duration = cmd.duration or (view.cutover_end - view.cutover_start)
    if problem := check_window(start, duration):
        await respond(**ephemeral(usage_error_message(problem, usage_for("move", c.settings.slash_command))))
        return
    async with c.sessions() as s, s.begin():
        row = await s.get(Release, view.id)
        assert row is not None
        moved = await announcing.move_window(s, row, start, start + duration, user_id, utcnow())
    async with c.sessions() as s:
        fresh = await load_release_view(s, view.id)
    assert fresh is not None
    reopened = [i for i in fresh.items if i.id in moved.reopened]
    notice = moved_message(
        fresh, moved.old_start, moved.old_end, fresh.cutover_start, fresh.cutover_end, moved.moved, reopened
    )
    try:
        await c.client.chat_postMessage(channel=view.channel_id, **payload(notice))
    except SlackApiError as e:
        log.warning("could not tell %s about the move: %s", view.channel_id, e.response.get("error"))
    await respond(
        **ephemeral(
            info_message(
                f"Moved {view.key} to {slack_date(fresh.cutover_start)}. {moved.moved} pending announcement deliveries "
                f"moved with it" + (f", {moved.skipped} now in the past were skipped" if moved.skipped else "") + "."
            )
        )
    )
    c.tasks.spawn(c.live.refresh(view.id), context=f"refresh {view.key}")


async def announce(c: Components, view: ReleaseView, cmd: Announce, *, user_id: str, respond: AsyncRespond) -> None:
    usage = usage_for("announce", c.settings.slash_command)
    if refusal := await manager_refusal(c, view, user_id, "announce for"):
        await respond(**ephemeral(refusal))
        return
    resolved = await user_time(c, cmd.at, user_id, usage, respond)
    if resolved is None:
        return
    at, _tz = resolved
    now = utcnow()
    if at <= now:
        await respond(
            **ephemeral(usage_error_message(f"{slack_date(at)} is in the past. Announce at a time from now on.", usage))
        )
        return
    if view.rehearsal_factor:
        # On the rehearsal's clock, posted in its own channel: no stakeholder channel is checked or joined.
        at = compressed_time(at, now, view.rehearsal_factor)
    elif cmd.audience:
        async with c.sessions() as s:
            channels = await stakeholder_channels(s, view.id)
        if not channels_for((cmd.audience,), channels):
            await respond(
                **ephemeral(
                    usage_error_message(
                        f"No channel is set for the `{cmd.audience}` audience of {view.key} yet. Add one with "
                        f"`{c.settings.slash_command} channel {cmd.audience} #channel`, "
                        "or announce to a channel directly.",
                        usage,
                    )
                )
            )
            return
    elif cmd.channel_id and (problem := await check_channel(c.client, cmd.channel_id)):
        await respond(
            **ephemeral(
                usage_error_message(
                    f"I cannot post in <#{cmd.channel_id}> (`{problem}`). Invite the app there (`/invite @Cutover`) "
                    "and try again.",
                    usage,
                )
            )
        )
        return
    async with c.sessions() as s, s.begin():
        ann, count = await announcing.create_adhoc(
            s, view.id, audience=cmd.audience, channel_id=cmd.channel_id, send_at=at, text=cmd.text, by=user_id, now=now
        )
        key = ann.key
    target = f"the `{cmd.audience}` channels" if cmd.audience else f"<#{cmd.channel_id}>"
    listed = f"`{c.settings.slash_command} schedule` lists it."
    if view.rehearsal_factor:
        told = (
            f":test_tube: Scheduled {key} for {slack_date(at)} (the rehearsal's ×{view.rehearsal_factor} clock): "
            f"it posts here, marked REHEARSAL; in the release it would go to {target}. {listed}"
        )
    else:
        reach = f"{count} channel{'s' if count != 1 else ''}"
        told = f"Scheduled {key} for {slack_date(at)} to {target} ({reach}). {listed}"
    await respond(**ephemeral(info_message(told)))
