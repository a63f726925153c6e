"""Decisions on checklist items: Done, Approve, Reject (with its reason form) and Undo.

Every click is checked on the server, whatever the payload says: the item must exist in this
workspace, the person must hold a role that may decide, the button must show the item's current
version. Recording is idempotent (storage/checklist.py), so repeats and races record one decision.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from slack_sdk.errors import SlackApiError

from bot.access import roles_for
from bot.components import Components
from bot.logs import bind
from bot.slack.payload import Actor
from bot.slack.replies import Reply, in_channel
from domain.approvals import after_undo, encode_approval
from domain.model import Approval, DecisionKind, ItemState, ItemView, ReleaseView
from domain.policy import NotApplicable, judge, next_state, roles_needed
from messages.common import Rendered, escape
from messages.help import info_message, refusal_message
from messages.modals import notice_modal, reject_modal
from storage import checklist as store
from storage import deputies as deputy_store
from storage.queries import item_with_header

log = logging.getLogger(__name__)

ACTION_WORDS = {
    DecisionKind.DONE: "mark done",
    DecisionKind.APPROVE: "approve",
    DecisionKind.REJECT: "reject",
    DecisionKind.UNDO: "undo",
}
GONE = ":warning: That checklist item no longer exists; nothing changed."
RACED = (
    "Someone changed this item just before you; the checklist now shows its current state. "
    "Nothing was recorded for your click."
)


@dataclass(frozen=True)
class Go:
    release: ReleaseView
    item: ItemView
    via_role: str | None
    next_state: ItemState
    for_user: str | None = None  # a deputy's decision: the role holder they act for


@dataclass(frozen=True)
class Refuse:
    message: Rendered
    release: ReleaseView | None = None


@dataclass(frozen=True)
class StaleButton:
    """The button was drawn for an older version of the item."""

    release: ReleaseView


async def _find(c: Components, team_id: str, item_id: int) -> tuple[ReleaseView, ItemView] | None:
    """The item and its release's header: the rules need the release's state, window and role
    holders, never the other items, so a click costs the same whatever the checklist's size."""
    async with c.sessions() as session:
        found = await item_with_header(session, item_id, team_id)
    if found is None:
        return None
    item, view = found
    bind(release=view.key)
    return view, item


async def _check(c: Components, who: Actor, target: tuple[int, int], kind: DecisionKind) -> Go | Refuse | StaleButton:
    item_id, version = target
    found = await _find(c, who.team_id, item_id)
    if found is None:
        return Refuse(info_message(GONE))
    view, item = found
    wanted = roles_needed(item, kind)
    if "responsible" in item.not_by:  # separation of duties asks about the responsible roles too
        wanted = (*wanted, *item.responsible_roles)
    held = await roles_for(c.directory, view, who.user_id, wanted, every_group="responsible" in item.not_by)
    now = datetime.now(UTC)
    verdict = judge(view, item, kind, who.user_id, held, now)
    if not verdict.allowed:
        if verdict.deputy and verdict.via_role:
            await deputy_store.record_expired_use(
                c.sessions,
                release_id=view.id,
                user_id=who.user_id,
                role_key=verdict.via_role,
                item_key=item.key,
                now=now,
            )
        if verdict.allowed_roles:
            allowed = [(r, view.holders(r)) for r in verdict.allowed_roles]
            return Refuse(
                refusal_message(
                    ACTION_WORDS[kind], item.title, allowed, command=c.settings.slash_command, roles=view.roles
                ),
                view,
            )
        return Refuse(info_message(f":no_entry: {verdict.reason}"), view)
    if item.version != version:
        return StaleButton(view)
    nxt = next_state(item, kind)
    if isinstance(nxt, NotApplicable):
        return Refuse(info_message(f"“{escape(item.title)}” {nxt.reason}"), view)
    return Go(view, item, verdict.via_role, nxt, verdict.for_user)


def _teller(c: Components, who: Actor, reply: Reply | None, release: ReleaseView | None) -> Reply | None:
    """The button's response_url when there is one; after a form, an ephemeral in the release channel."""
    if reply is not None:
        return reply
    return in_channel(c.client, release.channel_id, who.user_id) if release is not None else None


async def decide(
    c: Components, who: Actor, target: tuple[int, int], kind: DecisionKind, *, reason: str | None, reply: Reply | None
) -> None:
    """Check and record one decision, then bring the checklist up to date."""
    # A repeat (double click, Slack retry) is common and needs no answer: find it with one small read
    # before loading the whole release.
    async with c.sessions() as session:
        clicked = await store.clicked_item(session, target[0], who.team_id, target[1], kind, who.user_id)
    if clicked is None:
        if tell := _teller(c, who, reply, None):
            await tell(info_message(GONE))
        return
    if clicked.repeat:
        log.info("repeated %s on item %s ignored (already recorded)", kind.value, target[0])
        return
    checked = await _check(c, who, target, kind)
    if isinstance(checked, Refuse):
        if tell := _teller(c, who, reply, checked.release):
            await tell(checked.message)
        return
    if isinstance(checked, StaleButton):
        async with c.sessions() as session:
            same = await store.was_same(session, target[0], target[1], kind, who.user_id)
        await _stale(c, who, checked.release, reply, same=same)
        return
    outcome = await store.record(
        c.sessions,
        release_id=checked.release.id,
        item_id=checked.item.id,
        version=target[1],
        kind=kind,
        new_state=checked.next_state,
        user_id=who.user_id,
        role_key=checked.via_role,
        reason=reason,
        for_user=checked.for_user,
        approvals=_approvals_after(checked, kind, who.user_id),
    )
    if isinstance(outcome, store.Stale):
        await _stale(c, who, checked.release, reply, same=outcome.same)
        return
    log.info("%s recorded on %s (decision %s)", kind.value, checked.item.key, outcome.decision_id)
    await c.live.refresh(checked.release.id, item_id=checked.item.id)


def _approvals_after(checked: Go, kind: DecisionKind, user_id: str) -> list[str]:
    """The quorum count after the decision: an approval adds one; an approver's undo withdraws theirs;
    anything else starts it over."""
    if kind is DecisionKind.UNDO:
        return [encode_approval(a) for a in after_undo(checked.item, user_id)]
    if kind is not DecisionKind.APPROVE:
        return []
    counted = (*checked.item.approvals, Approval(user_id, checked.for_user))
    return [encode_approval(a) for a in counted]


async def _stale(c: Components, who: Actor, release: ReleaseView, reply: Reply | None, *, same: bool) -> None:
    # A repeat of a decision already recorded (double click, Slack retry) needs no answer.
    if same:
        return
    if tell := _teller(c, who, reply, release):
        await tell(info_message(RACED))
    await c.live.refresh(release.id)


async def open_reject_form(c: Components, who: Actor, target: tuple[int, int], reply: Reply) -> None:
    """Reject asks for a reason first. The trigger lasts 3 s, so the form opens after one small read
    (the item and its release's header); the full checks follow, and a refusal replaces the form."""
    async with c.sessions() as session:
        found = await item_with_header(session, target[0], who.team_id)
    if found is None:
        await reply(info_message(GONE))
        return
    item, header = found
    if item.version != target[1]:
        checked = await _check(c, who, target, DecisionKind.REJECT)
        if isinstance(checked, Refuse):
            await reply(checked.message)
        elif isinstance(checked, StaleButton):
            await _stale(c, who, checked.release, reply, same=False)
        return
    try:
        opened = await c.client.views_open(trigger_id=who.trigger_id, view=reject_modal(item, header))
    except SlackApiError as e:
        await reply(
            info_message(
                f":warning: Slack would not open the reject form ({e.response.get('error')}); click Reject again."
            )
        )
        return
    checked = await _check(c, who, target, DecisionKind.REJECT)
    if isinstance(checked, Go):
        return
    shown = opened.get("view") or {}
    if isinstance(checked, StaleButton):
        await _stale(c, who, checked.release, reply, same=False)
        why = RACED
    else:
        await reply(checked.message)
        why = "You can't reject this sign-off; the reason was sent to you in the channel."
    try:
        await c.client.views_update(view_id=shown.get("id"), hash=shown.get("hash"), view=notice_modal(why))
    except SlackApiError as e:
        log.info("reject form not replaced: %s", e.response.get("error"))
