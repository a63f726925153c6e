"""Metrics and health without a server: the verdict under a controlled clock, one registry per app."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from bot.app import create_app
from bot.health import judge
from bot.metrics import Metrics, api_method, request_kind
from bot.settings import Settings
from bot.tasks import TaskTracker

TICK = 1.0


def samples(m: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    body, _ = m.exposition()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def verdict(**kw: Any) -> Any:
    args: dict[str, Any] = {
        "database_ok": True,
        "scheduler_expected": True,
        "scheduler_since": 100.0,
        "last_tick": None,
        "tick": TICK,
        "now": 100.0,
    }
    args.update(kw)
    return judge(**args)


def test_healthy_while_the_scheduler_ticks() -> None:
    h = verdict(last_tick=1000.0, now=1000.0 + 3 * TICK)  # three ticks of silence is still on time
    assert h.status == 200
    assert h.body["status"] == "ok" and h.body["scheduler"] == "running" and h.body["database"] == "ok"
    assert h.body["sender_last_tick_seconds_ago"] == 3.0
    assert "reason" not in h.body


def test_unhealthy_after_three_ticks_without_a_tick() -> None:
    h = verdict(last_tick=1000.0, now=1000.0 + 3 * TICK + 0.1)
    assert h.status == 503
    assert h.body["status"] == "unavailable" and h.body["scheduler"] == "stalled"
    assert h.body["reason"] == "the scheduler has not ticked for 3.1 s (it should every 1 s)"


def test_a_scheduler_that_never_ticked_counts_from_its_start() -> None:
    assert verdict(scheduler_since=100.0, now=102.0).status == 200
    late = verdict(scheduler_since=100.0, now=110.0)
    assert late.status == 503 and "not ticked for 10.0 s" in str(late.body["reason"])
    assert verdict(scheduler_since=None).body["reason"] == "the scheduler has not started"


def test_no_scheduler_expected_means_no_scheduler_check() -> None:
    h = verdict(scheduler_expected=False, scheduler_since=None, now=10_000.0)
    assert h.status == 200 and h.body["scheduler"] == "off (RUN_SCHEDULER=false)"


def test_every_reason_is_said() -> None:
    h = verdict(database_ok=False, last_tick=0.0, now=50.0, tick=2.0)
    assert h.status == 503 and h.body["database"] == "unreachable"
    assert h.body["reason"] == (
        "the database is unreachable; the scheduler has not ticked for 50.0 s (it should every 2 s)"
    )


def test_metrics_of_one_app_are_its_own(tmp_path: Any) -> None:
    settings = Settings(
        slack_bot_token=SecretStr("xoxb-test"),
        slack_signing_secret=SecretStr("s"),
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
    )
    _, a = create_app(settings)
    _, b = create_app(settings)
    a.metrics.ticked()
    a.metrics.announcement_sent(timedelta(seconds=2))
    assert samples(a.metrics)[("cutover_scheduler_ticks_total", ())] == 1
    assert samples(b.metrics)[("cutover_scheduler_ticks_total", ())] == 0
    assert samples(a.metrics)[("cutover_announcement_lag_seconds_sum", ())] == 2.0
    # Nothing went into prometheus_client's process-wide registry.
    assert not [f.name for f in REGISTRY.collect() if f.name.startswith("cutover")]
    # Every Web API client counts 429s first, before any retry handler decides.
    for client in (a.client, a.sender._client):
        assert type(client.retry_handlers[0]).__name__ == "RateLimitCounter"


def test_background_tasks_are_read_from_the_tracker() -> None:
    m = Metrics()
    tasks = TaskTracker()
    m.watch_tasks(tasks)
    tasks.failures = 2
    got = samples(m)
    assert got[("cutover_background_tasks", ())] == 0
    assert got[("cutover_background_task_failures_total", ())] == 2


async def test_a_refresh_pass_that_raises_is_counted_and_raised() -> None:
    m = Metrics()

    async def boom() -> bool:
        raise TimeoutError

    assert await m.refresh(_value(True)) is True
    with pytest.raises(TimeoutError):
        await m.refresh(boom())
    m.refresh_refused()
    got = samples(m)
    assert got[("cutover_checklist_refreshes_total", ())] == 2
    assert got[("cutover_checklist_refresh_failures_total", (("reason", "error"),))] == 1
    assert got[("cutover_checklist_refresh_failures_total", (("reason", "refused"),))] == 1


async def _value(v: bool) -> bool:
    return v


@pytest.mark.parametrize(
    ("url", "method"),
    [
        ("https://slack.com/api/chat.postMessage", "chat.postMessage"),
        ("http://127.0.0.1:5555/api/chat.update?x=1", "chat.update"),
        ("https://slack-gov.com/api/users.info/", "users.info"),
    ],
)
def test_api_method_from_url(url: str, method: str) -> None:
    assert api_method(url) == method


def test_ack_kinds_are_bounded() -> None:
    m = Metrics()
    assert request_kind({"command": "/release", "text": "help"}) == "command"
    assert request_kind({"type": "block_actions"}) == "block_actions"
    m.ack(request_kind({"type": "something_new"}), 0.001)
    assert samples(m)[("cutover_ack_seconds_count", (("kind", "other"),))] == 1
