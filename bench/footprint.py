"""Footprint: memory of `cutover serve` with many releases, and its time from start to healthy.

Memory: a real `cutover serve` (SQLite by default) creates N releases (default 1,000), each through
a signed `/release new … --cutover <future>` in its own channel of the Slack stand-in (post rate limit
lifted), each confirmed by its "Created" answer; the process's resident set size (VmRSS in
/proc/<pid>/status) is read before, right after, and once its background work has drained. Target:
at most 150 MB after the N releases.

Start to healthy: from process start to the first 200 from GET /healthz, for `cutover serve` on a
new database (it migrates first), on the database holding the N releases, and for the baseline: a
bare Starlette app with one route under uvicorn, started the same way (a Python process, one worker,
polled the same way), in the same run.

    python -m bench.footprint --releases 1000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bench.ack_latency import PORT, PayloadDriver, ServerProcess, drain, post_signed, ratio, wait_healthy
from sandbox.webapi import SlackStandIn
from tests.harness import PEOPLE, AppProcess, standin

RSS_TARGET_MB = 150.0
POLL = 0.01  # seconds between health probes while a process starts
CREATE_TIMEOUT = 60.0


# The start-up baseline: one route and nothing else, run by uvicorn.run() in-process as `cutover serve`
# runs its app. Inline, so the process imports no more than it needs.
BARE_STARLETTE = """
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def healthz(_request):
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/healthz", healthz, methods=["GET"])])
uvicorn.run(app, log_config=None, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def mb(kb: int) -> float:
    return round(kb / 1024, 1)


def start_serve(url: str, api: SlackStandIn, secret: str, tmp: Path) -> tuple[AppProcess, float]:
    """A `cutover serve` and its seconds from process start to healthy."""
    t0 = time.monotonic()
    app = AppProcess("serve", database_url=url, api=api, secret=secret, tmp=tmp)
    took = wait_healthy(app.proc, app.url, t0, app.log_path, timeout=60.0, interval=POLL)
    return app, took


async def create_releases(app_url: str, api: SlackStandIn, secret: str, channels: list[str], concurrency: int) -> float:
    """Seconds to create one release per channel, each confirmed by its "Created" answer."""
    payloads = PayloadDriver(api, secret)
    verifier = SignatureVerifier(secret)
    start = (datetime.now(UTC) + timedelta(days=60)).strftime("%Y-%m-%dT%H:%M:%S")
    queue = iter(enumerate(channels))

    async def worker(http: aiohttp.ClientSession) -> None:
        for i, ch in queue:
            body, response_url = payloads.slash_body(
                text=f"new Wave {i} --cutover {start}Z --duration 4h", user="UPM", channel=ch
            )
            _, status = await post_signed(http, app_url + "/slack/events", verifier, body)
            assert status == 200, status
            deadline = time.monotonic() + CREATE_TIMEOUT
            while "Created" not in json.dumps(api.responses(response_url)):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"release {i} was not created within {CREATE_TIMEOUT} s")
                await asyncio.sleep(0.02)

    t0 = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    return time.monotonic() - t0


def bare_starts(starts: int, tmp: Path) -> tuple[list[float], int]:
    times, rss = [], 0
    for _ in range(starts):
        proc = ServerProcess(["-c", BARE_STARLETTE, PORT], tmp=tmp)
        try:
            times.append(proc.wait_healthy(interval=POLL))
            rss = status_kb(proc.proc.pid, "VmRSS")
        finally:
            proc.stop()
    return times, rss


def measure(n: int, starts: int, concurrency: int, database_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp_name, standin() as api:
        tmp = Path(tmp_name)
        url = database_url or f"sqlite:///{tmp / 'bench.db'}"
        secret = secrets.token_hex(16)
        api.set_post_rate(None)
        channels = [f"CF{i:05d}" for i in range(n)]
        for ch in channels:
            api.add_channel(ch, name=f"wave-{ch.lower()}", members=(*PEOPLE, "UBOT"))

        bare_times, bare_rss = bare_starts(starts, tmp)
        app, fresh_start = start_serve(url, api, secret, tmp)
        try:
            rss_idle = status_kb(app.proc.pid, "VmRSS")
            created_s = asyncio.run(create_releases(app.url, api, secret, channels, concurrency))
            rss_created = status_kb(app.proc.pid, "VmRSS")
            drained_s = asyncio.run(drain(app.url))
            rss_drained = status_kb(app.proc.pid, "VmRSS")
            hwm = status_kb(app.proc.pid, "VmHWM")
        finally:
            app.stop()
        posts = len(api.calls("chat.postMessage"))
        loaded_times, rss_restarted = [], 0
        for _ in range(starts):
            again, took = start_serve(url, api, secret, tmp)
            try:
                loaded_times.append(took)
                rss_restarted = status_kb(again.proc.pid, "VmRSS")
            finally:
                again.stop()
    bare_med = statistics.median(bare_times)
    loaded_med = statistics.median(loaded_times)
    return {
        "database": url.split(":", 1)[0],
        "releases": n,
        "create_concurrency": concurrency,
        "create_s": round(created_s, 2),
        "releases_per_s": round(n / created_s, 1) if created_s else None,
        "checklist_posts": posts,
        "rss_mb": {
            "idle": mb(rss_idle),
            "after_releases": mb(rss_created),
            "after_drain": mb(rss_drained),
            "peak": mb(hwm),
            "restarted_idle": mb(rss_restarted),
            "bare_starlette_idle": mb(bare_rss),
        },
        "rss_growth_kb_per_release": round((rss_drained - rss_idle) / n, 1) if n else None,
        "rss_target_mb": RSS_TARGET_MB,
        "rss_target_met": mb(rss_drained) <= RSS_TARGET_MB and mb(rss_created) <= RSS_TARGET_MB,
        "start_to_healthy_s": {
            "serve_new_database": round(fresh_start, 3),
            "serve_with_releases": [round(t, 3) for t in loaded_times],
            "bare_starlette": [round(t, 3) for t in bare_times],
        },
        "start_ratio_new_database": ratio(fresh_start, bare_med),
        "start_ratio_with_releases": ratio(loaded_med, bare_med),
        "rss_ratio_to_bare": ratio(rss_drained, bare_rss),
        "background_drain_s": round(drained_s, 3),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--releases", type=int, default=1000)
    p.add_argument("--starts", type=int, default=3, help="timed starts of each kind (the median is compared)")
    p.add_argument("--concurrency", type=int, default=4, help="release creations in flight")
    p.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = p.parse_args(argv)
    result = measure(args.releases, args.starts, args.concurrency, args.database_url)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
