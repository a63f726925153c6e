"""Button-click ack latency: `cutover serve` against a bare Bolt app, on the same signed requests.

(a) The real `cutover serve` process (the Slack stand-in behind it) answering a signed `item.done`
    block_actions payload for a real release. It acks, then records the click in the background.
(b) The baseline: a bare Bolt AsyncApp in its default mode (process_before_response=False) whose one
    `@app.action("item.done")` listener only acks, served the same way (Starlette
    AsyncSlackRequestHandler on uvicorn, one worker, its own process, the same signing secret).

Both get the same bodies, each signed with a fresh timestamp, from an aiohttp load generator on
loopback (warm-up first), at concurrency 1 and 50. Two variants: every click on the same item (after
the first, Cutover's background work finds a repeat and does nothing), and every click on a distinct
item (each one records a decision and updates the checklist in Slack).

    python -m bench.ack_latency --requests 300 --requests-high 1000 --distinct-releases 2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from slack_sdk.signature import SignatureVerifier

from sandbox.driver import DriverResponse, SlackDriver
from sandbox.webapi import SlackStandIn
from tests.harness import BOT_TOKEN, TEAM, Stack, free_port, running_stack

REPO = Path(__file__).resolve().parents[1]
HIGH = 50
REQUEST_TIMEOUT = 10.0
# The targets this benchmark reports against (docs/PERFORMANCE.md).
P50_TARGET = 0.5  # Cutover's p50 at concurrency 1 at most this × the bare app's
THROUGHPUT_TARGET = 0.5  # Cutover's throughput at concurrency 50 at least this × the bare app's


# --- numbers -----------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), q in [0, 1]."""
    if not values:
        return math.nan
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = math.floor(k), math.ceil(k)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b and not math.isnan(a) and not math.isnan(b) else None


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    wall: float = 0.0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "requests": len(self.latencies),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "p50_ms": ms(percentile(self.latencies, 0.50)),
            "p90_ms": ms(percentile(self.latencies, 0.90)),
            "p99_ms": ms(percentile(self.latencies, 0.99)),
            "max_ms": ms(max(self.latencies, default=math.nan)),
            "wall_s": round(self.wall, 3),
            "throughput_rps": round(self.throughput, 1),
        }


# --- requests ----------------------------------------------------------------------------------


def signed_headers(verifier: SignatureVerifier, body: str) -> dict[str, str]:
    # A fresh timestamp per request: Bolt refuses signatures older than 5 minutes.
    stamp = str(int(time.time()))
    signature = verifier.generate_signature(timestamp=stamp, body=body)
    assert signature is not None
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signature,
    }


class PayloadDriver(SlackDriver):
    """The rig's driver, building exactly the bodies it would send, for a load generator to send."""

    def __init__(self, standin: SlackStandIn, secret: str) -> None:
        super().__init__(app_url="http://127.0.0.1:9/unused", signing_secret=secret, standin=standin, team_id=TEAM)
        self._captured: list[str] = []

    def post_raw(self, body: str, headers: Mapping[str, str]) -> DriverResponse:
        self._captured.append(body)
        return DriverResponse(status=0, text="", json=None, headers={})

    def click_body(self, **click: Any) -> tuple[str, str | None]:
        """(body, trigger_id) of a block_actions click; the trigger is issued now."""
        sent = self.click(**click)
        return self._captured.pop(), sent.trigger_id

    def slash_body(self, *, text: str, user: str, channel: str) -> tuple[str, str]:
        """(body, response_url) of a `/release` command."""
        sent = self.slash(text=text, user=user, channel=channel)
        assert sent.response_url is not None
        return self._captured.pop(), sent.response_url


async def post_signed(
    http: aiohttp.ClientSession, url: str, verifier: SignatureVerifier, body: str
) -> tuple[float, int]:
    """(seconds until the whole answer was read, HTTP status or 0 on a transport error)."""
    headers = signed_headers(verifier, body)
    t0 = time.perf_counter()
    try:
        async with http.post(url, data=body.encode(), headers=headers) as r:
            await r.read()
            status = r.status
    except (aiohttp.ClientError, TimeoutError):
        status = 0
    return time.perf_counter() - t0, status


async def load(url: str, secret: str, bodies: Sequence[str], n: int, concurrency: int) -> LoadResult:
    """n requests, `concurrency` in flight, cycling through `bodies` in order."""
    verifier = SignatureVerifier(secret)
    out = LoadResult()
    counter = itertools.count()
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def worker() -> None:
            while (i := next(counter)) < n:
                took, status = await post_signed(http, url, verifier, bodies[i % len(bodies)])
                out.latencies.append(took)
                out.statuses[status] += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        out.wall = time.perf_counter() - t0
    return out


DRAIN_LIMIT = 120.0  # seconds a backlog may take to drain before the run is called broken


async def drain(app_url: str) -> float:
    """Seconds until the app reports no background work left (its /healthz counts it)."""
    t0 = time.monotonic()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        while time.monotonic() - t0 < DRAIN_LIMIT:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with http.get(app_url + "/healthz") as r:
                    if (await r.json()).get("background_tasks") == 0:
                        return time.monotonic() - t0
            await asyncio.sleep(0.02)
    raise TimeoutError(f"background work still running after {DRAIN_LIMIT} s")


# --- the bare baseline app -------------------------------------------------------------------

# Shown by the bare app for `retro.take` (bench.survey_burst): small but valid for the stand-in.
BARE_MODAL = {
    "type": "modal",
    "callback_id": "bench.survey",
    "title": {"type": "plain_text", "text": "Survey"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Thanks for taking the survey."}}],
}


def bare_app() -> Any:
    """uvicorn --factory target: a bare Bolt AsyncApp in default mode behind Starlette.

    BENCH_BARE_MODE=ack: one `item.done` listener that only acks. BENCH_BARE_MODE=survey: one
    `retro.take` listener that acks, then opens a modal with the click's trigger_id.
    """
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncAck, AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse, Response
    from starlette.routing import Route

    client = AsyncWebClient(token=os.environ["BENCH_BOT_TOKEN"], base_url=os.environ["BENCH_SLACK_API_URL"])
    app = AsyncApp(client=client, signing_secret=os.environ["BENCH_SIGNING_SECRET"])
    if os.environ.get("BENCH_BARE_MODE", "ack") == "survey":

        @app.action("retro.take")
        async def take(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
            await ack()
            await client.views_open(trigger_id=body["trigger_id"], view=BARE_MODAL)

    else:

        @app.action("item.done")
        async def done(ack: AsyncAck) -> None:
            await ack()

    handler = AsyncSlackRequestHandler(app)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(_request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[Route("/slack/events", events, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])]
    )


PORT = "{port}"  # stands for the free port in a ServerProcess's arguments


class ServerProcess:
    """A Python server process on a free port, its log in a file; started the way `cutover serve` is."""

    def __init__(self, args: Sequence[str], *, tmp: Path, env: Mapping[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp / f"server-{self.port}.log"
        argv = [sys.executable, *(str(self.port) if a == PORT else a for a in args)]
        with open(self.log_path, "ab") as log:
            self.started = time.monotonic()
            self.proc = subprocess.Popen(
                argv, env={**os.environ, **(env or {})}, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_healthy(self, timeout: float = 30.0, interval: float = 0.1) -> float:
        """Seconds from process start until GET /healthz answered 200."""
        return wait_healthy(self.proc, self.url, self.started, self.log_path, timeout, interval)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def uvicorn_factory(factory: str) -> list[str]:
    """Arguments serving an ASGI factory under uvicorn, one worker, as `cutover serve` configures it."""
    return [
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--host",
        "127.0.0.1",
        "--port",
        PORT,
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def wait_healthy(
    proc: subprocess.Popen[bytes], url: str, started: float, log_path: Path, timeout: float, interval: float
) -> float:
    with httpx.Client(timeout=1.0) as http:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{url} exited early:\n{log_path.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if http.get(url + "/healthz").status_code == 200:
                    return time.monotonic() - started
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"{url} did not become healthy:\n{log_path.read_text()}")
            time.sleep(interval)


@contextlib.contextmanager
def bare_bolt(mode: str, *, secret: str, api: SlackStandIn, tmp: Path) -> Iterator[ServerProcess]:
    env = {
        "BENCH_BARE_MODE": mode,
        "BENCH_SIGNING_SECRET": secret,
        "BENCH_SLACK_API_URL": api.base_url,
        "BENCH_BOT_TOKEN": BOT_TOKEN,
    }
    proc = ServerProcess(uvicorn_factory("bench.ack_latency:bare_app"), tmp=tmp, env=env)
    try:
        proc.wait_healthy()
        yield proc
    finally:
        proc.stop()


# --- the benchmark -----------------------------------------------------------------------------


def done_bodies(stack: Stack, payloads: PayloadDriver, channel: str, release_id: int) -> list[str]:
    """One `item.done` click by the Project Manager on every task item of the release."""
    bodies = []
    for item in stack.items(release_id):
        if item.approver_roles:
            continue  # sign-offs have approve/reject buttons, not done
        ts, button, block_id = stack.find_button(channel, item.id, "item.done")
        body, _ = payloads.click_body(
            user="UPM", channel=channel, message_ts=ts, action_id="item.done", value=button["value"], block_id=block_id
        )
        bodies.append(body)
    return bodies


def compare(bare: LoadResult, app: LoadResult) -> dict[str, Any]:
    return {
        "bare": bare.summary(),
        "cutover": app.summary(),
        "p50_ratio": ratio(percentile(app.latencies, 0.5), percentile(bare.latencies, 0.5)),
        "p99_ratio": ratio(percentile(app.latencies, 0.99), percentile(bare.latencies, 0.99)),
        "throughput_ratio": ratio(app.throughput, bare.throughput),
    }


async def run_variant(
    bare_url: str, stack: Stack, bodies_low: Sequence[str], bodies_high: Sequence[str], n_low: int, n_high: int
) -> dict[str, Any]:
    events = stack.app_url + "/slack/events"
    secret = stack.signing_secret
    out: dict[str, Any] = {}
    for label, bodies, n, c in (("c1", bodies_low, n_low, 1), (f"c{HIGH}", bodies_high, n_high, HIGH)):
        bare = await load(bare_url, secret, bodies, n, c)
        app = await load(events, secret, bodies, n, c)
        out[label] = compare(bare, app)
        # The next run starts from an idle app, so its figures are not the previous backlog's.
        out[label]["cutover_backlog_drain_s"] = round(await drain(stack.app_url), 3)
    return out


def measure(n_low: int, n_high: int, warmup: int, distinct_releases: int, database_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = database_url or f"sqlite:///{tmp / 'bench.db'}"
        with (
            running_stack(url, tmp) as stack,
            bare_bolt("ack", secret=stack.signing_secret, api=stack.api, tmp=tmp) as bare,
        ):
            payloads = PayloadDriver(stack.api, stack.signing_secret)
            ch = stack.channel()
            rel = stack.new_release(ch)
            same = done_bodies(stack, payloads, ch, rel.id)[:1]
            distinct: list[str] = []
            for _ in range(distinct_releases):
                c = stack.channel()
                distinct += done_bodies(stack, payloads, c, stack.new_release(c).id)
            half = len(distinct) // 2
            bare_url = bare.url + "/slack/events"

            async def run() -> dict[str, Any]:
                for target in (bare_url, stack.app_url + "/slack/events"):
                    await load(target, stack.signing_secret, same, warmup, 10)
                await drain(stack.app_url)
                result = {"same_item": await run_variant(bare_url, stack, same, same, n_low, n_high)}
                if half:
                    result["distinct_items"] = await run_variant(
                        bare_url, stack, distinct[:half], distinct[half:], half, len(distinct) - half
                    )
                return result

            result = asyncio.run(run())
            failures = stack.log_path.read_text().count("background work failed")
    same_c1, same_high = result["same_item"]["c1"], result["same_item"][f"c{HIGH}"]
    return {
        "database": url.split(":", 1)[0],
        "warmup": warmup,
        **result,
        "targets": {
            "p50_c1_ratio_max": P50_TARGET,
            "p50_c1_ratio": same_c1["p50_ratio"],
            "p50_c1_met": same_c1["p50_ratio"] is not None and same_c1["p50_ratio"] <= P50_TARGET,
            f"throughput_c{HIGH}_ratio_min": THROUGHPUT_TARGET,
            f"throughput_c{HIGH}_ratio": same_high["throughput_ratio"],
            f"throughput_c{HIGH}_met": same_high["throughput_ratio"] is not None
            and same_high["throughput_ratio"] >= THROUGHPUT_TARGET,
        },
        "cutover_background_failures": failures,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--requests", type=int, default=300, help="measured clicks at concurrency 1")
    p.add_argument("--requests-high", type=int, default=1000, help=f"measured clicks at concurrency {HIGH}")
    p.add_argument("--warmup", type=int, default=200)
    p.add_argument(
        "--distinct-releases",
        type=int,
        default=2,
        help="releases whose task items give the distinct-item clicks (48 task items each; 0 skips the variant)",
    )
    p.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = p.parse_args(argv)
    result = measure(args.requests, args.requests_high, args.warmup, args.distinct_releases, args.database_url)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
