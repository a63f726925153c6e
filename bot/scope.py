"""`item add|edit|remove`: the scope of a running release, changed by its Project Manager.

Role words, phases and item references are resolved here against the release itself (its template's
roles and phases, its items' numbers): the grammar only knows their shape. Each change is one
transaction (storage/scope.py), announced in the release channel with the scope-bound sign-offs it
reopened, and the checklist converges through the live refresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from slack_sdk.errors import SlackApiError

from bot.access import manager_refusal
from bot.commands.types import Due, ItemAdd, ItemEdit, ItemRemove
from bot.commands.usage import usage_for
from bot.components import Components
from bot.releases import user_time
from bot.slack.payload import Actor
from bot.slack.replies import Reply, payload
from domain.model import ItemView, ReleaseView
from domain.roles import PROJECT_MANAGER, UnknownRole, resolve_role, role_name
from domain.template import PhaseSpec, offset_at
from domain.time import utcnow
from messages.common import clip, one_line
from messages.help import info_message, usage_error_message
from messages.team_notices import scope_changed_message
from storage import scope as store
from storage.queries import load_release_view

log = logging.getLogger(__name__)


class _Refused(Exception):
    """Bad input, already worded for the person: nothing was changed."""


def _when(at: datetime) -> str:
    # Plain text for the audit trail (the notice shows it as typed there); UTC, to the minute.
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _quoted(title: str) -> str:
    return f"“{title}”"


def _roles(release: ReleaseView, words: Sequence[str]) -> tuple[str, ...]:
    out: list[str] = []
    for word in words:
        try:
            key = resolve_role(word, release.roles).key
        except UnknownRole as e:
            shown = word.replace("`", "'")[:40]
            raise _Refused(f"{UnknownRole(shown, e.candidates, release.roles)} ({release.key})") from None
        if key not in out:
            out.append(key)
    return tuple(out)


def _names(release: ReleaseView, keys: Sequence[str]) -> str:
    return ", ".join(role_name(k, release.roles) for k in keys) or "none"


def _phase(release: ReleaseView, word: str) -> PhaseSpec:
    phases = release.template.phases
    for p in phases:
        if p.key == word or str(p.position) == word:
            return p
    listed = ", ".join(f"{p.position} `{p.key}` ({p.title})" for p in phases)
    raise _Refused(f"`{word[:40]}` is not a phase of {release.key}. Phases: {listed}.")


def _item(release: ReleaseView, ref: str) -> ItemView:
    for item in release.items:
        if (ref.startswith("#") and item.label == ref) or item.key == ref:
            return item
    raise LookupError(ref)


async def _find(c: Components, release: ReleaseView, ref: str) -> ItemView:
    try:
        return _item(release, ref)
    except LookupError:
        pass
    number = int(ref[1:]) if ref.startswith("#") else None
    async with c.sessions() as s:
        removed = await store.removed_item(s, release.id, number, None if number else ref)
    if removed is not None:
        raise _Refused(
            f"Item `{ref}` was removed from {release.key} on {_when(removed)}; its decisions stay in the audit trail."
        )
    raise _Refused(f"{release.key} has no item `{ref}`. Items are numbered in the checklist: `#1`, `#2`, …")


async def _due(c: Components, who: Actor, release: ReleaseView, due: Due, usage: str, reply: Reply) -> datetime | None:
    if isinstance(due, timedelta):
        factor = release.rehearsal_factor or 1
        return offset_at(due, release.template, release.cutover_start, release.cutover_end, factor)
    return await user_time(c, due, who.user_id, usage, reply)


def input_problem(release: ReleaseView, cmd: ItemAdd | ItemEdit) -> str | None:
    """What in the command names no phase or role of this release (answered in the ack), or None."""
    try:
        if isinstance(cmd, ItemAdd):
            _phase(release, cmd.phase)
            _roles(release, cmd.responsible)
            _roles(release, cmd.approvers)
        elif cmd.approvers is not None:
            _roles(release, cmd.approvers)
    except _Refused as e:
        return str(e)
    return None


async def change_scope(
    c: Components, who: Actor, release: ReleaseView, cmd: ItemAdd | ItemEdit | ItemRemove, reply: Reply
) -> None:
    usage = usage_for("item", c.settings.slash_command, today=utcnow())
    if refusal := await manager_refusal(c.directory, release, who.user_id, "change the scope of"):
        await reply(refusal)
        return
    now = utcnow()
    written: tuple[store.NewItem, Callable[[int], str]] | _Edit | str
    try:
        # Everything is resolved and checked before anything is written.
        if isinstance(cmd, ItemAdd):
            new = await _new_item(c, who, release, cmd, usage, reply)
            if new is None:
                return  # the time could not be read; the person was told why
            item_id, written = 0, new
        elif isinstance(cmd, ItemEdit):
            edit = await _edit(c, who, release, cmd, usage, reply)
            if edit is None:
                return
            item_id, written = edit
        else:
            item = await _find(c, release, cmd.item)
            async with c.sessions() as s:
                decided = await store.decision_count(s, item.id)
            kept = f"; its {decided} decision{'s' if decided != 1 else ''} stay in the audit trail" if decided else ""
            item_id, written = item.id, f"removed {item.label} {_quoted(item.title)}{kept}"
    except _Refused as e:
        await reply(usage_error_message(str(e), usage))
        return
    async with c.sessions() as s, s.begin():
        if isinstance(written, tuple):
            new_item, reason_of = written
            done: store.ScopeChanged | None = await store.add_item(
                s, release.id, new_item, by=who.user_id, now=now, reason=reason_of
            )
        elif isinstance(written, _Edit):
            done = await store.edit_item(
                s,
                release.id,
                item_id,
                title=written.title,
                due_at=written.due_at,
                approvers=written.approvers,
                by=who.user_id,
                now=now,
                reason=written.reason,
            )
        else:
            done = await store.remove_item(s, release.id, item_id, by=who.user_id, now=now, reason=written)
    if done is None:
        await reply(info_message(f"{release.key} changed just before you; nothing was done. Look again and retry."))
        return
    async with c.sessions() as s:
        fresh = await load_release_view(s, release.id)
    assert fresh is not None
    reopened = [i for i in fresh.items if i.id in done.reopened]
    notice = scope_changed_message(fresh, who.user_id, done.reason, reopened)
    try:
        await c.client.chat_postMessage(channel=release.channel_id, **payload(notice))
    except SlackApiError as e:
        log.warning("could not tell %s about the scope change: %s", release.channel_id, e.response.get("error"))
    again = f" {len(reopened)} scope-bound sign-off(s) reopened." if reopened else ""
    await reply(info_message(f"{release.key}: {clip(one_line(done.reason), 1500)}.{again}"))
    c.tasks.spawn(c.live.refresh(release.id), context=f"refresh {release.key}")


@dataclass(frozen=True)
class _Edit:
    title: str | None
    due_at: datetime | None
    approvers: tuple[str, ...] | None
    reason: str


async def _new_item(
    c: Components, who: Actor, release: ReleaseView, cmd: ItemAdd, usage: str, reply: Reply
) -> tuple[store.NewItem, Callable[[int], str]] | None:
    phase = _phase(release, cmd.phase)
    responsible = _roles(release, cmd.responsible) or (PROJECT_MANAGER,)
    approvers = _roles(release, cmd.approvers)
    if cmd.due is not None:
        due_at = await _due(c, who, release, cmd.due, usage, reply)
        if due_at is None:
            return None
    else:
        # With the phase's last item; an empty phase falls due at the cutover start.
        dues = [i.due_at for i in release.items if i.phase_key == phase.key]
        due_at = max(dues) if dues else release.cutover_start
    kind = f"gate; sign-off {_names(release, approvers)}" if approvers else "task"
    where = f"phase {phase.position} {_quoted(phase.title)}"

    def reason(number: int) -> str:
        return (
            f"added #{number} {_quoted(cmd.title)} to {where} ({kind}; responsible {_names(release, responsible)}; "
            f"due {_when(due_at)})"
        )

    return store.NewItem(phase.key, phase.title, phase.position, cmd.title, responsible, approvers, due_at), reason


async def _edit(
    c: Components, who: Actor, release: ReleaseView, cmd: ItemEdit, usage: str, reply: Reply
) -> tuple[int, _Edit] | None:
    item = await _find(c, release, cmd.item)
    approvers = _roles(release, cmd.approvers) if cmd.approvers is not None else None
    if approvers is not None and not item.is_gate:
        raise _Refused(
            f"{item.label} is a task: only sign-offs have approvers. Remove it and add a gate "
            '(`item add <phase> "<title>" --approvers <role>…`).'
        )
    due_at = None
    if cmd.due is not None:
        due_at = await _due(c, who, release, cmd.due, usage, reply)
        if due_at is None:
            return None
    changes: list[str] = []
    if cmd.title is not None and cmd.title != item.title:
        changes.append(f"title {_quoted(item.title)} → {_quoted(cmd.title)}")
    if due_at is not None and due_at != item.due_at:
        changes.append(f"due {_when(item.due_at)} → {_when(due_at)}")
    if approvers is not None and approvers != item.approver_roles:
        changes.append(f"sign-off {_names(release, item.approver_roles)} → {_names(release, approvers)}")
    if not changes:
        raise _Refused(f"{item.label} already reads so: nothing to change.")
    reason = f"edited {item.label} {_quoted(cmd.title or item.title)}: " + "; ".join(changes)
    return item.id, _Edit(cmd.title, due_at, approvers, reason)
