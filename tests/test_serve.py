"""`cutover serve` as a process: health reporting when the database goes away."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.harness import free_port


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    port = free_port()
    dead_db = free_port()  # nothing listens there
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL"))}
    env.update(
        SLACK_BOT_TOKEN="xoxb-x",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL="http://127.0.0.1:9/api/",
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{dead_db}/none",
        AUTO_MIGRATE="false",
        HOST="127.0.0.1",
        PORT=str(port),
    )
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "serve"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
            except httpx.HTTPError:
                time.sleep(0.1)
        assert status is not None, log.read_text()
        assert status.status_code == 503
        assert status.json()["database"] == "unreachable"
    finally:
        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught.
        assert proc.wait(timeout=20) in (0, -signal.SIGTERM), log.read_text()
