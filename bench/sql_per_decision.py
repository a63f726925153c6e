"""SQL statements per decision, for a 10-item and a 60-item checklist: they must be equal.

Counted with a `before_cursor_execute` listener on the engine's sync_engine
around `storage.checklist.record(...)`, after a warm-up decision, on releases built in-process with
`storage.releases.create_release` (60 items: the CAF template; 10 items: the same template keeping two
items per phase). Also reported, for the same two sizes: loading the release view
(`storage.queries.load_release_view`) and a whole click as `bot.checklist.decide` runs it (checks,
record, refresh of the checklist messages in the Slack stand-in), for a first click and for a
repeat of it (a double click: nothing is recorded), with their wall time (median of five first
clicks, mean of the repeats), and the refresh's rendering of every message (`bot.live.render_all`).
Baseline: the 10-item figures.

    python -m bench.sql_per_decision
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import re
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot import checklist
from bot.app import build_components
from bot.components import Components
from bot.live import render_all
from bot.settings import Settings, load_settings
from bot.slack.payload import Actor
from domain.model import DecisionKind, ItemState, ReleaseView
from domain.template import DEFAULT_TEMPLATE, Template, load_template
from storage import checklist as decisions
from storage import releases
from storage.checklist import release_messages
from storage.migrate import upgrade
from storage.queries import load_release_view
from tests.harness import BOT_TOKEN, PEOPLE, TEAM, standin

SIZES = (10, 60)
PM = "UPM"


def trimmed(template: Template, per_phase: int) -> Template:
    return dataclasses.replace(
        template, phases=tuple(dataclasses.replace(p, items=p.items[:per_phase]) for p in template.phases)
    )


@contextlib.contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)


def brief(statement: str) -> str:
    """The statement's verb and table, enough to read what ran without the column lists."""
    s = re.sub(r"\s+", " ", statement).strip()
    if s.upper().startswith("SELECT") and (m := re.search(r" FROM (\S+)", s)):
        return f"SELECT ... FROM {m.group(1)}"
    m = re.match(r"(UPDATE \S+|INSERT INTO \S+|DELETE FROM \S+|\S+( \S+)?)", s)
    return m.group(1) if m else s[:60]


async def counted(c: Components, work: Callable[[], Awaitable[Any]]) -> tuple[list[str], float]:
    with count_statements(c.engine.sync_engine) as statements:
        t0 = time.perf_counter()
        await work()
        took = time.perf_counter() - t0
    return list(statements), took


async def mean_seconds(work: Callable[[], Awaitable[Any]], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        await work()
        times.append(time.perf_counter() - t0)
    return statistics.mean(times)


async def one_size(c: Components, template: Template, channel: str, repeat: int) -> dict[str, Any]:
    start = datetime.now(UTC) + timedelta(days=30)
    rel = await releases.create_release(
        c.sessions,
        releases.NewReleaseSpec(TEAM, channel, PM, "Bench", "", start, start + timedelta(hours=4), "UTC", template),
    )
    await c.live.publish(rel.id)  # the click's refresh updates messages that exist in Slack
    async with c.sessions() as s:
        view = await load_release_view(s, rel.id)
    assert view is not None
    tasks = [i for i in view.items if not i.is_gate]
    assert len(tasks) >= 5, "the benchmark needs five task items"

    async def record(item_id: int) -> decisions.Recorded | decisions.Stale:
        return await decisions.record(
            c.sessions,
            release_id=rel.id,
            item_id=item_id,
            version=0,
            kind=DecisionKind.DONE,
            new_state=ItemState.DONE,
            user_id=PM,
            role_key="project-manager",
        )

    async def load_view() -> None:
        async with c.sessions() as s:
            await load_release_view(s, rel.id)

    async def click(item_id: int) -> None:
        await checklist.decide(c, Actor(TEAM, PM), (item_id, 0), DecisionKind.DONE, reason=None, reply=None)

    await record(tasks[0].id)  # warm-up: first-connect probes and statement caches are not counted
    await load_view()
    record_stmts, _ = await counted(c, lambda: record(tasks[1].id))
    repeat_record_stmts, _ = await counted(c, lambda: record(tasks[1].id))
    view_stmts, _ = await counted(c, load_view)
    await click(tasks[2].id)
    click_stmts, _ = await counted(c, lambda: click(tasks[3].id))
    repeat_stmts, _ = await counted(c, lambda: click(tasks[3].id))
    first_clicks = []
    for item in tasks[4:9]:  # every first click changes the release, so each needs its own item
        t0 = time.perf_counter()
        await click(item.id)
        first_clicks.append(time.perf_counter() - t0)
    rendered_at = datetime.now(UTC)
    return {
        "items": len(view.items),
        "messages": len(await _messages(c, rel.id)),
        "record": len(record_stmts),
        "record_repeat": len(repeat_record_stmts),
        "load_release_view": len(view_stmts),
        "click": len(click_stmts),
        "click_repeat": len(repeat_stmts),
        "load_release_view_ms": round(1000 * await mean_seconds(load_view, repeat), 3),
        "click_ms": round(1000 * statistics.median(first_clicks), 3),
        "render_all_ms": round(1000 * await mean_seconds(_render(view, rendered_at), min(repeat, 20)), 3),
        "click_repeat_ms": round(1000 * await mean_seconds(lambda: click(tasks[3].id), repeat), 3),
        "statements": {
            "record": [brief(s) for s in record_stmts],
            "load_release_view": [brief(s) for s in view_stmts],
            "click": [brief(s) for s in click_stmts],
            "click_repeat": [brief(s) for s in repeat_stmts],
        },
    }


def _render(view: ReleaseView, now: datetime) -> Callable[[], Awaitable[None]]:
    """The refresh's rendering of every message of the release (pure CPU, on the event loop)."""

    async def work() -> None:
        render_all(view, now)

    return work


async def _messages(c: Components, release_id: int) -> list[Any]:
    async with c.sessions() as s:
        return list(await release_messages(s, release_id))


async def measure_async(url: str, api_url: str, repeat: int) -> dict[int, dict[str, Any]]:
    settings = load_settings(
        Settings, slack_bot_token=BOT_TOKEN, database_url=url, slack_api_url=api_url, slack_signing_secret="unused"
    )
    c = build_components(settings)
    full = load_template(DEFAULT_TEMPLATE)
    per_phase = 2
    templates = {10: trimmed(full, per_phase), 60: full}
    assert {n: len(t.items) for n, t in templates.items()} == {10: 10, 60: 60}
    try:
        by_size = {n: await one_size(c, t, f"CSQL{n:04d}", repeat) for n, t in templates.items()}
    finally:
        await c.tasks.drain(grace=10.0)
        await c.close()
    return by_size


def measure(repeat: int, database_url: str | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, standin() as api:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        for n in SIZES:
            api.add_channel(f"CSQL{n:04d}", name=f"sql-{n}", members=(*PEOPLE, "UBOT"))
        by_size = asyncio.run(measure_async(url, api.base_url, repeat))
    small, large = by_size[10], by_size[60]
    keys = ("record", "record_repeat", "load_release_view", "click", "click_repeat")
    timed = ("load_release_view_ms", "click_ms", "click_repeat_ms", "render_all_ms")
    return {
        "database": url.split(":", 1)[0],
        "baseline": "10 items",
        "items_10": small,
        "items_60": large,
        "ratio_60_to_10": {k: round(large[k] / small[k], 3) if small[k] else None for k in (*keys, *timed)},
        "record_constant": small["record"] == large["record"],
        "all_counts_constant": all(small[k] == large[k] for k in keys),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=50, help="timed repetitions of the view load and repeated click")
    p.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = p.parse_args(argv)
    result = measure(args.repeat, args.database_url)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
