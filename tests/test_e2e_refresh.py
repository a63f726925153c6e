"""Checklist refreshes on a real `cutover serve`: which messages a click changes, in which order, and
how a push Slack refuses is retried without anyone clicking again. Once per backend."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from sandbox.driver import wait_until
from storage.models import ChecklistItem, Release
from tests.harness import Stack
from tests.test_e2e_metrics import scrape, value


def shown_versions(stack: Stack, channel: str) -> dict[int, set[int]]:
    """Item id -> the versions its buttons carry in the channel as the stand-in shows it now."""
    out: dict[int, set[int]] = {}
    for b in stack.all_blocks(channel):
        elements = b.get("elements", []) if b.get("type") == "actions" else [b.get("accessory") or {}]
        for el in elements:
            item, sep, version = str(el.get("value", "")).partition(":")
            if sep and str(el.get("action_id", "")).startswith("item."):
                out.setdefault(int(item), set()).add(int(version))
    return out


def converged(stack: Stack, channel: str, release: Release) -> bool:
    """Every item's buttons show the version the database holds."""
    shown = shown_versions(stack, channel)
    return all(shown.get(i.id) == {i.version} for i in stack.items(release.id))


def task_in(stack: Stack, release: Release, *, multi_part: bool) -> ChecklistItem:
    """A task item (no sign-off) in a phase posted as one message, or as several."""
    parts = Counter(m.phase_key for m in stack.messages_of(release.id) if m.kind == "phase")
    for item in stack.items(release.id):
        if not item.approver_roles and (parts[item.phase_key] > 1) == multi_part and item.state == "pending":
            return item
    raise AssertionError(f"no pending task in a {'multi' if multi_part else 'single'}-part phase")


def updates_after(stack: Stack, channel: str, since: float) -> list[str]:
    """The ts of every message in ``channel`` chat.update changed after ``since`` (the stand-in's clock), in order."""
    return [
        str(c.args.get("ts"))
        for c in stack.api.calls("chat.update")
        if c.at > since and c.status == 200 and c.args.get("channel") == channel
    ]


def settled(stack: Stack, channel: str, since: float) -> list[str]:
    """Wait until no chat.update arrived for half a second; the updates after ``since``."""
    seen = -1
    while True:
        got = updates_after(stack, channel, since)
        if len(got) == seen:
            return got
        seen = len(got)
        time.sleep(0.5)


@pytest.mark.parametrize(
    ("fault", "times", "delay"),
    [
        # More than the client's own retries (two for a 5xx): the push gives up, the app retries later.
        ("server_error", 6, 0.0),
        ("unavailable", 6, 0.0),
        # Slack answers after the client's 2 s timeout.
        ("timeout", 3, 2.5),
    ],
)
def test_a_failed_refresh_is_retried_without_a_new_click(stack: Stack, fault: str, times: int, delay: float) -> None:
    ch = stack.channel()
    rel = stack.new_release(ch)
    task = task_in(stack, rel, multi_part=False)
    before = scrape(stack.app_url)
    clicks_before = len(stack.api.calls("chat.update"))
    stack.api.inject("chat.update", fault, times=times, delay=delay)
    r = stack.click(ch, task.id, "item.done", "UPM")
    assert r.status == 200
    # Recorded at once; Slack refused to show it, so the checklist lags until the retry.
    wait_until(lambda: stack.item(rel.id, task.key).state == "done", timeout=10)
    wait_until(lambda: stack.has_button(ch, task.id, "item.undo"), timeout=20)
    wait_until(lambda: converged(stack, ch, rel), timeout=20)
    assert len(stack.decisions(task.id)) == 1, "one click, one decision"
    got = scrape(stack.app_url)
    failures = value(got, "cutover_checklist_refresh_failures_total", reason="refused") - value(
        before, "cutover_checklist_refresh_failures_total", reason="refused"
    )
    assert failures >= 1, "the push that gave up is counted"
    if fault != "timeout":  # a timed-out call may still land late; the others only answered 5xx
        answered = [c.status for c in stack.api.calls("chat.update")[clicks_before:]]
        assert answered[: answered.index(200)].count(500 if fault == "server_error" else 503) >= 3, answered
        assert answered.count(200) >= 2, "the item's message and the summary, pushed again by the retry"
    # And it stays equal: nothing else is pending for this release.
    time.sleep(1.0)
    assert converged(stack, ch, rel)
    stack.api.clear_faults()  # a timeout the retries did not use up would delay the next test's pushes


def test_a_click_changes_the_items_message_first_then_the_summary_and_nothing_else(stack: Stack) -> None:
    ch = stack.channel()
    rel = stack.new_release(ch)
    summary = next(m.ts for m in stack.messages_of(rel.id) if m.kind == "summary")
    settled(stack, ch, 0.0)
    for _ in range(3):
        task = task_in(stack, rel, multi_part=False)
        ts, _button, _block = stack.find_button(ch, task.id, "item.done")
        since = max(c.at for c in stack.api.calls())
        stack.click(ch, task.id, "item.done", "UPM")
        wait_until(lambda t=task: stack.has_button(ch, t.id, "item.undo"), timeout=10)  # type: ignore[misc]
        got = settled(stack, ch, since)
        assert got == [ts, summary], (got, ts, summary)
        assert converged(stack, ch, rel)


def test_a_click_in_a_phase_of_several_parts_updates_its_parts_and_the_summary(stack: Stack) -> None:
    ch = stack.channel()
    rel = stack.new_release(ch)
    summary = next(m.ts for m in stack.messages_of(rel.id) if m.kind == "summary")
    task = task_in(stack, rel, multi_part=True)
    parts = {m.ts for m in stack.messages_of(rel.id) if m.kind == "phase" and m.phase_key == task.phase_key}
    ts, _button, _block = stack.find_button(ch, task.id, "item.done")
    settled(stack, ch, 0.0)
    since = max(c.at for c in stack.api.calls())
    stack.click(ch, task.id, "item.done", "UPM")
    wait_until(lambda: stack.has_button(ch, task.id, "item.undo"), timeout=10)
    got = settled(stack, ch, since)
    # Every part shows the phase's count, so each changes; the item's part goes first, then the summary.
    assert got[:2] == [ts, summary]
    assert sorted(got) == sorted([*parts, summary])
    assert converged(stack, ch, rel)
