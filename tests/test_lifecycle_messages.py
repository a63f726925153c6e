"""Cutover lifecycle builders: go/no-go refusals, channel notices, the overdue reminder, the rollback modal."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

from domain.limits import CUTOVER_REASON_MAX, CUTOVER_REASON_MIN
from domain.model import Assignment, ItemState, ItemView, ReleaseState, ReleaseView
from messages.common import Rendered, to_dicts
from messages.dates import slack_date, slack_window
from messages.lifecycle import (
    complete_refusal_message,
    gonogo_refusal_message,
    lifecycle_notice,
    overdue_reminder_message,
    rollback_modal,
    safe_mention,
)
from sandbox.blockkit import validate_message_blocks, validate_view
from tests.test_messages import (
    CUTOVER,
    G_BIZ,
    PM,
    SPONSOR,
    U_PM,
    U_UAT1,
    U_UAT2,
    U_WBO,
    WBO,
    assert_dates_are_tokens,
    assert_message_ok,
    big_phase,
    make_release,
    texts,
)

HOSTILE = "DB <!channel> & <script>alert(1)</script> down"
RAW_MARKUP = ("<!channel>", "<!here", "<!everyone>", "<script>", "<wave 2>")


def check(out: Rendered) -> str:
    """Everything a Slack message must satisfy; returns the blocks' text."""
    assert_message_ok(out)
    blocks = to_dicts(out.blocks)
    assert validate_message_blocks(blocks) == []
    dumped = json.dumps({"text": out.text, "blocks": blocks})
    for raw in RAW_MARKUP:
        assert raw not in dumped, raw
    body = texts(out.blocks)
    assert_dates_are_tokens(body)
    return body


def gates(release: ReleaseView) -> list[ItemView]:
    return [i for i in release.items if i.is_gate]


def missing_gates(release: ReleaseView) -> list[ItemView]:
    return [g for g in gates(release) if g.state is not ItemState.APPROVED]


# --- go/no-go refusal --------------------------------------------------------------------------


def test_gonogo_refusal_lists_each_missing_gate_with_its_approvers() -> None:
    release = make_release()
    missing = missing_gates(release)[:3]  # the rejected one and two pending ones
    rejected = next(g for g in missing if g.state is ItemState.REJECTED)
    out = gonogo_refusal_message(release, missing, command="/release")
    body = check(out)
    assert "Cutover cannot start yet: 3 sign-offs are not approved" in body
    assert "Cutover of REL-3 cannot start yet: 3 sign-offs are not approved" == out.text
    assert "REL-3 · Payroll &amp; HR &lt;wave 2&gt;" in body
    assert f"⛔ *{rejected.title}* — *rejected* by <@{U_WBO.id}> · due {slack_date(rejected.due_at)}" in body
    assert "Reason: “Rollback plan missing &lt;!channel&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;”" in body
    for gate in missing:
        assert f"*{gate.title}*" in body
        assert f"due {slack_date(gate.due_at)}" in body
    assert body.count("— pending · due <!date^") == 2
    assert f"*Workload Business Owner*: <@{U_WBO.id}>, <!subteam^{G_BIZ.id}>" in body
    assert f"*User Acceptance Tester*: <@{U_UAT1.id}>, <@{U_UAT2.id}>" in body
    # Rejections first: they need someone to act, not just to click.
    assert body.index("⛔") < body.index("⏳")
    assert "A Project Manager may start anyway" in body
    assert "`/release cutover start --override &lt;reason&gt; REL-3`" in body
    assert "<#C0REL3>" in body


def test_gonogo_refusal_names_roles_nobody_holds_and_custom_command() -> None:
    release = make_release(assignments=(Assignment(PM, U_PM),))
    gate = replace(gates(release)[0], approver_roles=(WBO, SPONSOR), state=ItemState.PENDING)
    body = check(gonogo_refusal_message(release, [gate], command="/cut"))
    assert "Cutover cannot start yet: 1 sign-off is not approved" in body
    assert "nobody holds *Workload Business Owner* yet; nobody holds *Project Sponsor* yet" in body
    assert "`/cut cutover start --override &lt;reason&gt; REL-3`" in body
    assert "/release" not in body


def test_gonogo_refusal_of_hundreds_of_gates_fits_one_message() -> None:
    phases = tuple(replace(big_phase(100, 200), key=f"p{k}", position=k) for k in range(1, 6))
    release = make_release(phases=phases)
    missing = [replace(g, state=ItemState.PENDING) for g in gates(release)]
    assert len(missing) == 125
    out = gonogo_refusal_message(release, missing, command="/release")
    body = check(out)
    more = re.search(r"_\+(\d+) more sign-offs: see the checklist thread_", body)
    assert more is not None and body.count("⏳ ") + int(more.group(1)) == 125
    assert "--override" in body  # the way out is never cut off


def test_complete_refusal_has_no_override_but_a_rollback_hint() -> None:
    release = make_release(state=ReleaseState.CUTTING_OVER, actual_start=CUTOVER)
    missing = [replace(g, state=ItemState.PENDING) for g in gates(release)[:2]]
    out = complete_refusal_message(release, missing, command="/cut")
    body = check(out)
    assert "Cutover cannot be completed yet: 2 sign-offs are not approved" in body
    assert "--override" not in body
    assert "`/cut cutover rollback &lt;reason&gt; REL-3`" in body
    assert "complete again" in body
    assert out.text.startswith("Cutover of REL-3 cannot be completed yet")


# --- channel notices ---------------------------------------------------------------------------


def test_started_notice() -> None:
    release = make_release(state=ReleaseState.CUTTING_OVER)
    out = lifecycle_notice(release, "started", U_PM.id, None, None, CUTOVER)
    body = check(out)
    assert ":rocket: *Cutover started* · REL-3 · Payroll &amp; HR &lt;wave 2&gt;" in body
    assert f"Started by <@{U_PM.id}> · {slack_date(CUTOVER)}" in body
    assert f"*Planned window:* {slack_window(release.cutover_start, release.cutover_end)}" in body
    assert "overridden" not in body and "overridden" not in out.text
    assert out.text.startswith("Cutover started: REL-3")


def test_started_with_override_shows_it_prominently_and_escaped() -> None:
    release = make_release(state=ReleaseState.CUTTING_OVER)
    out = lifecycle_notice(release, "started", U_PM.id, None, "CAB <!channel> said yes & signed", CUTOVER)
    body = check(out)
    blocks = to_dicts(out.blocks)
    # Right under the headline, in its own block.
    assert blocks[1]["text"]["text"] == (
        f":warning: *Go/no-go overridden by <@{U_PM.id}>:* “CAB &lt;!channel&gt; said yes &amp; signed”"
    )
    assert "(go/no-go overridden)" in out.text
    assert body.index("Go/no-go overridden") < body.index("Planned window")


def test_completed_notice_shows_the_actual_window() -> None:
    start = CUTOVER + timedelta(minutes=10)
    end = CUTOVER + timedelta(hours=3, minutes=40)
    release = make_release(state=ReleaseState.COMPLETED, actual_start=start)
    body = check(lifecycle_notice(release, "completed", U_PM.id, None, None, end))
    assert ":checkered_flag: *Cutover completed*" in body
    assert f"Completed by <@{U_PM.id}> · {slack_date(end)}" in body
    assert f"*Actual:* {slack_window(start, end)}" in body and "(3h 30m)" in body


def test_rollback_notice_escapes_the_reason() -> None:
    release = make_release(state=ReleaseState.ROLLED_BACK, actual_start=CUTOVER)
    out = lifecycle_notice(release, "rolled_back", U_PM.id, HOSTILE, "ignored", CUTOVER + timedelta(hours=1))
    body = check(out)
    assert ":leftwards_arrow_with_hook: *Cutover rolled back*" in body
    assert "*Reason:* “DB &lt;!channel&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt; down”" in body
    assert "overridden" not in body  # an override only belongs to a start
    long = check(lifecycle_notice(release, "rolled_back", U_PM.id, "x" * 800, None, CUTOVER))
    assert "x" * 499 + "…" in long and "x" * 501 not in long


def test_notice_never_turns_a_bad_user_id_into_markup() -> None:
    assert safe_mention("U012ABC") == "<@U012ABC>"
    assert safe_mention("!channel") == "!channel"
    assert safe_mention("U1> <!channel") == "U1&gt; &lt;!channel"
    body = check(lifecycle_notice(make_release(), "completed", "<!channel>", None, None, CUTOVER))
    assert "Completed by &lt;!channel&gt;" in body


# --- overdue reminder --------------------------------------------------------------------------


def test_overdue_reminder() -> None:
    release = make_release()
    item = replace(release.items[0], title="Draft <!here> the comms & plan")
    out = overdue_reminder_message(release, item)
    body = check(out)
    assert "*Overdue in REL-3 · Payroll &amp; HR &lt;wave 2&gt;*" in body
    assert "*Draft &lt;!here&gt; the comms &amp; plan*" in body
    assert f"Due {slack_date(item.due_at)}" in body
    assert "Responsible: Project Manager, Organizational Change Manager" in body
    assert "<#C0REL3>" in body
    assert "This is the only reminder for this item." in body
    gate = gates(release)[0]
    assert "Sign-off: Workload Business Owner" in check(overdue_reminder_message(release, gate))


# --- rollback modal ----------------------------------------------------------------------------


def test_rollback_modal() -> None:
    release = make_release(state=ReleaseState.CUTTING_OVER)
    view: dict[str, Any] = rollback_modal(release).to_dict()
    assert validate_view(view) == []
    assert view["callback_id"] == "release.rollback"
    assert view["private_metadata"] == "3"
    assert view["title"]["text"] == "Roll back" and view["submit"]["text"] == "Roll back"
    (reason,) = [b for b in view["blocks"] if b["type"] == "input"]
    assert reason["block_id"] == "reason" and not reason.get("optional", False)
    element = reason["element"]
    assert element["type"] == "plain_text_input" and element["action_id"] == "reason"
    assert element["multiline"] is True and element["max_length"] == CUTOVER_REASON_MAX
    assert element["min_length"] == CUTOVER_REASON_MIN
    dumped = json.dumps(view)
    assert "<!channel>" not in dumped and "<wave 2>" not in dumped and "<#C0REL3>" in dumped
