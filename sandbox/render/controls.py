"""Attributes every interactive control carries, so the page's script can send Slack-shaped payloads.

The contract with the page: each control has ``data-action-id``, ``data-block-id`` (``""`` when its
block has none) and ``data-type`` (the Block Kit element type). Radio and checkbox groups carry them
on the group wrapper and on each ``<input>``; the inputs also carry the option's ``value``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .context import as_str
from .mrkdwn import text_of

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")


def control_attrs(element: Mapping[str, Any], block_id: str, *, required: bool = False) -> dict[str, object | None]:
    return {
        "data-action-id": as_str(element.get("action_id")),
        "data-block-id": block_id,
        "data-type": as_str(element.get("type")),
        "required": required or None,
        "autofocus": element.get("focus_on_load") is True or None,
    }


def control_id(block_id: str, action_id: str) -> str:
    """A DOM id for an input block's control, so its label can point at it."""
    return "bk-" + _ID_UNSAFE.sub("_", f"{block_id}--{action_id}")


def group_name(block_id: str, action_id: str) -> str:
    """The ``name`` that ties a radio group together (radios in different blocks must not)."""
    return f"{block_id}/{action_id}"


def placeholder_text(element: Mapping[str, Any], default: str = "") -> str:
    text = text_of(element.get("placeholder"))
    return text or default
