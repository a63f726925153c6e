"""Telling a person something: one helper, whichever way the answer can reach them.

A `Reply` takes a rendered message and delivers it privately to the person who acted: through the
payload's `response_url` when there is one (slash commands, buttons), else as an ephemeral message in
the channel (modal submissions carry no `response_url`). A reply that cannot be delivered is logged,
never raised: the work it reports on has already happened.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from messages.common import Rendered
from messages.help import info_message

log = logging.getLogger(__name__)

Reply = Callable[[Rendered], Awaitable[None]]


def payload(r: Rendered) -> dict[str, Any]:
    """What chat.postMessage, chat.update and friends take for a rendered message."""
    return {"text": r.text, "blocks": [b.to_dict() for b in r.blocks]}


def ephemeral(r: Rendered) -> dict[str, Any]:
    """What `ack()` or `respond()` take to answer only the person who asked."""
    return {**payload(r), "response_type": "ephemeral"}


def via_response_url(respond: AsyncRespond) -> Reply:
    async def reply(r: Rendered) -> None:
        # Never replace the message a button sits on: the answer is for the clicker only.
        try:
            await respond(**ephemeral(r), replace_original=False)
        except Exception as e:  # a response_url can expire or run out of uses
            log.warning("could not answer through the response_url: %s", e)

    return reply


def in_channel(client: AsyncWebClient, channel_id: str, user_id: str) -> Reply:
    async def reply(r: Rendered) -> None:
        try:
            await client.chat_postEphemeral(channel=channel_id, user=user_id, **payload(r))
        except SlackApiError as e:
            log.warning("could not tell %s in %s: %s", user_id, channel_id, e.response.get("error"))

    return reply


async def send_dm(client: AsyncWebClient, user_id: str, r: Rendered) -> bool:
    """Post ``r`` in the app's DM with the person; False (logged) when Slack would not."""
    try:
        opened = await client.conversations_open(users=user_id)
        await client.chat_postMessage(channel=opened["channel"]["id"], **payload(r))
    except SlackApiError as e:
        log.warning("could not DM %s: %s", user_id, e.response.get("error"))
        return False
    return True


def direct_message(client: AsyncWebClient, user_id: str) -> Reply:
    """The app's DM with the person (for clicks on the App Home, which carry no response_url)."""

    async def reply(r: Rendered) -> None:
        await send_dm(client, user_id, r)

    return reply


async def nobody(_r: Rendered) -> None:
    """For work nobody waits on (the scheduler's): there is no one to tell."""


SORRY = (
    ":warning: Something went wrong on our side; it may not have taken effect. "
    "Check the release's status and try again."
)


def apology(reply: Reply, text: str = SORRY) -> Callable[[BaseException], Awaitable[None]]:
    """For work after the ack: when it fails, the person who asked hears so instead of nothing."""

    async def say_sorry(_exc: BaseException) -> None:
        await reply(info_message(text))

    return say_sorry
