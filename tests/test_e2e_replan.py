"""A failed go-live and a second try on the same release: rollback, re-plan, a second go/no-go, success.

The first attempt's announcements are never sent again, the second plan's go out once each, and the
retrospective looks back on both attempts.
"""

from __future__ import annotations

import json
import time

from sqlalchemy import text

from sandbox.driver import wait_until
from tests.harness import Stack
from tests.test_e2e_lifecycle import BLOCKING, answer_survey, approve, release_row, staffed_release, survey_values

REASON = "Payments failed the smoke test"


def posts(stack: Stack, channel: str, words: str) -> int:
    """Announcements posted in a channel whose text has these words."""
    return sum(
        1
        for m in stack.api.messages(channel)
        if (m.get("metadata") or {}).get("event_type") == "cutover_announcement" and words in json.dumps(m)
    )


def deliveries(stack: Stack, release_id: int) -> list[tuple[int, str, str, str]]:
    """(attempt, key, channel, state) of every delivery of the release."""
    with stack.db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.attempt, a.key, d.channel_id, d.state FROM deliveries d "
                f"JOIN announcements a ON a.id = d.announcement_id WHERE d.release_id = {release_id}"
            )
        ).all()
    return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]


def test_rollback_replan_second_gonogo_and_a_successful_second_cutover(stack: Stack) -> None:
    ch, rel = staffed_release(stack)
    key = f"REL-{rel.number}"
    biz = stack.channel()
    stack.ok(f"channel all <#{biz}>", channel=ch, responses=1)

    # Attempt 1: every go/no-go sign-off given, the cutover starts, then fails.
    for k in BLOCKING:
        approve(stack, ch, rel, k)
    stack.ok("cutover start", user="UMA", channel=ch, responses=1)
    wait_until(lambda: release_row(stack, rel).state == "cutting_over")
    wait_until(lambda: posts(stack, biz, "Change starting now") == 1, timeout=15)
    stack.ok(f"cutover rollback {REASON}", channel=ch, responses=1)
    wait_until(lambda: release_row(stack, rel).state == "rolled_back")
    wait_until(lambda: posts(stack, biz, "Rollback notice") == 1, timeout=15)

    # A dead end no more: starting again says to re-plan.
    refused = stack.answer("cutover start", channel=ch)
    assert f"{key} is rolled back:" in refused and "move --cutover" in refused

    # Re-plan: back to planning, the sign-offs of the failed attempt reopen with their approvers tagged.
    stack.ok("move --cutover " + time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime(time.time() + 20 * 86400)), channel=ch)
    wait_until(lambda: release_row(stack, rel).state == "planning", timeout=10)
    assert release_row(stack, rel).attempt == 2
    for k in BLOCKING:
        assert stack.item(rel.id, k).state == "pending", k
    notice = wait_until(
        lambda: next(
            (json.dumps(m, ensure_ascii=False) for m in stack.api.messages(ch) if "Re-planned" in json.dumps(m)),
            None,
        ),
        timeout=10,
    )
    assert "<@UWBO>" in notice and "<@UMA>" in notice
    assert all(state != "pending" for attempt, _k, _c, state in deliveries(stack, rel.id) if attempt == 1)
    planned = [(k, s) for attempt, k, c, s in deliveries(stack, rel.id) if attempt == 2 and c == biz]
    assert ("ann.initial", "pending") in planned or ("ann.initial", "skipped") in planned
    status = stack.answer("status", channel=ch)
    assert "Attempt 1" in status and REASON in status

    # Attempt 2: the go/no-go asks again; given again, the cutover starts and completes.
    gonogo = stack.answer("cutover start", channel=ch)
    assert "rolled back" not in gonogo
    out = stack.ok("cutover start", channel=ch, responses=1)
    assert release_row(stack, rel).state == "planning", out  # refused: the sign-offs reopened
    for k in BLOCKING:
        # The checklist shows the reopened sign-off waiting again, with its buttons.
        wait_until(lambda k=k: stack.has_button(ch, stack.item(rel.id, k).id, "item.approve"), timeout=10)
        approve(stack, ch, rel, k)
    stack.ok("cutover start", user="UMA", channel=ch, responses=1)
    wait_until(lambda: release_row(stack, rel).state == "cutting_over")
    approve(stack, ch, rel, "cm.go_final")
    stack.ok("cutover complete", user="UMA", channel=ch, responses=1)
    wait_until(lambda: release_row(stack, rel).state == "completed")
    wait_until(lambda: posts(stack, biz, "Change starting now") == 2 and posts(stack, biz, "Change complete") == 1)

    # Each (announcement, channel) once: attempt 1's never re-sent, attempt 2's sent once.
    time.sleep(2.5)  # a few sender ticks: nothing more may go out
    sent = [(attempt, k) for attempt, k, c, s in deliveries(stack, rel.id) if c == biz and s == "sent"]
    assert sorted(sent) == [(1, "ann.rollback"), (1, "ann.started"), (2, "ann.outcome"), (2, "ann.started")]
    assert posts(stack, biz, "Change starting now") == 2 and posts(stack, biz, "Rollback notice") == 1

    # The retrospective covers both attempts.
    stack.ok("retro open", channel=ch, responses=1)
    wait_until(lambda: any("retro.take" in json.dumps(m.get("blocks")) for m in stack.api.messages(ch)))
    for user, rating in (("UWBO", "4"), ("UMA", "3"), ("USPON", "5")):
        r, _ = answer_survey(stack, ch, user, survey_values("Second time right", rating))
        assert r.status == 200 and not r.text, r.text
    wait_until(lambda: stack.count_rows("survey_responses") == 3, timeout=10)
    stack.ok("retro close", channel=ch, responses=1)
    wait_until(lambda: any("How the release went" in json.dumps(m) for m in stack.api.messages(ch)), timeout=10)
    summary = next(
        json.dumps(m, ensure_ascii=False)
        for m in reversed(stack.api.messages(ch))
        if "How the release went" in json.dumps(m)
    )
    assert "Attempt 1" in summary and REASON in summary
