"""Reading what a Slack payload carries: who acted where, form values, and the target ids we drew.

Everything here is untrusted input: ids are parsed strictly and anything else reads as None, so a
listener can answer "not one of mine" instead of failing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext

_TARGET = re.compile(r"^(\d{1,12}):(\d{1,9})$")
_ID = re.compile(r"^\d{1,12}$")


@dataclass(frozen=True)
class Actor:
    """Who acted, in which workspace and channel ("" where the payload has none), and the trigger
    that lets the app open a form for them within 3 seconds."""

    team_id: str
    user_id: str
    channel_id: str = ""
    trigger_id: str = ""


def actor(context: AsyncBoltContext, body: dict[str, Any]) -> Actor:
    return Actor(
        team_id=str(context.team_id or ""),
        user_id=str(context.user_id or ""),
        channel_id=str(context.channel_id or ""),
        trigger_id=str(body.get("trigger_id") or ""),
    )


def parse_id(value: object) -> int | None:
    """A database id as we drew it in `value` or `private_metadata`."""
    text = str(value or "")
    return int(text) if _ID.match(text) else None


def parse_target(value: object) -> tuple[int, int] | None:
    """`item_id:version` as drawn on an item's buttons; anything else is None."""
    m = _TARGET.match(str(value or ""))
    return (int(m.group(1)), int(m.group(2))) if m else None


def _state_value(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    block = (view.get("state") or {}).get("values", {}).get(block_id) or {}
    return next(iter(block.values()), None) or {}


def text_input(view: dict[str, Any], block_id: str) -> str:
    return str(_state_value(view, block_id).get("value") or "")


def selected(view: dict[str, Any], block_id: str) -> str:
    opt = _state_value(view, block_id).get("selected_option") or {}
    return str(opt.get("value") or "")


def picked_datetime(view: dict[str, Any], block_id: str) -> object:
    return _state_value(view, block_id).get("selected_date_time")


def input_values(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """block id → the element's state, for forms whose blocks are named by the data (the survey)."""
    values = (view.get("state") or {}).get("values") or {}
    return {block_id: next(iter(elements.values()), {}) for block_id, elements in values.items()}
