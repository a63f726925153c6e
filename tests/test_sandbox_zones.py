"""The stand-in with a person whose Slack zone this machine does not know: shown on the UTC clock and
labelled so, never failing the page; a seeding typo is still refused."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pytest

from sandbox.page_view import ClientState, PageView
from sandbox.team import seed
from sandbox.webapi import SlackStandIn


def test_an_unknown_zone_is_shown_as_utc_and_says_so() -> None:
    standin = SlackStandIn()
    team = seed(standin)
    standin.add_user("UMARS", name="mira", tz="Mars/Olympus", tz_offset=-5 * 3600)
    page = PageView(standin, team, ClientState())
    mars = next(p for p in page.state("UMARS")["people"] if p["id"] == "UMARS")
    assert mars["tz"] == "Mars/Olympus" and mars["tz_abbr"] == "UTC: zone unknown here"
    known = page.state(team.people[0].id)["me"]
    assert known["tz_abbr"] != "UTC: zone unknown here"
    # What Slack says about the person is Slack's own offset, as users.info would send it.
    info = next(u for u in standin.users() if u["id"] == "UMARS")
    assert (info["tz"], info["tz_offset"], info["tz_label"]) == ("Mars/Olympus", -18000, "Mars/Olympus")


def test_the_pages_clock_runs_in_the_persons_zone_or_on_utc_when_it_is_unknown() -> None:
    standin = SlackStandIn()
    team = seed(standin)
    standin.add_user("UMARS", name="mira", tz="Mars/Olympus", tz_offset=-5 * 3600)
    page = PageView(standin, team, ClientState())
    wanda = page.state("UWBO")["me"]
    assert wanda["clock_tz"] == "America/New_York"
    offset = datetime.now(ZoneInfo("America/New_York")).utcoffset()
    assert offset is not None and wanda["utc_offset"] == int(offset.total_seconds())
    mars = page.state("UMARS")["me"]
    assert (mars["clock_tz"], mars["utc_offset"]) == ("UTC", 0), "the same clock as its dates: UTC, said so"


def test_a_misspelt_zone_without_slacks_offset_is_refused_at_seeding() -> None:
    standin = SlackStandIn()
    with pytest.raises(ZoneInfoNotFoundError):
        standin.add_user("UTYPO", name="typo", tz="Europe/Berlln")
