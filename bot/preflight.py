"""Can the app post in a stakeholder channel? Asked when the channel is added and again before sends."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.replies import payload
from messages.team_notices import preflight_problem_message
from storage.announcements import channels_to_recheck, record_check
from storage.queries import load_release_view

if TYPE_CHECKING:  # types only: the SQL lives in storage/
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)


async def check_channel(client: AsyncWebClient, channel_id: str, *, join: bool = True) -> str | None:
    """None when the app can post there, else the problem in Slack's words.

    ``join=False`` for a rehearsal: stakeholders would see the app join their channel for nothing.
    """
    try:
        info = await client.conversations_info(channel=channel_id)
    except SlackApiError as e:
        return str(e.response.get("error") or "unknown_error")
    channel = info.get("channel") or {}
    if channel.get("is_archived"):
        return "is_archived"
    if channel.get("is_member"):
        return None
    if channel.get("is_private"):
        return "not_in_channel"
    if not join:
        return None
    try:
        # chat:write.public would do, but a member can also read the history used to settle lost answers.
        await client.conversations_join(channel=channel_id)
    except SlackApiError as e:
        log.info("could not join %s (%s); posting as a non-member", channel_id, e.response.get("error"))
    return None


async def recheck_before_sends(
    sessions: async_sessionmaker[AsyncSession], client: AsyncWebClient, now: datetime, *, command: str
) -> int:
    """A day before a send, check its channel again; tell the release channel about new problems."""
    async with sessions() as s:
        due = await channels_to_recheck(s, now)
    for row in due:
        problem = await check_channel(client, row.channel_id)
        async with sessions() as s, s.begin():
            changed = await record_check(s, row.id, problem, now)
        if not changed or problem is None:
            continue
        async with sessions() as s:
            release = await load_release_view(s, row.release_id)
        if release is None:
            continue
        try:
            await client.chat_postMessage(
                channel=release.channel_id,
                **payload(preflight_problem_message(release, row.channel_id, problem, command=command)),
            )
        except SlackApiError as e:
            log.warning("could not report preflight problem: %s", e.response.get("error"))
    return len(due)
