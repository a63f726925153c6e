"""Everything a listener needs, built once by the app factory."""

from __future__ import annotations

from dataclasses import dataclass, field

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.live import LiveMessages
from bot.metrics import Metrics
from bot.sender import Sender
from bot.settings import Settings
from bot.slack.client import Directory, HttpSession
from bot.tasks import TaskTracker


@dataclass
class Components:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    client: AsyncWebClient
    directory: Directory
    live: LiveMessages
    tasks: TaskTracker
    sender: Sender
    metrics: Metrics = field(default_factory=Metrics)
    http: HttpSession = field(default_factory=HttpSession)

    async def close(self) -> None:
        """At shutdown, after the background work drained: retries, connections, the database pool."""
        await self.live.close()
        await self.http.close()
        await self.engine.dispose()
