"""A nudge's Snooze buttons (its Approve and Reject are the checklist's own, handled there)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot import nudges
from bot.components import Components
from bot.slack.payload import actor
from bot.slack.replies import apology, via_response_url
from messages import ids
from messages.help import info_message


def register(app: AsyncApp, c: Components) -> None:
    async def on_snooze(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        await ack()
        who = actor(context, body)
        reply = via_response_url(respond)
        value = str(action.get("value") or "")
        if not value.isdigit() or len(value) > 18:
            await reply(info_message(":warning: That button is not one of mine; nothing changed."))
            return
        tomorrow = action.get("action_id") == ids.NUDGE_SNOOZE_TOMORROW
        c.tasks.spawn(
            nudges.snooze(c, who, int(value), tomorrow=tomorrow, reply=reply),
            context=f"snooze by {who.user_id}",
            on_error=apology(reply),
        )

    for action_id in ids.NUDGE_SNOOZES:
        app.action(action_id)(on_snooze)
