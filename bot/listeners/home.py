"""The App Home tab: `app_home_opened` publishes the person's Home (after the ack)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp, AsyncBoltContext

from bot.components import Components


def register(app: AsyncApp, c: Components) -> None:
    async def on_home_opened(event: dict[str, Any], context: AsyncBoltContext) -> None:
        user = str(event.get("user") or "")
        team = str(context.team_id or "")
        # The Messages tab opens this event too; only the Home tab shows anything of ours.
        if event.get("tab") != "home" or not user or not team or c.home is None:
            return
        c.home.touch(team, [user])

    app.event("app_home_opened")(on_home_opened)
