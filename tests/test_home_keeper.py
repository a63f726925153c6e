"""The App Home keeper: publishes coalesced per person and bounded in concurrency."""

from __future__ import annotations

import asyncio
from collections import Counter

from bot.home import HomeKeeper
from bot.tasks import TaskTracker


class Publishes:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.count: Counter[str] = Counter()
        self.running = 0
        self.most = 0

    async def __call__(self, team: str, user: str) -> None:
        self.running += 1
        self.most = max(self.most, self.running)
        await asyncio.sleep(self.delay)
        self.count[user] += 1
        self.running -= 1


async def test_changes_in_a_burst_are_coalesced_into_at_most_two_publishes() -> None:
    publish, tasks = Publishes(), TaskTracker()
    keeper = HomeKeeper(publish, tasks, interval=0.05)
    for _ in range(20):
        keeper.touch("T1", ["U1", "U2"])
        await asyncio.sleep(0)
    await tasks.drain()
    assert publish.count == Counter({"U1": 2, "U2": 2})  # the first at once, one more for the rest
    keeper.touch("T1", ["U1"])
    await tasks.drain()
    assert publish.count["U1"] == 3  # a later change publishes again


async def test_publishes_run_a_few_at_a_time() -> None:
    publish, tasks = Publishes(delay=0.02), TaskTracker()
    keeper = HomeKeeper(publish, tasks, interval=0.0, concurrency=3)
    keeper.touch("T1", [f"U{i}" for i in range(30)])
    await tasks.drain()
    assert sum(publish.count.values()) == 30 and publish.most == 3
