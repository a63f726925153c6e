"""Scope changes end to end: `item add|edit|remove` by the Project Manager on a running release, each in
the audit trail and announced in the release channel, the scope-bound sign-offs reopened with the change
named and their approvers tagged, nothing else reopened, the checklist converged. Once per backend."""

# ruff: noqa: E501  (the exact messages people read are kept whole)

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from sandbox.driver import wait_until
from storage.models import ChecklistItem, Decision, Release
from tests.harness import Stack
from tests.test_e2e_lifecycle import approve, events, release_row, staffed_release
from tests.test_export import cli


def said(stack: Stack, text: str, user: str = "UPM", channel: str = "") -> str:
    return json.dumps(stack.ok(text, user=user, channel=channel, responses=1), ensure_ascii=False)


def shown(stack: Stack, ch: str) -> str:
    return json.dumps(stack.all_blocks(ch), ensure_ascii=False)


def row(stack: Stack, release_id: int, number: int) -> ChecklistItem:
    with stack.db.connect() as conn:
        r = conn.execute(
            select(ChecklistItem).where(ChecklistItem.release_id == release_id, ChecklistItem.number == number)
        ).one()
    return ChecklistItem(**r._asdict())


def test_add_edit_remove_by_the_project_manager(stack: Stack) -> None:
    ch, rel = staffed_release(stack)
    key = f"REL-{rel.number}"
    # Items carry their numbers in the checklist.
    assert "`#1`" in stack.item_text(ch, stack.item(rel.id, "cc.audiences").id)
    approve(stack, ch, rel, "bt.signoff")  # scope-bound: it says the tested scope is fine
    approve(stack, ch, rel, "cc.window_appr")  # about the window, not the scope
    version = release_row(stack, rel).version

    # Add a sign-off to phase 2; the business test sign-off no longer covers the scope.
    seen = {m["ts"] for m in stack.api.messages(ch)}
    out = said(
        stack, f'item add 2 "Load test the payroll run" --approvers wbo --responsible uat --due -5d {key}', channel=ch
    )
    assert (
        "added #61 “Load test the payroll run” to phase 2 “Conduct business testing” (gate; sign-off Workload Business Owner; responsible User Acceptance Tester; due"
        in out
    )
    assert "1 scope-bound sign-off(s) reopened" in out
    added = row(stack, rel.id, 61)
    assert (added.title, added.approver_roles, added.responsible_roles) == (
        "Load test the payroll run",
        ["workload-business-owner"],
        ["uat-tester"],
    )
    assert added.due_at == rel.cutover_start - timedelta(days=5)
    notice = stack.posted_since(ch, seen, "Scope of")
    body = json.dumps(notice["blocks"], ensure_ascii=False)
    assert "<@UPM> added #61" in body
    assert "1 sign-off about the scope needs approval again" in body
    assert "Sign off business testing" in body and "<@UWBO>" in body and "<@UMA>" in body
    # Reopened with the change named; the window approval stays.
    assert stack.item(rel.id, "bt.signoff").state == "pending"
    assert stack.item(rel.id, "cc.window_appr").state == "approved"
    reopen = stack.decisions(stack.item(rel.id, "bt.signoff").id)[-1]
    assert reopen.kind == "reopen" and reopen.reason is not None
    assert reopen.reason.startswith("scope changed: added #61 “Load test the payroll run”")
    kind, user, reason = events(stack, rel)[-1]
    assert (kind, user) == ("scope_added", "UPM") and reason is not None and reason.startswith("added #61")
    assert release_row(stack, rel).version > version
    # The checklist converges: the new gate with its buttons, the reopened one waiting again.
    # (the notice names the item too: look at the item's own block)
    wait_until(lambda: stack.has_button(ch, added.id, "item.approve"))
    assert "Load test the payroll run" in stack.item_text(ch, added.id) and "`#61`" in stack.item_text(ch, added.id)
    wait_until(lambda: stack.has_button(ch, stack.item(rel.id, "bt.signoff").id, "item.approve"))

    # Edit it: title and due; the reason says what changed from what.
    approve(stack, ch, rel, "bt.signoff")
    out = said(stack, f'item edit #61 --title "Load test payroll twice" --due -4d {key}', channel=ch)
    assert (
        "edited #61 “Load test payroll twice”: title “Load test the payroll run” → “Load test payroll twice”; due"
        in out
    )
    assert row(stack, rel.id, 61).title == "Load test payroll twice"
    assert stack.item(rel.id, "bt.signoff").state == "pending"  # reopened again, by this change
    assert events(stack, rel)[-1][0] == "scope_edited"
    wait_until(lambda: "Load test payroll twice" in stack.item_text(ch, added.id))

    # Change who signs it off.
    out = said(stack, f"item edit 61 --approvers sponsor {key}", channel=ch)
    assert "sign-off Workload Business Owner → Project Sponsor" in out
    assert row(stack, rel.id, 61).approver_roles == ["project-sponsor"]

    # Remove a task that was done: hidden from the checklist, its decision kept.
    done = stack.item(rel.id, "cc.audiences")
    stack.click(ch, done.id, "item.done", "UPM")
    wait_until(lambda: stack.item(rel.id, "cc.audiences").state == "done")
    out = said(stack, f"item remove #1 {key}", channel=ch)
    assert (
        "removed #1 “Identify the audiences for this workload, including related systems and the helpdesk”; its 1 decision stay in the audit trail"
        in out
    )
    gone = row(stack, rel.id, 1)
    assert gone.removed_at is not None and len(stack.decisions(done.id)) == 1
    assert events(stack, rel)[-1][0] == "scope_removed"
    wait_until(lambda: f"item-{done.id}" not in {b.get("block_id") for b in stack.all_blocks(ch)})
    status = stack.answer(f"status {key}", channel=ch)
    assert "60 items complete" in status or "/60 items complete" in status
    # The release record keeps the removed item with its decision, marked as removed.
    exported = cli(stack.database_url, "export", key, "--format", "json", "--team", stack.driver.team_id)
    assert exported.returncode == 0, exported.stderr
    by_number = {i["number"]: i for i in json.loads(exported.stdout)["items"]}
    assert by_number[1]["removed_at"] is not None and [d["kind"] for d in by_number[1]["decisions"]] == ["done"]
    assert by_number[61]["removed_at"] is None and by_number[61]["title"] == "Load test payroll twice"

    # A removed item is named as such; an unknown one too; numbers are never reused.
    out = said(stack, f"item remove #1 {key}", channel=ch)
    assert "Item `#1` was removed from" in out and "its decisions stay in the audit trail" in out
    assert "has no item `#999`" in said(stack, f"item edit #999 --title x {key}", channel=ch)
    said(stack, f"item add 1 Another check {key}", channel=ch)
    assert row(stack, rel.id, 62).title == "Another check"


def test_only_the_project_manager_changes_the_scope(stack: Stack) -> None:
    ch, rel = staffed_release(stack)
    key = f"REL-{rel.number}"
    before = stack.snapshot()
    for text in (f"item add 1 Sneaky task {key}", f"item edit #3 --title Renamed {key}", f"item remove #3 {key}"):
        out = said(stack, text, user="UWBO", channel=ch)
        assert f"Only {key}'s creator or a Project Manager may change the scope of it." in out
    assert stack.snapshot() == before


def test_bad_scope_input_names_what_is_allowed(stack: Stack) -> None:
    ch, rel = staffed_release(stack)
    key = f"REL-{rel.number}"
    before = stack.snapshot()
    version = release_row(stack, rel).version
    # Phases and roles are checked against the release at once (in the ack); items after it.
    out = stack.answer(f"item add 9 Somewhere {key}", channel=ch)
    assert f"`9` is not a phase of {key}. Phases: 1 `change_comm` (Plan change communication), 2 `business_test`" in out
    out = stack.answer(f"item add 1 Check --responsible dba {key}", channel=ch)
    assert "`dba` is not a role. Roles: `project-manager` (pm)" in out and f"({key})" in out
    out = said(stack, f"item edit #3 --approvers wbo {key}", channel=ch)
    assert "#3 is a task: only sign-offs have approvers." in out
    out = said(stack, f"item edit #5 --title Approve the outage window {key}", channel=ch)
    assert "#5 already reads so: nothing to change." in out
    assert stack.snapshot() == before
    assert release_row(stack, rel).version == version


def test_scope_changes_leave_other_releases_and_non_scope_gates_alone(stack: Stack) -> None:
    ch, rel = staffed_release(stack)
    och, other = staffed_release(stack)
    approve(stack, och, other, "bt.signoff")
    approve(stack, ch, rel, "cm.security")  # not scope-bound
    said(stack, f"item add 3 Extra check REL-{rel.number}", channel=ch)
    assert stack.item(other.id, "bt.signoff").state == "approved"
    assert stack.item(rel.id, "cm.security").state == "approved"
    with stack.db.connect() as conn:
        kinds = conn.execute(select(Decision.kind).where(Decision.release_id == other.id)).scalars().all()
    assert "reopen" not in kinds
    assert release_row(stack, other).state == "planning" and isinstance(other, Release)
