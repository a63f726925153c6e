from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.timeparse import (
    ParsedDateTime,
    TimeParseError,
    UnknownZoneError,
    parse_datetime,
    parse_duration,
    parse_offset,
    read_zone,
    to_utc,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("4h", timedelta(hours=4)),
        ("1d", timedelta(days=1)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("2d4h", timedelta(days=2, hours=4)),
        ("4H", timedelta(hours=4)),
        (" 1D2H3M ", timedelta(days=1, hours=2, minutes=3)),
        ("14d", timedelta(days=14)),
        ("1m", timedelta(minutes=1)),
    ],
)
def test_parse_duration_accepts(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("0h", "`0h` is not a duration: it must be longer than zero"),
        ("0d0h0m", "must be longer than zero"),
        ("5x", "`5x` is not a duration. Use e.g. 90m, 4h, 1d"),
        ("4", "`4` is not a duration"),
        ("h", "`h` is not a duration"),
        ("1.5h", "`1.5h` is not a duration"),
        ("30m1h", "`30m1h` is not a duration"),
        ("-4h", "`-4h` is not a duration"),
        ("4 h", "`4 h` is not a duration"),
        ("15d", "`15d` is too long"),
        ("14d1m", "at most 14 days"),
        ("9999999d", "is not a duration"),
        ("", "A duration is missing"),
        ("٤h", "is not a duration"),  # Arabic-Indic digit four
    ],
)
def test_parse_duration_rejects(text: str, fragment: str) -> None:
    with pytest.raises(TimeParseError) as info:
        parse_duration(text)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-21d", -timedelta(days=21)),
        ("+0h", timedelta(0)),
        ("+4h", timedelta(hours=4)),
        ("+51d", timedelta(days=51)),
        ("+21d4h", timedelta(days=21, hours=4)),
        ("-90m", -timedelta(minutes=90)),
    ],
)
def test_parse_offset(text: str, expected: timedelta) -> None:
    assert parse_offset(text) == expected


@pytest.mark.parametrize("text", ["4h", "+", "+x", "++4h", "+400d", "- 4h", ""])
def test_parse_offset_rejects(text: str) -> None:
    with pytest.raises(TimeParseError):
        parse_offset(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-05T22:00", datetime(2026, 12, 5, 22, 0)),
        ("2026-12-05 22:00", datetime(2026, 12, 5, 22, 0)),
        ("2026-12-05T22:00:30", datetime(2026, 12, 5, 22, 0, 30)),
        ("2026-12-05t07:05", datetime(2026, 12, 5, 7, 5)),
        ("  2026-12-05 22:00  ", datetime(2026, 12, 5, 22, 0)),
        ("2028-02-29 00:00", datetime(2028, 2, 29)),
    ],
)
def test_parse_datetime_naive(text: str, expected: datetime) -> None:
    parsed = parse_datetime(text)
    assert parsed == ParsedDateTime(expected, has_offset=False)
    assert parsed.value.tzinfo is None


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("2026-12-05T22:00Z", timedelta(0)),
        ("2026-12-05T22:00z", timedelta(0)),
        ("2026-12-05 22:00 UTC", timedelta(0)),
        ("2026-12-05T22:00+01:00", timedelta(hours=1)),
        ("2026-12-05T22:00-0500", timedelta(hours=-5)),
        ("2026-12-05 22:00:15 +05:30", timedelta(hours=5, minutes=30)),
        ("2026-12-05T22:00+14:00", timedelta(hours=14)),
        ("2026-12-05T22:00+01", timedelta(hours=1)),
    ],
)
def test_parse_datetime_with_offset(text: str, offset: timedelta) -> None:
    parsed = parse_datetime(text)
    assert parsed.has_offset
    assert parsed.value.utcoffset() == offset


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("2026-02-30 22:00", "`2026-02-30 22:00` is not a real date: February 2026 has 28 days"),
        ("2027-02-29T10:00", "February 2027 has 28 days"),
        ("2026-04-31 10:00", "April 2026 has 30 days"),
        ("2026-13-01 10:00", "the month must be 01 to 12"),
        ("2026-00-10 10:00", "the month must be 01 to 12"),
        ("2026-12-00 10:00", "not a real date"),
        ("2026-12-05 24:00", "not a real time of day"),
        ("2026-12-05 22:60", "not a real time of day"),
        ("2026-12-05 22:00:61", "not a real time of day"),
        ("1999-12-31 23:00", "the year must be between 2000 and 2100"),
        ("2101-01-01 00:00", "the year must be between 2000 and 2100"),
        ("12/05/2026 22:00", "`12/05/2026 22:00` is not a date and time. Use `2026-12-05T22:00`"),
        ("tomorrow", "`tomorrow` is not a date and time"),
        ("2026-12-05", "`2026-12-05` has no time of day"),
        ("2026-12-05 10pm", "is not a date and time"),
        ("2026-12-5 22:00", "is not a date and time"),
        ("2026-12-05T22:00+15:00", "impossible UTC offset"),
        ("2026-12-05T22:00+01:75", "impossible UTC offset"),
        ("2026-12-05T22:00.5", "is not a date and time"),
        ("2026-12-05T22:00 Europe/Berlin", "is not a date and time"),
        ("", "A date and time is missing"),
        ("２０２６-12-05 22:00", "is not a date and time"),  # full-width digits
    ],
)
def test_parse_datetime_rejects(text: str, fragment: str) -> None:
    with pytest.raises(TimeParseError) as info:
        parse_datetime(text)
    assert fragment in str(info.value)


def test_to_utc_reads_naive_in_zone() -> None:
    parsed = parse_datetime("2026-12-05 22:00")
    assert to_utc(parsed, "Europe/Berlin") == datetime(2026, 12, 5, 21, 0, tzinfo=UTC)
    assert to_utc(parsed, "America/New_York") == datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
    assert to_utc(parsed, "UTC") == datetime(2026, 12, 5, 22, 0, tzinfo=UTC)


def test_to_utc_keeps_explicit_offset_whatever_the_zone() -> None:
    parsed = parse_datetime("2026-12-05T22:00+01:00")
    result = to_utc(parsed, "America/Los_Angeles")
    assert result == datetime(2026, 12, 5, 21, 0, tzinfo=UTC)
    assert result.tzinfo is UTC


_NO_ZONE = "I could not read your Slack time zone, so I can't tell when 2026-12-18 22:00 is."
_ADVICE = "Type the time with its offset, e.g. `2026-12-18 22:00-05:00` or `2026-12-18T22:00Z`."
_HIDDEN = "Your Slack time zone is not one I know, so I can't tell when 2026-12-18 22:00 is."


def _known(name: str) -> str:
    return f"Your Slack time zone `{name}` is not one I know, so I can't tell when 2026-12-18 22:00 is. {_ADVICE}"


# (typed text, the person's zone as Slack gave it or None when it could not be read, the instant or the refusal)
@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        # A zone this machine knows: the wall-clock time there.
        ("2026-12-18 22:00", "America/New_York", datetime(2026, 12, 19, 3, 0, tzinfo=UTC)),
        ("2026-12-18T22:00", "Europe/Berlin", datetime(2026, 12, 18, 21, 0, tzinfo=UTC)),
        ("2026-12-18 22:00", "Asia/Kolkata", datetime(2026, 12, 18, 16, 30, tzinfo=UTC)),
        ("2026-12-18 22:00", "UTC", datetime(2026, 12, 18, 22, 0, tzinfo=UTC)),
        ("2026-12-18 22:00", "Etc/UTC", datetime(2026, 12, 18, 22, 0, tzinfo=UTC)),
        ("2026-06-18 22:00", "America/New_York", datetime(2026, 6, 19, 2, 0, tzinfo=UTC)),  # daylight time
        # An explicit offset needs no zone, so an unknown or missing one does not matter.
        ("2026-12-18 22:00-05:00", "Mars/Olympus", datetime(2026, 12, 19, 3, 0, tzinfo=UTC)),
        ("2026-12-18T22:00Z", None, datetime(2026, 12, 18, 22, 0, tzinfo=UTC)),
        ("2026-12-18 22:00 UTC", "", datetime(2026, 12, 18, 22, 0, tzinfo=UTC)),
        # No offset and a zone that cannot be read: refused with the reason, never read as UTC.
        ("2026-12-18 22:00", "Mars/Olympus", _known("Mars/Olympus")),
        ("2026-12-18T22:00", "America/Nowhere_City", _known("America/Nowhere_City")),
        ("2026-12-18 22:00", "Not a zone", _HIDDEN),
        ("2026-12-18 22:00", "../../etc/passwd", _HIDDEN),
        ("2026-12-18 22:00", "/etc/localtime", _known("/etc/localtime")),
        ("2026-12-18 22:00", "utc", _known("utc")),  # zone names are case-sensitive
        ("2026-12-18 22:00", "`<!channel>`", _HIDDEN),  # never echoed into Slack
        ("2026-12-18 22:00", "x" * 65, _HIDDEN),
        ("2026-12-18 22:00", None, _NO_ZONE),
        ("2026-12-18 22:00", "", _NO_ZONE),
        ("2026-12-18 22:00", "  ", _NO_ZONE),
        (
            "2026-12-18 22:00:30",
            "Mars/Olympus",
            "Your Slack time zone `Mars/Olympus` is not one I know, so I can't tell when 2026-12-18 22:00:30 is. "
            "Type the time with its offset, e.g. `2026-12-18 22:00:30-05:00` or `2026-12-18T22:00:30Z`.",
        ),
    ],
)
def test_to_utc_reads_the_zone_or_refuses(text: str, zone: str | None, expected: datetime | str) -> None:
    parsed = parse_datetime(text)
    if isinstance(expected, datetime):
        result = to_utc(parsed, zone)
        assert result == expected
        assert result.utcoffset() == timedelta(0)
        return
    with pytest.raises(UnknownZoneError) as info:
        to_utc(parsed, zone)
    assert str(info.value).startswith(expected)
    assert str(info.value).endswith("`.")  # always the advice with both example forms
    assert "Type the time with its offset" in str(info.value)
    assert info.value.zone == zone
    assert isinstance(info.value, TimeParseError)  # callers that catch TimeParseError show it as is


@pytest.mark.parametrize("text", ["2026-12-18 22:00", "2026-12-18T07:05", "2026-12-18 22:00:30"])
def test_the_suggested_forms_parse_to_the_same_wall_time(text: str) -> None:
    """The advice must work when typed: both examples parse, carry an offset, and keep the wall time."""
    parsed = parse_datetime(text)
    with pytest.raises(UnknownZoneError) as info:
        to_utc(parsed, "Mars/Olympus")
    examples = re.findall(r"`([^`]+)`", str(info.value))[-2:]
    assert len(examples) == 2
    for example in examples:
        again = parse_datetime(example)
        assert again.has_offset
        assert again.value.replace(tzinfo=None) == parsed.value


@pytest.mark.parametrize(
    ("zone", "known"),
    [
        ("America/New_York", True),
        ("UTC", True),
        ("Etc/UTC", True),
        ("Mars/Olympus", False),
        ("", False),
        (None, False),
        ("../../etc/passwd", False),
        ("/etc/localtime", False),
    ],
)
def test_read_zone(zone: str | None, known: bool) -> None:
    assert (read_zone(zone) is not None) is known


def test_to_utc_rejects_time_in_dst_gap() -> None:
    # Berlin clocks go from 02:00 to 03:00 on 2027-03-28.
    with pytest.raises(TimeParseError) as info:
        to_utc(parse_datetime("2027-03-28 02:30"), "Europe/Berlin")
    assert "`2027-03-28 02:30` does not exist in Europe/Berlin" in str(info.value)


def test_to_utc_around_dst_gap() -> None:
    assert to_utc(parse_datetime("2027-03-28 01:59"), "Europe/Berlin") == datetime(2027, 3, 28, 0, 59, tzinfo=UTC)
    assert to_utc(parse_datetime("2027-03-28 03:00"), "Europe/Berlin") == datetime(2027, 3, 28, 1, 0, tzinfo=UTC)


def test_to_utc_fold_takes_first_occurrence() -> None:
    # Berlin clocks go from 03:00 back to 02:00 on 2027-10-31: 02:30 happens at 00:30 and at 01:30 UTC.
    assert to_utc(parse_datetime("2027-10-31 02:30"), "Europe/Berlin") == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


def test_to_utc_gap_in_new_york() -> None:
    with pytest.raises(TimeParseError, match="does not exist in America/New_York"):
        to_utc(parse_datetime("2027-03-14 02:15"), "America/New_York")


def test_aware_value_keeps_its_fixed_offset() -> None:
    parsed = parse_datetime("2026-06-01 12:00 -05:00")
    assert parsed.value.tzinfo == timezone(timedelta(hours=-5))
