"""Exactly-once delivery across replicas and crashes: real processes sharing one database."""

from __future__ import annotations

import json
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from sandbox.driver import SlackDriver, wait_until
from sandbox.webapi import SlackStandIn
from storage.db import make_sync_engine
from storage.models import Delivery
from tests.databases import backends, fresh_database
from tests.harness import PEOPLE, TEAM, AppProcess, standin


def announcement_posts(api: SlackStandIn, channels: list[str]) -> list[int]:
    ids = []
    for ch in channels:
        for m in api.messages(ch):
            meta = m.get("metadata") or {}
            if meta.get("event_type") == "cutover_announcement":
                ids.append(int(meta["event_payload"]["delivery_id"]))
    return ids


def delivery_states(url: str) -> Counter[str]:
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            return Counter(conn.execute(select(Delivery.state)).scalars())
    finally:
        engine.dispose()


def claimers(url: str) -> Counter[str]:
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            return Counter(str(w).rsplit(":", 1)[0] for w in conn.execute(select(Delivery.claimed_by)).scalars() if w)
    finally:
        engine.dispose()


@pytest.fixture(params=backends())
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


def setup_release(api: SlackStandIn, driver: SlackDriver, url: str, n_channels: int) -> tuple[str, list[str]]:
    members = (*PEOPLE, "UBOT")
    api.add_channel("CREL", name="rel", members=members)
    channels = [f"CST{i:03d}" for i in range(n_channels)]
    for c in channels:
        api.add_channel(c, name=c.lower(), members=members)
    start = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = driver.slash(text=f"new Drill --cutover {start}", user="UPM", channel="CREL")
    assert "Created" in str(driver.wait_responses(r, count=1, timeout=20))
    return "CREL", channels


def schedule_many(driver: SlackDriver, channels: list[str], per_channel: int, due: datetime) -> None:
    when = due.strftime("%Y-%m-%dT%H:%M:%SZ")
    for i in range(per_channel):
        for c in channels:
            r = driver.slash(text=f"announce <#{c}> at {when} Drill notice {i} for {c}", user="UPM", channel="CREL")
            assert r.status == 200


@pytest.mark.parametrize("second", ["serve", "worker"])
def test_two_senders_post_each_delivery_exactly_once(database: str, tmp_path: Path, second: str) -> None:
    secret = secrets.token_hex(8)
    with standin() as api:
        a = AppProcess("serve", database_url=database, api=api, secret=secret, tmp=tmp_path)
        b = None
        try:
            a.wait_healthy()
            b = AppProcess(second, database_url=database, api=api, secret=secret, tmp=tmp_path, AUTO_MIGRATE="false")
            b.wait_healthy()
            driver = SlackDriver(app_url=a.url + "/slack/events", signing_secret=secret, standin=api, team_id=TEAM)
            _rel, channels = setup_release(api, driver, database, n_channels=10)
            # Slow posts keep one sender busy long enough for the other to claim its share.
            api.inject("chat.postMessage", "timeout", times=1000, delay=0.3)
            due = datetime.now(UTC) + timedelta(seconds=12)
            schedule_many(driver, channels, per_channel=10, due=due)
            # On a loaded machine some may already be due and sent by the time the last is scheduled.
            wait_until(
                lambda: sum(delivery_states(database).values()) == 100, timeout=60, message="100 deliveries scheduled"
            )
            wait_until(lambda: len(announcement_posts(api, channels)) >= 100, timeout=60)
            time.sleep(2.0)
            posted = announcement_posts(api, channels)
            assert len(posted) == 100 and len(set(posted)) == 100, Counter(posted).most_common(3)
            assert delivery_states(database) == Counter({"sent": 100})
            # Announce times are typed to the second, so the stored due time is `due` without its fraction.
            assert all(
                m_ts >= due.replace(microsecond=0).timestamp() - 0.05
                for m_ts in (float(m["ts"]) for c in channels for m in api.messages(c))
            )
            assert len(claimers(database)) == 2, f"both senders took part: {claimers(database)}"
        finally:
            if b is not None:
                b.stop()
            a.stop()


def test_crash_mid_send_and_restart_posts_each_once(database: str, tmp_path: Path) -> None:
    secret = secrets.token_hex(8)
    with standin() as api:
        a = AppProcess("serve", database_url=database, api=api, secret=secret, tmp=tmp_path)
        restarted = None
        try:
            a.wait_healthy()
            driver = SlackDriver(app_url=a.url + "/slack/events", signing_secret=secret, standin=api, team_id=TEAM)
            _rel, channels = setup_release(api, driver, database, n_channels=4)
            # Slack takes 4 s to answer the first posts: they are in flight when the process dies.
            api.inject("chat.postMessage", "timeout", times=4, delay=4.0)
            now = datetime.now(UTC)
            schedule_many(driver, channels, per_channel=2, due=now + timedelta(seconds=3))
            # These come due while nothing runs, and are caught up after the restart.
            schedule_many(driver, channels, per_channel=1, due=now + timedelta(seconds=7))
            wait_until(lambda: delivery_states(database)["pending"] == 12, timeout=20)
            wait_until(lambda: delivery_states(database)["sending"] >= 1, timeout=20)
            a.kill()
            time.sleep(6.0)
            down = delivery_states(database)
            assert down["sending"] >= 1 and down["pending"] >= 4, down
            restarted = AppProcess("serve", database_url=database, api=api, secret=secret, tmp=tmp_path)
            restarted.wait_healthy()
            wait_until(
                lambda: delivery_states(database) == Counter({"sent": 12}),
                timeout=60,
                message=json.dumps(delivery_states(database)),
            )
            posted = announcement_posts(api, channels)
            assert sorted(Counter(posted).values()) == [1] * 12, Counter(posted)
        finally:
            if restarted is not None:
                restarted.stop()
            a.stop()
