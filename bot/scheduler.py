"""APScheduler only wakes the sender: jobs live in memory, the database holds every delivery.

A persistent APScheduler job store must never be shared by several processes (it double-runs
and drops jobs), and nothing here needs one: every tick asks the database what is due.
"""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.components import Components
from bot.nudges import nudge_tick
from bot.preflight import recheck_before_sends
from bot.reminders import remind_overdue
from bot.retro import due_work
from domain.time import utcnow


def start_scheduler(c: Components) -> AsyncIOScheduler:
    """Start the ticking jobs on the running event loop."""
    scheduler = AsyncIOScheduler(timezone=UTC)

    async def deliveries() -> None:
        c.metrics.ticked()  # /healthz: a scheduler that stops ticking is unhealthy
        await c.sender.tick()

    scheduler.add_job(
        deliveries,
        "interval",
        seconds=c.settings.scheduler_tick,
        id="deliveries",
        # Sender.tick guards itself against overlap; a second run returns at once, where
        # max_instances=1 would log a warning every tick while a slow pass runs.
        max_instances=2,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )

    async def preflight() -> None:
        await recheck_before_sends(c.sessions, c.client, utcnow(), command=c.settings.slash_command)

    scheduler.add_job(
        preflight,
        "interval",
        minutes=10,
        id="preflight",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )

    async def housekeeping() -> None:
        now = utcnow()
        await due_work(c, now)
        await remind_overdue(c, now)
        await nudge_tick(c, now, c.sender.worker_id)

    scheduler.add_job(
        housekeeping,
        "interval",
        seconds=max(5.0, c.settings.scheduler_tick * 5),
        id="housekeeping",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=datetime.now(UTC),
    )
    scheduler.start()
    c.metrics.scheduler_started()
    return scheduler
