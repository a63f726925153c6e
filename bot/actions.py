"""Buttons on checklist items and the modals behind them."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from bot import decisions, flows
from bot.access import roles_for
from bot.components import Components
from bot.logs import bind
from bot.replies import ephemeral, payload
from domain.model import DecisionKind, ItemState, ItemView, ReleaseView
from domain.policy import NotApplicable, judge, next_state, roles_needed
from domain.rehearsal import factor_problem
from domain.template import available_templates
from domain.timeparse import TimeParseError, parse_duration
from messages.common import Rendered, escape
from messages.help import info_message, refusal_message
from messages.modals import reject_modal
from storage.models import ChecklistItem, Decision, Release
from storage.queries import load_release_view

log = logging.getLogger(__name__)

ACTION_KINDS = {
    "item.done": DecisionKind.DONE,
    "item.approve": DecisionKind.APPROVE,
    "item.reject": DecisionKind.REJECT,
    "item.undo": DecisionKind.UNDO,
}
ACTION_WORDS = {
    DecisionKind.DONE: "mark done",
    DecisionKind.APPROVE: "approve",
    DecisionKind.REJECT: "reject",
    DecisionKind.UNDO: "undo",
}
TARGET = re.compile(r"^(\d{1,12}):(\d{1,9})$")
MAX_REASON = 2000
FAILED = ":warning: Something went wrong on our side; your click may not have been recorded. Please try again."


@dataclass(frozen=True)
class Go:
    release: ReleaseView
    item: ItemView
    via_role: str | None
    next_state: ItemState


@dataclass(frozen=True)
class Refuse:
    message: Rendered


@dataclass(frozen=True)
class StaleButton:
    """The button was drawn for an older version of the item."""


def parse_target(value: str | None) -> tuple[int, int] | None:
    """`item_id:version` as drawn on the button; anything else is refused."""
    m = TARGET.match(value or "")
    return (int(m.group(1)), int(m.group(2))) if m else None


async def _find(c: Components, team_id: str, item_id: int) -> tuple[ReleaseView, ItemView] | None:
    async with c.sessions() as session:
        row = await session.get(ChecklistItem, item_id)
        if row is None:
            return None
        release = await session.get(Release, row.release_id)
        if release is None or (team_id and release.team_id != team_id):
            return None
        view = await load_release_view(session, row.release_id)
    if view is None:
        return None
    item = next((i for i in view.items if i.id == item_id), None)
    bind(release=view.key)
    return (view, item) if item else None


def register(app: AsyncApp, c: Components) -> None:
    async def on_item_button(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        kind = ACTION_KINDS[str(action.get("action_id"))]

        async def apologise(_exc: BaseException) -> None:
            await respond(**ephemeral(info_message(FAILED)), replace_original=False)

        c.tasks.spawn(
            click(c, body, action, kind, respond),
            context=f"{kind.value} by {body.get('user', {}).get('id')} on {action.get('value')}",
            on_error=apologise,
        )

    for action_id in ACTION_KINDS:
        app.action(action_id)(on_item_button)

    async def on_reject_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        reason = _input(view, "reason").strip()
        if not reason:
            await ack(
                response_action="errors", errors={"reason": "Give a reason: approvers and the audit trail need it."}
            )
            return
        if len(reason) > MAX_REASON:
            await ack(response_action="errors", errors={"reason": f"Keep the reason under {MAX_REASON} characters."})
            return
        target = parse_target(view.get("private_metadata"))
        if target is None:
            await ack(
                response_action="errors", errors={"reason": "This form is damaged; close it and click Reject again."}
            )
            return
        await ack()
        user_id = str(body.get("user", {}).get("id"))
        team_id = str((body.get("team") or {}).get("id") or "")
        c.tasks.spawn(
            decide(c, team_id, user_id, target, DecisionKind.REJECT, reason=reason, respond=None),
            context=f"reject by {user_id} on {target}",
        )

    app.view("item.reject")(on_reject_submit)

    async def on_new_release_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        errors, values = _validate_new_release(view)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        await ack()
        user_id = str(body.get("user", {}).get("id"))
        team_id = str((body.get("team") or {}).get("id") or "")
        c.tasks.spawn(
            flows.create(
                c,
                team_id=team_id,
                channel_id=str(view.get("private_metadata")),
                user_id=user_id,
                name=values["name"],
                workload=values["workload"],
                start_utc=values["start"],
                duration=values["duration"],
                tz=None,
                template_key=values["template"],
                respond=None,
                rehearsal=values["rehearsal"],
            ),
            context=f"new release (modal) by {user_id}",
        )

    app.view("release.new")(on_new_release_submit)


def _state_value(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    block = (view.get("state") or {}).get("values", {}).get(block_id) or {}
    return next(iter(block.values()), None) or {}


def _input(view: dict[str, Any], block_id: str) -> str:
    return str(_state_value(view, block_id).get("value") or "")


def _selected(view: dict[str, Any], block_id: str) -> str:
    opt = _state_value(view, block_id).get("selected_option") or {}
    return str(opt.get("value") or "")


def _validate_new_release(view: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    errors: dict[str, str] = {}
    name = _input(view, "name").strip()
    if not name:
        errors["name"] = "Give the release a name."
    elif len(name) > 80:
        errors["name"] = "Keep the name under 80 characters."
    elif any(s in name for s in ("<@", "<!", "<#")):
        errors["name"] = "Names cannot contain mentions or channel links."
    workload = _input(view, "workload").strip()
    if len(workload) > 80:
        errors["workload"] = "Keep the workload under 80 characters."
    raw = _state_value(view, "cutover").get("selected_date_time")
    start: datetime | None = None
    if raw is None:
        errors["cutover"] = "Pick the date and time the cutover starts."
    else:
        try:
            start = datetime.fromtimestamp(int(raw), UTC)
        except (TypeError, ValueError, OverflowError):
            errors["cutover"] = "That date and time could not be read; pick it again."
    duration: timedelta | None = None
    try:
        duration = parse_duration(_selected(view, "duration") or "4h")
    except TimeParseError:
        errors["duration"] = "Pick a window length."
    template = _selected(view, "template") or available_templates()[0]
    if template not in available_templates():
        errors["template"] = "Pick one of the listed templates."
    if start is not None and duration is not None and "cutover" not in errors:
        problem = flows.check_window(start, duration)
        if problem:
            errors["cutover"] = "The cutover must start in the future (and within two years)."
    mode = _selected(view, "rehearsal") or "0"
    rehearsal = int(mode) if mode.isdigit() else -1
    if rehearsal != 0 and factor_problem(rehearsal):
        errors["rehearsal"] = "Pick the real release or one of the listed rehearsal speeds."
    values = {"name": name, "workload": workload, "start": start, "duration": duration, "template": template}
    return errors, values | {"rehearsal": rehearsal or None}


async def click(
    c: Components, body: dict[str, Any], action: dict[str, Any], kind: DecisionKind, respond: AsyncRespond
) -> None:
    user_id = str(body.get("user", {}).get("id"))
    team_id = str((body.get("team") or {}).get("id") or "")
    target = parse_target(action.get("value"))
    if target is None:
        await respond(
            **ephemeral(info_message(":warning: That button is not one of mine; nothing changed.")),
            replace_original=False,
        )
        return
    if kind is DecisionKind.REJECT:
        await open_reject(c, team_id, user_id, target, str(body.get("trigger_id") or ""), respond)
        return
    await decide(c, team_id, user_id, target, kind, reason=None, respond=respond)


async def _check(
    c: Components, team_id: str, user_id: str, target: tuple[int, int], kind: DecisionKind
) -> Go | Refuse | StaleButton:
    item_id, version = target
    found = await _find(c, team_id, item_id)
    if found is None:
        return Refuse(info_message(":warning: That checklist item no longer exists; nothing changed."))
    view, item = found
    held = await roles_for(c.directory, view, user_id, roles_needed(item, kind))
    verdict = judge(view, item, kind, user_id, held)
    if not verdict.allowed:
        if verdict.allowed_roles:
            allowed = [(r, view.holders(r)) for r in verdict.allowed_roles]
            return Refuse(refusal_message(ACTION_WORDS[kind], item.title, allowed))
        return Refuse(info_message(f":no_entry: {verdict.reason}"))
    if item.version != version:
        return StaleButton()
    nxt = next_state(item, kind)
    if isinstance(nxt, NotApplicable):
        return Refuse(info_message(f"“{escape(item.title)}” {nxt.reason}"))
    return Go(view, item, verdict.via_role, nxt)


async def decide(
    c: Components,
    team_id: str,
    user_id: str,
    target: tuple[int, int],
    kind: DecisionKind,
    *,
    reason: str | None,
    respond: AsyncRespond | None,
) -> None:
    checked = await _check(c, team_id, user_id, target, kind)
    if isinstance(checked, Refuse):
        await _say(c, respond, user_id, target, checked.message)
        return
    if isinstance(checked, StaleButton):
        await _stale(c, team_id, user_id, target, kind, respond, same=await _was_same(c, target, kind, user_id))
        return
    outcome = await decisions.record(
        c.sessions,
        release_id=checked.release.id,
        item_id=checked.item.id,
        version=target[1],
        kind=kind,
        new_state=checked.next_state,
        user_id=user_id,
        role_key=checked.via_role,
        reason=reason,
    )
    if isinstance(outcome, decisions.Stale):
        await _stale(c, team_id, user_id, target, kind, respond, same=outcome.same)
        return
    log.info("%s recorded on %s (decision %s)", kind.value, checked.item.key, outcome.decision_id)
    await c.live.refresh(checked.release.id)


async def _already_recorded(c: Components, target: tuple[int, int], kind: DecisionKind, user_id: str) -> bool:
    """Whether this very decision was recorded already: checked before loading the whole release."""
    async with c.sessions() as session:
        version = await session.scalar(select(ChecklistItem.version).where(ChecklistItem.id == target[0]))
    if version is None or version == target[1]:
        return False
    return await _was_same(c, target, kind, user_id)


async def _was_same(c: Components, target: tuple[int, int], kind: DecisionKind, user_id: str) -> bool:
    async with c.sessions() as session:
        row = (
            await session.execute(
                select(Decision).where(Decision.item_id == target[0], Decision.item_version == target[1])
            )
        ).scalar_one_or_none()
    return row is not None and row.kind == kind.value and row.user_id == user_id


async def _stale(
    c: Components,
    team_id: str,
    user_id: str,
    target: tuple[int, int],
    kind: DecisionKind,
    respond: AsyncRespond | None,
    *,
    same: bool,
) -> None:
    # A repeat of a decision already recorded (double click, Slack retry) needs no answer.
    if same:
        return
    await _say(
        c,
        respond,
        user_id,
        target,
        info_message(
            "Someone changed this item just before you; the checklist now shows its current state. "
            "Nothing was recorded for your click."
        ),
    )
    found = await _find(c, team_id, target[0])
    if found:
        await c.live.refresh(found[0].id)


async def _say(c: Components, respond: AsyncRespond | None, user_id: str, target: tuple[int, int], r: Rendered) -> None:
    if respond is not None:
        await respond(**ephemeral(r), replace_original=False)
        return
    found = await _find(c, "", target[0])
    if found is None:
        return
    try:
        await c.client.chat_postEphemeral(channel=found[0].channel_id, user=user_id, **payload(r))
    except SlackApiError as e:
        log.warning("could not tell %s: %s", user_id, e.response.get("error"))


async def open_reject(
    c: Components, team_id: str, user_id: str, target: tuple[int, int], trigger_id: str, respond: AsyncRespond
) -> None:
    checked = await _check(c, team_id, user_id, target, DecisionKind.REJECT)
    if isinstance(checked, Refuse):
        await _say(c, respond, user_id, target, checked.message)
        return
    if isinstance(checked, StaleButton):
        await _stale(c, team_id, user_id, target, DecisionKind.REJECT, respond, same=False)
        return
    try:
        await c.client.views_open(trigger_id=trigger_id, view=reject_modal(checked.item, checked.release))
    except SlackApiError as e:
        await _say(
            c,
            respond,
            user_id,
            target,
            info_message(
                f":warning: Slack would not open the reject form ({e.response.get('error')}); click Reject again."
            ),
        )
