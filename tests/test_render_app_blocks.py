"""Everything the app posts or opens renders completely in the sandbox page.

Each case calls one public builder of ``messages/`` with realistic data in one interesting state,
serialises the result the way ``bot/`` sends it (``bot.replies.payload`` for messages, ``View.to_dict``
for modals) and renders it. A case fails when the renderer had to fall back to a placeholder, left a
mention, channel, group or date token unresolved, dropped a block, a button or an input, or left
mrkdwn markers visible. ``test_every_public_builder_is_covered`` fails when a builder is added to
``messages/`` without a case here.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

import messages
from bot.commands.parser import parse
from bot.commands.types import UsageError
from bot.commands.usage import help_overview, usage_for
from bot.slack.replies import payload
from domain.announcements import AnnouncementKind, DeliveryState, NoticeKey, StakeholderChannel
from domain.model import Assignment, ItemState, ItemView, PhaseView, ReleaseState, ReleaseView
from domain.policy import Lateness
from domain.retro import SurveyState, SurveyView, summarize
from domain.template import DEFAULT_TEMPLATE, SurveyQuestion, available_templates, load_template
from messages import (
    checklist,
    common,
    dates,
    help,
    lifecycle,
    modals,
    retro,
    schedule,
    stakeholder_notices,
    status,
    team_notices,
)
from messages.common import Rendered
from messages.dates import slack_date
from messages.lifecycle import LifecycleAction
from sandbox.render import PLACEHOLDER_CLASS, RenderContext, render_blocks, render_message, render_view
from tests.test_announcement_messages import CHANNELS, HOSTILE_TEXT, TEMPLATE_KEYS, U_COM, announcement, delivery
from tests.test_announcement_messages import plan as announcement_plan
from tests.test_lifecycle_messages import HOSTILE
from tests.test_messages import (
    CUTOVER,
    G_BIZ,
    HOSTILE_REASON,
    NOW,
    SPONSOR,
    U_PM,
    U_UAT1,
    U_WBO,
    WBO,
    big_phase,
    make_release,
)
from tests.test_render import Doc
from tests.test_retro_messages import QUESTIONS, RESPONSES, facts, survey

MODULES: tuple[ModuleType, ...] = (
    checklist,
    status,
    help,
    modals,
    stakeholder_notices,
    schedule,
    team_notices,
    lifecycle,
    retro,
    common,
    dates,
)
# Not the default `/release`: every case that shows a command must show this one (see the tests at the end).
COMMAND = "/deploy"

CTX = RenderContext(
    viewer=U_PM.id,
    viewer_tz="Europe/Berlin",
    users={
        U_PM.id: "Pat Planner",
        U_WBO.id: "Wes Owner",
        U_UAT1.id: "Uma Tester",
        "UUAT00002": "Ugo Tester",
        "USEC00001": "Sid Security",
        U_COM.id: "Cora Ops",
        "U012ABC": "Hal Helper",
    },
    channels={
        **{f"C0BIZ{n:04d}": f"payroll-region-{n}" for n in range(8)},
        "C0REL3": "rel-3-payroll",
        "C0BIZ0001": "payroll-business",
        "C0ITS0001": "it-operations",
        "G0OPS0001": "ops-private",
        "C0OPS12": "ops-runbook",
    },
    usergroups={G_BIZ.id: "payroll-biz", "SMIG00001": "migration-team", "SPMO00001": "pmo", "S0ONCALL": "oncall"},
    now=NOW,
)


@dataclass(frozen=True)
class Case:
    id: str
    build: partial[Any]  # the builder with its arguments: called by the test, not at collection
    errors: Mapping[str, str] | None = None

    @property
    def builder(self) -> Callable[..., Any]:
        return self.build.func


# --- realistic data in each state ----------------------------------------------------------------


def release_in(state: ReleaseState) -> ReleaseView:
    started = state in (
        ReleaseState.CUTTING_OVER,
        ReleaseState.COMPLETED,
        ReleaseState.CLOSED,
        ReleaseState.ROLLED_BACK,
    )
    ended = started and state is not ReleaseState.CUTTING_OVER
    return make_release(
        state=state,
        actual_start=CUTOVER + timedelta(minutes=5) if started else None,
        actual_end=CUTOVER + timedelta(hours=5) if ended else None,
        override_reason="CAB <!channel> ok & signed" if started else None,
        override_by=U_PM.id if started else None,
        rollback_reason="Payments <fail> & retry" if state is ReleaseState.ROLLED_BACK else None,
        retro="survey open: 3/8 answered" if state is ReleaseState.CLOSED else None,
    )


RELEASE = make_release()
AFTER = make_release(state=ReleaseState.COMPLETED, actual_start=CUTOVER, actual_end=CUTOVER + timedelta(hours=5))
GATE_DECISIONS = (ItemState.APPROVED, ItemState.REJECTED)
TASK = next(i for i in RELEASE.items if not i.is_gate)
GATE = next(i for i in RELEASE.items if i.is_gate)


def item_in(state: ItemState, gate: bool) -> ItemView:
    decided = state is not ItemState.PENDING
    return replace(
        GATE if gate else TASK,
        state=state,
        decided_by=U_WBO.id if decided else None,
        decided_at=CUTOVER - timedelta(days=3) if decided else None,
        reason=HOSTILE_REASON if state is ItemState.REJECTED else None,
    )


def pending(phases: tuple[PhaseView, ...]) -> tuple[PhaseView, ...]:
    """The phases with every item still open, as in a release just created."""
    fresh = {"state": ItemState.PENDING, "decided_by": None, "decided_at": None, "reason": None}
    return tuple(replace(p, items=tuple(replace(i, **fresh) for i in p.items)) for p in phases)


def missing_gates(release: ReleaseView) -> list[ItemView]:
    return [i for i in release.items if i.is_gate and i.state is not ItemState.APPROVED]


def usage_error() -> UsageError:
    try:
        parse("assign", COMMAND, today=NOW)
    except UsageError as e:
        return e
    raise AssertionError("`assign` without arguments must be a usage error")


def closed_survey(responses: int, **kw: Any) -> SurveyView:
    return survey(state=SurveyState.CLOSED, responses=responses, **kw)


MANY_QUESTIONS = (
    *QUESTIONS,
    *(SurveyQuestion(f"extra{n}", f"Extra question {n} <{n}> & more?", "text", (), True) for n in range(12)),
)


# --- the cases -----------------------------------------------------------------------------------


def _checklist_cases() -> Iterator[Case]:
    for state in ReleaseState:
        r = release_in(state)
        yield Case(f"summary[{state.value}]", partial(checklist.summary_message, r, NOW))
        yield Case(f"status[{state.value}]", partial(status.status_message, r, NOW, command=COMMAND))
        yield Case(f"phase_messages[{state.value}]", partial(checklist.phase_messages, r, r.phases[0], NOW))
    # More roles than the status has room for: it points to the roles verb for the rest.
    extra_roles = tuple(Assignment(f"team-{n:03d}", U_PM) for n in range(150))
    crowded = make_release(assignments=(*RELEASE.assignments, *extra_roles))
    yield Case("status[many-roles]", partial(status.status_message, crowded, NOW, command=COMMAND))
    for phase in RELEASE.phases:
        yield Case(f"phase_messages[ready-{phase.key}]", partial(checklist.phase_messages, RELEASE, phase, NOW))
    yield Case("phase_messages[80-items-in-parts]", partial(checklist.phase_messages, RELEASE, big_phase(), NOW))
    empty = PhaseView(key="e", title="Empty", position=9, items=())
    yield Case("phase_messages[empty-phase]", partial(checklist.phase_messages, RELEASE, empty, NOW))
    item_states = {False: (ItemState.PENDING, ItemState.DONE), True: (ItemState.PENDING, *GATE_DECISIONS)}
    for gate, states in item_states.items():
        for item_state in states:
            for late in (None, *Lateness):
                label = f"{'gate' if gate else 'task'}-{item_state.value}{f'-{late.value}' if late else ''}"
                item = item_in(item_state, gate)
                yield Case(f"item_blocks[{label}]", partial(checklist.item_blocks, item, RELEASE.roles, late=late))
    frozen = item_in(ItemState.REJECTED, True)
    yield Case(
        "item_blocks[frozen-no-buttons]",
        partial(checklist.item_blocks, frozen, RELEASE.roles, late=Lateness.OVERDUE, buttons=False),
    )
    # Created ten days before its window: the items the template wants weeks ahead were due already.
    late_start = make_release(created_at=CUTOVER - timedelta(days=10), phases=pending(RELEASE.phases))
    a_minute_in = CUTOVER - timedelta(days=10) + timedelta(minutes=1)
    yield Case("summary[late-start]", partial(checklist.summary_message, late_start, a_minute_in))
    yield Case("status[late-start]", partial(status.status_message, late_start, NOW, command=COMMAND))
    yield Case("phase_messages[late-start]", partial(checklist.phase_messages, late_start, late_start.phases[0], NOW))
    for state in (ReleaseState.PLANNING, ReleaseState.READY, ReleaseState.CUTTING_OVER):
        yield Case(f"lifecycle_actions[{state.value}]", partial(checklist.lifecycle_actions, release_in(state)))
    yield Case("roles", partial(status.roles_message, RELEASE, command=COMMAND))
    yield Case(
        "roles[no-roles]", partial(status.roles_message, make_release(phases=(), assignments=()), command=COMMAND)
    )
    everything = [release_in(s) for s in ReleaseState]
    yield Case("release_list", partial(status.release_list_message, everything, NOW, command=COMMAND))
    yield Case("release_list[empty]", partial(status.release_list_message, [], NOW, command=COMMAND))
    yield Case("emptied_part", partial(checklist.emptied_part))
    reopened = [i for i in RELEASE.items if i.is_gate][:3]
    yield Case(
        "scope_changed",
        partial(team_notices.scope_changed_message, RELEASE, U_PM.id, "added #61 “Smoke <tests>” to phase 3", reopened),
    )
    yield Case("scope_changed[none]", partial(team_notices.scope_changed_message, RELEASE, U_PM.id, "removed #7", []))
    shipped = [load_template(k) for k in available_templates()]
    yield Case("templates", partial(status.templates_message, shipped, DEFAULT_TEMPLATE, command=COMMAND))
    newer = replace(RELEASE, template_version="1.0")
    yield Case(
        "status[newer-template]",
        partial(status.status_message, newer, NOW, command=COMMAND, current_template_version="1.1"),
    )


def _help_and_modal_cases() -> Iterator[Case]:
    yield Case("help[overview]", partial(help.help_message, help_overview(COMMAND, today=NOW), command=COMMAND))
    topic = usage_for("announce", COMMAND, today=NOW)
    yield Case("help[topic]", partial(help.help_message, topic, command=COMMAND))
    error = usage_error()
    yield Case("usage_error[parse]", partial(help.usage_error_message, error.message, error.usage))
    yield Case(
        "usage_error[no-usage]",
        partial(help.usage_error_message, f"`frobnicate` is not a `{COMMAND}` command. See `{COMMAND} help`.", ""),
    )
    notice = (
        f"<@{U_WBO.id}> now holds *Workload Business Owner* in <#C0REL3> from {slack_date(CUTOVER)} <!channel> & co"
    )
    yield Case("info[mentions-and-date]", partial(help.info_message, notice))
    yield Case("info[plain]", partial(help.info_message, "<@U1> & <b>co</b>", plain=True))
    yield Case(
        "info[warning]", partial(help.info_message, ":warning: That button is not one of mine; nothing changed.")
    )
    allowed = [(WBO, (U_WBO, G_BIZ)), (SPONSOR, ())]
    yield Case(
        "refusal[holders]",
        partial(help.refusal_message, "approve", "Go/no-go <decision>", allowed, command=COMMAND, roles=RELEASE.roles),
    )
    yield Case(
        "refusal[nobody]", partial(help.refusal_message, "undo", "Task", [], command=COMMAND, roles=RELEASE.roles)
    )
    end = CUTOVER + timedelta(hours=4)
    created = partial(help.release_created_message, "REL-3", "Payroll <to> Azure", CUTOVER, end)
    yield Case("release_created", partial(created, None, None, command=COMMAND))
    yield Case("release_created[rehearsal]", partial(created, CUTOVER, 7200, command=COMMAND))

    templates = [("caf-release", "CAF migration release"), ("lite", "Small & quick <fast>")]
    yield Case("new_release_modal", partial(modals.new_release_modal, templates, "C0REL3"))
    yield Case(
        "new_release_modal[errors]",
        partial(modals.new_release_modal, [("caf", "CAF")], "C0REL3"),
        errors={"name": "Give the release a name.", "cutover": "Pick a time in the future."},
    )
    reason = partial(
        modals.reason_modal,
        callback_id="x",
        metadata="1",
        title="Why?",
        submit="Send",
        intro="Say *why* &lt;now&gt;",
        min_length=1,
        max_length=100,
        placeholder="Because…",
    )
    yield Case("reason_modal", reason)
    reject = replace(item_in(ItemState.PENDING, True), title="Go/no-go <!channel>")
    yield Case("reject_modal", partial(modals.reject_modal, reject, RELEASE))
    yield Case(
        "reject_modal[error]",
        partial(modals.reject_modal, reject, RELEASE),
        errors={"reason": "Give a reason: approvers and the audit trail need it."},
    )
    yield Case(
        "notice_modal",
        partial(modals.notice_modal, "Only a *Workload Business Owner* may reject <this> & that. " + "x" * 2900),
    )


def _announcement_cases() -> Iterator[Case]:
    announce = partial(stakeholder_notices.announcement_message, command=COMMAND)
    for key, audiences in sorted(TEMPLATE_KEYS.items()):
        yield Case(f"announcement[{key}]", partial(announce, RELEASE, key, audiences, None, NOW))
    for state in (ReleaseState.COMPLETED, ReleaseState.ROLLED_BACK):
        later = CUTOVER + timedelta(hours=6)
        yield Case(
            f"announcement[ann.outcome-{state.value}]",
            partial(announce, release_in(state), NoticeKey.WINDOW_END, ("all",), None, later),
        )
    rolled_back = release_in(ReleaseState.ROLLED_BACK)
    at = CUTOVER + timedelta(hours=2)
    yield Case("announcement[ann.rollback]", partial(announce, rolled_back, NoticeKey.ROLLBACK, ("all",), None, at))
    yield Case("announcement[adhoc-hostile]", partial(announce, RELEASE, "adhoc", ("it",), HOSTILE_TEXT, NOW))
    next_day = CUTOVER + timedelta(days=1)
    yield Case(
        "announcement[adhoc-after-rehearsal]",
        partial(announce, AFTER, "", (), "Done :tada:", next_day, rehearsal=True),
    )
    yield Case(
        "announcement[rehearsal]",
        partial(announce, RELEASE, "ann.initial", ("business",), None, NOW, rehearsal=True),
    )
    for label, targets in (("no-channel", ()), ("channels", ("C0BIZ0001", "C0ITS0001"))):
        yield Case(
            f"announcement[rehearsal-{label}]",
            partial(announce, RELEASE, "ann.reminder", ("all",), None, NOW, rehearsal=True, rehearsal_channels=targets),
        )
    window = (CUTOVER + timedelta(days=30), CUTOVER + timedelta(days=30, hours=4))
    yield Case(
        "announcement[decom-window]",
        partial(announce, AFTER, "ann.decom_notice", ("business", "it"), None, NOW, window=window),
    )

    plan_of = partial(schedule.schedule_message, command=COMMAND)
    yield Case("schedule[every-delivery-state]", partial(plan_of, RELEASE, announcement_plan(), CHANNELS, NOW))
    yield Case("schedule[empty]", partial(plan_of, RELEASE, [], [], NOW))
    spread = tuple(
        delivery(n, DeliveryState.FAILED if n % 3 else DeliveryState.SENT, f"C0BIZ{n:04d}", error="is_archived")
        for n in range(8)
    )
    channels = [*CHANNELS, StakeholderChannel("support", "C0ITS0001", problem="channel_not_found")]
    many = [announcement(1, "ann.initial", CUTOVER, spread)]
    yield Case("schedule[many-channels]", partial(plan_of, RELEASE, many, channels, NOW))
    adhoc = announcement(
        9, "", NOW, (delivery(1, DeliveryState.PENDING, "C0OPS12"),), audiences=(), kind=AnnouncementKind.ADHOC
    )
    yield Case("schedule[adhoc]", partial(plan_of, RELEASE, [adhoc], CHANNELS, NOW))

    for error in ("not_in_channel", "is_archived", "weird_error"):
        yield Case(
            f"preflight_problem[{error}]",
            partial(team_notices.preflight_problem_message, RELEASE, "C0BIZ0001", error, command=COMMAND),
        )
        yield Case(
            f"delivery_failed[{error}]",
            partial(team_notices.delivery_failed_message, RELEASE, "ann.initial", "G0OPS0001", error, command=COMMAND),
        )
    missed = [("ann.initial", "C0BIZ0001", CUTOVER - timedelta(days=14)), ("ann.it_ops", "C0ITS0001", CUTOVER)]
    yield Case("missed", partial(team_notices.missed_message, RELEASE, missed, command=COMMAND))
    old = (CUTOVER, CUTOVER + timedelta(hours=4))
    new_start = CUTOVER + timedelta(days=7)
    moved = team_notices.moved_message
    reapprove = missing_gates(RELEASE)[:4]
    yield Case(
        "moved[reapproval]", partial(moved, RELEASE, *old, new_start, new_start + timedelta(hours=6), 3, reapprove)
    )
    yield Case("moved[quiet]", partial(moved, RELEASE, *old, new_start, new_start, 0, []))
    second = replace(RELEASE, attempt=2, state=ReleaseState.PLANNING)
    yield Case("replanned[reapproval]", partial(team_notices.replanned_message, second, *old, reapprove))
    yield Case("replanned[quiet]", partial(team_notices.replanned_message, second, *old, []))
    added = partial(team_notices.channel_added_message, command=COMMAND)
    yield Case("channel_added[ok]", partial(added, RELEASE, "business", "C0BIZ0001", None, 3))
    yield Case("channel_added[problem]", partial(added, RELEASE, "it", "G0OPS0001", "not_in_channel", 0))
    yield Case("channel_added[odd-problem]", partial(added, RELEASE, "it", "C0ITS0001", "restricted_action", 0))


def _lifecycle_cases() -> Iterator[Case]:
    missing = missing_gates(RELEASE)
    yield Case("gonogo_refusal", partial(lifecycle.gonogo_refusal_message, RELEASE, missing[:3], command=COMMAND))
    yield Case(
        "gonogo_refusal[all-missing]", partial(lifecycle.gonogo_refusal_message, RELEASE, missing, command=COMMAND)
    )
    cutting = release_in(ReleaseState.CUTTING_OVER)
    yield Case("complete_refusal", partial(lifecycle.complete_refusal_message, cutting, missing[:2], command=COMMAND))
    notices: list[tuple[LifecycleAction, str | None, str | None]] = [
        ("started", None, None),
        ("started", None, HOSTILE),
        ("completed", None, None),
        ("rolled_back", HOSTILE, None),
        ("rolled_back", None, None),
    ]
    for action, reason, override in notices:
        label = f"{action}{'-override' if override else ''}{'-reason' if reason else ''}"
        at = CUTOVER + timedelta(hours=2)
        yield Case(
            f"lifecycle_notice[{label}]",
            partial(lifecycle.lifecycle_notice, cutting, action, U_PM.id, reason, override, at),
        )
    for gate in (False, True):
        item = item_in(ItemState.PENDING, gate)
        yield Case(
            f"overdue_reminder[{'gate' if gate else 'task'}]",
            partial(lifecycle.overdue_reminder_message, RELEASE, item),
        )
    yield Case("rollback_modal", partial(lifecycle.rollback_modal, cutting))
    yield Case(
        "rollback_modal[error]",
        partial(lifecycle.rollback_modal, cutting),
        errors={"reason": "Say why the change is being rolled back."},
    )


def _retro_cases() -> Iterator[Case]:
    for anonymous in (True, False):
        who = "anonymous" if anonymous else "named"
        for builder in (retro.survey_invite_message, retro.survey_dm_message, retro.survey_reminder_message):
            yield Case(f"{builder.__name__}[{who}]", partial(builder, AFTER, survey(anonymous=anonymous)))
        yield Case(
            f"survey_modal[{who}]", partial(retro.survey_modal, AFTER, survey(anonymous=anonymous), QUESTIONS, None)
        )
    yield Case("survey_modal[previous-answers]", partial(retro.survey_modal, AFTER, survey(), QUESTIONS, RESPONSES[0]))
    yield Case(
        "survey_modal[errors]",
        partial(retro.survey_modal, AFTER, survey(), QUESTIONS, None),
        errors={q.key: f"Answer “{q.key}” <please>" for q in QUESTIONS[:2]},
    )
    yield Case("retro_status[none]", partial(retro.retro_status_message, AFTER, None, command=COMMAND))
    for survey_state in SurveyState:
        yield Case(
            f"retro_status[{survey_state.value}]",
            partial(retro.retro_status_message, AFTER, survey(state=survey_state), command=COMMAND),
        )
    summary = retro.survey_summary_message
    two = summarize(QUESTIONS, RESPONSES[:2])
    three = summarize(QUESTIONS, RESPONSES)
    yield Case("survey_summary[withheld]", partial(summary, AFTER, closed_survey(2), two, facts()))
    yield Case("survey_summary[published]", partial(summary, AFTER, closed_survey(3), three, facts()))
    overridden = facts(override_reason=HOSTILE, actual_end=None, outcome="rolled_back")
    yield Case(
        "survey_summary[named-override]",
        partial(summary, AFTER, closed_survey(3, anonymous=False), three, overridden),
    )
    crowded = summarize(MANY_QUESTIONS, RESPONSES * 13)
    yield Case(
        "survey_summary[many-questions]", partial(summary, AFTER, closed_survey(40, invited=50), crowded, facts())
    )


def _common_cases() -> Iterator[Case]:
    yield Case("rendered", partial(common.rendered, "fallback", [common.section("*hi* <@UPM000001>")]))
    yield Case("header", partial(common.header, "REL-3 · Payroll &amp; HR &lt;wave 2&gt; :rocket:"))
    yield Case("section", partial(common.section, f"*Due* {slack_date(CUTOVER)}", block_id="s"))
    yield Case("context", partial(common.context, "one <#C0REL3>", "", "_two_ <!subteam^SMIG00001>"))


def _cases() -> Iterator[Case]:
    for group in (
        _checklist_cases,
        _help_and_modal_cases,
        _announcement_cases,
        _lifecycle_cases,
        _retro_cases,
        _common_cases,
    ):
        yield from group()


CASES: list[Case] = list(_cases())


# --- what "rendered completely" means ---------------------------------------------------------------


def serialise(out: Any) -> list[tuple[str, Any]]:
    """(kind, JSON) pairs exactly as bot/ hands them to the Web API."""
    if isinstance(out, Rendered):
        return [("message", payload(out))]
    if isinstance(out, tuple) and all(isinstance(r, Rendered) for r in out):
        return [("message", payload(r)) for r in out]
    if isinstance(out, View):
        return [("view", out.to_dict())]
    if isinstance(out, Block):
        return [("blocks", [out.to_dict()])]
    if isinstance(out, list) and all(isinstance(b, Block) for b in out):
        return [("blocks", [b.to_dict() for b in out])]
    raise AssertionError(f"unexpected builder output {type(out).__name__}")


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def shown(text: str) -> str:
    """How a plain_text label reads once Slack's entities are decoded."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


RAW_TOKENS = ("<!date", "<@U", "<@W", "<#C", "<#G", "<!subteam")


def assert_rendered_completely(kind: str, source: Any, markup: str, errors: Mapping[str, str] | None) -> None:
    doc = Doc(markup)
    blocks = source["blocks"] if isinstance(source, dict) else source
    # What is on screen: a message's top-level text is only its notification fallback.
    dumped = json.dumps(blocks if kind != "view" else source, ensure_ascii=False)
    assert PLACEHOLDER_CLASS not in markup, re.findall(r'class="bk-unsupported"[^<]*', markup)
    for raw in RAW_TOKENS:
        assert raw not in markup, raw
        # Escaped in the source means typed by someone: shown as text, exactly as often.
        escaped = "&lt;" + raw[1:]
        assert markup.count(escaped) == dumped.count(escaped), escaped
    for doubled in ("&amp;amp;", "&amp;lt;", "&amp;gt;"):
        assert doubled not in markup, doubled
    # mrkdwn markers all became formatting, code and pre blocks.
    assert "*" not in doc.text and "`" not in doc.text

    assert markup.count('<time class="bk-date"') == dumped.count("<!date^")
    assert "bk-date-fallback" not in markup
    for user_id in set(re.findall(r"<@([UW][A-Z0-9]+)>", dumped)):
        assert f"@{CTX.users[user_id]}" in doc.text
    for channel_id in set(re.findall(r"<#([CG][A-Z0-9]+)(?:\|[^>]*)?>", dumped)):
        assert f"#{CTX.channels[channel_id]}" in doc.text
    for group_id in set(re.findall(r"<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>", dumped)):
        assert f"@{CTX.usergroups[group_id]}" in doc.text

    drawn = [a["data-block-type"] for _, a in doc.tags if "data-block-type" in a]
    assert drawn == [b["type"] for b in blocks]
    elements = [e for e in walk(blocks) if isinstance(e.get("action_id"), str)]
    assert sorted({a["data-action-id"] or "" for _, a in doc.tags if "data-action-id" in a}) == sorted(
        {e["action_id"] for e in elements}
    )
    buttons = [e for e in elements if e.get("type") == "button"]
    assert len(doc.all("button", data_type="button")) == len(buttons)
    for button in buttons:
        assert shown(button["text"]["text"]) in doc.text
        found = doc.all("button", data_action_id=button["action_id"], data_value=button.get("value", ""))
        assert found and all(("data-confirm" in f) is ("confirm" in button) for f in found)

    inputs = [b for b in blocks if b.get("type") == "input"]
    for block in inputs:
        wrapper = doc.one("div", **{"class": "bk-input", "data-block-id": block["block_id"]})
        assert wrapper["data-optional"] == ("true" if block.get("optional") else "false")
        assert shown(block["label"]["text"]) in doc.text
        assert doc.all(data_block_id=block["block_id"], data_action_id=block["element"]["action_id"])
    if kind == "view":
        assert shown(source["title"]["text"]) in doc.text
        for key in ("submit", "close"):
            if key in source:
                button = doc.one("button", **{"class": f"bk-{key}"})
                assert button is not None and shown(source[key]["text"]) in doc.text
    expected_errors = errors or {}
    assert len(doc.all("div", **{"class": "bk-error"})) == len(expected_errors)
    assert len(doc.all("div", **{"data-has-error": "true"})) == len(expected_errors)
    for message in expected_errors.values():
        assert message in doc.text


def render(kind: str, source: Any, errors: Mapping[str, str] | None) -> str:
    if kind == "message":
        return render_message(source, CTX)
    if kind == "view":
        return render_view(source, CTX, errors)
    return render_blocks(source, CTX, surface="message")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_app_output_renders_completely(case: Case) -> None:
    outputs = serialise(case.build())
    assert outputs
    for kind, source in outputs:
        assert_rendered_completely(kind, source, render(kind, source, case.errors), case.errors)


def public_builders() -> set[str]:
    """Public functions of messages/ that return a message, a view or blocks."""
    found: set[str] = set()
    for module in MODULES:
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__ or name.startswith("_"):
                continue
            returns = str(inspect.signature(fn).return_annotation)
            if re.search(r"\b(Rendered|View|\w*Block)\b", returns):
                found.add(f"{module.__name__}.{name}")
    return found


def test_every_public_builder_is_covered() -> None:
    covered = {f"{c.builder.__module__}.{c.builder.__name__}" for c in CASES}
    builders = public_builders()
    assert len(builders) > 30  # the discovery itself works
    assert builders - covered == set()
    assert len({c.id for c in CASES}) == len(CASES)


# --- the configured slash command --------------------------------------------------------------------


DEFAULT_COMMAND = "/release"


def takes_command(builder: Callable[..., Any]) -> bool:
    return "command" in inspect.signature(builder).parameters


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_no_output_shows_the_default_command(case: Case) -> None:
    if takes_command(case.builder):
        assert case.build.keywords.get("command") == COMMAND, "pass command=COMMAND to every builder that takes it"
    dumped = json.dumps(serialise(case.build()), ensure_ascii=False)
    assert DEFAULT_COMMAND not in dumped


def test_every_builder_that_takes_the_command_shows_it() -> None:
    shown: dict[str, bool] = {}
    for case in CASES:
        if takes_command(case.builder):
            name = f"{case.builder.__module__}.{case.builder.__name__}"
            dumped = json.dumps(serialise(case.build()), ensure_ascii=False)
            shown[name] = shown.get(name, False) or f"{COMMAND} " in dumped
    assert len(shown) >= 15  # the discovery itself works
    assert [name for name, seen in shown.items() if not seen] == []


def spelled_strings(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every string constant in code (docstrings excluded: they may name `/release`)."""
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


@pytest.mark.parametrize("path", sorted(Path(messages.__file__).parent.glob("*.py")), ids=lambda p: p.name)
def test_no_builder_spells_out_the_default_command(path: Path) -> None:
    # The cases above only see the paths they reach; this catches a `/release` on any other path.
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert [(line, text) for line, text in spelled_strings(tree) if DEFAULT_COMMAND in text] == []
