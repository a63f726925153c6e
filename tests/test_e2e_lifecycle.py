"""The cutover and after, end to end: go/no-go, start, complete, rollback, retrospective survey."""

from __future__ import annotations

import json
import re
from typing import Any

from sqlalchemy import select, text

from domain.template import load_template
from sandbox.driver import wait_until
from storage.models import Release, ReleaseEvent
from tests.harness import PEOPLE, Stack

BLOCKING = [i.key for i in load_template("caf-migration-release").items if i.blocks_cutover]


def staffed_release(stack: Stack) -> tuple[str, Release]:
    ch = stack.channel()
    rel = stack.new_release(ch)
    key = f"REL-{rel.number}"
    for role, user in (("wbo", "UWBO"), ("ma", "UMA"), ("sponsor", "USPON"), ("sec", "UOCM")):
        stack.posted(f"assign {role} <@{user}> {key}", channel=ch, expect="now holds")
    return ch, rel


APPROVER = {
    "workload-business-owner": "UWBO",
    "migration-architect": "UMA",
    "project-sponsor": "USPON",
    "security-officer": "UOCM",
    "project-manager": "UPM",
}


def approve(stack: Stack, ch: str, rel: Release, key: str) -> None:
    item = stack.item(rel.id, key)
    user = APPROVER[item.approver_roles[0]]
    stack.click(ch, item.id, "item.approve", user)
    wait_until(lambda: stack.item(rel.id, key).state == "approved", timeout=10)


def release_row(stack: Stack, rel: Release) -> Release:
    with stack.db.connect() as conn:
        return Release(**conn.execute(select(Release).where(Release.id == rel.id)).one()._asdict())


def events(stack: Stack, rel: Release) -> list[tuple[str, str | None, str | None]]:
    with stack.db.connect() as conn:
        rows = conn.execute(
            select(ReleaseEvent.kind, ReleaseEvent.user_id, ReleaseEvent.reason)
            .where(ReleaseEvent.release_id == rel.id)
            .order_by(ReleaseEvent.id)
        ).all()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_gonogo_lists_exactly_the_missing_gates_and_override_is_recorded(stack: Stack) -> None:
    ch, rel = staffed_release(stack)
    approve(stack, ch, rel, "cc.window_appr")
    approve(stack, ch, rel, "cm.security")
    out = json.dumps(stack.ok("cutover start", channel=ch, responses=1), ensure_ascii=False)
    missing = [k for k in BLOCKING if k not in ("cc.window_appr", "cm.security")]
    for k in missing:
        assert stack.item(rel.id, k).title[:40] in out, k
    for k in ("cc.window_appr", "cm.security"):
        assert stack.item(rel.id, k).title[:40] not in out, k
    assert "--override" in out
    assert release_row(stack, rel).state == "planning"

    refused = stack.ok("cutover start --override we accept the risk", user="UOUT", channel=ch, responses=1)
    assert "Project Manager" in json.dumps(refused) and release_row(stack, rel).state == "planning"
    stack.ok("cutover start --override Vendor window cannot move; CAB accepted the risk", channel=ch, responses=1)
    wait_until(lambda: release_row(stack, rel).state == "cutting_over")
    row = release_row(stack, rel)
    assert row.override_reason == "Vendor window cannot move; CAB accepted the risk" and row.override_by == "UPM"
    assert ("gonogo_override", "UPM", "Vendor window cannot move; CAB accepted the risk") in events(stack, rel)
    wait_until(lambda: "Vendor window cannot move" in json.dumps(stack.api.messages(ch)[0]["blocks"]))


def answer_survey(stack: Stack, ch: str, user: str, values: dict[str, Any], *, filled_in: str | None = None) -> Any:
    """Take the survey and send ``values``. With ``filled_in``, first wait until the form shows that
    earlier answer (it opens blank and is filled in by views.update)."""
    (invite,) = [m for m in stack.api.messages(ch) if "retro.take" in json.dumps(m.get("blocks"))][-1:]
    button = next(
        el
        for b in invite["blocks"]
        if b["type"] == "actions"
        for el in b["elements"]
        if el["action_id"] == "retro.take"
    )
    before = len([v for v in stack.api.views_opened(user) if v.get("callback_id") == "retro.submit"])
    stack.driver.click(
        user=user,
        channel=ch,
        message_ts=invite["ts"],
        action_id="retro.take",
        value=button["value"],
        block_id=next(b["block_id"] for b in invite["blocks"] if b["type"] == "actions"),
    )
    wait_until(
        lambda: len([v for v in stack.api.views_opened(user) if v.get("callback_id") == "retro.submit"]) > before,
        timeout=10,
    )
    view = [v for v in stack.api.views_opened(user) if v.get("callback_id") == "retro.submit"][-1]
    if filled_in is not None:
        wait_until(lambda: filled_in in json.dumps(stack.api.view(view["id"]), ensure_ascii=False), timeout=10)
        view = stack.api.view(view["id"])
    return stack.driver.submit_view(user=user, view=view, values=values), view


def survey_values(well: str, rating: str = "4", better: str = "More UAT time", learned: str = "Rehearse") -> dict:
    return {
        "went_well": {"went_well": {"type": "plain_text_input", "value": well}},
        "could_be_better": {"could_be_better": {"type": "plain_text_input", "value": better}},
        "learned": {"learned": {"type": "plain_text_input", "value": learned}},
        "smoothness": {"smoothness": {"type": "static_select", "selected_option": {"value": rating}}},
        "next_wave": {"next_wave": {"type": "plain_text_input", "value": "Automate the smoke tests"}},
    }


def complete_quickly(stack: Stack, ch: str, rel: Release) -> None:
    stack.ok("cutover start --override rehearsal of the lifecycle", channel=ch, responses=1)
    wait_until(lambda: release_row(stack, rel).state == "cutting_over")
    approve(stack, ch, rel, "cm.go_final")
    stack.ok("cutover complete", user="UMA", channel=ch, responses=1)
    wait_until(lambda: release_row(stack, rel).state == "completed")


def test_full_lifecycle_and_anonymous_retrospective(stack: Stack) -> None:
    ch, rel = staffed_release(stack)
    biz = stack.channel()
    stack.ok(f"channel all <#{biz}>", channel=ch, responses=1)
    for k in BLOCKING:
        approve(stack, ch, rel, k)
    # Start with the summary's button, as the migration architect.
    summary = stack.api.messages(ch)[0]
    start = next(
        el
        for b in summary["blocks"]
        if b.get("block_id") == "release-actions"
        for el in b["elements"]
        if el["action_id"] == "release.start"
    )
    stack.driver.click(
        user="UMA",
        channel=ch,
        message_ts=summary["ts"],
        action_id="release.start",
        value=start["value"],
        block_id="release-actions",
    )
    wait_until(lambda: release_row(stack, rel).state == "cutting_over")
    # The "cutover has started" notice goes out now, once.
    wait_until(lambda: any("change starting now" in json.dumps(m).lower() for m in stack.api.messages(biz)), timeout=15)
    # Completing needs the final go/no-go first.
    out = stack.ok("cutover complete", user="UMA", channel=ch, responses=1)
    assert stack.item(rel.id, "cm.go_final").title[:30] in json.dumps(out, ensure_ascii=False)
    approve(stack, ch, rel, "cm.go_final")
    stack.ok("cutover complete", user="UMA", channel=ch, responses=1)
    wait_until(lambda: release_row(stack, rel).state == "completed")
    assert release_row(stack, rel).actual_end is not None
    assert "scheduled" in stack.answer("retro status", channel=ch).lower()

    # The retrospective: open it now, four people answer, one edits, bad input is refused in the modal.
    stack.ok("retro open", channel=ch, responses=1)
    wait_until(lambda: any("retro.take" in json.dumps(m.get("blocks")) for m in stack.api.messages(ch)))
    wait_until(lambda: len(stack.api.calls("conversations.open")) >= 5)
    bad, _ = answer_survey(stack, ch, "UWBO", {"went_well": {"went_well": {"type": "plain_text_input", "value": "ok"}}})
    assert bad.json and bad.json["response_action"] == "errors" and "smoothness" in bad.json["errors"]
    for user, well, rating in (
        ("UWBO", "Clear comms", "5"),
        ("UMA", "Clear comms", "4"),
        ("USPON", "Fast", "3"),
        ("UPM", "Good runbook", "4"),
    ):
        r, _ = answer_survey(stack, ch, user, survey_values(well, rating))
        assert r.status == 200 and not r.text, r.text
    # An edit, not a 5th answer: the form opens blank at once, then shows the previous answer (views.update).
    r, _view = answer_survey(stack, ch, "USPON", survey_values("Fast cutover", "2"), filled_in="Fast")
    wait_until(lambda: stack.count_rows("survey_responses") == 4 and "Fast cutover" in stack.dump("survey_responses"))
    status = stack.answer("retro status", channel=ch)
    assert "4" in status and "Clear comms" not in status  # progress, never answers

    # Anonymity: no Slack user id is stored with an answer.
    dump = stack.dump("survey_responses")
    for person in PEOPLE:
        assert person not in dump, person
    assert all(re.fullmatch(r"[0-9a-f]{64}", r) for r in stack.column("survey_responses", "respondent"))

    stack.ok("retro close", channel=ch, responses=1)
    wait_until(lambda: any("Clear comms" in json.dumps(m, ensure_ascii=False) for m in stack.api.messages(ch)))
    body = next(
        t for t in (json.dumps(m, ensure_ascii=False) for m in reversed(stack.api.messages(ch))) if "Clear comms" in t
    )
    assert "×2" in body  # grouped identical answers
    assert "3.8" in body or "3.75" in body  # the smoothness average of 5, 4, 2, 4


def test_summary_is_withheld_below_three_answers(stack: Stack) -> None:
    for answers, shown in ((2, False), (3, True)):
        ch, rel = staffed_release(stack)
        complete_quickly(stack, ch, rel)
        stack.ok("retro open", channel=ch, responses=1)
        wait_until(lambda ch=ch: any("retro.take" in json.dumps(m.get("blocks")) for m in stack.api.messages(ch)))
        for user in ("UWBO", "UMA", "USPON")[:answers]:
            answer_survey(stack, ch, user, survey_values(f"Secret note from {user}"))
        wait_until(
            lambda rel=rel, answers=answers: (
                stack.count_rows(
                    "survey_responses", f"survey_id IN (SELECT id FROM surveys WHERE release_id = {rel.id})"
                )
                == answers
            )
        )
        stack.ok("retro close", channel=ch, responses=1)
        wait_until(
            lambda ch=ch: any(
                "withheld" in json.dumps(m).lower() or "Secret note" in json.dumps(m) for m in stack.api.messages(ch)
            ),
            timeout=10,
        )
        text_all = json.dumps(stack.api.messages(ch))
        assert ("Secret note" in text_all) is shown
        assert ("withheld" in text_all.lower()) is not shown


def test_rollback_cancels_pending_and_notifies_each_channel_once(stack: Stack) -> None:
    ch, rel = staffed_release(stack)
    a, b = stack.channel(), stack.channel()
    stack.ok(f"channel business <#{a}>", channel=ch, responses=1)
    stack.ok(f"channel it <#{b}>", channel=ch, responses=1)
    stack.ok("cutover start --override rollback drill", channel=ch, responses=1)
    wait_until(lambda: release_row(stack, rel).state == "cutting_over")
    summary = stack.api.messages(ch)[0]
    wait_until(lambda: "release.rollback" in json.dumps(stack.api.message(ch, summary["ts"])["blocks"]))
    stack.driver.click(
        user="USPON",
        channel=ch,
        message_ts=summary["ts"],
        action_id="release.rollback",
        value=str(rel.id),
        block_id="release-actions",
    )
    wait_until(lambda: any(v.get("callback_id") == "release.rollback" for v in stack.api.views_opened("USPON")))
    view = [v for v in stack.api.views_opened("USPON") if v.get("callback_id") == "release.rollback"][-1]
    empty = stack.driver.submit_view(
        user="USPON", view=view, values={"reason": {"reason": {"type": "plain_text_input", "value": " "}}}
    )
    assert empty.json and empty.json["response_action"] == "errors"
    assert release_row(stack, rel).state == "cutting_over"
    stack.driver.submit_view(
        user="USPON",
        view=view,
        values={"reason": {"reason": {"type": "plain_text_input", "value": "Data sync lag above 5 s"}}},
    )
    wait_until(lambda: release_row(stack, rel).state == "rolled_back")
    assert release_row(stack, rel).rollback_reason == "Data sync lag above 5 s"

    def rollback_posts(channel: str) -> int:
        return sum(
            1
            for m in stack.api.messages(channel)
            if (m.get("metadata") or {}).get("event_type") == "cutover_announcement"
            and "Rollback notice" in json.dumps(m)
        )

    wait_until(lambda: rollback_posts(a) >= 1 and rollback_posts(b) >= 1, timeout=20)
    wait_until(
        lambda: (
            stack.count_rows(
                "deliveries d JOIN announcements a ON a.id = d.announcement_id",
                f"a.release_id = {rel.id} AND a.key = 'ann.rollback' AND d.state = 'sent'",
            )
            == 2
        )
    )
    with stack.db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.key, d.channel_id, d.state FROM deliveries d "
                "JOIN announcements a ON a.id = d.announcement_id "
                f"WHERE d.release_id = {rel.id}"
            )
        ).all()
    states = {r[2] for r in rows}
    assert "pending" not in states and "cancelled" in states, [r for r in rows if r[2] == "pending"]
    assert sorted(r[2] for r in rows if r[0] == "ann.rollback") == ["sent", "sent"]
    import time

    time.sleep(1.0)
    assert rollback_posts(a) == 1 and rollback_posts(b) == 1
