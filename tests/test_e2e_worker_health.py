"""`cutover worker` on METRICS_PORT: /healthz and /metrics from a real worker process."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from sandbox.driver import SlackDriver, wait_until
from sandbox.launcher import free_port
from storage.db import make_sync_engine
from storage.models import Delivery
from tests.databases import backends, fresh_database
from tests.harness import PEOPLE, TEAM, AppProcess, standin


@pytest.fixture(params=backends())
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


def states(url: str) -> Counter[str]:
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            return Counter(conn.execute(select(Delivery.state)).scalars())
    finally:
        engine.dispose()


def metric(url: str, name: str) -> float:
    r = httpx.get(url + "/metrics", timeout=5)
    assert r.status_code == 200
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            if s.name == name and not s.labels:
                return s.value
    raise AssertionError(f"{name} is not in /metrics")


def at(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_worker_serves_health_and_metrics_and_is_503_once_its_scheduler_stops(database: str, tmp_path: Path) -> None:
    secret = secrets.token_hex(8)
    with standin() as api:
        # Only the worker sends: the web process runs no scheduler.
        web = AppProcess("serve", database_url=database, api=api, secret=secret, tmp=tmp_path, RUN_SCHEDULER="false")
        worker = None
        try:
            web.wait_healthy()
            assert httpx.get(web.url + "/healthz").json()["scheduler"] == "off (RUN_SCHEDULER=false)"
            metrics_url = f"http://127.0.0.1:{free_port()}"
            worker = AppProcess(
                "worker",
                database_url=database,
                api=api,
                secret=secret,
                tmp=tmp_path,
                METRICS_PORT=metrics_url.rsplit(":", 1)[1],
                SLACK_TIMEOUT="10",  # a slow post below stays in flight instead of timing out
            )
            worker.wait_healthy()
            health = httpx.get(metrics_url + "/healthz", timeout=5)
            assert health.status_code == 200, health.text
            assert health.json()["status"] == "ok" and health.json()["scheduler"] == "running"
            wait_until(lambda: metric(metrics_url, "cutover_scheduler_ticks_total") >= 2)

            members = (*PEOPLE, "UBOT")
            api.add_channel("CREL", name="rel", members=members)
            api.add_channel("CBIZ", name="biz", members=members)
            driver = SlackDriver(app_url=web.url + "/slack/events", signing_secret=secret, standin=api, team_id=TEAM)
            start = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
            r = driver.slash(text=f"new Drill --cutover {start}", user="UPM", channel="CREL")
            assert "Created" in str(driver.wait_responses(r, count=1, timeout=20))
            r = driver.slash(text="channel business <#CBIZ>", user="UPM", channel="CREL")
            driver.wait_responses(r, count=1, timeout=10)

            # The worker sends, and its own /metrics says so.
            r = driver.slash(text=f"announce business at {at(2)} First notice", user="UPM", channel="CREL")
            assert "Scheduled" in str(driver.wait_responses(r, count=1, timeout=10))
            wait_until(lambda: metric(metrics_url, "cutover_announcements_sent_total") == 1, timeout=20)
            assert metric(metrics_url, "cutover_announcement_lag_seconds_count") == 1

            # A post Slack takes 6 s to answer is in flight when the worker is told to stop: it stops its
            # scheduler first and finishes the post, and /healthz says it is no longer ticking meanwhile.
            api.inject("chat.postMessage", "timeout", times=1, delay=6.0, channel="CBIZ")
            r = driver.slash(text=f"announce business at {at(2)} Second notice", user="UPM", channel="CREL")
            assert "Scheduled" in str(driver.wait_responses(r, count=1, timeout=10))
            wait_until(lambda: states(database)["sending"] == 1, timeout=20)
            worker.proc.send_signal(signal.SIGTERM)
            stalled = wait_until(
                lambda: h if (h := httpx.get(metrics_url + "/healthz", timeout=5)).status_code == 503 else None,
                timeout=5,
            )
            body = stalled.json()
            assert body["status"] == "unavailable" and body["scheduler"] == "stalled" and body["database"] == "ok"
            assert "the scheduler has not ticked for" in body["reason"]
            assert worker.proc.wait(timeout=30) == 0, worker.log_path.read_text()
            assert states(database)["sent"] == 2
            posted = [m for m in api.messages("CBIZ") if "notice" in str(m)]
            assert len(posted) == 2
        finally:
            if worker is not None:
                worker.stop()
            web.stop()


def worker_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "METRICS_PORT"))}
    env.update(SLACK_BOT_TOKEN="xoxb-x", SLACK_API_URL="http://127.0.0.1:9/api/", HOST="127.0.0.1", **extra)
    return env


def test_worker_health_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    port = free_port()
    env = worker_env(
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/none",  # nothing listens there
        METRICS_PORT=str(port),
    )
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], env=env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 30
        answer = None
        while answer is None and time.monotonic() < deadline:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            except httpx.HTTPError:
                time.sleep(0.1)
        assert answer is not None, log.read_text()
        assert answer.status_code == 503
        assert answer.json()["database"] == "unreachable"
        assert "the database is unreachable" in answer.json()["reason"]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, log.read_text()


def test_worker_says_when_metrics_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = worker_env(DATABASE_URL=f"sqlite:///{tmp_path / 'w.db'}", METRICS_PORT=str(port))
        done = subprocess.run(
            [sys.executable, "-m", "bot.cli", "worker"], env=env, capture_output=True, text=True, timeout=30
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port} (METRICS_PORT)" in done.stderr
    assert "Traceback" not in done.stderr
