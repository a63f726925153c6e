"""GET /metrics on a real `cutover serve`: Prometheus text whose counters move with the work. Once per backend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families

from sandbox.driver import wait_until
from tests.harness import Stack

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(url: str) -> Samples:
    r = httpx.get(url + "/metrics", timeout=5)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def at(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_metrics_parse_and_every_family_is_there(stack: Stack) -> None:
    got = scrape(stack.app_url)
    names = {name for name, _ in got}
    for family in (
        "cutover_scheduler_ticks_total",
        "cutover_background_tasks",
        "cutover_background_task_failures_total",
        "cutover_checklist_refreshes_total",
        "cutover_announcements_sent_total",
        "cutover_announcements_missed_total",
        "cutover_announcement_lag_seconds_count",
        "process_resident_memory_bytes",
    ):
        assert family in names, family
    # The scheduler ticks (SCHEDULER_TICK=0.2 in the harness).
    wait_until(
        lambda: (
            value(scrape(stack.app_url), "cutover_scheduler_ticks_total") > got[("cutover_scheduler_ticks_total", ())]
        )
    )


def test_a_click_is_timed_and_refreshes_the_checklist(stack: Stack) -> None:
    ch = stack.channel()
    before = scrape(stack.app_url)
    rel = stack.new_release(ch)
    after_command = scrape(stack.app_url)
    assert value(after_command, "cutover_ack_seconds_count", kind="command") == (
        value(before, "cutover_ack_seconds_count", kind="command") + 1
    )
    task = stack.item(rel.id, "cc.training")
    stack.click(ch, task.id, "item.done", "UPM")
    wait_until(lambda: len(stack.decisions(task.id)) == 1)
    wait_until(lambda: stack.has_button(ch, task.id, "item.undo"))
    got = scrape(stack.app_url)
    clicks = value(got, "cutover_ack_seconds_count", kind="block_actions")
    assert clicks == value(after_command, "cutover_ack_seconds_count", kind="block_actions") + 1
    # An ack is quick: it went into a bucket well under Slack's 3 s.
    assert value(got, "cutover_ack_seconds_bucket", kind="block_actions", le="1.0") == clicks
    assert value(got, "cutover_checklist_refreshes_total") > value(after_command, "cutover_checklist_refreshes_total")


def test_a_sent_announcement_counts_and_its_lag_is_observed(stack: Stack) -> None:
    ch = stack.channel()
    biz = stack.channel()
    stack.new_release(ch)
    stack.ok(f"channel business <#{biz}>", channel=ch, responses=1)
    before = scrape(stack.app_url)
    told = stack.ok(f"announce business at {at(2)} Payroll is read-only from 21:00", channel=ch, responses=1)
    assert "Scheduled" in str(told)
    wait_until(lambda: any("read-only" in str(m) for m in stack.api.messages(biz)), timeout=15)
    got = wait_until(
        lambda: (
            s
            if value(s := scrape(stack.app_url), "cutover_announcements_sent_total")
            > value(before, "cutover_announcements_sent_total")
            else None
        )
    )
    assert value(got, "cutover_announcements_sent_total") == value(before, "cutover_announcements_sent_total") + 1
    lag_count = value(got, "cutover_announcement_lag_seconds_count")
    assert lag_count == value(before, "cutover_announcement_lag_seconds_count") + 1
    lag = value(got, "cutover_announcement_lag_seconds_sum") - value(before, "cutover_announcement_lag_seconds_sum")
    assert 0.0 <= lag < 10.0


def test_429s_are_counted_by_method_on_both_clients(stack: Stack) -> None:
    ch = stack.channel()
    limited = stack.channel()
    rel = stack.new_release(ch)
    stack.ok(f"channel it <#{limited}>", channel=ch, responses=1)
    methods = ("chat.postMessage", "chat.update")
    before = scrape(stack.app_url)
    answered_before = {m: ratelimited_answers(stack, m) for m in methods}
    # The announcement client: no retries of its own, the sender waits out Retry-After and posts again.
    stack.api.inject("chat.postMessage", "ratelimited", times=1, retry_after=1, channel=limited)
    stack.ok(f"announce it at {at(2)} Change freeze from Friday", channel=ch, responses=1)
    wait_until(lambda: any("Change freeze" in str(m) for m in stack.api.messages(limited)), timeout=20)
    # The retrying client: a checklist refresh whose chat.update Slack limits once, then lets through.
    stack.api.inject("chat.update", "ratelimited", times=1, retry_after=1)
    task = stack.item(rel.id, "cc.training")
    stack.click(ch, task.id, "item.done", "UPM")
    wait_until(lambda: stack.has_button(ch, task.id, "item.undo"), timeout=15)
    got = scrape(stack.app_url)
    for method in methods:
        # Every 429 the stand-in answered is counted once, under its method.
        answered = ratelimited_answers(stack, method) - answered_before[method]
        counted = value(got, "cutover_slack_ratelimited_total", method=method) - value(
            before, "cutover_slack_ratelimited_total", method=method
        )
        assert answered >= 1 and counted == answered, (method, answered, counted)


def ratelimited_answers(stack: Stack, method: str) -> int:
    return sum(1 for c in stack.api.calls(method) if c.status == 429)
