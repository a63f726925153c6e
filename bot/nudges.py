"""Nudges in the approver's own hours, then escalation: each claimed in the database before it is sent,
so any number of processes ticking at once send each one exactly once.

A pending gate due within its template's `nudge_lead` DMs each person who may approve it now (directly,
through a user group or as a deputy) at the next working moment in their zone, at most once per gate per
working day of theirs, unless they snoozed it. Unanswered at its due time: one mention of its approvers in
the release thread. A working day past due (in the release's zone): its Project Managers are told. A gate
that was already due when the release was created is a late start: nudged, never escalated.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import lru_cache

from slack_sdk.errors import SlackApiError

from bot.access import people_holding, roles_for
from bot.components import Components
from bot.slack.payload import Actor
from bot.slack.replies import Reply, payload, send_dm
from domain.approvals import deputy_is_valid
from domain.model import DecisionKind, ItemState, ItemView, ReleaseView
from domain.policy import due_before_creation, judge
from domain.roles import PROJECT_MANAGER
from domain.template import TemplateError, UnknownTemplate, available_templates, load_template
from domain.time import utcnow
from domain.workhours import after_working_day, is_working, next_working_day_start, working_day, zone
from messages.common import Rendered
from messages.help import info_message
from messages.nudges import due_mention_message, nudge_message, pm_notice_message, snoozed_message
from storage import checklist as checklist_store
from storage import nudges as store
from storage.queries import load_release_header, load_release_view

log = logging.getLogger(__name__)

DEFAULT_LEAD = timedelta(hours=24)
SNOOZE_SHORT = timedelta(hours=2)


@lru_cache(maxsize=64)
def nudge_lead(template_key: str) -> timedelta:
    try:
        return load_template(template_key).nudge_lead
    except (UnknownTemplate, TemplateError):
        return DEFAULT_LEAD


def longest_lead() -> timedelta:
    return max([DEFAULT_LEAD, *(nudge_lead(k) for k in available_templates())])


async def nudge_tick(c: Components, now: datetime, worker: str) -> int:
    """One look at every gate coming due; returns how many nudges this process sent."""
    async with c.sessions() as session:
        release_ids = await store.gates_coming_due(session, now, longest_lead())
    count = 0
    for release_id in release_ids:
        try:
            count += await _nudge_release(c, release_id, now, worker)
        except SlackApiError as e:
            log.warning("nudges for release %s stopped: %s", release_id, e.response.get("error"))
    return count


def _waiting(release: ReleaseView, now: datetime) -> list[ItemView]:
    lead = nudge_lead(release.template_key)
    return [i for i in release.items if i.is_gate and i.state is ItemState.PENDING and i.due_at - lead <= now]


async def _approvers(
    c: Components, release: ReleaseView, item: ItemView, now: datetime
) -> list[tuple[str, str | None]]:
    """(person, the holder they stand in for) of everyone who may approve the gate now."""
    people, _unread = await people_holding(c.directory, release, item.approver_roles)
    people |= {d.user_id for d in release.deputies if d.role_key in item.approver_roles and deputy_is_valid(d, now)}
    wanted = (*item.approver_roles, *(item.responsible_roles if "responsible" in item.not_by else ()))
    out = []
    for person in sorted(people):
        held = await roles_for(c.directory, release, person, wanted, every_group="responsible" in item.not_by)
        verdict = judge(release, item, DecisionKind.APPROVE, person, held, now)
        if verdict.allowed:
            out.append((person, verdict.for_user))
    return out


async def _nudge_release(c: Components, release_id: int, now: datetime, worker: str) -> int:
    async with c.sessions() as session:
        release = await load_release_view(session, release_id)
        if release is None:
            return 0
        gates = _waiting(release, now)
        ids = [g.id for g in gates]
        snoozed = await store.snoozes(session, ids, now)
        escalated = await store.escalated(session, ids)
    hours = c.settings.hours
    release_tz = zone(release.timezone)
    sent = 0
    for item in gates:
        approvers = await _approvers(c, release, item, now)
        for person, for_user in approvers:
            if (item.id, person) in snoozed:
                continue
            tz = zone(await c.directory.user_tz(person), fallback=release_tz)
            if not is_working(now, tz, hours):
                continue
            claimed = await store.claim(
                c.sessions,
                release_id=release.id,
                item_id=item.id,
                user_id=person,
                kind="dm",
                day=working_day(now, tz).isoformat(),
                now=now,
                worker=worker,
            )
            if claimed is None:
                continue
            if await send_dm(c.client, person, nudge_message(release, item, for_user=for_user, now=now)):
                await store.sent(c.sessions, claimed, event="nudge_sent", user_id=person, reason=item.key, now=now)
                sent += 1
            else:
                await store.release_claim(c.sessions, claimed)
        if due_before_creation(item, release):
            continue  # a late start, not an alarm (domain/policy.py): reminded, never escalated
        mentions = [f"<@{p}>" for p, _ in approvers]
        if now >= item.due_at and (item.id, "thread") not in escalated:
            sent += await _escalate(
                c, release, item, "thread", due_mention_message(release, item, mentions), now, worker
            )
        if now >= after_working_day(item.due_at, release_tz, hours) and (item.id, "pm") not in escalated:
            sent += await _escalate(c, release, item, "pm", pm_notice_message(release, item, mentions), now, worker)
    return sent


async def _escalate(
    c: Components, release: ReleaseView, item: ItemView, kind: str, message: Rendered, now: datetime, worker: str
) -> int:
    claimed = await store.claim(
        c.sessions, release_id=release.id, item_id=item.id, user_id="", kind=kind, day="", now=now, worker=worker
    )
    if claimed is None:
        return 0
    if kind == "thread":
        delivered = await _in_thread(c, release, message)
    else:
        managers, _unread = await people_holding(c.directory, release, (PROJECT_MANAGER,))
        delivered = False
        for person in sorted(managers) or [release.created_by]:
            delivered = await send_dm(c.client, person, message) or delivered
    if not delivered:
        await store.release_claim(c.sessions, claimed)
        return 0
    await store.sent(c.sessions, claimed, event=f"nudge_escalated_{kind}", user_id="", reason=item.key, now=now)
    return 1


async def _in_thread(c: Components, release: ReleaseView, r: Rendered) -> bool:
    async with c.sessions() as session:
        rows = await checklist_store.release_messages(session, release.id)
    summary = next((m for m in rows if m.kind == "summary"), None)
    try:
        await c.client.chat_postMessage(
            channel=release.channel_id, thread_ts=summary.ts if summary else None, **payload(r)
        )
    except SlackApiError as e:
        log.warning("could not mention the approvers in %s: %s", release.key, e.response.get("error"))
        return False
    return True


async def snooze(
    c: Components, who: Actor, item_id: int, *, tomorrow: bool, reply: Reply, now: datetime | None = None
) -> None:
    """Snooze button on a nudge: no nudge about this gate to this person until then (2 h, or the start of
    their next working day)."""
    async with c.sessions() as session:
        release_id = await checklist_store.release_of_item(session, item_id, who.team_id)
        release = await load_release_header(session, release_id) if release_id is not None else None
    if release_id is None or release is None:
        await reply(info_message(":warning: That sign-off no longer exists; nothing changed."))
        return
    now = now or utcnow()
    if tomorrow:
        tz = zone(await c.directory.user_tz(who.user_id), fallback=zone(release.timezone))
        until = next_working_day_start(now, tz, c.settings.hours)
    else:
        until = now + SNOOZE_SHORT
    await store.snooze(c.sessions, release_id=release_id, item_id=item_id, user_id=who.user_id, until=until, now=now)
    await reply(snoozed_message(until))
