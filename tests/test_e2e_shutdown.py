"""SIGTERM in the middle of a burst of clicks and due announcements: nothing lost, nothing doubled."""

from __future__ import annotations

import json
import secrets
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from sandbox.driver import SlackDriver, wait_until
from storage.db import make_sync_engine
from storage.models import Decision
from tests.databases import backends, fresh_database
from tests.harness import TEAM, AppProcess, standin
from tests.test_e2e_delivery import announcement_posts, delivery_states, schedule_many, setup_release


@pytest.mark.parametrize("backend", backends())
def test_sigterm_finishes_acknowledged_work_and_loses_no_delivery(backend: str, tmp_path: Path) -> None:
    secret = secrets.token_hex(8)
    with fresh_database(backend, tmp_path) as url, standin() as api:
        app = AppProcess("serve", database_url=url, api=api, secret=secret, tmp=tmp_path, LOG_FORMAT="json")
        restarted = None
        try:
            app.wait_healthy()
            driver = SlackDriver(app_url=app.url + "/slack/events", signing_secret=secret, standin=api, team_id=TEAM)
            _rel, channels = setup_release(api, driver, url, n_channels=3)
            api.inject("chat.postMessage", "timeout", times=1000, delay=0.4)  # slow Slack: posts in flight
            schedule_many(driver, channels, per_channel=4, due=datetime.now(UTC) + timedelta(seconds=2))
            wait_until(lambda: delivery_states(url)["pending"] == 12, timeout=20)
            summary = api.messages("CREL")[0]
            thread = api.thread("CREL", summary["ts"])
            buttons = [
                (m["ts"], b["accessory"])
                for m in thread
                for b in m["blocks"]
                if (b.get("accessory") or {}).get("action_id") == "item.done"
            ][:30]
            assert len(buttons) == 30
            wait_until(lambda: delivery_states(url)["sending"] >= 1, timeout=20)

            def click(target: tuple[str, dict]) -> str:
                ts, button = target
                try:
                    r = driver.click(
                        user="UPM",
                        channel="CREL",
                        message_ts=ts,
                        action_id="item.done",
                        value=button["value"],
                        block_id="x",
                    )
                    return str(r.status)
                except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError):
                    # After shutdown began: refused, or an idle kept-alive connection closed under the
                    # request. Slack sees the failure at once; the count below proves nothing was taken.
                    return "refused"

            with ThreadPoolExecutor(10) as pool:
                futures = [pool.submit(click, t) for t in buttons]
                time.sleep(0.05)
                app.proc.send_signal(signal.SIGTERM)
                outcomes = [f.result() for f in futures]
            app.proc.wait(timeout=30)
            assert set(outcomes) <= {"200", "refused"}, Counter(outcomes)
            answered = outcomes.count("200")
            assert answered >= 1
            # Every acknowledged click was recorded before the process exited.
            engine = make_sync_engine(url)
            try:
                with engine.connect() as conn:
                    decided = conn.execute(Decision.__table__.select()).all()
            finally:
                engine.dispose()
            assert len(decided) == answered, (len(decided), Counter(outcomes))
            # No claim is left dangling by a clean shutdown: queued ones were handed back.
            left = delivery_states(url)
            assert left["sending"] == 0, left
            logs = [json.loads(line) for line in app.log_path.read_text().splitlines() if line.startswith("{")]
            assert logs and any(line.get("release") for line in logs)

            api.clear_faults()
            restarted = AppProcess("serve", database_url=url, api=api, secret=secret, tmp=tmp_path)
            restarted.wait_healthy()
            wait_until(
                lambda: delivery_states(url) == Counter({"sent": 12}),
                timeout=60,
                message=json.dumps(delivery_states(url)),
            )
            posted = announcement_posts(api, channels)
            assert sorted(Counter(posted).values()) == [1] * 12
        finally:
            if restarted is not None:
                restarted.stop()
            app.stop()
