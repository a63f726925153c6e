"""Working hours in a person's zone: parsing the settings, the next working moment, a working day later."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from domain.workhours import (
    WorkHours,
    after_working_day,
    is_working,
    next_working_day_start,
    next_working_moment,
    parse_days,
    parse_hours,
    working_day,
    zone,
)

H = WorkHours()
TOKYO, LONDON, NEW_YORK = ZoneInfo("Asia/Tokyo"), ZoneInfo("Europe/London"), ZoneInfo("America/New_York")
TUE_16 = datetime(2027, 1, 12, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "tz", "expected"),
    [
        (TUE_16, LONDON, TUE_16),  # 16:00 in London: now
        (TUE_16, NEW_YORK, TUE_16),  # 11:00 in New York: now
        (TUE_16, TOKYO, datetime(2027, 1, 13, 0, 0, tzinfo=UTC)),  # 01:00 Wednesday in Tokyo: 09:00
        (datetime(2027, 1, 12, 17, 0, tzinfo=UTC), LONDON, datetime(2027, 1, 13, 9, 0, tzinfo=UTC)),  # 17:00 ends
        (datetime(2027, 1, 15, 18, 0, tzinfo=UTC), LONDON, datetime(2027, 1, 18, 9, 0, tzinfo=UTC)),  # Fri → Mon
        (datetime(2027, 1, 16, 3, 0, tzinfo=UTC), TOKYO, datetime(2027, 1, 18, 0, 0, tzinfo=UTC)),  # Sat → Mon
        (datetime(2027, 7, 12, 8, 30, tzinfo=UTC), LONDON, datetime(2027, 7, 12, 8, 30, tzinfo=UTC)),  # BST 09:30
    ],
)
def test_next_working_moment(now: datetime, tz: ZoneInfo, expected: datetime) -> None:
    assert next_working_moment(now, tz, H) == expected
    assert is_working(expected, tz, H)


def test_working_day_is_the_local_date_and_a_working_day_later_skips_the_weekend() -> None:
    assert working_day(TUE_16, TOKYO).isoformat() == "2027-01-13"
    assert after_working_day(datetime(2027, 1, 13, 16, 0, tzinfo=UTC), ZoneInfo("Europe/Berlin"), H) == datetime(
        2027, 1, 14, 16, 0, tzinfo=UTC
    )
    assert after_working_day(datetime(2027, 1, 15, 16, 0, tzinfo=UTC), LONDON, H) == datetime(
        2027, 1, 18, 16, 0, tzinfo=UTC
    )
    assert next_working_day_start(TUE_16, LONDON, H) == datetime(2027, 1, 13, 9, 0, tzinfo=UTC)


def test_settings_forms() -> None:
    assert parse_hours("08:30-18:00") == (time(8, 30), time(18, 0))
    assert parse_hours(" 9:00 - 17:00 ") == (time(9, 0), time(17, 0))
    assert parse_days("mon-fri") == frozenset(range(5))
    assert parse_days("sun-thu") == frozenset({6, 0, 1, 2, 3})
    assert parse_days("mon,wed, fri") == frozenset({0, 2, 4})
    sunday_week = WorkHours(time(9), time(17), parse_days("sun-thu"))
    assert is_working(datetime(2027, 1, 17, 10, 0, tzinfo=UTC), UTC, sunday_week)  # a Sunday
    assert zone("Not/AZone") is UTC and zone(None) is UTC
    berlin = ZoneInfo("Europe/Berlin")
    assert zone(None, fallback=berlin) is berlin and zone("Not/AZone", fallback=berlin) is berlin


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("9-5", "`9-5` is not a span of hours: write it as 09:00-17:00"),
        ("17:00-09:00", "ends before it starts"),
        ("09:00-24:30", "ends after 24:00"),
        ("25:00-26:00", "is not a span of hours"),
    ],
)
def test_bad_hours(text: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_hours(text)
    assert fragment in str(info.value)


@pytest.mark.parametrize("text", ["", "weekdays", "mon-fry", "mon--fri", "mon,,fri"])
def test_bad_days(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_days(text)
    assert "is not a list of days: write e.g. mon-fri or mon,tue,thu" in str(info.value)
