"""Can the app post in a stakeholder channel? Asked when the channel is added and before sends."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.replies import payload
from domain.announcements import DeliveryState
from messages.announcements import preflight_problem_message
from storage.models import Delivery, StakeholderChannelRow
from storage.queries import load_release_view

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
    sessions: async_sessionmaker[AsyncSession], client: AsyncWebClient, now: datetime
) -> int:
    """A day before a send, check its channel again; tell the release channel about new problems."""
    soon = now + timedelta(days=1)
    async with sessions() as s:
        due = (
            (
                await s.execute(
                    select(StakeholderChannelRow)
                    .join(
                        Delivery,
                        (Delivery.release_id == StakeholderChannelRow.release_id)
                        & (Delivery.channel_id == StakeholderChannelRow.channel_id),
                    )
                    .where(
                        Delivery.state == DeliveryState.PENDING.value,
                        Delivery.due_at <= soon,
                        (StakeholderChannelRow.checked_at.is_(None))
                        | (StakeholderChannelRow.checked_at < now - timedelta(hours=20)),
                    )
                    .distinct()
                )
            )
            .scalars()
            .all()
        )
    checked = 0
    for row in due:
        problem = await check_channel(client, row.channel_id)
        checked += 1
        async with sessions() as s, s.begin():
            fresh = await s.get(StakeholderChannelRow, row.id)
            if fresh is None:
                continue
            changed = problem is not None and problem != fresh.problem
            fresh.checked_at, fresh.problem = now, problem
        if changed:
            async with sessions() as s:
                release = await load_release_view(s, row.release_id)
            if release is not None and problem is not None:
                try:
                    await client.chat_postMessage(
                        channel=release.channel_id,
                        **payload(preflight_problem_message(release, row.channel_id, problem)),
                    )
                except SlackApiError as e:
                    log.warning("could not report preflight problem: %s", e.response.get("error"))
    return checked
