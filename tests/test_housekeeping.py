"""Scheduled housekeeping against the stand-in, with a controlled clock: reminders and the survey's life."""

from datetime import timedelta

from pydantic import SecretStr
from sqlalchemy import update

from bot.components import Components
from bot.live import LiveMessages
from bot.reminders import remind_overdue
from bot.retro import due_work
from bot.sender import Sender
from bot.settings import Settings
from bot.slack.client import Directory, make_client, make_post_client
from bot.tasks import TaskTracker
from domain.model import Subject, SubjectKind
from domain.roles import resolve_role
from storage import releases
from storage.models import Release, Survey
from tests.conftest import Db
from tests.factories import T0, spec
from tests.harness import BOT_TOKEN, PEOPLE, standin


def components(db: Db, base_url: str) -> Components:
    engine, sessions = db
    settings = Settings(slack_bot_token=SecretStr(BOT_TOKEN), slack_api_url=base_url)
    client = make_client(BOT_TOKEN, base_url)
    return Components(
        settings=settings,
        engine=engine,
        sessions=sessions,
        client=client,
        directory=Directory(client),
        live=LiveMessages(sessions, client),
        tasks=TaskTracker(),
        sender=Sender(sessions, make_post_client(BOT_TOKEN, base_url), worker_id="t", command="/release"),
    )


def dms(api, user: str) -> list[dict]:
    return api.messages(api.dm_channel(user))


async def test_one_reminder_per_overdue_item_after_cutover(db: Db) -> None:
    with standin() as api:
        api.add_channel("C1", name="rel", members=(*PEOPLE, "UBOT"))
        c = components(db, api.base_url)
        rel = await releases.create_release(c.sessions, spec(team="T0CUTOVER", channel="C1"))
        async with c.sessions() as s, s.begin():
            await releases.assign(s, rel.id, resolve_role("com"), [Subject(SubjectKind.USER, "UOCM")], "UPM")
        # Before the cutover nothing is chased, however late.
        assert await remind_overdue(c, T0 + timedelta(days=3)) == 0
        async with c.sessions() as s, s.begin():
            await s.execute(update(Release).where(Release.id == rel.id).values(state="cutting_over", actual_start=T0))
        first = await remind_overdue(c, T0 + timedelta(days=3, hours=1))
        assert first > 0
        reminders = dms(api, "UOCM")
        assert reminders and all("REL-1" in str(m) for m in reminders)
        assert await remind_overdue(c, T0 + timedelta(days=3, hours=2)) == 0  # once, not a stream
        assert len(dms(api, "UOCM")) == len(reminders)
        await c.engine.dispose()


async def test_survey_opens_reminds_and_closes_on_time(db: Db) -> None:
    with standin() as api:
        api.add_channel("C1", name="rel", members=(*PEOPLE, "UBOT"))
        c = components(db, api.base_url)
        rel = await releases.create_release(c.sessions, spec(team="T0CUTOVER", channel="C1"))
        async with c.sessions() as s, s.begin():
            await releases.assign(s, rel.id, resolve_role("ma"), [Subject(SubjectKind.USER, "UMA")], "UPM")
            await s.execute(update(Release).where(Release.id == rel.id).values(state="completed"))
            s.add(
                Survey(
                    release_id=rel.id,
                    state="scheduled",
                    anonymous=True,
                    salt="x",
                    opens_at=T0,
                    closes_at=T0 + timedelta(days=7),
                    invited=0,
                )
            )
        await due_work(c, T0 - timedelta(hours=1))
        assert not [m for m in api.messages("C1") if "retro.take" in str(m)]
        await due_work(c, T0 + timedelta(minutes=1))
        assert len([m for m in api.messages("C1") if "retro.take" in str(m)]) == 1
        assert any("retro.take" in str(m) for m in dms(api, "UMA")) and dms(api, "UPM")
        await due_work(c, T0 + timedelta(days=6, hours=1))  # a day before the close: one reminder
        await due_work(c, T0 + timedelta(days=6, hours=2))
        reminders = [m for m in dms(api, "UMA") if "remind" in str(m).lower() or "closes" in str(m).lower()]
        assert len(dms(api, "UMA")) == 2, reminders
        await due_work(c, T0 + timedelta(days=7, minutes=1))
        summaries = [m for m in api.messages("C1") if "withheld" in str(m).lower()]
        assert len(summaries) == 1  # no answers: withheld, facts only
        await due_work(c, T0 + timedelta(days=8))
        assert len([m for m in api.messages("C1") if "withheld" in str(m).lower()]) == 1
        await c.engine.dispose()
