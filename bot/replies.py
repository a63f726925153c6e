"""Turning rendered messages into what ack/respond/chat.* take."""

from __future__ import annotations

from typing import Any

from messages.common import Rendered


def payload(r: Rendered) -> dict[str, Any]:
    return {"text": r.text, "blocks": [b.to_dict() for b in r.blocks]}


def ephemeral(r: Rendered) -> dict[str, Any]:
    return {**payload(r), "response_type": "ephemeral"}
