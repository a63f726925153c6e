"""Everything a listener needs, built once by the app factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.live import LiveMessages
from bot.metrics import Metrics
from bot.sender import Sender
from bot.settings import Settings
from bot.slack.client import Directory, HttpSession
from bot.tasks import TaskTracker
from domain.model import ReleaseView

if TYPE_CHECKING:
    from bot.home import HomeKeeper


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
    # Re-publishes the App Home of the people a release change affects (bot/home.py); set by the factory.
    touch_homes: Callable[[ReleaseView], None] = lambda _release: None
    home: HomeKeeper | None = None  # set by the factory: it needs the components to publish
    http: HttpSession = field(default_factory=HttpSession)

    async def close(self) -> None:
        """At shutdown, after the background work drained: retries, connections, the database pool."""
        await self.live.close()
        await self.http.close()
        await self.engine.dispose()
