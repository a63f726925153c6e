"""End to end: a nudge's buttons work like the channel's (Approve decides and the checklist follows; Snooze
answers), and `/release status` counts the nudges. The nudge tick runs here with a given clock against the
running app's database and the stand-in; the clicks go to the running app. Runs once per backend."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import build_components
from bot.nudges import nudge_tick
from bot.settings import Settings, load_settings
from sandbox.driver import wait_until
from tests.harness import BOT_TOKEN, Stack


def _wednesday_night(days_ahead: int = 30) -> datetime:
    day = datetime.now(UTC).date() + timedelta(days=days_ahead)
    day += timedelta(days=(2 - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 22, 0, tzinfo=UTC)


def _tick(stack: Stack, now: datetime) -> int:
    async def run() -> int:
        settings = load_settings(
            Settings, slack_bot_token=BOT_TOKEN, slack_api_url=stack.api.base_url, database_url=stack.database_url
        )
        c = build_components(settings)
        try:
            return await nudge_tick(c, now, "test")
        finally:
            await c.tasks.drain()
            await c.close()

    return asyncio.run(run())


def _nudge_for(stack: Stack, user: str, item_id: int) -> dict[str, Any]:
    for m in stack.api.messages(stack.api.dm_channel(user)):
        if any(b.get("block_id") == f"nudge-{item_id}" for b in m.get("blocks") or []):
            return m
    raise AssertionError(f"no nudge about item {item_id} for {user}")


def test_decide_and_snooze_from_a_nudge_and_status_counts_it(stack: Stack) -> None:
    ch = stack.channel()
    rel = stack.new_release(ch, start=_wednesday_night())
    key = f"REL-{rel.number}"
    stack.posted(f"assign wbo <@UWBO> {key}", channel=ch, expect="now holds")
    gate = stack.item(rel.id, "cc.window_appr")  # due a fortnight before: a Wednesday, 22:00 UTC
    now = gate.due_at - timedelta(hours=14)  # 09:00 in Berlin, Wanda's zone
    assert _tick(stack, now) >= 1
    nudge = _nudge_for(stack, "UWBO", gate.id)
    assert "Approve the outage window" in json.dumps(nudge) and key in json.dumps(nudge)
    assert _tick(stack, now + timedelta(hours=1)) == 0  # once per working day

    status = stack.answer(f"status {key}", channel=ch)
    assert "nudged <@UWBO> 1× since <!date^" in status

    dm = stack.api.dm_channel("UWBO")
    r = stack.driver.click(
        user="UWBO", channel=dm, message_ts=nudge["ts"], action_id="nudge.snooze_2h", block_id=f"nudge-{gate.id}"
    )
    assert "Snoozed" in json.dumps(stack.driver.wait_responses(r, count=1))

    r = stack.driver.click(
        user="UWBO", channel=dm, message_ts=nudge["ts"], action_id="item.approve", block_id=f"nudge-{gate.id}"
    )
    assert r.status == 200
    wait_until(lambda: len(stack.decisions(gate.id)) == 1)
    d = stack.decisions(gate.id)[0]
    assert (d.kind, d.user_id, d.role_key) == ("approve", "UWBO", "workload-business-owner")
    wait_until(lambda: "Approved by <@UWBO>" in stack.item_text(ch, gate.id))
    kinds = stack.column("release_events", "kind")
    assert "nudge_sent" in kinds and "nudge_snoozed" in kinds
