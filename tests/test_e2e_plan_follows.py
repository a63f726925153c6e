"""The announcement plan follows the cutover as it really happens (started and completed early)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from domain.announcements import SKIPPED_STARTED
from sandbox.driver import wait_until
from tests.harness import Stack
from tests.test_e2e_lifecycle import approve, release_row, staffed_release

BEFORE = ("ann.initial", "ann.it_ops", "ann.freeze", "ann.reminder")
AFTER = ("ann.post_check", "ann.hypercare_end", "ann.decom_notice", "ann.decom_done", "ann.outcomes")


def plan(stack: Stack, release_id: int, channel: str) -> dict[str, tuple[str, datetime, str | None]]:
    """key → (delivery state, due time, why) of the release's deliveries to one channel."""
    with stack.db.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.key, d.state, d.due_at, d.error FROM deliveries d "
                f"JOIN announcements a ON a.id = d.announcement_id WHERE d.release_id = {release_id} "
                f"AND d.channel_id = '{channel}'"
            )
        ).all()
    return {str(r[0]): (str(r[1]), _aware(r[2]), r[3]) for r in rows}


def _aware(value: object) -> datetime:
    """Raw SQL hands SQLite's stored text back as it is: read it as the UTC it was written in."""
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def test_an_early_cutover_skips_what_only_made_sense_before_and_times_the_rest_from_the_real_end(
    stack: Stack,
) -> None:
    ch, rel = staffed_release(stack)  # its window is 30 days ahead
    biz = stack.channel()
    stack.ok(f"channel all <#{biz}>", channel=ch, responses=1)
    before = plan(stack, rel.id, biz)
    assert all(before[k][0] == "pending" for k in BEFORE + AFTER), before

    stack.ok("cutover start --override the vendor freed the window early", channel=ch, responses=1)
    wait_until(lambda: release_row(stack, rel).state == "cutting_over")
    started = plan(stack, rel.id, biz)
    for k in BEFORE:
        assert started[k][0] == "skipped" and started[k][2] == SKIPPED_STARTED, (k, started[k])
    schedule = stack.answer("schedule", channel=ch)
    assert "the cutover had already started" in schedule

    approve(stack, ch, rel, "cm.go_final")
    stack.ok("cutover complete", channel=ch, responses=1)
    wait_until(lambda: release_row(stack, rel).state == "completed")
    done = release_row(stack, rel)
    assert done.actual_end is not None
    planned_end = _aware(rel.cutover_end)
    after = plan(stack, rel.id, biz)
    for k in AFTER:
        state, due, _why = after[k]
        assert state == "pending", (k, state)
        # Same distance from the real end as it had from the planned end.
        expected = _aware(done.actual_end) + (before[k][1] - planned_end)
        assert abs((due - expected).total_seconds()) < 1, (k, due, expected)
        assert due < before[k][1] - timedelta(days=25), k  # weeks earlier than planned
    # The outcome notice went out now, with the real times.
    wait_until(lambda: any("Change complete" in json.dumps(m) for m in stack.api.messages(biz)), timeout=15)
