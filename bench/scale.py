"""Scale-out: two `cutover serve` replicas behind a round-robin proxy plus one `cutover worker`, against
one `cutover serve` that also sends announcements, under the same load.

Each setup gets its own database and Slack stand-in. ``--releases`` releases are created, one
announcement per release (up to ``--announcements``) is scheduled to fall due in the middle of the
load, then ``--rate`` clicks per second for ``--seconds`` seconds go through the proxy, each a first
"Done" by the Project Manager on a distinct task item, spread round-robin over the releases. The
proxy lives in this process and forwards every request unchanged (the single-process run goes
through it too, with one upstream, so both pay the same hop). Checked afterwards:

- every click acknowledged (HTTP 200), with p50 and p99 of the ack;
- every click recorded exactly once (one decision per clicked item, no item decided twice);
- every checklist converged: each item's buttons in the stand-in carry the version the database
  holds, within 5 s of the last click (the time it took is reported);
- every announcement posted exactly once.

    python -m bench.scale --database-url postgresql://postgres@127.0.0.1:5432/postgres
    python -m bench.scale --releases 4 --seconds 3 --rate 5   # a smoke run (SQLite by default)

With a PostgreSQL URL the benchmark creates (and drops) two databases next to the one named.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import secrets
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

from bench.ack_latency import PayloadDriver, ms, percentile, post_signed
from bench.footprint import create_releases
from sandbox.webapi import SlackStandIn
from storage.db import make_sync_engine
from storage.models import ChecklistItem, Decision, Release
from tests.databases import scratch_postgres
from tests.harness import PEOPLE, AppProcess, free_port, standin

CONVERGE_TARGET = 5.0  # seconds after the last click
SETTLE_LIMIT = 60.0  # seconds to wait for convergence and announcements before calling the run broken


@contextlib.contextmanager
def database(url: str | None, tmp: Path, label: str) -> Iterator[str]:
    """A fresh database for one setup: a SQLite file, or a new PostgreSQL database beside ``url``'s."""
    if url is None or url.startswith("sqlite"):
        yield f"sqlite:///{tmp / f'{label}.db'}"
        return
    with scratch_postgres(url, f"cutover_scale_{label}") as fresh:
        yield fresh


class Proxy:
    """Round-robin HTTP proxy for POST /slack/events: the body and headers go through unchanged."""

    def __init__(self, upstreams: list[str]) -> None:
        self._next = itertools.cycle(upstreams)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._http: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._http is not None
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with self._http.post(next(self._next) + request.path, data=body, headers=headers) as r:
            return web.Response(
                body=await r.read(), status=r.status, content_type=r.content_type if r.content_length else None
            )

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        app = web.Application()
        app.router.add_post("/slack/events", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._http is not None:
            await self._http.close()


def click_bodies(api: SlackStandIn, secret: str, url: str, channels: list[str], n: int) -> list[tuple[int, str]]:
    """(item id, body) of ``n`` first clicks on distinct task items, round-robin over the releases."""
    payloads = PayloadDriver(api, secret)
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Release.channel_id, ChecklistItem.id, ChecklistItem.approver_roles)
                .join(ChecklistItem, ChecklistItem.release_id == Release.id)
                .order_by(Release.id, ChecklistItem.phase_position, ChecklistItem.position)
            ).all()
    finally:
        engine.dispose()
    tasks: dict[str, list[int]] = {ch: [] for ch in channels}
    for channel, item_id, approvers in rows:
        if not approvers:  # a sign-off has approve/reject, not done
            tasks[channel].append(item_id)
    buttons: dict[int, tuple[str, str, dict[str, Any], str]] = {}
    for ch in channels:
        for m in api.messages(ch):
            for b in m.get("blocks") or []:
                el = b.get("accessory") or {}
                if el.get("action_id") == "item.done":
                    buttons[int(str(el["value"]).split(":")[0])] = (ch, m["ts"], el, b.get("block_id", ""))
    out: list[tuple[int, str]] = []
    for k in itertools.count():
        row_of_k = [tasks[ch][k] for ch in channels if k < len(tasks[ch])]
        if not row_of_k:
            break
        for item_id in row_of_k:
            if len(out) == n:
                return out
            ch, ts, el, block_id = buttons[item_id]
            body, _ = payloads.click_body(
                user="UPM", channel=ch, message_ts=ts, action_id="item.done", value=el["value"], block_id=block_id
            )
            out.append((item_id, body))
    if len(out) < n:
        raise ValueError(f"only {len(out)} task items to click; use more releases or fewer clicks")
    return out


async def paced_clicks(url: str, secret: str, bodies: list[str], rate: float) -> tuple[list[float], Counter[int]]:
    verifier = SignatureVerifier(secret)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        t0 = time.perf_counter()

        async def one(i: int, body: str) -> None:
            await asyncio.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
            took, status = await post_signed(http, url + "/slack/events", verifier, body)
            latencies.append(took)
            statuses[status] += 1

        await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))
    return latencies, statuses


def converged(api: SlackStandIn, url: str, channels: list[str]) -> tuple[int, int]:
    """(items whose buttons show the database's version, items in all)."""
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            versions = dict(conn.execute(select(ChecklistItem.id, ChecklistItem.version)).all())
    finally:
        engine.dispose()
    shown: dict[int, set[int]] = {}
    for ch in channels:
        for m in api.messages(ch):
            for b in m.get("blocks") or []:
                elements = b.get("elements", []) if b.get("type") == "actions" else [b.get("accessory") or {}]
                for el in elements:
                    item, sep, version = str(el.get("value", "")).partition(":")
                    if sep and str(el.get("action_id", "")).startswith("item."):
                        shown.setdefault(int(item), set()).add(int(version))
    good = sum(1 for item_id, v in versions.items() if shown.get(item_id) == {v})
    return good, len(versions)


def decisions_by_item(url: str) -> Counter[int]:
    engine = make_sync_engine(url)
    try:
        with engine.connect() as conn:
            return Counter(dict(conn.execute(select(Decision.item_id, func.count()).group_by(Decision.item_id)).all()))
    finally:
        engine.dispose()


def announcements_posted(api: SlackStandIn, channels: list[str], markers: list[str]) -> Counter[str]:
    seen: Counter[str] = Counter()
    for ch in channels:
        for m in api.messages(ch):
            text = json.dumps(m)
            for marker in markers:
                if marker in text:
                    seen[marker] += 1
    return seen


def run_setup(
    label: str, replicas: int, releases: int, seconds: float, rate: float, announcements: int, db_url: str | None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp_name, standin() as api, database(db_url, Path(tmp_name), label) as url:
        tmp = Path(tmp_name)
        secret = secrets.token_hex(16)
        channels = [f"CS{i:05d}" for i in range(releases)]
        for ch in channels:
            api.add_channel(ch, name=f"wave-{ch.lower()}", members=(*PEOPLE, "UBOT"))
        procs: list[AppProcess] = []
        try:
            # The first replica migrates the new database before the others start.
            first = AppProcess("serve", database_url=url, api=api, secret=secret, tmp=tmp, **_sched(replicas))
            procs.append(first)
            first.wait_healthy()
            for _ in range(replicas - 1):
                procs.append(
                    AppProcess("serve", database_url=url, api=api, secret=secret, tmp=tmp, RUN_SCHEDULER="false")
                )
            if replicas > 1:
                procs.append(AppProcess("worker", database_url=url, api=api, secret=secret, tmp=tmp))
            for p in procs[1:]:
                p.wait_healthy()
            serves = [p.url for p in procs if p.command == "serve"]
            created_s = asyncio.run(create_releases(serves[0], api, secret, channels, 4))
            n = int(rate * seconds)
            clicks = click_bodies(api, secret, url, channels, n)
            # Announcements fall due in the middle of the clicks.
            due = datetime.now(UTC) + timedelta(seconds=max(3.0, seconds / 2))
            when = due.strftime("%Y-%m-%dT%H:%M:%SZ")
            markers = [f"Scale notice {uuid.uuid4().hex[:10]}" for _ in range(min(announcements, releases))]
            payloads = PayloadDriver(api, secret)
            verifier = SignatureVerifier(secret)

            async def schedule() -> None:
                async with aiohttp.ClientSession() as http:
                    for ch, marker in zip(channels, markers, strict=False):
                        body, response_url = payloads.slash_body(
                            text=f"announce <#{ch}> at {when} {marker}", user="UPM", channel=ch
                        )
                        _took, status = await post_signed(http, serves[0] + "/slack/events", verifier, body)
                        assert status == 200, status
                        deadline = time.monotonic() + 10
                        while not api.responses(response_url):
                            if time.monotonic() > deadline:
                                raise TimeoutError("an announcement was not confirmed")
                            await asyncio.sleep(0.02)
                        answer = json.dumps(api.responses(response_url))
                        if ":warning:" in answer or ":no_entry:" in answer:
                            raise RuntimeError(f"the announcement was refused: {answer}")

            asyncio.run(schedule())
            proxy = Proxy(serves)

            async def drive() -> tuple[list[float], Counter[int], float]:
                await proxy.start()
                try:
                    lat, st = await paced_clicks(proxy.url, secret, [b for _, b in clicks], rate)
                    return lat, st, time.monotonic()
                finally:
                    await proxy.stop()

            latencies, statuses, ended = asyncio.run(drive())
            clicked = {item_id for item_id, _ in clicks}
            converge_s: float | None = None
            while time.monotonic() - ended < SETTLE_LIMIT:
                good, total = converged(api, url, channels)
                if good == total:
                    converge_s = time.monotonic() - ended
                    break
                time.sleep(0.2)
            wait_until = max(time.monotonic(), due.timestamp() - time.time() + time.monotonic() + 5)
            while time.monotonic() < wait_until + SETTLE_LIMIT:
                posted = announcements_posted(api, channels, markers)
                if all(posted[m] >= 1 for m in markers) and time.monotonic() >= wait_until:
                    break
                time.sleep(0.2)
            posted = announcements_posted(api, channels, markers)
            decided = decisions_by_item(url)
        finally:
            for p in reversed(procs):
                p.stop()
    return {
        "setup": label,
        "serve_processes": replicas,
        "worker_processes": 1 if replicas > 1 else 0,
        "releases": releases,
        "create_s": round(created_s, 1),
        "clicks": len(clicks),
        "rate_per_s": rate,
        "ack_statuses": {str(k): v for k, v in sorted(statuses.items())},
        "all_acked": statuses.get(200, 0) == len(clicks),
        "ack_p50_ms": ms(percentile(latencies, 0.5)),
        "ack_p99_ms": ms(percentile(latencies, 0.99)),
        "ack_max_ms": ms(max(latencies, default=0.0)),
        "decisions_recorded": sum(decided[i] for i in clicked),
        "every_decision_once": all(decided[i] == 1 for i in clicked) and set(decided) <= clicked,
        "converged_after_s": None if converge_s is None else round(converge_s, 2),
        "converged_within_target": converge_s is not None and converge_s <= CONVERGE_TARGET,
        "announcements": len(markers),
        "announcements_posted_once": sum(1 for m in markers if posted[m] == 1),
        "announcements_duplicated": sum(1 for m in markers if posted[m] > 1),
    }


def _sched(replicas: int) -> dict[str, str]:
    # With replicas, the worker sends announcements; a single process sends its own.
    return {"RUN_SCHEDULER": "false"} if replicas > 1 else {}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    p.add_argument("--releases", type=int, default=200)
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--rate", type=float, default=20.0, help="clicks per second")
    p.add_argument("--announcements", type=int, default=20, help="one per release, at most this many")
    p.add_argument("--replicas", type=int, default=2, help="serve processes in the scaled setup")
    p.add_argument("--database-url", default=None, help="a PostgreSQL server to create databases on; default SQLite")
    args = p.parse_args(argv)
    load = (args.releases, args.seconds, args.rate, args.announcements, args.database_url)
    result = {
        "single": run_setup("single", 1, *load),
        "scaled": run_setup("scaled", args.replicas, *load),
    }
    for side in ("single", "scaled"):
        r = result[side]
        r["ok"] = bool(
            r["all_acked"]
            and r["every_decision_once"]
            and r["converged_within_target"]
            and r["announcements_posted_once"] == r["announcements"]
        )
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
