"""The one place that reads the wall clock, so rules can be tested with any `now`."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
