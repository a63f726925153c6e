"""Durations, offsets and date-times as people type them in `/release` and in templates.

Pure functions: they never look at the clock. Every error is a `TimeParseError` whose message names
the offending text in backticks, so callers can show it to the user as is. A time typed without an
offset by someone whose zone cannot be read is refused with `UnknownZoneError` (a `TimeParseError`
that names the zone and suggests the offset forms), never read as UTC.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MAX_DURATION = timedelta(days=14)
MIN_YEAR = 2000
MAX_YEAR = 2100
# Real-world UTC offsets run from -12:00 to +14:00; anything beyond is a typo, not a place.
MAX_UTC_OFFSET = timedelta(hours=14)
# Template offsets reach weeks after cutover (disposal after a 30-day hold); a year is a generous bound
# that still keeps a typo like "+5000d" from passing silently.
MAX_OFFSET = timedelta(days=366)

DURATION_EXAMPLES = "90m, 4h, 1d"
DATETIME_FORMS = (
    "`2026-12-05T22:00` or `2026-12-05 22:00`, optionally with seconds and an offset such as `Z` or `+01:00`"
)

# re.ASCII: \d would otherwise accept Arabic-Indic and other digits that int() silently converts.
_UNITS = re.compile(r"(?:(\d{1,6})d)?(?:(\d{1,6})h)?(?:(\d{1,7})m)?", re.ASCII | re.IGNORECASE)
_OFFSET = re.compile(r"([+-])(.+)", re.ASCII)

_DATETIME = re.compile(
    r"""
    (?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})
    [T\x20]
    (?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?
    \x20?  # the /release grammar joins an offset typed as its own word with one space
    (?:(?P<utc>Z|UTC)|(?P<sign>[+-])(?P<oh>\d{2})(?::?(?P<om>\d{2}))?)?
    """,
    re.ASCII | re.IGNORECASE | re.VERBOSE,
)
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class TimeParseError(ValueError):
    """Input that is not a duration, offset or date-time we accept; the message is user-facing."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class ParsedDateTime:
    """A date-time as typed: naive when the user gave no offset (read later in their time zone)."""

    value: datetime
    has_offset: bool


def _units(text: str) -> timedelta | None:
    """`1d4h30m`-style text as a timedelta, or None when it is not in that form."""
    m = _UNITS.fullmatch(text)
    if m is None or not any(m.groups()):
        return None
    days, hours, minutes = (int(g) if g else 0 for g in m.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def parse_duration(text: str) -> timedelta:
    """A window length such as `90m`, `4h`, `1d`, `1h30m`, `2d4h`: longer than zero, at most 14 days."""
    t = text.strip()
    if not t:
        raise TimeParseError(f"A duration is missing. Use e.g. {DURATION_EXAMPLES}.")
    value = _units(t)
    if value is None:
        raise TimeParseError(f"`{t}` is not a duration. Use e.g. {DURATION_EXAMPLES}.")
    if value <= timedelta(0):
        raise TimeParseError(f"`{t}` is not a duration: it must be longer than zero.")
    if value > MAX_DURATION:
        raise TimeParseError(f"`{t}` is too long: a cutover window can last at most 14 days.")
    return value


def parse_offset(text: str) -> timedelta:
    """A signed offset from cutover start as templates write it: `-21d`, `+0h`, `+4h`, `+21d4h`.

    The sign is required so that a template always says whether an item comes before or after T0.
    """
    t = text.strip()
    m = _OFFSET.fullmatch(t)
    if m is None:
        raise TimeParseError(f"`{t}` is not an offset. Use a sign and units, e.g. -21d, +0h, +4h, +2d12h.")
    value = _units(m.group(2))
    if value is None:
        raise TimeParseError(f"`{t}` is not an offset. Use a sign and units, e.g. -21d, +0h, +4h, +2d12h.")
    if value > MAX_OFFSET:
        raise TimeParseError(f"`{t}` is too far from the cutover: offsets may be at most 366 days.")
    return -value if m.group(1) == "-" else value


def _check_date_parts(text: str, year: int, month: int, day: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise TimeParseError(f"`{text}` is out of range: the year must be between {MIN_YEAR} and {MAX_YEAR}.")
    if not 1 <= month <= 12:
        raise TimeParseError(f"`{text}` is not a real date: the month must be 01 to 12.")
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        month_name = calendar.month_name[month]
        raise TimeParseError(f"`{text}` is not a real date: {month_name} {year} has {last} days.")


def parse_datetime(text: str) -> ParsedDateTime:
    """ISO 8601 date and time to the minute (seconds optional), with an optional UTC offset."""
    t = text.strip()
    if not t:
        raise TimeParseError(f"A date and time is missing. Use {DATETIME_FORMS}.")
    m = _DATETIME.fullmatch(t)
    if m is None:
        if _DATE_ONLY.fullmatch(t):
            raise TimeParseError(f"`{t}` has no time of day. Add one, e.g. `{t} 22:00`.")
        raise TimeParseError(f"`{t}` is not a date and time. Use {DATETIME_FORMS}.")

    year, month, day = int(m["year"]), int(m["month"]), int(m["day"])
    _check_date_parts(t, year, month, day)
    hour, minute = int(m["hour"]), int(m["minute"])
    second = int(m["second"]) if m["second"] else 0
    if hour > 23 or minute > 59 or second > 59:
        raise TimeParseError(f"`{t}` is not a real time of day: use 00:00 to 23:59.")

    fixed: timezone | None = None
    if m["utc"]:
        fixed = UTC
    elif m["sign"]:
        offset_minutes = int(m["om"]) if m["om"] else 0
        offset = timedelta(hours=int(m["oh"]), minutes=offset_minutes)
        if offset_minutes > 59 or offset > MAX_UTC_OFFSET:
            raise TimeParseError(f"`{t}` has an impossible UTC offset: use -12:00 to +14:00.")
        fixed = timezone(-offset if m["sign"] == "-" else offset)

    value = datetime(year, month, day, hour, minute, second, tzinfo=fixed)
    return ParsedDateTime(value=value, has_offset=fixed is not None)


# What a zone name from Slack may look like to be echoed back: IANA keys are letters, digits and
# `_+-/`. Anything else (backticks, `<`, line breaks) is not a zone name and is never shown.
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-/]{1,64}", re.ASCII)
_OFFSET_EXAMPLES = ("-05:00", "Z")


class UnknownZoneError(TimeParseError):
    """A time typed without an offset, by a person whose time zone cannot be read.

    ``zone`` is the name that could not be read, or None when there was none (Slack did not say).
    The message tells the person how to type the time with an explicit offset instead.
    """

    def __init__(self, message: str, zone: str | None) -> None:
        super().__init__(message)
        self.zone = zone


def read_zone(tz_name: str | None) -> tzinfo | None:
    """The IANA zone named, or None when there is no name or it is not one this machine knows."""
    if tz_name is None or not tz_name.strip():
        return None
    if tz_name in ("UTC", "Etc/UTC"):  # needs no database
        return UTC
    try:
        return ZoneInfo(tz_name)
    # ValueError/TypeError: zoneinfo refuses malformed keys (absolute paths, "..") before any lookup.
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return None


def _shown(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S" if value.second else "%Y-%m-%d %H:%M")


def unknown_zone_message(parsed: ParsedDateTime, tz_name: str | None) -> str:
    """Why a time typed without an offset cannot be read in ``tz_name``, and how to type it instead."""
    shown = _shown(parsed.value)
    if tz_name is None or not tz_name.strip():
        why = "I could not read your Slack time zone"
    elif _ZONE_NAME.fullmatch(tz_name):
        why = f"Your Slack time zone `{tz_name}` is not one I know"
    else:
        why = "Your Slack time zone is not one I know"
    iso = shown.replace(" ", "T")
    return (
        f"{why}, so I can't tell when {shown} is. Type the time with its offset, "
        f"e.g. `{shown}{_OFFSET_EXAMPLES[0]}` or `{iso}{_OFFSET_EXAMPLES[1]}`."
    )


def to_utc(parsed: ParsedDateTime, tz_name: str | None) -> datetime:
    """The instant meant, as aware UTC. A naive value is wall-clock time in `tz_name`.

    A time with an offset needs no zone (``tz_name`` may then be None). A naive time in a zone that is
    missing (None: the caller could not read the person's zone) or unknown raises `UnknownZoneError`:
    guessing UTC would move the instant by the zone's offset without anyone noticing. A wall-clock
    time skipped by a clock change is refused; a repeated one (clocks going back) means its first
    occurrence.
    """
    if parsed.has_offset:
        return parsed.value.astimezone(UTC)
    found = read_zone(tz_name)
    if found is None:
        raise UnknownZoneError(unknown_zone_message(parsed, tz_name), tz_name)
    local = parsed.value.replace(tzinfo=found, fold=0)
    instant = local.astimezone(UTC)
    # zoneinfo maps a nonexistent wall time to *some* instant; only the round trip shows the gap.
    if instant.astimezone(found).replace(tzinfo=None) != parsed.value:
        shown = parsed.value.strftime("%Y-%m-%d %H:%M")
        raise TimeParseError(
            f"`{shown}` does not exist in {tz_name}: the clocks jump forward over it. "
            "Pick a time before or after the change."
        )
    return instant
