"""Announcement fan-out under Slack's per-channel posting limit.

N announcements due at once over M channels, sent by the real sender (database claims, Web API
calls to the local stand-in, whose bucket allows a burst and then 1 post/s per channel). Reported:
total delivery time, against (a) the analytic floor, the best any sender could do under that
bucket, and (b) a baseline measured in the same run: a bare client that knows the bucket and
posts the same messages with perfect pacing, without a database.

    python -m bench.fanout --announcements 200 --channels 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.sender import Sender
from bot.slack.client import make_post_client
from domain.template import load_template
from sandbox.webapi import SlackStandIn
from storage import announcements as announcing
from storage import releases
from storage.db import make_async_engine, make_sessionmaker
from storage.migrate import upgrade

TOKEN = "xoxb-bench"
TICK = 0.2  # seconds between sender ticks (SCHEDULER_TICK; the default is 1)


def floor_seconds(per_channel: int, burst: int, rate: float) -> float:
    """The earliest the last post can land: the burst at once, then one token per 1/rate s."""
    return max(0.0, (per_channel - burst) / rate)


async def baseline(api: SlackStandIn, channels: list[str], per_channel: int, burst: int, rate: float) -> float:
    client = AsyncWebClient(token=TOKEN, base_url=api.base_url, retry_handlers=[])

    async def one_channel(ch: str) -> None:
        start = time.monotonic()
        for i in range(per_channel):
            # 20 ms of slack: the stand-in's clock for this channel starts a moment after ours.
            wait = start + max(0, i - burst + 1) / rate + (0.02 if i >= burst else 0) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            while True:
                try:
                    await client.chat_postMessage(channel=ch, text=f"baseline {i}")
                    break
                except SlackApiError as e:
                    if e.response.status_code != 429:
                        raise
                    await asyncio.sleep(0.05)

    t0 = time.monotonic()
    await asyncio.gather(*(one_channel(c) for c in channels))
    return time.monotonic() - t0


async def measure(
    announcements: int, channels_n: int, burst: int, rate: float, database_url: str | None
) -> dict[str, Any]:
    per_channel = math.ceil(announcements / channels_n)
    with tempfile.TemporaryDirectory() as tmp, SlackStandIn(bot_token=TOKEN) as api:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        channels = [f"CB{i:04d}" for i in range(channels_n)]
        for c in channels:
            api.add_channel(c, name=c.lower(), members=("UBOT",))
        api.add_channel("CREL", name="rel", members=("UBOT",))
        api.add_user("UPM", name="pm")
        api.set_post_rate(rate, burst=burst)

        base = await baseline(api, [f"{c}" for c in channels], per_channel, burst, rate)
        await asyncio.sleep(burst / rate + 1)  # let the buckets refill before the real run
        api.reset()

        engine = make_async_engine(url)
        sessions = make_sessionmaker(engine)
        start = datetime.now(UTC) + timedelta(days=30)
        rel = await releases.create_release(
            sessions,
            releases.NewReleaseSpec(
                "TBENCH",
                "CREL",
                "UPM",
                "Bench",
                "",
                start,
                start + timedelta(hours=4),
                "UTC",
                load_template("caf-migration-release"),
            ),
        )
        now = datetime.now(UTC)
        due = now + timedelta(seconds=1)
        async with sessions() as s, s.begin():
            for i in range(announcements):
                await announcing.create_adhoc(
                    s,
                    rel.id,
                    audience=None,
                    channel_id=channels[i % channels_n],
                    send_at=due,
                    text=f"Notice {i}",
                    by="UPM",
                    now=now,
                )
        sender = Sender(sessions, make_post_client(TOKEN, api.base_url), worker_id="bench", command="/release")
        await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
        t0 = time.monotonic()
        while sender.sent < announcements:
            await sender.tick()
            await asyncio.sleep(TICK)
        took = time.monotonic() - t0
        calls = api.calls("chat.postMessage")
        await engine.dispose()
    floor = floor_seconds(per_channel, burst, rate)
    return {
        "announcements": announcements,
        "channels": channels_n,
        "per_channel": per_channel,
        "burst": burst,
        "rate_per_s": rate,
        "floor_s": round(floor, 3),
        "baseline_s": round(base, 3),
        "sender_s": round(took, 3),
        "ratio_to_floor": round(took / floor, 3) if floor else None,
        "ratio_to_baseline": round(took / base, 3) if base else None,
        "rate_limited_calls": sum(1 for c in calls if c.status == 429),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--announcements", type=int, default=200)
    p.add_argument("--channels", type=int, default=10)
    p.add_argument("--burst", type=int, default=10)
    p.add_argument("--rate", type=float, default=1.0)
    p.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = p.parse_args(argv)
    result = asyncio.run(measure(args.announcements, args.channels, args.burst, args.rate, args.database_url))
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
