"""The retrospective survey: open, take (anonymously), remind once, close with a summary."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import weakref
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.components import Components
from bot.replies import payload
from domain.model import ReleaseView, SubjectKind
from domain.rehearsal import scaled
from domain.retro import SurveyState, summarize, validate_answers
from domain.template import SurveyQuestion, load_template
from domain.time import utcnow
from messages.common import Rendered
from messages.help import info_message
from messages.retro import (
    survey_dm_message,
    survey_invite_message,
    survey_modal,
    survey_reminder_message,
    survey_summary_message,
)
from storage.app_secrets import get_or_create_secret
from storage.models import Release, Survey, SurveyResponse
from storage.queries import load_release_header, load_release_view
from storage.retro import (
    due_surveys,
    rehearsal_factors,
    release_facts,
    respondents,
    response_of,
    responses,
    survey_for,
    survey_view,
)

log = logging.getLogger(__name__)

Tell = Callable[[Rendered], Awaitable[None]]
REMIND_BEFORE_CLOSE = timedelta(days=1)
RESPONDENT_SECRET = "survey.respondent_key"  # the app's own, in the database: rotating the bot token changes nothing
_respondent_secrets: weakref.WeakKeyDictionary[AsyncEngine, str] = weakref.WeakKeyDictionary()


def respondent_key(secret: str, salt: str, user_id: str) -> str:
    """Who answered, without storing who: a one-way key, so the same person can edit their answer."""
    return hmac.new(secret.encode(), f"{salt}:{user_id}".encode(), hashlib.sha256).hexdigest()


def questions_for(release: ReleaseView) -> tuple[SurveyQuestion, ...]:
    return load_template(release.template_key).survey


async def holders(c: Components, release: ReleaseView) -> set[str]:
    """Everyone holding a role on the release, user groups expanded."""
    people: set[str] = set()
    for a in release.assignments:
        if a.subject.kind is SubjectKind.USER:
            people.add(a.subject.id)
        else:
            try:
                people |= await c.directory.group_members(a.subject.id)
            except SlackApiError as e:
                log.warning("could not expand group %s: %s", a.subject.id, e.response.get("error"))
    return people


async def dm(c: Components, user_id: str, r: Rendered) -> None:
    try:
        opened = await c.client.conversations_open(users=user_id)
        await c.client.chat_postMessage(channel=opened["channel"]["id"], **payload(r))
    except SlackApiError as e:
        log.warning("could not DM %s: %s", user_id, e.response.get("error"))


async def open_survey(c: Components, release_id: int, tell: Tell | None = None) -> bool:
    """Open now (scheduled or not yet planned). Only the caller that flips the state posts the invites."""
    now = utcnow()
    async with c.sessions() as s, s.begin():
        survey = await survey_for(s, release_id)
        if survey is None:
            release_factor = (await rehearsal_factors(s, [release_id])).get(release_id)
            s.add(
                Survey(
                    release_id=release_id,
                    state=SurveyState.OPEN.value,
                    anonymous=True,
                    salt=secrets.token_hex(16),
                    opens_at=now,
                    closes_at=now + scaled(timedelta(days=7), release_factor),
                    opened_at=now,
                    invited=0,
                )
            )
            won = True
        else:
            result = await s.execute(
                update(Survey)
                .where(Survey.id == survey.id, Survey.state == SurveyState.SCHEDULED.value)
                .values(state=SurveyState.OPEN.value, opened_at=now, opens_at=now)
            )
            won = result.rowcount == 1  # type: ignore[attr-defined]
    if not won:
        if tell:
            await tell(info_message("The retrospective survey is already open or closed."))
        return False
    async with c.sessions() as s:
        release = await load_release_view(s, release_id)
        survey = await survey_for(s, release_id)
    assert release is not None and survey is not None
    people = await holders(c, release)
    async with c.sessions() as s, s.begin():
        await s.execute(update(Survey).where(Survey.id == survey.id).values(invited=len(people)))
        row = await s.get(Survey, survey.id)
        assert row is not None
        view = await survey_view(s, row)
    try:
        await c.client.chat_postMessage(channel=release.channel_id, **payload(survey_invite_message(release, view)))
    except SlackApiError as e:
        log.warning("could not post the survey invite for %s: %s", release.key, e.response.get("error"))
    for person in sorted(people):
        await dm(c, person, survey_dm_message(release, view))
    if tell:
        await tell(info_message(f"The retrospective survey of {release.key} is open; {len(people)} people invited."))
    return True


async def take(c: Components, survey_id: int, user_id: str, trigger_id: str, tell: Tell) -> None:
    secret = await respondent_secret(c)
    async with c.sessions() as s:
        survey = await s.get(Survey, survey_id)
        if survey is None:
            await tell(info_message(":warning: That survey no longer exists."))
            return
        release = await load_release_header(s, survey.release_id)
        previous = await response_of(s, survey.id, _key(secret, survey, user_id))
        view = await survey_view(s, survey)
    if release is None:
        return
    if view.state is not SurveyState.OPEN:
        await tell(info_message(f"The retrospective survey of {release.key} is {view.state.value}."))
        return
    modal = survey_modal(release, view, questions_for(release), dict(previous.answers) if previous else None)
    try:
        await c.client.views_open(trigger_id=trigger_id, view=modal)
    except SlackApiError as e:
        await tell(info_message(f":warning: Slack would not open the survey ({e.response.get('error')}); try again."))


async def respondent_secret(c: Components) -> str:
    """The key of respondent keys: made once, stored, then read once per process (it never changes).

    Read before opening another session: on SQLite a second open transaction would wait for the first.
    """
    secret = _respondent_secrets.get(c.engine)
    if secret is None:
        async with c.sessions() as s, s.begin():
            secret = await get_or_create_secret(s, RESPONDENT_SECRET)
        _respondent_secrets[c.engine] = secret
    return secret


def _key(secret: str, survey: Survey, user_id: str) -> str:
    if not survey.anonymous:
        return user_id
    return respondent_key(secret, survey.salt, user_id)


def raw_answers(view: dict[str, Any], questions: tuple[SurveyQuestion, ...]) -> dict[str, str | None]:
    values = (view.get("state") or {}).get("values") or {}
    out: dict[str, str | None] = {}
    for q in questions:
        element = (values.get(q.key) or {}).get(q.key) or {}
        if "selected_option" in element:
            option = element.get("selected_option") or {}
            out[q.key] = option.get("value")
        else:
            out[q.key] = element.get("value")
    return out


async def check_submission(c: Components, view: dict[str, Any]) -> tuple[int, dict[str, Any]] | dict[str, str]:
    """(survey id, clean answers), or the errors to show in the modal."""
    try:
        survey_id = int(str(view.get("private_metadata")))
    except ValueError:
        return {"went_well": "This form is damaged; close it and open the survey again."}
    async with c.sessions() as s:
        survey = await s.get(Survey, survey_id)
        release = await load_release_view(s, survey.release_id) if survey else None
    if survey is None or release is None:
        return {"went_well": "This survey no longer exists."}
    questions = questions_for(release)
    answers, errors = validate_answers(questions, raw_answers(view, questions))
    if survey.state != SurveyState.OPEN.value:
        errors = {questions[0].key: "The survey is closed; answers are no longer accepted."}
    return errors if errors else (survey_id, answers)


async def save(c: Components, survey_id: int, user_id: str, answers: dict[str, Any]) -> None:
    now = utcnow()
    secret = await respondent_secret(c)
    async with c.sessions() as s, s.begin():
        survey = await s.get(Survey, survey_id)
        if survey is None or survey.state != SurveyState.OPEN.value:
            return
        key = _key(secret, survey, user_id)
        if survey.anonymous:
            # Exact times could be matched against who was online or got a reminder; the day is enough.
            now = now.replace(hour=0, minute=0, second=0, microsecond=0)
        existing = await response_of(s, survey_id, key)
        if existing is None:
            s.add(SurveyResponse(survey_id=survey_id, respondent=key, answers=answers, created_at=now, updated_at=now))
        else:
            existing.answers, existing.updated_at = answers, now
        await s.execute(update(Release).where(Release.id == survey.release_id).values(version=Release.version + 1))
    c.tasks.spawn(c.live.refresh(survey.release_id), context="refresh after a survey answer")


async def remind(c: Components, survey_id: int) -> None:
    """The one reminder before the close, to role holders who have not answered."""
    now = utcnow()
    async with c.sessions() as s, s.begin():
        result = await s.execute(
            update(Survey)
            .where(Survey.id == survey_id, Survey.reminded_at.is_(None), Survey.state == SurveyState.OPEN.value)
            .values(reminded_at=now)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return
    async with c.sessions() as s:
        survey = await s.get(Survey, survey_id)
        assert survey is not None
        release = await load_release_view(s, survey.release_id)
        answered = await respondents(s, survey_id)
        view = await survey_view(s, survey)
    if release is None:
        return
    secret = await respondent_secret(c)
    for person in sorted(await holders(c, release)):
        if _key(secret, survey, person) not in answered:
            await dm(c, person, survey_reminder_message(release, view))


async def close_survey(c: Components, release_id: int, tell: Tell | None = None) -> bool:
    now = utcnow()
    async with c.sessions() as s, s.begin():
        survey = await survey_for(s, release_id)
        won = False
        if survey is not None:
            result = await s.execute(
                update(Survey)
                .where(Survey.id == survey.id, Survey.state == SurveyState.OPEN.value)
                .values(state=SurveyState.CLOSED.value, closed_at=now)
            )
            won = result.rowcount == 1  # type: ignore[attr-defined]
    if not won or survey is None:
        if tell:
            await tell(info_message("There is no open retrospective survey to close."))
        return False
    async with c.sessions() as s:
        release_row = await s.get(Release, release_id)
        release = await load_release_view(s, release_id)
        fresh = await s.get(Survey, survey.id)
        assert release_row is not None and release is not None and fresh is not None
        view = await survey_view(s, fresh)
        facts = await release_facts(s, release_row)
        answers = await responses(s, survey.id)
    summaries = summarize(questions_for(release), answers)
    try:
        await c.client.chat_postMessage(
            channel=release.channel_id, **payload(survey_summary_message(release, view, summaries, facts))
        )
    except SlackApiError as e:
        log.warning("could not post the retro summary of %s: %s", release.key, e.response.get("error"))
    c.tasks.spawn(c.live.refresh(release_id), context=f"refresh {release.key}")
    if tell:
        await tell(info_message(f"Closed the retrospective survey of {release.key} with {view.responses} answers."))
    return True


async def due_work(c: Components, now: datetime | None = None) -> None:
    """Open, remind and close surveys whose time has come. Safe to run in every process."""
    now = now or utcnow()
    async with c.sessions() as s:
        to_open = await due_surveys(s, state=SurveyState.SCHEDULED, field="opens_at", now=now)
        to_close = await due_surveys(s, state=SurveyState.OPEN, field="closes_at", now=now)
        to_remind = [
            x
            for x in await due_surveys(s, state=SurveyState.OPEN, field="closes_at", now=now + REMIND_BEFORE_CLOSE)
            if x.reminded_at is None
        ]
        factors = await rehearsal_factors(s, [x.release_id for x in to_remind])
    for survey in to_open:
        await open_survey(c, survey.release_id)
    for survey in to_remind:
        # A rehearsal reminds on its own clock: a day before close is minutes before close there.
        if survey.closes_at - scaled(REMIND_BEFORE_CLOSE, factors.get(survey.release_id)) <= now < survey.closes_at:
            await remind(c, survey.id)
    for survey in to_close:
        await close_survey(c, survey.release_id)
