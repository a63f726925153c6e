"""Nudges with a controlled clock: approvers in Tokyo, London and New York are DMed inside their own
09:00–17:00 only, once per working day; the release thread hears once when the gate is due, the Project
Manager a working day later; two sender processes on one database send each nudge exactly once.

The app's own parts run in this process (or in two child processes) against the Slack stand-in over
HTTP and a real database of each backend; only the clock is given, tick by tick."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from bot.app import build_components
from bot.components import Components
from bot.nudges import nudge_tick, snooze
from bot.settings import Settings, load_settings
from bot.slack.payload import Actor
from domain.model import Subject, SubjectKind
from domain.roles import ROLES_BY_KEY
from domain.template import parse_template
from messages.common import Rendered
from sandbox.webapi import SlackStandIn
from storage import releases
from storage.migrate import upgrade
from storage.models import ChecklistItem, Release
from tests.databases import backends, fresh_database
from tests.harness import BOT_TOKEN, TEAM, standin

# The gate is due on Wednesday 13 January 2027 at 16:00 UTC; the nudges start 24 h before.
DUE = datetime(2027, 1, 13, 16, 0, tzinfo=UTC)
START = DUE - timedelta(hours=28)  # Tuesday 12:00 UTC
END = DUE + timedelta(hours=28)  # Thursday 20:00 UTC
APPROVERS = {"UMA": "Asia/Tokyo", "UOCM": "Europe/London", "UPM": "America/New_York"}
CHANNEL = "CNUDGE0001"


def _template() -> dict[str, object]:
    return {
        "key": "nudge-test",
        "name": "Nudge test",
        "version": "1",
        "source": "test",
        "default_duration": "4h",
        "nudge_lead": "24h",
        "roles": [
            {"key": "project-manager", "name": "Project Manager"},
            {"key": "workload-business-owner", "name": "Workload Business Owner"},
        ],
        "phases": [
            {
                "key": "change_comm",
                "title": "Plan change communication",
                "roles": ["project-manager"],
                "items": [
                    {
                        "key": "cc.window_appr",
                        "title": "Approve the outage window",
                        "responsible": ["project-manager"],
                        "approvers": ["workload-business-owner"],
                        "due": "-1d",
                        "source": "test",
                    }
                ],
            }
        ],
    }


def ticks() -> list[datetime]:
    out, now = [], START
    while now <= END:
        out.append(now)
        now += timedelta(hours=1)
    return out


def settings(api: SlackStandIn, url: str) -> Settings:
    return load_settings(
        Settings, slack_bot_token=BOT_TOKEN, slack_api_url=api.base_url, database_url=url, slack_timeout=2
    )


@dataclass
class World:
    api: SlackStandIn
    url: str
    c: Components
    release_id: int


@asynccontextmanager
async def world(backend: str, tmp: Path) -> AsyncIterator[World]:
    with fresh_database(backend, tmp) as url, standin() as api:
        await asyncio.to_thread(upgrade, url)
        api.add_channel(CHANNEL, name="rel-nudges", is_private=False, members=(*APPROVERS, "UBOT"))
        c = build_components(settings(api, url))
        try:
            spec = releases.NewReleaseSpec(
                TEAM, CHANNEL, "UPM", "Payroll", "", DUE + timedelta(days=1), DUE + timedelta(days=1, hours=4),
                "Europe/Berlin", parse_template(_template()),
            )  # fmt: skip
            release = await releases.create_release(c.sessions, spec)
            async with c.sessions() as s, s.begin():
                people = [Subject(SubjectKind.USER, u) for u in APPROVERS]
                await releases.assign(s, release.id, ROLES_BY_KEY["workload-business-owner"], people, "UPM")
            await c.live.publish(release.id)
            yield World(api, url, c, release.id)
        finally:
            await c.tasks.drain()
            await c.close()


def dms(api: SlackStandIn, user: str, prefix: str) -> list[dict[str, object]]:
    return [m for m in api.messages(api.dm_channel(user)) if str(m["text"]).startswith(prefix)]


def thread_mentions(api: SlackStandIn) -> list[dict[str, object]]:
    summary = api.messages(CHANNEL)[0]
    return [m for m in api.thread(CHANNEL, summary["ts"]) if str(m["text"]).startswith("Sign-off due")]


@pytest.mark.parametrize("backend", backends())
async def test_each_approver_nudged_in_their_own_hours_once_a_day_then_escalation(backend: str, tmp_path: Path) -> None:
    async with world(backend, tmp_path) as w:
        seen: dict[str, list[datetime]] = {u: [] for u in APPROVERS}
        mentioned: list[datetime] = []
        pm_told: list[datetime] = []
        for now in ticks():
            await nudge_tick(w.c, now, "test")
            for user in APPROVERS:
                seen[user] += [now] * (len(dms(w.api, user, "Sign-off waiting")) - len(seen[user]))
            mentioned += [now] * (len(thread_mentions(w.api)) - len(mentioned))
            pm_told += [now] * (len(dms(w.api, "UPM", "Overdue sign-off")) - len(pm_told))

        for user, tz in APPROVERS.items():
            local = [t.astimezone(ZoneInfo(tz)) for t in seen[user]]
            assert local, f"{user} was never nudged"
            assert all(t.weekday() < 5 and 9 <= t.hour < 17 for t in local), (user, local)
            assert len({t.date() for t in local}) == len(local), f"{user} nudged twice on a day: {local}"
        # Each at the first working moment in their zone once the lead time began (Tuesday 16:00 UTC).
        assert seen["UOCM"][0] == datetime(2027, 1, 12, 16, 0, tzinfo=UTC)  # 16:00 in London
        assert seen["UPM"][0] == datetime(2027, 1, 12, 16, 0, tzinfo=UTC)  # 11:00 in New York
        assert seen["UMA"][0] == datetime(2027, 1, 13, 0, 0, tzinfo=UTC)  # 09:00 Wednesday in Tokyo
        assert len(seen["UOCM"]) == 3 and len(seen["UPM"]) == 3 and len(seen["UMA"]) == 2  # Tue–Thu / Wed–Thu

        # Unanswered at its due time: one mention in the release thread; a working day later, the PM.
        assert mentioned == [DUE]
        assert pm_told == [DUE + timedelta(days=1)]  # Thursday, the same hour in Berlin
        assert max(s[0] for s in seen.values()) < mentioned[0] < pm_told[0]
        mention = thread_mentions(w.api)[0]
        assert all(f"<@{u}>" in json.dumps(mention) for u in APPROVERS)

        # Every nudge is on the release's event log, and /release status can count them.
        async with w.c.sessions() as s:
            from storage.nudges import nudge_counts

            counts = {n.user_id: (n.count, n.since) for n in await nudge_counts(s, w.release_id)}
        assert counts == {u: (len(seen[u]), seen[u][0]) for u in APPROVERS}


@pytest.mark.parametrize("backend", backends())
async def test_a_snoozed_approver_is_not_nudged_until_the_snooze_ends(backend: str, tmp_path: Path) -> None:
    async with world(backend, tmp_path) as w:
        told: list[Rendered] = []

        async def reply(r: Rendered) -> None:
            told.append(r)

        (item_id,) = await _gate_ids(w)
        who = Actor(team_id=TEAM, user_id="UOCM", channel_id="", trigger_id="")
        wednesday = datetime(2027, 1, 13, 8, 30, tzinfo=UTC)
        await snooze(w.c, who, item_id, tomorrow=False, reply=reply, now=wednesday)
        assert "Snoozed" in told[0].text and "<!date^" in str(told[0].blocks[0].to_dict())
        for hour in (9, 10):  # inside London's working hours, but snoozed until 10:30
            await nudge_tick(w.c, wednesday.replace(hour=hour, minute=0), "test")
        assert dms(w.api, "UOCM", "Sign-off waiting") == []
        assert len(dms(w.api, "UPM", "Sign-off waiting")) == 0  # 04:00/05:00 in New York: not yet
        await nudge_tick(w.c, wednesday.replace(hour=11, minute=0), "test")
        assert len(dms(w.api, "UOCM", "Sign-off waiting")) == 1

        # Snooze until tomorrow: the start of the next working day in the person's own zone.
        await snooze(w.c, who, item_id, tomorrow=True, reply=reply, now=wednesday.replace(hour=12))
        assert "1799917200" in str(told[1].blocks[0].to_dict())  # Thursday 14 January 2027 09:00 in London


@pytest.mark.parametrize("backend", backends())
async def test_an_approver_whose_zone_is_unknown_is_nudged_in_the_releases_hours(backend: str, tmp_path: Path) -> None:
    async with world(backend, tmp_path) as w:
        # Slack names a zone this machine cannot read: the release's zone (Berlin) stands in, not UTC.
        w.api.add_user("UMARS", name="mars", tz="Mars/Olympus_Mons", tz_offset=0)
        async with w.c.sessions() as s, s.begin():
            role = ROLES_BY_KEY["workload-business-owner"]
            await releases.assign(s, w.release_id, role, [Subject(SubjectKind.USER, "UMARS")], "UPM")
        seen: list[datetime] = []
        for now in ticks():
            await nudge_tick(w.c, now, "test")
            seen += [now] * (len(dms(w.api, "UMARS", "Sign-off waiting")) - len(seen))
        berlin = [t.astimezone(ZoneInfo("Europe/Berlin")) for t in seen]
        assert berlin and all(9 <= t.hour < 17 for t in berlin), berlin
        # Tuesday 16:00 UTC is 17:00 in Berlin, after hours (in UTC it would have been inside them).
        assert seen[0] == datetime(2027, 1, 13, 8, 0, tzinfo=UTC)  # Wednesday 09:00 in Berlin

        # Snooze until tomorrow: the start of the next working day in Berlin.
        told: list[Rendered] = []

        async def reply(r: Rendered) -> None:
            told.append(r)

        (item_id,) = await _gate_ids(w)
        who = Actor(team_id=TEAM, user_id="UMARS", channel_id="", trigger_id="")
        await snooze(w.c, who, item_id, tomorrow=True, reply=reply, now=datetime(2027, 1, 13, 12, 0, tzinfo=UTC))
        thursday_9_berlin = int(datetime(2027, 1, 14, 8, 0, tzinfo=UTC).timestamp())
        assert str(thursday_9_berlin) in str(told[0].blocks[0].to_dict())


async def _gate_ids(w: World) -> list[int]:
    from storage.queries import load_release_view

    async with w.c.sessions() as s:
        view = await load_release_view(s, w.release_id)
    assert view is not None
    return [i.id for i in view.items]


@pytest.mark.parametrize("backend", backends())
async def test_a_gate_due_before_the_release_existed_is_nudged_but_never_escalated(
    backend: str, tmp_path: Path
) -> None:
    async with world(backend, tmp_path) as w:
        (item_id,) = await _gate_ids(w)
        async with w.c.sessions() as s, s.begin():
            await s.execute(
                update(ChecklistItem).where(ChecklistItem.id == item_id).values(due_at=datetime(2026, 1, 1, tzinfo=UTC))
            )
        for now in ticks():
            await nudge_tick(w.c, now, "test")
        assert len(dms(w.api, "UOCM", "Sign-off waiting")) == 3
        assert thread_mentions(w.api) == [] and dms(w.api, "UPM", "Overdue sign-off") == []


CHILD = """
import asyncio, json, sys
from datetime import datetime
from bot.app import build_components
from bot.nudges import nudge_tick
from bot.settings import Settings, load_settings

async def main() -> None:
    url, api, worker, nows, token = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), sys.argv[5]
    c = build_components(load_settings(Settings, slack_bot_token=token, slack_api_url=api, database_url=url))
    sent = 0
    for now in nows:
        sent += await nudge_tick(c, datetime.fromisoformat(now), worker)
    await c.close()
    print(sent)

asyncio.run(main())
"""


@pytest.mark.parametrize("backend", backends())
async def test_two_sender_processes_send_each_nudge_exactly_once(backend: str, tmp_path: Path) -> None:
    async with world(backend, tmp_path) as w:
        nows = json.dumps([t.isoformat() for t in ticks()])
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-c",
                CHILD,
                w.url,
                w.api.base_url,
                f"proc-{n}",
                nows,
                BOT_TOKEN,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            for n in (1, 2)
        ]
        outs = [await asyncio.wait_for(p.communicate(), timeout=240) for p in procs]
        assert all(p.returncode == 0 for p in procs), [o[1].decode()[-2000:] for o in outs]
        sent = [int(o[0].decode().strip().splitlines()[-1]) for o in outs]
        nudges = {u: len(dms(w.api, u, "Sign-off waiting")) for u in APPROVERS}
        assert nudges == {"UOCM": 3, "UPM": 3, "UMA": 2}
        assert len(thread_mentions(w.api)) == 1
        assert len(dms(w.api, "UPM", "Overdue sign-off")) == 1
        assert sum(sent) == sum(nudges.values()) + 2  # every send counted once, by whichever process won


@pytest.mark.parametrize("backend", backends())
async def test_a_rehearsal_nudges_nobody(backend: str, tmp_path: Path) -> None:
    async with world(backend, tmp_path) as w:
        async with w.c.sessions() as s, s.begin():
            await s.execute(update(Release).where(Release.id == w.release_id).values(rehearsal_factor=3600))
        for now in ticks():
            await nudge_tick(w.c, now, "test")
        assert all(dms(w.api, user, "Sign-off waiting") == [] for user in APPROVERS)
        assert thread_mentions(w.api) == [] and dms(w.api, "UPM", "Overdue sign-off") == []


def test_ticks_cover_tuesday_to_thursday() -> None:
    assert ticks()[0].weekday() == 1 and ticks()[-1].weekday() == 3
