"""End to end: a real `cutover serve`, the Slack stand-in, signed requests. Runs once per backend."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

from sandbox.driver import wait_until
from storage.models import Decision, Release
from tests.harness import GROUP, Stack


def test_new_release_by_text_posts_a_complete_checklist(stack: Stack) -> None:
    ch = stack.channel()
    before = stack.count(Release)
    rel = stack.new_release(ch, name="Payroll to Azure")
    assert stack.count(Release) == before + 1
    msgs = stack.api.messages(ch)
    top = [m for m in msgs if not m.get("thread_ts") or m["thread_ts"] == m["ts"]]
    assert len(top) == 1, "one summary message in the channel"
    summary = top[0]
    assert f"REL-{rel.number}" in json.dumps(summary["blocks"])
    replies = stack.api.thread(ch, summary["ts"])
    assert len(replies) >= 5, "one reply per CAF phase"
    # Every item and every gate is reachable, each exactly once.
    items = stack.items(rel.id)
    shown = [
        b["block_id"]
        for m in msgs
        for b in m.get("blocks") or []
        if b.get("block_id", "").startswith("item-") and not b["block_id"].endswith("-actions")
    ]
    assert sorted(shown) == sorted(f"item-{i.id}" for i in items)
    for gate in (i for i in items if i.approver_roles):
        stack.find_button(ch, gate.id, "item.approve")
        stack.find_button(ch, gate.id, "item.reject")
    for m in msgs:
        assert len(m["blocks"]) <= 50
        assert "<!date^" in json.dumps(m["blocks"]) or m is not summary
    # The creator heard back privately and holds the Project Manager role.
    created = [r for r in stack.api.responses() if f"REL-{rel.number}" in json.dumps(r)]
    assert created, "the creator is told the key"
    assert "Project Manager" in stack.answer(f"roles REL-{rel.number}", channel=ch)


def test_new_release_by_modal(stack: Stack) -> None:
    ch = stack.channel()
    r = stack.driver.slash(text="new", user="UPM", channel=ch)
    assert r.status == 200
    wait_until(lambda: any(v.get("callback_id") == "release.new" for v in stack.api.views_opened("UPM")))
    view = [v for v in stack.api.views_opened("UPM") if v.get("callback_id") == "release.new"][-1]
    before = stack.snapshot()
    # An empty name is refused inside the modal; nothing is created.
    start = int((datetime.now(UTC) + timedelta(days=20)).timestamp())
    bad = stack.driver.submit_view(
        user="UPM",
        view=view,
        values={
            "name": {"name": {"type": "plain_text_input", "value": "  "}},
            "cutover": {"cutover": {"type": "datetimepicker", "selected_date_time": start}},
            "duration": {"duration": {"type": "static_select", "selected_option": {"value": "4h"}}},
        },
    )
    assert bad.status == 200 and bad.json is not None
    assert bad.json["response_action"] == "errors" and "name" in bad.json["errors"]
    past = stack.driver.submit_view(
        user="UPM",
        view=view,
        values={
            "name": {"name": {"type": "plain_text_input", "value": "CRM"}},
            "cutover": {"cutover": {"type": "datetimepicker", "selected_date_time": start - 40 * 86400}},
        },
    )
    assert past.json is not None and "cutover" in past.json["errors"]
    assert stack.snapshot() == before
    good = stack.driver.submit_view(
        user="UPM",
        view=view,
        values={
            "name": {"name": {"type": "plain_text_input", "value": "CRM lift and shift"}},
            "workload": {"workload": {"type": "plain_text_input", "value": "crm"}},
            "cutover": {"cutover": {"type": "datetimepicker", "selected_date_time": start}},
            "duration": {"duration": {"type": "static_select", "selected_option": {"value": "8h"}}},
        },
    )
    assert good.status == 200 and not good.text
    wait_until(
        lambda: stack.release_in(ch) is not None and len(stack.messages_of(stack.release_in(ch).id)) >= 6, timeout=15
    )
    rel = stack.release_in(ch)
    assert rel is not None and rel.name == "CRM lift and shift" and rel.workload == "crm"
    assert rel.cutover_start == datetime.fromtimestamp(start, UTC)
    assert rel.cutover_end - rel.cutover_start == timedelta(hours=8)


def approve_flow_release(stack: Stack) -> tuple[str, Release]:
    ch = stack.channel()
    rel = stack.new_release(ch)
    return ch, rel


def test_roles_and_role_gated_approval(stack: Stack) -> None:
    ch, rel = approve_flow_release(stack)
    key = f"REL-{rel.number}"
    gate = stack.item(rel.id, "cc.window_appr")  # approver: Workload Business Owner

    # Nobody holds the approver role yet: an outsider's click changes nothing and explains who may.
    before = stack.snapshot()
    r = stack.click(ch, gate.id, "item.approve", "UOUT")
    assert r.status == 200
    refusal = stack.driver.wait_responses(r, count=1)[0]
    assert "Workload Business Owner" in json.dumps(refusal)
    assert refusal.get("replace_original") in (None, False)
    assert stack.snapshot() == before

    # Assign the role to a person and to a user group.
    out = stack.posted(f"assign wbo <@UWBO> {key}", channel=ch, expect="now holds")
    assert "Workload Business Owner" in json.dumps(out)
    stack.posted(f"assign workload-business-owner <!subteam^{GROUP}|@wbo-team> {key}", channel=ch, expect="now holds")
    roles = stack.answer(f"roles {key}", channel=ch)
    assert "<@UWBO>" in roles and f"<!subteam^{GROUP}>" in roles

    # Still refused for someone else, now naming the holders.
    r = stack.click(ch, gate.id, "item.approve", "UMA")
    refusal = stack.driver.wait_responses(r, count=1)[0]
    assert "<@UWBO>" in json.dumps(refusal)
    assert stack.decisions(gate.id) == []

    # A holder approves: recorded with the role, and every affected message shows it.
    r = stack.click(ch, gate.id, "item.approve", "UWBO")
    assert r.status == 200
    wait_until(lambda: len(stack.decisions(gate.id)) == 1)
    d = stack.decisions(gate.id)[0]
    assert (d.kind, d.user_id, d.role_key) == ("approve", "UWBO", "workload-business-owner")
    assert d.window_start == rel.cutover_start
    wait_until(lambda: "<@UWBO>" in stack.item_text(ch, gate.id))
    summary = stack.api.messages(ch)[0]
    wait_until(lambda: "<@UWBO>" in json.dumps(stack.api.message(ch, summary["ts"])["blocks"]))
    stack.find_button(ch, gate.id, "item.undo")

    # A member of the group holds the role through the group.
    gate2 = stack.item(rel.id, "oc.decom_appr")
    stack.click(ch, gate2.id, "item.approve", "UG1")
    wait_until(lambda: len(stack.decisions(gate2.id)) == 1)
    assert stack.decisions(gate2.id)[0].user_id == "UG1"

    status = stack.answer(f"status {key}", channel=ch)
    assert "<@UWBO>" in status and "outage window" in status.lower()


# (command, typed in the release channel?, the one post the channel gets (None: none), what the person hears
# privately (None: nothing, the post says it all))
ASSIGNMENTS: list[tuple[str, bool, str | None, str | None]] = [
    ("assign uat <@UWBO> <@UMA>", True, "<@UWBO>, <@UMA> now hold *User Acceptance Tester*", None),
    (
        "assign uat <@UWBO> <@UOCM>",
        True,
        "<@UOCM> now holds *User Acceptance Tester*",
        "Unchanged: <@UWBO> already holds it.",
    ),
    ("assign sponsor <@USPON>", False, "<@USPON> now holds *Project Sponsor*", "Done: posted in <#"),
    ("assign uat <@UMA>", True, None, "Nothing changed: <@UMA> already holds User Acceptance Tester"),
    ("unassign uat <@UMA> <@UOCM>", True, "<@UMA>, <@UOCM> no longer hold *User Acceptance Tester*", None),
]


def test_one_post_per_assignment_and_a_private_word_only_when_it_adds_something(stack: Stack) -> None:
    ch, rel = approve_flow_release(stack)
    elsewhere = stack.channel()
    key = f"REL-{rel.number}"

    def top_level() -> list[dict[str, object]]:
        return [m for m in stack.api.messages(ch) if m["thread_ts"] in (None, m["ts"])]

    for text, in_release_channel, post, private in ASSIGNMENTS:
        before = len(top_level())
        r = stack.driver.slash(text=f"{text} {key}", user="UPM", channel=ch if in_release_channel else elsewhere)
        assert r.status == 200
        if private is not None:
            (answer,) = stack.driver.wait_responses(r, count=1, timeout=10)
            assert private in json.dumps(answer), (text, answer)
        if post is not None:
            wait_until(lambda n=before: len(top_level()) > n, timeout=10, message=f"no post for {text!r}")
        time.sleep(0.5)  # anything more would have arrived by now
        new = top_level()[before:]
        assert [m["text"] for m in new] == ([f"<@UPM>: {post} on {key}."] if post else []), text
        if private is None:
            assert stack.driver.responses(r) == [], text  # no private echo of the channel post


def test_reject_needs_a_reason_and_undo(stack: Stack) -> None:
    ch, rel = approve_flow_release(stack)
    key = f"REL-{rel.number}"
    stack.posted(f"assign ma <@UMA> {key}", channel=ch, expect="now holds")
    gate = stack.item(rel.id, "bt.signoff")  # approvers: Workload Business Owner, Migration Architect
    r = stack.click(ch, gate.id, "item.reject", "UMA")
    assert r.status == 200
    wait_until(lambda: any(v.get("callback_id") == "item.reject" for v in stack.api.views_opened("UMA")))
    view = [v for v in stack.api.views_opened("UMA") if v.get("callback_id") == "item.reject"][-1]

    empty = stack.driver.submit_view(
        user="UMA", view=view, values={"reason": {"reason": {"type": "plain_text_input", "value": "   "}}}
    )
    assert empty.json == {"response_action": "errors", "errors": {"reason": empty.json["errors"]["reason"]}}
    assert stack.decisions(gate.id) == []

    reason = "Performance test failed <!channel> & retest needed"
    ok = stack.driver.submit_view(
        user="UMA", view=view, values={"reason": {"reason": {"type": "plain_text_input", "value": reason}}}
    )
    assert ok.status == 200 and not ok.text
    wait_until(lambda: len(stack.decisions(gate.id)) == 1)
    d = stack.decisions(gate.id)[0]
    assert (d.kind, d.reason, d.role_key) == ("reject", reason, "migration-architect")
    wait_until(lambda: "Performance test failed" in stack.item_text(ch, gate.id))
    assert "<!channel>" not in json.dumps(stack.api.messages(ch))  # escaped, never a ping

    # Someone without the right may not undo; the decider may.
    r = stack.click(ch, gate.id, "item.undo", "UOUT")
    assert "Project Manager" in json.dumps(stack.driver.wait_responses(r, count=1))
    assert len(stack.decisions(gate.id)) == 1
    stack.click(ch, gate.id, "item.undo", "UMA")
    wait_until(lambda: len(stack.decisions(gate.id)) == 2)
    assert stack.decisions(gate.id)[1].kind == "undo"
    assert stack.item(rel.id, "bt.signoff").state == "pending"
    wait_until(lambda: stack.has_button(ch, gate.id, "item.reject"))

    status = stack.answer(f"status {key}", channel=ch)
    assert "UAT sign-off" in status or "sign-off" in status.lower()


def test_done_button_by_responsible_role_or_pm(stack: Stack) -> None:
    ch, rel = approve_flow_release(stack)
    task = stack.item(rel.id, "cc.training")  # responsible: Organizational Change Manager
    r = stack.click(ch, task.id, "item.done", "UOCM")
    assert "Organizational Change Manager" in json.dumps(stack.driver.wait_responses(r, count=1))
    assert stack.decisions(task.id) == []
    stack.click(ch, task.id, "item.done", "UPM")  # the creator is Project Manager
    wait_until(lambda: len(stack.decisions(task.id)) == 1)
    assert stack.decisions(task.id)[0].role_key == "project-manager"
    wait_until(lambda: stack.has_button(ch, task.id, "item.undo"))
    progress = stack.answer(f"status REL-{rel.number}", channel=ch)
    assert re.search(r"1\s*/\s*\d+", progress)


def test_cancel_closes_the_checklist(stack: Stack) -> None:
    ch, rel = approve_flow_release(stack)
    task = stack.item(rel.id, "cc.training")
    # A click on a message drawn before the cancel must still be refused by the server.
    ts, button, block_id = stack.find_button(ch, task.id, "item.done")
    r = stack.ok("cancel", user="UOUT", channel=ch, responses=1)
    assert "Project Manager" in json.dumps(r)
    assert stack.release_in(ch).state == "planning"  # type: ignore[union-attr]
    stack.ok("cancel", channel=ch, responses=1)
    assert stack.release_in(ch).state == "cancelled"  # type: ignore[union-attr]
    wait_until(lambda: not stack.has_button(ch, task.id, "item.done"))  # the closed checklist has no buttons
    r = stack.driver.click(
        user="UPM", channel=ch, message_ts=ts, action_id="item.done", value=button["value"], block_id=block_id
    )
    assert "cancelled" in json.dumps(stack.driver.wait_responses(r, count=1))
    assert stack.count(Decision, Decision.item_id == task.id) == 0
