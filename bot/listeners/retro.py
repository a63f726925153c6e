"""The retrospective survey's button and form."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext, AsyncRespond

from bot import retro
from bot.components import Components
from bot.slack.payload import actor, input_values, parse_id
from bot.slack.replies import Reply, via_response_url
from messages import ids
from messages.common import Rendered
from messages.help import info_message

log = logging.getLogger(__name__)
NOT_SAVED = "Your answers could not be saved just now; nothing was lost from the form. Send it again."


def register(app: AsyncApp, c: Components) -> None:
    async def on_take_survey(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, context: AsyncBoltContext
    ) -> None:
        await ack()
        who = actor(context, body)

        async def nowhere(_r: Rendered) -> None:
            """A button in an App Home or a form has no response_url: nothing to answer through."""

        reply: Reply = via_response_url(respond) if body.get("response_url") else nowhere
        survey_id = parse_id(action.get("value"))
        if survey_id is None:
            await reply(info_message(":warning: That button is not one of mine."))
            return
        c.tasks.spawn(retro.take(c, who, survey_id, reply), context=f"survey by {who.user_id}")

    app.action(ids.SURVEY_TAKE)(on_take_survey)

    async def on_survey_submit(
        ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
    ) -> None:
        # Answers are checked and saved before the ack: a form's errors can only travel in it, and a form
        # that closes has its answers on file (one small write), so reopening it shows them at once.
        raw = {block: _answer(element) for block, element in input_values(view).items()}
        checked = await retro.check_submission(c, parse_id(view.get("private_metadata")), raw)
        if isinstance(checked, dict):
            await ack(response_action="errors", errors=checked)
            return
        survey_id, answers = checked
        try:
            await retro.save(c, actor(context, body), survey_id, answers)
        except Exception:
            log.exception("survey %s: answer not saved", survey_id)
            await ack(response_action="errors", errors={next(iter(raw), "went_well"): NOT_SAVED})
            return
        await ack()

    app.view(ids.SURVEY_CALLBACK)(on_survey_submit)


def _answer(element: dict[str, Any]) -> str | None:
    if "selected_option" in element:
        return (element.get("selected_option") or {}).get("value")
    value = element.get("value")
    return None if value is None else str(value)
