"""Buttons and modals of the cutover lifecycle and the retrospective survey."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError

from bot import lifecycle, retro
from bot.components import Components
from bot.replies import ephemeral, payload
from domain.lifecycle import wrong_state
from domain.model import ReleaseView
from messages.common import Rendered
from messages.help import info_message
from messages.lifecycle import rollback_modal
from storage.models import Release
from storage.queries import load_release_view

log = logging.getLogger(__name__)

MAX_REASON = 500


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


async def _release(c: Components, release_id: int | None, team_id: str) -> ReleaseView | None:
    if release_id is None:
        return None
    async with c.sessions() as s:
        row = await s.get(Release, release_id)
        if row is None or (team_id and row.team_id != team_id):
            return None
        return await load_release_view(s, release_id)


def _ephemeral_to(c: Components, channel_id: str, user_id: str) -> lifecycle.Tell:
    async def tell(r: Rendered) -> None:
        try:
            await c.client.chat_postEphemeral(channel=channel_id, user=user_id, **payload(r))
        except SlackApiError as e:
            log.warning("could not tell %s: %s", user_id, e.response.get("error"))

    return tell


def register(app: AsyncApp, c: Components) -> None:
    async def on_lifecycle_button(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        user_id = str(body.get("user", {}).get("id"))
        team_id = str((body.get("team") or {}).get("id") or "")
        verb = str(action.get("action_id")).removeprefix("release.")

        async def tell(r: Rendered) -> None:
            await respond(**ephemeral(r), replace_original=False)

        async def work() -> None:
            view = await _release(c, _int(action.get("value")), team_id)
            if view is None:
                await tell(info_message(":warning: That release no longer exists; nothing changed."))
                return
            if verb == "rollback":
                # A reason is required: ask for it in a modal, after the same checks as the text command.
                if problem := wrong_state(view, "rollback"):
                    await tell(info_message(f":no_entry: {problem}"))
                    return
                try:
                    await c.client.views_open(trigger_id=str(body.get("trigger_id")), view=rollback_modal(view))
                except SlackApiError as e:
                    await tell(info_message(f":warning: Slack would not open the form ({e.response.get('error')})."))
                return
            await lifecycle.transition(c, view, verb, user_id, tell)  # type: ignore[arg-type]

        c.tasks.spawn(
            work(),
            context=f"{verb} by {user_id}",
            on_error=lambda _e: tell(
                info_message(
                    ":warning: Something went wrong on our side; nothing may have changed. Check the release status."
                )
            ),
        )

    for action_id in ("release.start", "release.complete", "release.rollback"):
        app.action(action_id)(on_lifecycle_button)

    async def on_rollback_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        value = ((view.get("state") or {}).get("values", {}).get("reason", {}).get("reason") or {}).get("value")
        reason = str(value or "").strip()
        if len(reason) < 3:
            await ack(response_action="errors", errors={"reason": "Say why the change is being rolled back."})
            return
        if len(reason) > MAX_REASON:
            await ack(response_action="errors", errors={"reason": f"Keep it under {MAX_REASON} characters."})
            return
        await ack()
        user_id = str(body.get("user", {}).get("id"))
        team_id = str((body.get("team") or {}).get("id") or "")

        async def work() -> None:
            release = await _release(c, _int(view.get("private_metadata")), team_id)
            if release is None:
                return
            await lifecycle.transition(
                c, release, "rollback", user_id, _ephemeral_to(c, release.channel_id, user_id), reason=reason
            )

        c.tasks.spawn(work(), context=f"rollback by {user_id}")

    app.view("release.rollback")(on_rollback_submit)

    async def on_take_survey(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        user_id = str(body.get("user", {}).get("id"))

        async def tell(r: Rendered) -> None:
            if body.get("response_url"):
                await respond(**ephemeral(r), replace_original=False)

        survey_id = _int(action.get("value"))
        if survey_id is None:
            await tell(info_message(":warning: That button is not one of mine."))
            return
        c.tasks.spawn(
            retro.take(c, survey_id, user_id, str(body.get("trigger_id")), tell), context=f"survey by {user_id}"
        )

    app.action("retro.take")(on_take_survey)

    async def on_survey_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        checked = await retro.check_submission(c, view)
        if isinstance(checked, dict):
            await ack(response_action="errors", errors=checked)
            return
        await ack()
        survey_id, answers = checked
        user_id = str(body.get("user", {}).get("id"))
        c.tasks.spawn(retro.save(c, survey_id, user_id, answers), context="survey answer")

    app.view("retro.submit")(on_survey_submit)
