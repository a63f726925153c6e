"""End to end: a time typed without an offset is read in the person's Slack zone, or refused when the
app cannot read that zone; never read as UTC. Runs once per backend."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.harness import PEOPLE, Stack

MARS = "UMARS"  # a person whose Slack zone this machine's database does not have


def _channel_with_mars(stack: Stack) -> str:
    ch = stack.channel()
    stack.api.add_user(MARS, name="mira", real_name="Mira", tz="Mars/Olympus", tz_offset=-5 * 3600)
    stack.api.add_channel(ch, name=f"rel-{ch.lower()}", members=(*PEOPLE, MARS, "UBOT"))
    return ch


def _day() -> str:
    """A date about two months ahead, as a person types it."""
    return (datetime.now(UTC) + timedelta(days=60)).strftime("%Y-%m-%d")


def test_a_time_without_offset_is_read_in_the_users_zone(stack: Stack) -> None:
    ch = stack.channel()
    day = _day()
    stack.ok(f"new Payroll --cutover {day} 22:00 --duration 4h", user="UPM", channel=ch, responses=1)
    release = stack.release_in(ch)
    assert release is not None
    meant = datetime.fromisoformat(f"{day}T22:00").replace(tzinfo=ZoneInfo("America/New_York"))
    assert release.cutover_start.replace(tzinfo=UTC) == meant.astimezone(UTC)
    assert release.timezone == "America/New_York"


def test_a_zone_the_app_cannot_read_is_refused_not_read_as_utc(stack: Stack) -> None:
    ch = _channel_with_mars(stack)
    day = _day()
    told = json.dumps(stack.ok(f"new Payroll --cutover {day} 22:00", user=MARS, channel=ch, responses=1))
    assert f"Your Slack time zone `Mars/Olympus` is not one I know, so I can't tell when {day} 22:00 is." in told
    assert f"`{day} 22:00-05:00`" in told and f"`{day}T22:00Z`" in told
    assert stack.release_in(ch) is None  # nothing was created on a guessed clock


def test_with_its_offset_the_same_person_is_understood(stack: Stack) -> None:
    ch = _channel_with_mars(stack)
    day = _day()
    stack.ok(f"new Payroll --cutover {day} 22:00-05:00 --duration 4h", user=MARS, channel=ch, responses=1)
    release = stack.release_in(ch)
    assert release is not None
    meant = datetime.fromisoformat(f"{day}T22:00-05:00")
    assert release.cutover_start.replace(tzinfo=UTC) == meant.astimezone(UTC)
