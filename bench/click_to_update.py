"""Click to checklist update: how long until Slack shows the new state of the clicked item.

A real `cutover serve` (Slack stand-in behind it) and one release of the CAF template. The Project
Manager clicks "Done" on N distinct task items, one at a time (concurrency 1). Each click is timed
from just before the signed request is sent to the moment the stand-in received the `chat.update`
whose blocks show that item done (its button turned into `item.undo` at the next version). The
stand-in runs in this process, so both instants are read from the same monotonic clock.

Baseline, measured in the same run: the stand-in's own `chat.update` round trip, the same message
with the same blocks, sent directly with an AsyncWebClient configured as the app's is (a new HTTP
connection per call). For reference also with a client that keeps its connection open.

    python -m bench.click_to_update --items 30
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bench.ack_latency import PayloadDriver, drain, ms, percentile, post_signed, ratio
from sandbox.workspace import Call
from tests.harness import BOT_TOKEN, Stack, running_stack

POLL = 0.05  # seconds between looks; arrival times come from the stand-in, so a coarse poll stays out of the way
CLICK_TIMEOUT = 15.0


def shows_done(blocks: list[dict[str, Any]], item_id: int, version: int) -> bool:
    """The item's section carries the Undo button of the version after the click."""
    for b in blocks:
        if b.get("block_id") == f"item-{item_id}":
            accessory = b.get("accessory") or {}
            return bool(accessory.get("action_id") == "item.undo" and accessory.get("value") == f"{item_id}:{version}")
    return False


def stats(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "p50_ms": ms(percentile(values, 0.5)),
        "p90_ms": ms(percentile(values, 0.9)),
        "max_ms": ms(max(values, default=float("nan"))),
    }


async def chat_update_round_trips(stack: Stack, channel: str, ts: str, n: int, keepalive: bool) -> list[float]:
    message = stack.api.message(channel, ts)
    session = aiohttp.ClientSession() if keepalive else None
    client = AsyncWebClient(token=BOT_TOKEN, base_url=stack.api.base_url, session=session)
    out = []
    try:
        for i in range(n + 3):
            t0 = time.perf_counter()
            await client.chat_update(channel=channel, ts=ts, text=message["text"], blocks=message["blocks"])
            if i >= 3:  # the first calls warm up imports and the stand-in
                out.append(time.perf_counter() - t0)
    finally:
        if session is not None:
            await session.close()
    return out


async def clicks(stack: Stack, channel: str, release_id: int, n: int) -> dict[str, Any]:
    payloads = PayloadDriver(stack.api, stack.signing_secret)
    verifier = SignatureVerifier(stack.signing_secret)
    url = stack.app_url + "/slack/events"
    tasks = [i for i in stack.items(release_id) if not i.approver_roles][:n]
    sent: list[tuple[int, str, float]] = []  # item id, message ts, monotonic send time
    acks, seen = [], []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
        for item in tasks:
            ts, button, block_id = stack.find_button(channel, item.id, "item.done")
            body, _ = payloads.click_body(
                user="UPM",
                channel=channel,
                message_ts=ts,
                action_id="item.done",
                value=button["value"],
                block_id=block_id,
            )
            t0 = time.monotonic()
            took, status = await post_signed(http, url, verifier, body)
            assert status == 200, status
            acks.append(took)
            deadline = t0 + CLICK_TIMEOUT
            while not shows_done(stack.api.message(channel, ts)["blocks"], item.id, item.version + 1):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"item {item.id} was not shown done within {CLICK_TIMEOUT} s")
                await asyncio.sleep(POLL)
            seen.append(time.monotonic() - t0)
            sent.append((item.id, ts, t0))
            # One click at a time: the next starts once this one's refresh has finished everywhere.
            await drain(stack.app_url)
    updates = stack.api.calls("chat.update")
    landed, position = [], []
    for item_id, ts, t0 in sent:
        after = [c for c in updates if c.at >= t0]
        hit = next(i for i, c in enumerate(after) if _is_update_of(c, ts, item_id))
        landed.append(after[hit].at - t0)
        position.append(hit + 1)
    return {
        "landed": landed,
        "seen": seen,
        "acks": acks,
        "position": position,
        "updates_per_click": round(len([c for c in updates if c.at >= sent[0][2]]) / len(sent), 2),
    }


def _is_update_of(call: Call, ts: str, item_id: int) -> bool:
    blocks = call.args.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return bool(
        call.args.get("ts") == ts
        and call.status == 200
        and any(
            b.get("block_id") == f"item-{item_id}" and (b.get("accessory") or {}).get("action_id") == "item.undo"
            for b in blocks
        )
    )


def measure(items: int, database_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        url = database_url or f"sqlite:///{tmp / 'bench.db'}"
        with running_stack(url, tmp) as stack:
            ch = stack.channel()
            rel = stack.new_release(ch)
            first = next(i for i in stack.items(rel.id) if not i.approver_roles)
            phase_ts, _, _ = stack.find_button(ch, first.id, "item.done")

            async def run() -> tuple[list[float], list[float], dict[str, Any]]:
                base = await chat_update_round_trips(stack, ch, phase_ts, items, keepalive=False)
                kept = await chat_update_round_trips(stack, ch, phase_ts, items, keepalive=True)
                return base, kept, await clicks(stack, ch, rel.id, items)

            base, kept, got = asyncio.run(run())
    landed = got["landed"]
    return {
        "database": url.split(":", 1)[0],
        "items": len(landed),
        "click_to_update": stats(landed),
        "click_to_seen_by_poll": stats(got["seen"]),
        "click_ack": stats(got["acks"]),
        "baseline_chat_update": stats(base),
        "chat_update_keepalive": stats(kept),
        "p50_ratio": ratio(percentile(landed, 0.5), percentile(base, 0.5)),
        "p90_ratio": ratio(percentile(landed, 0.9), percentile(base, 0.9)),
        "chat_updates_per_click": got["updates_per_click"],
        "item_update_position": {str(k): got["position"].count(k) for k in sorted(set(got["position"]))},
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--items", type=int, default=30, help="distinct task items clicked, one at a time (max 48)")
    p.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = p.parse_args(argv)
    result = measure(args.items, args.database_url)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
