"""Checklist item buttons (Done, Approve, Reject, Undo) and the reject-reason form."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot import checklist
from bot.components import Components
from bot.slack.payload import actor, parse_target, text_input
from bot.slack.replies import apology, direct_message, via_response_url
from domain.limits import REJECT_REASON_MAX
from domain.model import DecisionKind
from messages import ids
from messages.help import info_message

KINDS = {
    ids.ITEM_DONE: DecisionKind.DONE,
    ids.ITEM_APPROVE: DecisionKind.APPROVE,
    ids.ITEM_REJECT: DecisionKind.REJECT,
    ids.ITEM_UNDO: DecisionKind.UNDO,
}
FAILED = ":warning: Something went wrong on our side; your click may not have been recorded. Please try again."


def register(app: AsyncApp, c: Components) -> None:
    async def on_item_button(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        await ack()
        who = actor(context, body)
        kind = KINDS[str(action.get("action_id"))]
        # From the App Home there is no response_url: the person hears back in the app's DM.
        from_view = (body.get("container") or {}).get("type") == "view"
        reply = direct_message(c.client, who.user_id) if from_view else via_response_url(respond)
        target = parse_target(action.get("value"))
        if target is None:
            await reply(info_message(":warning: That button is not one of mine; nothing changed."))
            return
        work = (
            checklist.open_reject_form(c, who, target, reply)
            if kind is DecisionKind.REJECT
            else checklist.decide(c, who, target, kind, reason=None, reply=reply)
        )
        c.tasks.spawn(work, context=f"{kind.value} by {who.user_id} on {target}", on_error=apology(reply, FAILED))

    for action_id in ids.ITEM_ACTIONS:
        app.action(action_id)(on_item_button)

    async def on_reject_submit(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        reason = text_input(view, ids.REASON_INPUT).strip()
        error = None
        if not reason:
            error = "Give a reason: approvers and the audit trail need it."
        elif len(reason) > REJECT_REASON_MAX:
            error = f"Keep the reason under {REJECT_REASON_MAX} characters."
        target = parse_target(view.get("private_metadata"))
        if target is None:
            error = "This form is damaged; close it and click Reject again."
        if error is not None or target is None:
            await ack(response_action="errors", errors={ids.REASON_INPUT: error or ""})
            return
        await ack()
        who = actor(context, body)
        c.tasks.spawn(
            checklist.decide(c, who, target, DecisionKind.REJECT, reason=reason, reply=None),
            context=f"reject by {who.user_id} on {target}",
        )

    app.view(ids.REJECT_CALLBACK)(on_reject_submit)
