"""Starting, completing and rolling back the cutover: the go/no-go check, the step and its effects."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.access import roles_for
from bot.commands.types import CutoverCommand
from bot.components import Components
from bot.slack.payload import Actor
from bot.slack.replies import Reply, payload
from domain.lifecycle import (
    OVERRIDE_ROLES,
    Action,
    allowed_roles,
    missing_for_complete,
    missing_for_start,
    wrong_state,
)
from domain.model import ReleaseView
from domain.roles import PROJECT_MANAGER, role_name
from domain.time import utcnow
from messages.common import escape
from messages.help import info_message, refusal_message
from messages.lifecycle import LifecycleAction, complete_refusal_message, gonogo_refusal_message, lifecycle_notice
from storage.cutover import take_step
from storage.queries import load_release_view

log = logging.getLogger(__name__)

DONE: dict[str, LifecycleAction] = {"start": "started", "complete": "completed", "rollback": "rolled_back"}
CONFIRMATIONS = {
    "start": "The cutover of {key} has started; the channel has been told.",
    "complete": "The cutover of {key} is complete; the retrospective survey opens in a day.",
    "rollback": "{key} is rolled back; pending announcements were cancelled and every audience is told.",
}
ACTION_WORDS = {"start": "start the cutover of", "complete": "complete the cutover of", "rollback": "roll back"}


async def run_command(c: Components, who: Actor, release: ReleaseView, cmd: CutoverCommand, reply: Reply) -> None:
    await transition(c, who, release, cmd.action, reply, reason=cmd.reason, override=cmd.override)


async def transition(
    c: Components,
    who: Actor,
    release: ReleaseView,
    action: Action,
    reply: Reply,
    *,
    reason: str | None = None,
    override: str | None = None,
) -> bool:
    """Check and take one lifecycle step. Returns True when it happened."""
    if problem := wrong_state(release, action, c.settings.slash_command):
        await reply(info_message(f":no_entry: {problem}"))
        return False
    may = allowed_roles(release.template, action)
    held = await roles_for(c.directory, release, who.user_id, may + OVERRIDE_ROLES)
    if not (who.user_id == release.created_by or held & set(may)):
        allowed = [(r, release.holders(r)) for r in may]
        await reply(
            refusal_message(
                ACTION_WORDS[action], release.key, allowed, command=c.settings.slash_command, roles=release.roles
            )
        )
        return False
    command = c.settings.slash_command
    if action == "start":
        missing = missing_for_start(release)
        if missing and not override:
            await reply(gonogo_refusal_message(release, missing, command=command))
            return False
        if override and not (who.user_id == release.created_by or held & set(OVERRIDE_ROLES)):
            manager = role_name(PROJECT_MANAGER, release.roles)
            await reply(info_message(f":no_entry: Only a {escape(manager)} may override the go/no-go."))
            return False
        if not missing:
            override = None  # nothing to override
    if action == "complete" and (missing := missing_for_complete(release)):
        await reply(complete_refusal_message(release, missing, command=command))
        return False
    now = utcnow()
    async with c.sessions() as s, s.begin():
        taken = await take_step(s, release, action, user_id=who.user_id, reason=reason, override=override, now=now)
    if not taken:
        await reply(info_message(f"{release.key} changed just before you; nothing was done. Check `{command} status`."))
        return False
    async with c.sessions() as s:
        fresh = await load_release_view(s, release.id)
    assert fresh is not None
    notice = lifecycle_notice(fresh, DONE[action], who.user_id, reason, override, now)
    try:
        await c.client.chat_postMessage(channel=release.channel_id, **payload(notice))
    except SlackApiError as e:
        log.warning("could not post the %s notice of %s: %s", action, release.key, e.response.get("error"))
    c.tasks.spawn(c.live.refresh(release.id), context=f"refresh {release.key}")
    await reply(info_message(CONFIRMATIONS[action].format(key=release.key)))
    return True
