"""The summary's cutover buttons (Start, Complete, Roll back) and the rollback-reason form."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot import cutover
from bot.components import Components
from bot.slack.payload import Actor, actor, parse_id, text_input
from bot.slack.replies import Reply, apology, in_channel, via_response_url
from domain.lifecycle import Action, wrong_state
from domain.limits import CUTOVER_REASON_MAX, CUTOVER_REASON_MIN
from domain.model import ReleaseView
from messages import ids
from messages.help import info_message
from messages.lifecycle import rollback_modal
from storage.queries import team_release_header, team_release_view

ACTIONS: dict[str, Action] = {
    ids.RELEASE_START: "start",
    ids.RELEASE_COMPLETE: "complete",
    ids.RELEASE_ROLLBACK: "rollback",
}
GONE = ":warning: That release no longer exists; nothing changed."


async def _release(c: Components, release_id: int | None, team_id: str) -> ReleaseView | None:
    if release_id is None:
        return None
    async with c.sessions() as s:
        return await team_release_view(s, release_id, team_id)


async def _button(c: Components, who: Actor, release_id: int | None, action: Action, reply: Reply) -> None:
    if action == "rollback":
        await _open_rollback_form(c, who, release_id, reply)
        return
    release = await _release(c, release_id, who.team_id)
    if release is None:
        await reply(info_message(GONE))
        return
    await cutover.transition(c, who, release, action, reply)


async def _open_rollback_form(c: Components, who: Actor, release_id: int | None, reply: Reply) -> None:
    # A reason is required: ask for it in a form, after the same state check as the text command.
    # The header is enough for both (the trigger lasts 3 s); the rollback itself checks everything.
    release = None
    if release_id is not None:
        async with c.sessions() as s:
            release = await team_release_header(s, release_id, who.team_id)
    if release is None:
        await reply(info_message(GONE))
        return
    if problem := wrong_state(release, "rollback", c.settings.slash_command):
        await reply(info_message(f":no_entry: {problem}"))
        return
    try:
        await c.client.views_open(trigger_id=who.trigger_id, view=rollback_modal(release))
    except SlackApiError as e:
        await reply(info_message(f":warning: Slack would not open the form ({e.response.get('error')})."))


async def _rollback(c: Components, who: Actor, release_id: int | None, reason: str) -> None:
    release = await _release(c, release_id, who.team_id)
    if release is not None:
        tell = in_channel(c.client, release.channel_id, who.user_id)
        await cutover.transition(c, who, release, "rollback", tell, reason=reason)


def register(app: AsyncApp, c: Components) -> None:
    async def on_cutover_button(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        await ack()
        who = actor(context, body)
        step = ACTIONS[str(action.get("action_id"))]
        reply = via_response_url(respond)
        c.tasks.spawn(
            _button(c, who, parse_id(action.get("value")), step, reply),
            context=f"{step} by {who.user_id}",
            on_error=apology(reply),
        )

    for action_id in ids.RELEASE_ACTIONS:
        app.action(action_id)(on_cutover_button)

    async def on_rollback_submit(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        reason = text_input(view, ids.REASON_INPUT).strip()
        if len(reason) < CUTOVER_REASON_MIN:
            await ack(response_action="errors", errors={ids.REASON_INPUT: "Say why the change is being rolled back."})
            return
        if len(reason) > CUTOVER_REASON_MAX:
            await ack(
                response_action="errors", errors={ids.REASON_INPUT: f"Keep it under {CUTOVER_REASON_MAX} characters."}
            )
            return
        await ack()
        who = actor(context, body)
        c.tasks.spawn(
            _rollback(c, who, parse_id(view.get("private_metadata")), reason), context=f"rollback by {who.user_id}"
        )

    app.view(ids.ROLLBACK_CALLBACK)(on_rollback_submit)
