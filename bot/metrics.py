"""Numbers an operator can watch: Prometheus metrics for one app instance.

Each `Metrics` holds its own `CollectorRegistry`, built by the app factory, so two apps in one
process (tests) never share counts, and nothing is registered at import time. The names, types
and labels are listed in docs/DEPLOY.md ("Metrics").
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

from bot.tasks import TaskTracker

T = TypeVar("T")

# Slack waits 3 s for an ack; the app aims at well under 10 ms.
ACK_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
# From "on the dot" to the grace period (ANNOUNCEMENT_GRACE, an hour by default).
LAG_BUCKETS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
# What Slack sends to the Request URL (interactivity `type`, Events API, slash commands); anything
# else is counted as "other" so a label never grows with the traffic.
ACK_KINDS = frozenset(
    {
        "command",
        "block_actions",
        "block_suggestion",
        "view_submission",
        "view_closed",
        "shortcut",
        "message_action",
        "event_callback",
        "url_verification",
    }
)


class Metrics:
    """Every metric of one app instance, and the scheduler's heartbeat that /healthz reads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)
        self.ack_seconds = Histogram(
            "cutover_ack_seconds",
            "Time from a Slack request reaching the app to its acknowledgement being ready to send.",
            ["kind"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.refreshes = Counter(
            "cutover_checklist_refreshes",
            "Checklist refresh passes: re-read a release, update the messages whose content changed.",
            registry=r,
        )
        self.refresh_failures = Counter(
            "cutover_checklist_refresh_failures",
            "Checklist refresh failures: a message push that failed (refused, timed out), or a pass that stopped.",
            ["reason"],
            registry=r,
        )
        self.sent = Counter(
            "cutover_announcements_sent", "Announcement deliveries Slack confirmed as posted.", registry=r
        )
        self.failed = Counter(
            "cutover_announcements_failed",
            "Announcement deliveries refused for good (recorded and reported to the release channel).",
            ["error"],
            registry=r,
        )
        self.missed = Counter(
            "cutover_announcements_missed",
            "Announcement deliveries due longer ago than ANNOUNCEMENT_GRACE, reported instead of sent.",
            registry=r,
        )
        self.lag = Histogram(
            "cutover_announcement_lag_seconds",
            "Delivery lag: when Slack confirmed the post minus when it was due.",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.ratelimited = Counter(
            "cutover_slack_ratelimited",
            "HTTP 429 answers from Slack's Web API, by method (every attempt, retried or not).",
            ["method"],
            registry=r,
        )
        self.ticks = Counter(
            "cutover_scheduler_ticks", "Scheduler ticks: wake-ups of the announcement sender.", registry=r
        )
        self.scheduler_since: float | None = None  # monotonic, when this process started its scheduler
        self.last_tick: float | None = None  # monotonic

    # --- the scheduler's heartbeat -----------------------------------------------------------------
    def scheduler_started(self) -> None:
        self.scheduler_since = self.clock()

    def ticked(self) -> None:
        self.last_tick = self.clock()
        self.ticks.inc()

    # --- instrumentation calls ---------------------------------------------------------------------
    def watch_tasks(self, tasks: TaskTracker) -> None:
        """Background tasks in flight and failed, read from the tracker whenever /metrics is asked."""
        self.registry.register(_TaskCollector(tasks))

    def ack(self, kind: str, seconds: float) -> None:
        self.ack_seconds.labels(kind if kind in ACK_KINDS else "other").observe(seconds)

    async def refresh(self, awaitable: Awaitable[T]) -> T:
        """Count one checklist refresh pass, and its failure if it raises."""
        self.refreshes.inc()
        try:
            return await awaitable
        except Exception:
            self.refresh_failures.labels("error").inc()
            raise

    def refresh_refused(self) -> None:
        self.refresh_failures.labels("refused").inc()

    def announcement_sent(self, lag: timedelta) -> None:
        self.sent.inc()
        self.lag.observe(max(0.0, lag.total_seconds()))

    def announcement_failed(self, error: str) -> None:
        self.failed.labels(error).inc()

    def announcements_missed(self, count: int) -> None:
        self.missed.inc(count)

    def rate_limit_hook(self) -> AsyncRetryHandler:
        """A retry handler that counts 429s by method and never retries: put it first in a client's list."""
        return RateLimitCounter(self)

    # --- exposition --------------------------------------------------------------------------------
    def exposition(self) -> tuple[bytes, str]:
        """The body and content type of GET /metrics."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class _TaskCollector(Collector):
    def __init__(self, tasks: TaskTracker) -> None:
        self._tasks = tasks

    def collect(self) -> Iterable[Metric]:
        yield GaugeMetricFamily(
            "cutover_background_tasks",
            "Background tasks in flight: work started after an ack, not finished yet.",
            value=self._tasks.pending,
        )
        yield CounterMetricFamily(
            "cutover_background_task_failures",
            "Background tasks that ended with an error (each is logged).",
            value=self._tasks.failures,
        )


def api_method(url: str) -> str:
    """`chat.postMessage` from `https://slack.com/api/chat.postMessage`."""
    return url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or "unknown"


class RateLimitCounter(AsyncRetryHandler):
    """Sees every answer before the real retry handlers do; counts 429s, never asks for a retry.

    slack_sdk asks each handler in turn and stops at the first that wants a retry, so this one,
    first in the list, sees every attempt and leaves the decision to the rest (or to the caller,
    for the announcement client, which has no retry handlers of its own)."""

    def __init__(self, metrics: Metrics) -> None:
        super().__init__(max_retry_count=0)
        self._metrics = metrics

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            self._metrics.ratelimited.labels(api_method(request.url)).inc()
        return False


def request_kind(body: Mapping[str, Any]) -> str:
    if "command" in body and "type" not in body:
        return "command"
    return str(body.get("type") or "other")


class TimedAsyncApp(AsyncApp):
    """Bolt's AsyncApp, timing each acknowledgement: from the request reaching Bolt (signature check
    included) to the answer being ready, with the listener's ack in it (`process_before_response`)."""

    def __init__(self, *, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._metrics = metrics

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        started = time.perf_counter()
        resp = await super().async_dispatch(req)
        if resp.status == 200:  # an ack; refusals (401, 404) are not
            self._metrics.ack(request_kind(req.body), time.perf_counter() - started)
        return resp
