"""Times as Slack date tokens, so every reader sees them in their own time zone.

The fallback after ``|`` is what clients that cannot format dates (and notifications) show;
it is always UTC so it is unambiguous whoever reads it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

DEFAULT_FORMAT = "{date_short_pretty} {time}"


def _require_aware(dt: datetime) -> None:
    # A naive datetime has no instant: guessing a zone would show everyone a wrong time.
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt.isoformat()} has no time zone; pass an aware datetime")


def utc_text(dt: datetime) -> str:
    """``2026-12-05 22:00 UTC``: the fallback form of a date token."""
    _require_aware(dt)
    return dt.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def slack_date(dt: datetime, fmt: str = DEFAULT_FORMAT) -> str:
    """``<!date^EPOCH^FMT|YYYY-MM-DD HH:MM UTC>``; raises ValueError for a naive datetime."""
    _require_aware(dt)
    return f"<!date^{int(dt.timestamp())}^{fmt}|{utc_text(dt)}>"


def duration_text(delta: timedelta) -> str:
    """``90m``, ``4h``, ``1d 2h``: the same units people type in ``--duration``."""
    if delta < timedelta(minutes=1):  # only a rehearsal's compressed window is this short
        seconds = max(0.0, delta.total_seconds())
        return f"{seconds:.0f}s" if seconds >= 1 else "under 1s"
    minutes = max(0, int(delta.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days}d"] if days else []
    if hours:
        parts.append(f"{hours}h")
    if mins:
        parts.append(f"{mins}m")
    return " ".join(parts) or "0m"


def slack_window(start: datetime, end: datetime) -> str:
    """A cutover window: two date tokens and its length, e.g. ``… – … (4h)``."""
    return f"{slack_date(start)} – {slack_date(end)} ({duration_text(end - start)})"
