"""The retrospective survey: open, take (anonymously), remind once, close with a summary.

The survey's state changes are guarded in storage/retro.py, so the scheduler may run this in every
process: only the caller that opened (or closed) a survey posts about it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from cachetools import LRUCache
from slack_sdk.errors import SlackApiError

from bot.access import manager_refusal, people_holding
from bot.commands.types import Retro, RetroStatus
from bot.components import Components
from bot.slack.payload import Actor
from bot.slack.replies import Reply, nobody, payload, send_dm
from domain.model import ReleaseView
from domain.retro import MAX_REMINDER, SurveyState, reminder_due, summarize, validate_answers
from domain.template import SurveyQuestion
from domain.time import utcnow
from messages.common import Rendered
from messages.help import info_message
from messages.retro import (
    retro_status_message,
    survey_dm_message,
    survey_invite_message,
    survey_modal,
    survey_reminder_message,
    survey_summary_message,
)
from storage import retro as store
from storage.app_secrets import get_or_create_secret
from storage.queries import load_release_header, load_release_view

if TYPE_CHECKING:  # types only: the SQL lives in storage/
    from sqlalchemy.ext.asyncio import AsyncEngine

    from storage.models import Survey

log = logging.getLogger(__name__)

# The key of respondent keys is the app's own, in the database: rotating the bot token changes nothing.
RESPONDENT_SECRET = "survey.respondent_key"
_respondent_secrets: weakref.WeakKeyDictionary[AsyncEngine, str] = weakref.WeakKeyDictionary()


def respondent_key(secret: str, salt: str, user_id: str) -> str:
    """Who answered, without storing who: a one-way key, so the same person can edit their answer.

    Keyed by the app's stored secret while the survey is open; closing an anonymous survey replaces
    the keys with random ones (storage/retro.py), so afterwards nothing links an answer to a person."""
    return hmac.new(secret.encode(), f"{salt}:{user_id}".encode(), hashlib.sha256).hexdigest()


def questions_for(release: ReleaseView) -> tuple[SurveyQuestion, ...]:
    return release.template.survey


async def show_status(c: Components, _who: Actor, release: ReleaseView, _cmd: RetroStatus) -> Rendered:
    async with c.sessions() as s:
        survey = await store.survey_for(s, release.id)
        view = await store.survey_view(s, survey) if survey else None
    return retro_status_message(release, view, command=c.settings.slash_command)


async def run_command(c: Components, who: Actor, release: ReleaseView, cmd: Retro, reply: Reply) -> None:
    """`retro open|close`: the release manager's hand on the survey's clock."""
    if refusal := await manager_refusal(c.directory, release, who.user_id, f"{cmd.action} the retrospective of"):
        await reply(refusal)
        return
    # Whether the release's state allows it was asked before this ran (domain/states.py).
    if cmd.action == "close":
        await close_survey(c, release.id, reply)
    else:
        await open_survey(c, release.id, reply)


async def open_survey(c: Components, release_id: int, reply: Reply = nobody) -> bool:
    """Open now (scheduled or not yet planned). Only the caller that flips the state posts the invites."""
    async with c.sessions() as s, s.begin():
        won = await store.open_survey(s, release_id, utcnow())
    if not won:
        await reply(info_message("The retrospective survey is already open or closed."))
        return False
    async with c.sessions() as s:
        release = await load_release_view(s, release_id)
        survey = await store.survey_for(s, release_id)
    assert release is not None and survey is not None
    # Invite whoever can be reached now; a group Slack would not list is logged by people_holding.
    people, _unread = await people_holding(c.directory, release)
    async with c.sessions() as s, s.begin():
        await store.set_invited(s, survey.id, len(people))
        view = await store.survey_view(s, survey)
    try:
        await c.client.chat_postMessage(channel=release.channel_id, **payload(survey_invite_message(release, view)))
    except SlackApiError as e:
        log.warning("could not post the survey invite for %s: %s", release.key, e.response.get("error"))
    for person in sorted(people):
        await send_dm(c.client, person, survey_dm_message(release, view))
    await reply(info_message(f"The retrospective survey of {release.key} is open; {len(people)} people invited."))
    return True


async def take(c: Components, who: Actor, survey_id: int, reply: Reply) -> None:
    """The survey button: the form at once, then the person's earlier answers filled in.

    A trigger is good for 3 s and a burst of clicks shares one event loop, so the click does one
    cheap read (the survey row) and opens the survey's blank form, built once per survey and kept.
    Earlier answers need the respondent key and another read: they follow by ``views.update``."""
    async with c.sessions() as s:
        survey = await store.get_survey(s, survey_id)
        if survey is None:
            await reply(info_message(":warning: That survey no longer exists."))
            return
        state, anonymous, salt, release_id = SurveyState(survey.state), survey.anonymous, survey.salt, survey.release_id
        blank = _blank_forms.get((c.engine, survey_id))
        if blank is None:
            release = await load_release_header(s, release_id)
            if release is None:
                return
            view = await store.survey_view(s, survey)
            blank = _BlankForm(release.key, survey_modal(release, view, questions_for(release), None).to_dict())
            if state is SurveyState.OPEN:
                _blank_forms[(c.engine, survey_id)] = blank
    if state is not SurveyState.OPEN:
        await reply(info_message(f"The retrospective survey of {blank.release_key} is {state.value}."))
        return
    try:
        opened = await c.client.views_open(trigger_id=who.trigger_id, view=blank.modal)
    except SlackApiError as e:
        await reply(info_message(f":warning: Slack would not open the survey ({e.response.get('error')}); try again."))
        return
    secret = await respondent_secret(c)
    key = user_key(secret, anonymous, salt, who.user_id)
    async with c.sessions() as s:
        previous = await store.response_of(s, survey_id, key)
        if previous is None:
            return
        survey = await store.get_survey(s, survey_id)
        release = await load_release_header(s, release_id)
        if survey is None or release is None:
            return
        view = await store.survey_view(s, survey)
    modal = survey_modal(release, view, questions_for(release), dict(previous.answers))
    shown = opened.get("view") or {}
    try:
        await c.client.views_update(view_id=shown.get("id"), hash=shown.get("hash"), view=modal)
    except SlackApiError as e:
        # The person may already have typed into the blank form (hash_conflict): theirs wins.
        log.info("survey %s: earlier answers not filled in: %s", survey_id, e.response.get("error"))


@dataclass(frozen=True)
class _BlankForm:
    release_key: str
    modal: dict[str, Any]


# The survey's form before anyone's answers, by (engine, survey); surveys open for days, a few at a time.
_blank_forms: LRUCache[tuple[AsyncEngine, int], _BlankForm] = LRUCache(256)


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
    return user_key(secret, survey.anonymous, survey.salt, user_id)


def user_key(secret: str, anonymous: bool, salt: str, user_id: str) -> str:
    return respondent_key(secret, salt, user_id) if anonymous else user_id


async def check_submission(
    c: Components, survey_id: int | None, raw: dict[str, str | None]
) -> tuple[int, dict[str, Any]] | dict[str, str]:
    """(survey id, clean answers), or the errors to show in the form (they travel in the ack)."""
    if survey_id is None:
        return {"went_well": "This form is damaged; close it and open the survey again."}
    async with c.sessions() as s:
        survey = await store.get_survey(s, survey_id)
        release = await load_release_header(s, survey.release_id) if survey else None
    if survey is None or release is None:
        return {"went_well": "This survey no longer exists."}
    questions = questions_for(release)
    answers, errors = validate_answers(questions, {q.key: raw.get(q.key) for q in questions})
    if survey.state != SurveyState.OPEN.value:
        errors = {questions[0].key: "The survey is closed; answers are no longer accepted."}
    return errors if errors else (survey_id, answers)


async def save(c: Components, who: Actor, survey_id: int, answers: dict[str, Any]) -> None:
    secret = await respondent_secret(c)
    now = utcnow()
    async with c.sessions() as s, s.begin():
        survey = await store.get_survey(s, survey_id)
        if survey is None:
            return
        if survey.anonymous:
            # Exact times could be matched against who was online or got a reminder; the day is enough.
            now = now.replace(hour=0, minute=0, second=0, microsecond=0)
        release_id = await store.save_response(s, survey_id, _key(secret, survey, who.user_id), answers, now)
    if release_id is not None:
        c.tasks.spawn(c.live.refresh(release_id), context="refresh after a survey answer")


async def remind(c: Components, survey_id: int) -> None:
    """The one reminder before the close, to role holders who have not answered."""
    secret = await respondent_secret(c)
    async with c.sessions() as s, s.begin():
        if not await store.claim_reminder(s, survey_id, utcnow()):
            return
    async with c.sessions() as s:
        survey = await store.get_survey(s, survey_id)
        assert survey is not None
        release = await load_release_view(s, survey.release_id)
        answered = await store.respondents(s, survey_id)
        view = await store.survey_view(s, survey)
    if release is None:
        return
    people, _unread = await people_holding(c.directory, release)
    for person in sorted(people):
        if _key(secret, survey, person) not in answered:
            await send_dm(c.client, person, survey_reminder_message(release, view))


async def close_survey(c: Components, release_id: int, reply: Reply = nobody) -> bool:
    async with c.sessions() as s, s.begin():
        survey = await store.close_survey(s, release_id, utcnow())
    if survey is None:
        await reply(info_message("There is no open retrospective survey to close."))
        return False
    async with c.sessions() as s:
        release = await load_release_view(s, release_id)
        fresh = await store.get_survey(s, survey.id)
        assert release is not None and fresh is not None
        view = await store.survey_view(s, fresh)
        facts = await store.release_facts(s, release_id)
        answers = await store.responses(s, survey.id)
    summaries = summarize(questions_for(release), answers)
    try:
        await c.client.chat_postMessage(
            channel=release.channel_id, **payload(survey_summary_message(release, view, summaries, facts))
        )
    except SlackApiError as e:
        log.warning("could not post the retro summary of %s: %s", release.key, e.response.get("error"))
    c.tasks.spawn(c.live.refresh(release_id), context=f"refresh {release.key}")
    await reply(info_message(f"Closed the retrospective survey of {release.key} with {view.responses} answers."))
    return True


async def due_work(c: Components, now: datetime | None = None) -> None:
    """Open, remind and close surveys whose time has come. Safe to run in every process."""
    now = now or utcnow()
    async with c.sessions() as s:
        to_open = await store.due_surveys(s, state=SurveyState.SCHEDULED, field="opens_at", now=now)
        to_close = await store.due_surveys(s, state=SurveyState.OPEN, field="closes_at", now=now)
        # Every survey whose reminder could be due by a real release's clock; a rehearsal's is nearer.
        # (the longest reminder lead a template may set)
        closing = await store.due_surveys(s, state=SurveyState.OPEN, field="closes_at", now=now + MAX_REMINDER)
        to_remind = [x for x in closing if x.reminded_at is None]
        factors = await store.rehearsal_factors(s, [x.release_id for x in to_remind])
        leads = await store.reminder_leads(s, [x.release_id for x in to_remind])
    for survey in to_open:
        await open_survey(c, survey.release_id)
    for survey in to_remind:
        if reminder_due(survey.closes_at, factors.get(survey.release_id), now, leads[survey.release_id]):
            await remind(c, survey.id)
    for survey in to_close:
        await close_survey(c, survey.release_id)
