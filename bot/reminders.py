"""One reminder per overdue item after the cutover has started, to its responsible role holders."""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk.errors import SlackApiError

from bot.access import people_holding
from bot.components import Components
from bot.slack.replies import payload, send_dm
from domain.model import ReleaseView
from messages.common import Rendered, rendered, section
from messages.lifecycle import overdue_reminder_message
from storage import checklist as store
from storage.queries import load_release_view

log = logging.getLogger(__name__)


async def remind_overdue(c: Components, now: datetime) -> int:
    """DM the holders of each newly overdue post-cutover item's roles, once. Returns items reminded.

    An item is claimed before anyone is told, so several processes never remind twice. When Slack
    will not list a user group among its holders (after the client's own retries), the reminder is
    posted in the release channel mentioning that group, so its members are still told.
    """
    async with c.sessions() as s:
        due = await store.overdue_unreminded(s, now)
    reminded = 0
    for item_id, release_id in due:
        async with c.sessions() as s, s.begin():
            if not await store.claim_reminder(s, item_id, now):
                continue
        async with c.sessions() as s:
            release = await load_release_view(s, release_id)
        item = next((i for i in release.items if i.id == item_id), None) if release else None
        if release is None or item is None:
            continue
        people, unread = await people_holding(c.directory, release, item.responsible_roles)
        for person in sorted(people):
            await send_dm(c.client, person, overdue_reminder_message(release, item))
        if unread:
            await _tell_groups(c, release, unread, overdue_reminder_message(release, item))
        reminded += 1
    return reminded


async def _tell_groups(c: Components, release: ReleaseView, groups: tuple[str, ...], reminder: Rendered) -> None:
    mentions = " ".join(f"<!subteam^{g}>" for g in groups)
    try:
        # A group mention reaches its members even when Slack will not say who they are.
        addressed = rendered(f"{mentions} {reminder.text}", [section(mentions), *reminder.blocks])
        await c.client.chat_postMessage(channel=release.channel_id, **payload(addressed))
    except SlackApiError as e:
        log.warning("could not post the reminder for %s in %s: %s", groups, release.key, e.response.get("error"))
