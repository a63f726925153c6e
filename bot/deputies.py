"""`deputy <role> @person [until <datetime>]`: someone decides for a role while its holder is away."""

from __future__ import annotations

from datetime import timedelta

from bot.access import roles_for
from bot.commands.types import SetDeputy
from bot.commands.usage import usage_for
from bot.components import Components
from bot.releases import post_notice, user_time
from bot.slack.payload import Actor
from bot.slack.replies import Reply
from domain.model import ReleaseView, SubjectKind
from domain.policy import may_manage
from domain.roles import PROJECT_MANAGER, resolve_role, role_name
from domain.time import utcnow
from messages.dates import slack_date
from messages.help import info_message
from storage import deputies as store

MAX_DEPUTY_SPAN = timedelta(days=366)


def _holder_for(release: ReleaseView, role_key: str, setter: str, setter_holds: bool) -> str | None:
    """Whom the deputy stands in for: the setter when they hold the role, else its one person holder."""
    if setter_holds:
        return setter
    people = [s.id for s in release.holders(role_key) if s.kind is SubjectKind.USER]
    return people[0] if len(people) == 1 else None


async def set_deputy(c: Components, who: Actor, release: ReleaseView, cmd: SetDeputy, reply: Reply) -> None:
    role = resolve_role(cmd.role, release.roles).key  # checked in the ack by the route's role_problem
    name = role_name(role, release.roles)
    held = await roles_for(c.directory, release, who.user_id, (role, PROJECT_MANAGER))
    holds_directly = (
        any(s.kind is SubjectKind.USER and s.id == who.user_id for s in release.holders(role)) or role in held
    )
    if not (holds_directly or may_manage(release, who.user_id, held)):
        holders = ", ".join(s.mention for s in release.holders(role)) or "nobody yet"
        await reply(
            info_message(
                f":no_entry: Only a holder of {name} ({holders}) or a {role_name(PROJECT_MANAGER, release.roles)} "
                f"may set a deputy for it "
                f"on {release.key}. Nothing changed."
            )
        )
        return
    if any(s.kind is SubjectKind.USER and s.id == cmd.user_id for s in release.holders(role)):
        await reply(info_message(f"<@{cmd.user_id}> already holds {name} on {release.key}: nothing changed."))
        return
    until = None
    now = utcnow()
    if cmd.until is not None:
        usage = usage_for("deputy", c.settings.slash_command, today=now)
        until = await user_time(c, cmd.until, who.user_id, usage, reply)
        if until is None:
            return
        if until <= now:
            await reply(info_message(f":no_entry: {slack_date(until)} is in the past: give a deputy a future end."))
            return
        if until - now > MAX_DEPUTY_SPAN:
            await reply(info_message(":no_entry: A deputy stands in for a year at most: pick an earlier end."))
            return
    for_user = _holder_for(release, role, who.user_id, holds_directly)
    await store.set_deputy(
        c.sessions,
        release_id=release.id,
        role_key=role,
        user_id=cmd.user_id,
        for_user=for_user,
        until=until,
        by=who.user_id,
        now=now,
    )
    whose = f" for <@{for_user}>" if for_user else ""
    span = f"until {slack_date(until)}" if until else "until set again"
    notice = f"<@{who.user_id}>: <@{cmd.user_id}> may decide as deputy *{name}*{whose} on {release.key}, {span}."
    if not await post_notice(c, release, notice) or who.channel_id != release.channel_id:
        await reply(info_message(f"Done. {notice}"))
    c.tasks.spawn(c.live.refresh(release.id), context=f"refresh {release.key}")
    c.touch_homes(release)
