"""Slack-shaped Web API answers, so every handler speaks the same wire format."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.blockkit import BlockError


@dataclass
class Reply:
    body: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def ok(**fields: Any) -> Reply:
    return Reply({"ok": True, **fields})


def fail(error: str, **extra: Any) -> Reply:
    # Slack answers method errors with HTTP 200; only throttling and outages use other statuses.
    return Reply({"ok": False, "error": error, **extra})


def ratelimited(retry_after: int) -> Reply:
    return Reply({"ok": False, "error": "ratelimited"}, 429, {"Retry-After": str(max(1, retry_after))})


def invalid_blocks(errors: Sequence[BlockError]) -> Reply:
    return fail(
        "invalid_blocks",
        errors=[str(e) for e in errors],
        response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
    )


def invalid_view(errors: Sequence[BlockError]) -> Reply:
    # views.* report schema problems as invalid_arguments without a top-level "errors" list.
    return fail("invalid_arguments", response_metadata={"messages": [f"[ERROR] {e}" for e in errors]})
