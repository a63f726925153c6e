"""Bolt listeners: each module registers the buttons and forms of one capability.

Thin by design: read the payload, check what must travel in the ack (a form's errors), ack, and
hand the work to the capability module as a background task. Rules live in domain/, work in the
capability modules, and nothing here talks to the database.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.commands import dispatch
from bot.components import Components
from bot.listeners import checklist, cutover, home, nudges, releases, retro


def register_all(app: AsyncApp, c: Components) -> None:
    dispatch.register(app, c)
    checklist.register(app, c)
    releases.register(app, c)
    cutover.register(app, c)
    retro.register(app, c)
    home.register(app, c)
    nudges.register(app, c)
