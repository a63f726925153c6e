"""Surveys in the database: planning, opening, answers, closing, and the facts a retrospective reports."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.announcements import DeliveryState
from domain.model import DecisionKind, DecisionView
from domain.retro import ReleaseFacts, SurveyState, SurveyView, survey_times
from domain.retro import release_facts as facts_of
from domain.template import Template, template_of
from storage import audit
from storage.models import Decision, Delivery, Release, Survey, SurveyResponse
from storage.queries import bump_release_version, load_release_view


async def get_survey(session: AsyncSession, survey_id: int) -> Survey | None:
    return await session.get(Survey, survey_id)


async def survey_for(session: AsyncSession, release_id: int) -> Survey | None:
    return (await session.execute(select(Survey).where(Survey.release_id == release_id))).scalar_one_or_none()


async def survey_view(session: AsyncSession, survey: Survey) -> SurveyView:
    count = await session.scalar(
        select(func.count()).select_from(SurveyResponse).where(SurveyResponse.survey_id == survey.id)
    )
    return SurveyView(
        survey.id,
        survey.release_id,
        SurveyState(survey.state),
        survey.anonymous,
        survey.opens_at,
        survey.closes_at,
        int(count or 0),
        survey.invited,
        survey.closed_at,
    )


async def response_of(session: AsyncSession, survey_id: int, respondent: str) -> SurveyResponse | None:
    return (
        await session.execute(
            select(SurveyResponse).where(SurveyResponse.survey_id == survey_id, SurveyResponse.respondent == respondent)
        )
    ).scalar_one_or_none()


async def responses(session: AsyncSession, survey_id: int) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(SurveyResponse.answers).where(SurveyResponse.survey_id == survey_id).order_by(SurveyResponse.id)
        )
    ).scalars()
    return [dict(r) for r in rows]


async def respondents(session: AsyncSession, survey_id: int) -> set[str]:
    rows = await session.execute(select(SurveyResponse.respondent).where(SurveyResponse.survey_id == survey_id))
    return set(rows.scalars())


async def due_surveys(session: AsyncSession, *, state: SurveyState, field: str, now: datetime) -> Sequence[Survey]:
    column = getattr(Survey, field)
    return (await session.execute(select(Survey).where(Survey.state == state.value, column <= now))).scalars().all()


async def release_template(session: AsyncSession, release_id: int) -> Template:
    """The template the release keeps (its snapshot)."""
    row = (
        await session.execute(select(Release.template_key, Release.template_snapshot).where(Release.id == release_id))
    ).one()
    return template_of(row.template_key, row.template_snapshot)


async def reminder_leads(session: AsyncSession, release_ids: Sequence[int]) -> dict[int, timedelta]:
    """How long before its survey closes each release reminds those who have not answered."""
    out: dict[int, timedelta] = {}
    for release_id in dict.fromkeys(release_ids):
        out[release_id] = (await release_template(session, release_id)).survey_reminder
    return out


async def rehearsal_factors(session: AsyncSession, release_ids: Sequence[int]) -> dict[int, int]:
    """The clock factor of each rehearsal among these releases (real releases are absent)."""
    if not release_ids:
        return {}
    rows = await session.execute(
        select(Release.id, Release.rehearsal_factor).where(
            Release.id.in_(release_ids), Release.rehearsal_factor.is_not(None)
        )
    )
    return {rid: f for rid, f in rows.all() if f}


async def release_facts(session: AsyncSession, release_id: int) -> ReleaseFacts:
    """The facts a retrospective reports, from the release, its decision audit and its deliveries."""
    release = await load_release_view(session, release_id)
    assert release is not None
    rows = (
        (await session.execute(select(Decision).where(Decision.release_id == release_id).order_by(Decision.id)))
        .scalars()
        .all()
    )
    decisions = [
        DecisionView(d.id, d.item_id, DecisionKind(d.kind), d.user_id, d.role_key, d.at, d.reason) for d in rows
    ]
    counts = dict(
        (
            await session.execute(
                select(Delivery.state, func.count()).where(Delivery.release_id == release_id).group_by(Delivery.state)
            )
        ).all()
    )
    return facts_of(
        release,
        decisions,
        announcements_sent=int(counts.get(DeliveryState.SENT.value, 0)),
        announcements_failed=int(counts.get(DeliveryState.FAILED.value, 0))
        + int(counts.get(DeliveryState.MISSED.value, 0)),
    )


# --- survey writes: each state change is guarded, so several processes may try and one wins -------


async def plan_survey(session: AsyncSession, release_id: int, now: datetime, factor: int | None) -> Survey:
    """The survey of a completed release, scheduled to open after the dust settles."""
    template = await release_template(session, release_id)
    opens, closes = survey_times(
        now, factor, open_now=False, opens_after=template.survey_opens_after, open_for=template.survey_open_for
    )
    survey = Survey(
        release_id=release_id,
        state=SurveyState.SCHEDULED.value,
        anonymous=True,
        salt=secrets.token_hex(16),
        opens_at=opens,
        closes_at=closes,
        invited=0,
    )
    session.add(survey)
    return survey


async def open_survey(session: AsyncSession, release_id: int, now: datetime) -> bool:
    """Open the release's survey now (planned or not yet planned). True for the caller that opened it."""
    survey = await survey_for(session, release_id)
    if survey is None:
        factor = (await rehearsal_factors(session, [release_id])).get(release_id)
        template = await release_template(session, release_id)
        opens, closes = survey_times(now, factor, open_now=True, open_for=template.survey_open_for)
        session.add(
            Survey(
                release_id=release_id,
                state=SurveyState.OPEN.value,
                anonymous=True,
                salt=secrets.token_hex(16),
                opens_at=opens,
                closes_at=closes,
                opened_at=now,
                invited=0,
            )
        )
        await audit.append(session, release_id, "survey_opened", None, {}, now)
        return True
    result = await session.execute(
        update(Survey)
        .where(Survey.id == survey.id, Survey.state == SurveyState.SCHEDULED.value)
        .values(state=SurveyState.OPEN.value, opened_at=now, opens_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await audit.append(session, release_id, "survey_opened", None, {}, now)
    return True


async def close_survey(session: AsyncSession, release_id: int, now: datetime) -> Survey | None:
    """Close the release's open survey; the survey for the caller that closed it, else None."""
    survey = await survey_for(session, release_id)
    if survey is None:
        return None
    result = await session.execute(
        update(Survey)
        .where(Survey.id == survey.id, Survey.state == SurveyState.OPEN.value)
        .values(state=SurveyState.CLOSED.value, closed_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    responses = await session.execute(select(func.count()).where(SurveyResponse.survey_id == survey.id))
    await audit.append(session, release_id, "survey_closed", None, {"responses": int(responses.scalar_one())}, now)
    if survey.anonymous:
        # Nobody edits an answer any more: forget whose it was, even for someone holding the app's secret.
        ids = (await session.execute(select(SurveyResponse.id).where(SurveyResponse.survey_id == survey.id))).scalars()
        for response_id in list(ids):
            await session.execute(
                update(SurveyResponse).where(SurveyResponse.id == response_id).values(respondent=secrets.token_hex(32))
            )
    return survey


async def set_invited(session: AsyncSession, survey_id: int, invited: int) -> None:
    await session.execute(update(Survey).where(Survey.id == survey_id).values(invited=invited))


async def claim_reminder(session: AsyncSession, survey_id: int, now: datetime) -> bool:
    """The one reminder: True for the caller that may send it."""
    result = await session.execute(
        update(Survey)
        .where(Survey.id == survey_id, Survey.reminded_at.is_(None), Survey.state == SurveyState.OPEN.value)
        .values(reminded_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def save_response(
    session: AsyncSession, survey_id: int, respondent: str, answers: dict[str, Any], now: datetime
) -> int | None:
    """Store or replace one person's answers while the survey is open; the release id, or None if closed."""
    survey = await session.get(Survey, survey_id)
    if survey is None or survey.state != SurveyState.OPEN.value:
        return None
    existing = await response_of(session, survey_id, respondent)
    if existing is None:
        session.add(
            SurveyResponse(survey_id=survey_id, respondent=respondent, answers=answers, created_at=now, updated_at=now)
        )
    else:
        existing.answers, existing.updated_at = answers, now
    await bump_release_version(session, survey.release_id)
    return survey.release_id
