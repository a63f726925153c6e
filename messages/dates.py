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


_UNIT_NAMES: dict[timedelta, str] = {
    timedelta(seconds=1): "s",
    timedelta(minutes=1): "m",
    timedelta(hours=1): "h",
    timedelta(days=1): "d",
}


def duration_text(delta: timedelta, *, smallest: timedelta = timedelta(seconds=1)) -> str:
    """``90m``, ``4h``, ``1d 2h``: the units people type in ``--duration``; seconds under a minute.

    ``smallest`` is the unit the duration was measured (or rounded) in: nothing finer is ever shown, so a
    wait rounded to minutes never reads as seconds. Below it the text is ``under 1m`` (``under 1s``, …).
    Parts are cut, never rounded up: ``59.9s`` is ``59s``, ``1h 59m 59s`` is ``1h 59m``.
    """
    unit = _UNIT_NAMES.get(smallest)
    if unit is None:
        raise ValueError(f"smallest must be a second, a minute, an hour or a day, not {smallest}")
    total = max(0.0, delta.total_seconds())
    step = int(smallest.total_seconds())
    if total < step:
        return f"under 1{unit}"
    if total < 60:  # only reachable when measured in seconds: a rehearsal's window, a quick sign-off
        return f"{int(total)}s"
    whole = int(total) // max(step, 60) * max(step, 60)
    days, rest = divmod(whole, 24 * 3600)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [f"{days}d"] if days else []
    if hours:
        parts.append(f"{hours}h")
    if minutes:
        parts.append(f"{minutes}m")
    return " ".join(parts)


def slack_window(start: datetime, end: datetime) -> str:
    """A cutover window: two date tokens and its length, e.g. ``… – … (4h)``."""
    return f"{slack_date(start)} – {slack_date(end)} ({duration_text(end - start)})"
