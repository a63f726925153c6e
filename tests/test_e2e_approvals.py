"""End to end: quorum and separation of duties on a gate, and deputies. Runs once per backend.

The shipped template asks one approval per gate; these tests give a gate the template fields
`approvals: 2` / `not_by: [creator]` on its stored row, as a release made from such a template has."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text, update

from sandbox.driver import wait_until
from storage.models import ChecklistItem
from tests.harness import GROUP, Stack


def _gate(stack: Stack, release_id: int, key: str, **fields: Any) -> ChecklistItem:
    item = stack.item(release_id, key)
    with stack.db.begin() as conn:
        conn.execute(update(ChecklistItem).where(ChecklistItem.id == item.id).values(**fields))
    return item


def _refused(stack: Stack, ch: str, item_id: int, user: str) -> str:
    r = stack.click(ch, item_id, "item.approve", user)
    assert r.status == 200
    return json.dumps(stack.driver.wait_responses(r, count=1)[0])


def test_quorum_of_two_different_approvers(stack: Stack) -> None:
    ch = stack.channel()
    rel = stack.new_release(ch)
    key = f"REL-{rel.number}"
    stack.posted(f"assign wbo <@UWBO> <@UMA> {key}", channel=ch, expect="now hold")
    gate = _gate(stack, rel.id, "cc.window_appr", approvals_needed=2)

    # One approval: counted, the gate still waits, the checklist says how far it is.
    stack.click(ch, gate.id, "item.approve", "UWBO")
    wait_until(lambda: len(stack.decisions(gate.id)) == 1)
    assert stack.item(rel.id, "cc.window_appr").state == "pending"
    wait_until(lambda: "1 of 2 approvals: <@UWBO>" in stack.item_text(ch, gate.id))

    # The same person again: refused with the rule named, nothing recorded.
    before = stack.snapshot()
    told = _refused(stack, ch, gate.id, "UWBO")
    assert "needs 2 different approvers: you already approved" in told
    assert stack.snapshot() == before

    # A second person completes it.
    stack.click(ch, gate.id, "item.approve", "UMA")
    wait_until(lambda: stack.item(rel.id, "cc.window_appr").state == "approved")
    assert [(d.kind, d.user_id) for d in stack.decisions(gate.id)] == [("approve", "UWBO"), ("approve", "UMA")]
    wait_until(lambda: "Approved by <@UMA>" in stack.item_text(ch, gate.id))


def test_an_approver_takes_back_their_approval_and_the_gate_waits_on(stack: Stack) -> None:
    ch = stack.channel()
    rel = stack.new_release(ch)
    key = f"REL-{rel.number}"
    stack.posted(f"assign wbo <@UWBO> <@UMA> <@UOCM> {key}", channel=ch, expect="now hold")
    gate = _gate(stack, rel.id, "cc.window_appr", approvals_needed=3)
    assert not stack.has_button(ch, gate.id, "item.undo")  # nothing counted yet, nothing to undo
    stack.click(ch, gate.id, "item.approve", "UWBO")
    wait_until(lambda: "1 of 3 approvals" in stack.item_text(ch, gate.id))
    stack.click(ch, gate.id, "item.approve", "UMA")
    wait_until(lambda: "2 of 3 approvals: <@UWBO>, <@UMA>" in stack.item_text(ch, gate.id))

    # An approver who has not approved (and is no manager) may not take back the others'.
    before = stack.snapshot()
    r = stack.click(ch, gate.id, "item.undo", "UOCM")
    told = json.dumps(stack.driver.wait_responses(r, count=1)[0])
    assert "You can't *undo*" in told and "<@UPM>" in told, told
    assert stack.snapshot() == before

    # An approver's undo withdraws only their own approval; the gate waits on with the other.
    stack.click(ch, gate.id, "item.undo", "UWBO")
    wait_until(lambda: len(stack.decisions(gate.id)) == 3)
    assert stack.item(rel.id, "cc.window_appr").state == "pending"
    assert stack.item(rel.id, "cc.window_appr").approved_by == ["UMA"]
    wait_until(lambda: "1 of 3 approvals: <@UMA>" in stack.item_text(ch, gate.id))
    assert [(d.kind, d.user_id) for d in stack.decisions(gate.id)][-1] == ("undo", "UWBO")

    # They may approve again, and a third person completes the quorum.
    stack.click(ch, gate.id, "item.approve", "UWBO")
    wait_until(lambda: "2 of 3 approvals: <@UMA>, <@UWBO>" in stack.item_text(ch, gate.id))
    stack.click(ch, gate.id, "item.approve", "UOCM")
    wait_until(lambda: "Approved by <@UOCM>" in stack.item_text(ch, gate.id))  # its buttons carry the new version

    # A manager's undo takes back every approval: the count starts over.
    stack.click(ch, gate.id, "item.undo", "UPM")
    wait_until(lambda: stack.item(rel.id, "cc.window_appr").state == "pending")
    assert stack.item(rel.id, "cc.window_appr").approved_by == []
    wait_until(lambda: not stack.has_button(ch, gate.id, "item.undo"))


def test_a_rejection_by_any_approver_rejects_a_quorum_gate(stack: Stack) -> None:
    ch = stack.channel()
    rel = stack.new_release(ch)
    stack.posted(f"assign wbo <@UWBO> <@UMA> REL-{rel.number}", channel=ch, expect="now hold")
    gate = _gate(stack, rel.id, "cc.window_appr", approvals_needed=2)
    stack.click(ch, gate.id, "item.approve", "UWBO")
    wait_until(lambda: "1 of 2 approvals" in stack.item_text(ch, gate.id))
    stack.click(ch, gate.id, "item.reject", "UMA")
    wait_until(lambda: any(v.get("callback_id") == "item.reject" for v in stack.api.views_opened("UMA")))
    view = [v for v in stack.api.views_opened("UMA") if v.get("callback_id") == "item.reject"][-1]
    stack.driver.submit_view(
        user="UMA", view=view, values={"reason": {"reason": {"type": "plain_text_input", "value": "Not this week"}}}
    )
    wait_until(lambda: stack.item(rel.id, "cc.window_appr").state == "rejected")
    assert stack.item(rel.id, "cc.window_appr").approved_by == []  # a later approval starts the count over


def test_not_by_creator_refuses_the_creator_with_the_rule_named(stack: Stack) -> None:
    ch = stack.channel()
    rel = stack.new_release(ch)  # created by UPM
    stack.posted(f"assign wbo <@UPM> <@UWBO> REL-{rel.number}", channel=ch, expect="now hold")
    gate = _gate(stack, rel.id, "cc.window_appr", not_by=["creator"])
    before = stack.snapshot()
    told = _refused(stack, ch, gate.id, "UPM")
    assert "The release's creator may not approve this gate (not_by: creator)" in told
    assert stack.snapshot() == before
    stack.click(ch, gate.id, "item.approve", "UWBO")
    wait_until(lambda: stack.item(rel.id, "cc.window_appr").state == "approved")


def test_deputy_decides_while_valid_is_refused_after_and_the_audit_names_both(stack: Stack) -> None:
    ch = stack.channel()
    rel = stack.new_release(ch)
    key = f"REL-{rel.number}"
    stack.posted(f"assign wbo <@UWBO> {key}", channel=ch, expect="now holds")

    # Only the role holder or a Project Manager may set one.
    told = stack.ok(f"deputy wbo <@UOUT> {key}", user="UMA", channel=ch, responses=1)
    assert "Only a holder of Workload Business Owner" in json.dumps(told)
    assert stack.count_rows("deputies", f"release_id = {rel.id}") == 0

    until = datetime.now(UTC) + timedelta(seconds=6)
    post = stack.posted(
        f"deputy wbo <@UOCM> until {until.strftime('%Y-%m-%dT%H:%M:%S')}Z {key}",
        user="UWBO",
        channel=ch,
        expect="may decide as deputy",
    )
    assert "<@UOCM> may decide as deputy *Workload Business Owner* for <@UWBO>" in post["text"]
    roles = stack.answer(f"roles {key}", channel=ch)
    assert "Deputy *Workload Business Owner*: <@UOCM> for <@UWBO>" in roles

    gate = stack.item(rel.id, "cc.window_appr")
    stack.click(ch, gate.id, "item.approve", "UOCM")
    wait_until(lambda: len(stack.decisions(gate.id)) == 1)
    d = stack.decisions(gate.id)[0]
    assert (d.kind, d.user_id, d.for_user, d.role_key) == ("approve", "UOCM", "UWBO", "workload-business-owner")
    wait_until(lambda: "Approved by <@UOCM> for <@UWBO> (deputy)" in stack.item_text(ch, gate.id))
    # The audit trail names both: the deputy as the actor, the holder they stood in for.
    with stack.db.connect() as conn:
        audited = conn.execute(
            text("SELECT actor, data FROM audit_events WHERE release_id = :r AND kind = 'decision_approve'"),
            {"r": rel.id},
        ).all()
    rows = [(actor, data if isinstance(data, dict) else json.loads(data)) for actor, data in audited]
    assert [(a, d.get("for_user"), d.get("role")) for a, d in rows] == [("UOCM", "UWBO", "workload-business-owner")]

    # After the deadline: refused with the reason, nothing recorded but the refusal on the event log.
    gate2 = stack.item(rel.id, "oc.decom_appr")
    wait_until(lambda: datetime.now(UTC) > until, timeout=15)
    told_after = _refused(stack, ch, gate2.id, "UOCM")
    assert "Your deputy standing as Workload Business Owner for <@UWBO> ended" in told_after
    assert stack.decisions(gate2.id) == []
    events = stack.column("release_events", "kind")
    assert "deputy_set" in events
    wait_until(lambda: "deputy_expired" in stack.column("release_events", "kind"))
    assert "expired" in stack.answer(f"roles {key}", channel=ch)


def test_not_by_responsible_sees_a_responsible_role_held_through_a_user_group(stack: Stack) -> None:
    ch = stack.channel()
    rel = stack.new_release(ch)
    key = f"REL-{rel.number}"
    # Gina approves directly, and is a Project Manager (the gate's responsible role) through her group.
    stack.posted(f"assign wbo <@UG1> <@UWBO> {key}", channel=ch, expect="now hold")
    stack.posted(f"assign pm <!subteam^{GROUP}|@wbo-team> {key}", channel=ch, expect="now holds")
    gate = _gate(stack, rel.id, "cc.window_appr", not_by=["responsible"])
    before = stack.snapshot()
    told = _refused(stack, ch, gate.id, "UG1")
    assert "Holders of this item's responsible roles may not approve it (not_by: responsible)" in told
    assert stack.snapshot() == before
    stack.click(ch, gate.id, "item.approve", "UWBO")
    wait_until(lambda: stack.item(rel.id, "cc.window_appr").state == "approved")


def test_moving_the_window_voids_a_window_bound_gates_approvals_so_far(stack: Stack) -> None:
    ch = stack.channel()
    rel = stack.new_release(ch)
    key = f"REL-{rel.number}"
    stack.posted(f"assign wbo <@UWBO> <@UMA> {key}", channel=ch, expect="now hold")
    gate = _gate(stack, rel.id, "cc.window_appr", approvals_needed=2)  # window-bound
    stack.click(ch, gate.id, "item.approve", "UWBO")
    wait_until(lambda: stack.item(rel.id, "cc.window_appr").approved_by == ["UWBO"])
    new_start = rel.cutover_start + timedelta(days=7)
    stack.ok(f"move --cutover {new_start.strftime('%Y-%m-%dT%H:%M:%S')}Z {key}", channel=ch, responses=1)
    wait_until(lambda: stack.item(rel.id, "cc.window_appr").approved_by == [])
    assert [d.kind for d in stack.decisions(gate.id)] == ["approve", "reopen"]
    wait_until(lambda: "approvals" in stack.item_text(ch, gate.id) and "<@UWBO>" not in stack.item_text(ch, gate.id))
    assert "0 of 2 approvals" in stack.item_text(ch, gate.id)
