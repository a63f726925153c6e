"""Queries for surveys and for the facts a retrospective reports."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.retro import ReleaseFacts, SurveyState, SurveyView
from storage.models import ChecklistItem, Decision, Delivery, Release, Survey, SurveyResponse


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


async def release_facts(session: AsyncSession, release: Release) -> ReleaseFacts:
    items = (
        (
            await session.execute(
                select(ChecklistItem)
                .where(ChecklistItem.release_id == release.id)
                .order_by(ChecklistItem.phase_position, ChecklistItem.position)
            )
        )
        .scalars()
        .all()
    )
    gates = [g for g in items if g.approver_roles]
    decisions = (
        (await session.execute(select(Decision).where(Decision.release_id == release.id).order_by(Decision.id)))
        .scalars()
        .all()
    )
    titles = {g.id: g.title for g in gates}
    approved_at: dict[int, datetime] = {}
    rejections = []
    for d in decisions:
        if d.item_id not in titles:
            continue
        if d.kind == "approve":
            approved_at[d.item_id] = d.at
        elif d.kind in ("undo", "reopen"):
            approved_at.pop(d.item_id, None)
        elif d.kind == "reject":
            rejections.append((titles[d.item_id], d.user_id, d.reason or ""))
    waits = tuple(
        (g.title, (approved_at[g.id] - release.created_at) if g.id in approved_at and g.state == "approved" else None)
        for g in gates
    )
    rows = await session.execute(
        select(Delivery.state, func.count()).where(Delivery.release_id == release.id).group_by(Delivery.state)
    )
    counts = {state: n for state, n in rows}
    return ReleaseFacts(
        planned_start=release.cutover_start,
        planned_end=release.cutover_end,
        actual_start=release.actual_start,
        actual_end=release.actual_end,
        outcome=release.state,
        override_reason=release.override_reason,
        gate_waits=waits,
        rejections=tuple(rejections),
        announcements_sent=int(counts.get("sent", 0)),
        announcements_failed=int(counts.get("failed", 0)) + int(counts.get("missed", 0)),
    )
