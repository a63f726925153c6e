"""Working hours in a person's own zone: when a nudge may reach them, and what "a working day" is.

Pure functions over aware datetimes; the zone is an IANA name (from the person's Slack profile).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-4]):([0-5]\d)\s*")


@dataclass(frozen=True)
class WorkHours:
    start: time = time(9, 0)
    end: time = time(17, 0)  # exclusive
    days: frozenset[int] = frozenset(range(5))  # Monday = 0

    def describe(self) -> str:
        days = ", ".join(DAY_NAMES[d] for d in sorted(self.days))
        return f"{self.start:%H:%M}–{self.end:%H:%M} on {days}"


def parse_hours(text: str) -> tuple[time, time]:
    """`09:00-17:00` → (09:00, 17:00); ValueError naming what is wrong."""
    m = _HOURS.fullmatch(text)
    if m is None:
        raise ValueError(f"`{text}` is not a span of hours: write it as 09:00-17:00")
    start = time(int(m.group(1)), int(m.group(2)))
    end_hour, end_minute = int(m.group(3)), int(m.group(4))
    if end_hour == 24 and end_minute:
        raise ValueError(f"`{text}` ends after 24:00")
    end = time.max if end_hour == 24 else time(end_hour, end_minute)
    if end <= start:
        raise ValueError(f"`{text}` ends before it starts: working hours stay within one day")
    return start, end


def parse_days(text: str) -> frozenset[int]:
    """`mon-fri`, `mon,wed,fri` or `sun-thu` → weekday numbers; ValueError naming what is wrong."""
    out: set[int] = set()
    for part in (p.strip().lower() for p in text.split(",")):
        names = [n.strip() for n in part.split("-")]
        if not part or len(names) > 2 or any(n not in DAY_NAMES for n in names):
            raise ValueError(f"`{text}` is not a list of days: write e.g. mon-fri or mon,tue,thu (days: mon … sun)")
        first, last = DAY_NAMES.index(names[0]), DAY_NAMES.index(names[-1])
        span = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
        out.update(span)
    return frozenset(out)


def zone(name: str | None, fallback: tzinfo = UTC) -> tzinfo:
    """The person's zone; ``fallback`` (the release's zone) when Slack did not say or named no zone we
    know: a nudge is never skipped for want of a zone."""
    if not name:
        return fallback
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return fallback


def is_working(now: datetime, tz: tzinfo, hours: WorkHours) -> bool:
    local = now.astimezone(tz)
    return local.weekday() in hours.days and hours.start <= local.time() < hours.end


def next_working_moment(now: datetime, tz: tzinfo, hours: WorkHours) -> datetime:
    """`now` when it is within working hours in the zone, else the start of the next working period."""
    if is_working(now, tz, hours):
        return now
    local = now.astimezone(tz)
    day = local.date()
    if local.time() >= hours.start:
        day += timedelta(days=1)
    for _ in range(8):
        if day.weekday() in hours.days:
            return datetime.combine(day, hours.start, tz).astimezone(UTC)
        day += timedelta(days=1)
    raise ValueError("working hours name no working day")


def working_day(now: datetime, tz: tzinfo) -> date:
    """The person's local date: a nudge goes at most once per gate on it."""
    return now.astimezone(tz).date()


def after_working_day(moment: datetime, tz: tzinfo, hours: WorkHours) -> datetime:
    """The same local time on the next working day after `moment` ("past due by a working day")."""
    local = moment.astimezone(tz)
    day = local.date() + timedelta(days=1)
    for _ in range(8):
        if day.weekday() in hours.days:
            return datetime.combine(day, local.timetz().replace(tzinfo=None), tz).astimezone(UTC)
        day += timedelta(days=1)
    raise ValueError("working hours name no working day")


def next_working_day_start(now: datetime, tz: tzinfo, hours: WorkHours) -> datetime:
    """The start of working hours on the next working day after today (Snooze: tomorrow)."""
    day = now.astimezone(tz).date() + timedelta(days=1)
    for _ in range(8):
        if day.weekday() in hours.days:
            return datetime.combine(day, hours.start, tz).astimezone(UTC)
        day += timedelta(days=1)
    raise ValueError("working hours name no working day")
