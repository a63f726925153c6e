"""Survey burst: 100 "Take the survey" clicks within one second; how many modals open in time.

A real `cutover serve` with an open retrospective survey (a release taken through start with an
override, the final go/no-go approved, completed, `retro open`). 100 distinct users click the
invite's `retro.take` button, spread evenly over one second, each click with a fresh trigger_id.
Slack accepts a trigger_id for 3 s; the stand-in answers `views.open` with `expired_trigger_id`
after that. Counted: `views.open` calls that succeeded, and the time from each click (the trigger's
issue) to its `views.open` reaching the stand-in.

Baseline, in the same run, on the same invite with the same users: a bare Bolt AsyncApp (default
mode) whose `retro.take` listener acks and then calls views.open with a small modal.

    python -m bench.survey_burst --clicks 100 --window 1.0
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.signature import SignatureVerifier

from bench.ack_latency import PayloadDriver, bare_bolt, ms, percentile, post_signed, ratio
from sandbox.driver import wait_until
from tests.harness import PEOPLE, Stack, running_stack

TRIGGER_TTL = 3.0  # Slack's, and the stand-in's default
SETTLE = 5.0  # seconds after the last trigger expired before views.open calls are counted


def stats(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50_ms": ms(percentile(values, 0.5)),
        "p90_ms": ms(percentile(values, 0.9)),
        "p99_ms": ms(percentile(values, 0.99)),
        "max_ms": ms(max(values, default=float("nan"))),
    }


def open_survey(stack: Stack, users: list[str]) -> tuple[str, str, str, str]:
    """(channel, invite ts, survey id, block id) of a release whose survey is open."""
    ch = "CSURVEY"
    stack.api.add_channel(ch, name=ch.lower(), members=(*PEOPLE, *users, "UBOT"))
    rel = stack.new_release(ch)
    key = f"REL-{rel.number}"
    for role, user in (("wbo", "UWBO"), ("ma", "UMA"), ("sponsor", "USPON"), ("sec", "UOCM")):
        # Typed in the release channel, an assignment answers with one channel post, not a private reply.
        stack.posted(f"assign {role} <@{user}> {key}", channel=ch, expect=f"<@{user}>")

    def state() -> str:
        row = stack.release_in(ch)
        return row.state if row else ""

    stack.ok("cutover start --override benchmark of the survey burst", channel=ch, responses=1)
    wait_until(lambda: state() == "cutting_over", timeout=15)
    go_final = stack.item(rel.id, "cm.go_final")
    stack.click(ch, go_final.id, "item.approve", "UWBO")  # a Workload Business Owner signs it off
    wait_until(lambda: stack.item(rel.id, "cm.go_final").state == "approved", timeout=15)
    stack.ok("cutover complete", user="UMA", channel=ch, responses=1)
    wait_until(lambda: state() == "completed", timeout=15)
    stack.ok("retro open", channel=ch, responses=1)
    invite = wait_until(
        lambda: next((m for m in stack.api.messages(ch) if "retro.take" in json.dumps(m.get("blocks"))), None),
        timeout=15,
    )
    for b in invite["blocks"]:
        for el in b.get("elements", []) if b.get("type") == "actions" else []:
            if el.get("action_id") == "retro.take":
                return ch, invite["ts"], str(el["value"]), str(b["block_id"])
    raise AssertionError("the survey invite has no retro.take button")


async def burst(
    stack: Stack, url: str, users: list[str], window: float, invite: tuple[str, str, str, str]
) -> dict[str, Any]:
    ch, ts, survey_id, block_id = invite
    payloads = PayloadDriver(stack.api, stack.signing_secret)
    verifier = SignatureVerifier(stack.signing_secret)
    issued: dict[str, float] = {}
    acks: list[float] = []
    statuses: Counter[int] = Counter()
    spacing = window / len(users)
    connector = aiohttp.TCPConnector(limit=len(users))
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as http:
        start = time.monotonic() + 0.05

        async def one(i: int, user: str) -> None:
            await asyncio.sleep(max(0.0, start + i * spacing - time.monotonic()))
            body, trigger = payloads.click_body(
                user=user, channel=ch, message_ts=ts, action_id="retro.take", value=survey_id, block_id=block_id
            )
            assert trigger is not None
            issued[trigger] = time.monotonic()
            took, status = await post_signed(http, url, verifier, body)
            acks.append(took)
            statuses[status] += 1

        await asyncio.gather(*(one(i, u) for i, u in enumerate(users)))
    last = max(issued.values())
    sent_window = last - min(issued.values())

    def opened() -> list[Any]:
        return [c for c in stack.api.calls("views.open") if c.args.get("trigger_id") in issued]

    # Every click gets its answer, in time or not; stop early once all have one.
    for _ in range(int((TRIGGER_TTL + SETTLE) / 0.1)):
        if len(opened()) >= len(issued) or time.monotonic() > last + TRIGGER_TTL + SETTLE:
            break
        await asyncio.sleep(0.1)
    calls = opened()
    ok = [c for c in calls if c.status == 200 and c.response.get("ok")]
    errors = Counter(str(c.response.get("error")) for c in calls if not c.response.get("ok"))
    first_call: dict[str, float] = {}
    for c in calls:
        first_call.setdefault(str(c.args["trigger_id"]), c.at)
    delays = [first_call[t] - issued[t] for t in issued if t in first_call]
    return {
        "clicks": len(issued),
        "sent_within_s": round(sent_window, 3),
        "ack_statuses": {str(k): v for k, v in sorted(statuses.items())},
        "ack": stats(acks),
        "views_open_calls": len(calls),
        "views_open_ok": len({str(c.args["trigger_id"]) for c in ok}),
        "views_open_errors": dict(errors),
        "no_views_open": len(issued) - len(first_call),
        "click_to_views_open": stats(delays),
        "within_ttl": sum(d <= TRIGGER_TTL for d in delays),
    }


def measure(clicks: int, window: float, database_url: str | None) -> dict[str, Any]:
    users = [f"UB{i:04d}" for i in range(clicks)]
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = database_url or f"sqlite:///{tmp / 'bench.db'}"
        with running_stack(url, tmp) as stack:
            for u in users:
                stack.api.add_user(u, name=u.lower(), real_name=f"Bench {u}", tz="UTC")
            invite = open_survey(stack, users)
            with bare_bolt("survey", secret=stack.signing_secret, api=stack.api, tmp=tmp) as bare:
                base = asyncio.run(burst(stack, bare.url + "/slack/events", users, window, invite))
            app = asyncio.run(burst(stack, stack.app_url + "/slack/events", users, window, invite))
            failures = stack.log_path.read_text().count("background work failed")
    return {
        "database": url.split(":", 1)[0],
        "clicks": clicks,
        "window_s": window,
        "trigger_ttl_s": TRIGGER_TTL,
        "bare": base,
        "cutover": app,
        "ok_ratio": ratio(app["views_open_ok"], base["views_open_ok"]),
        "p50_ratio": ratio(app["click_to_views_open"]["p50_ms"], base["click_to_views_open"]["p50_ms"]),
        "p99_ratio": ratio(app["click_to_views_open"]["p99_ms"], base["click_to_views_open"]["p99_ms"]),
        "cutover_background_failures": failures,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clicks", type=int, default=100, help="distinct users, one click each")
    p.add_argument("--window", type=float, default=1.0, help="seconds the clicks are spread over")
    p.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = p.parse_args(argv)
    result = measure(args.clicks, args.window, args.database_url)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
