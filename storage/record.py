"""Reading one release's whole record for an export (domain/record.py): the release, its checklist and decisions,
its announcements and deliveries, the retrospective's tallies, and its audit chain with the verdict."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.record import (
    OVERRIDE_KINDS,
    STATE_KINDS,
    AnnouncementEntry,
    AuditEntry,
    DecisionEntry,
    DeliveryEntry,
    ItemEntry,
    MessageRef,
    QuestionTally,
    ReleaseRecord,
    RetroEntry,
    StateChange,
)
from domain.retro import MIN_RESPONSES, summarize
from domain.template import TemplateError, UnknownTemplate, load_template
from storage import audit
from storage.models import (
    Announcement,
    AuditEvent,
    ChecklistItem,
    Decision,
    Delivery,
    Release,
    ReleaseMessage,
    Survey,
    SurveyResponse,
)

SURVEY_SUMMARY = "survey_summary"  # the audit row that keeps the tallies once the answers are purged


def _change(row: AuditEvent) -> StateChange:
    reason = row.data.get("reason")
    return StateChange(row.at, row.kind, row.actor, reason if isinstance(reason, str) else None)


async def release_record(session: AsyncSession, release_id: int) -> ReleaseRecord | None:
    release = await session.get(Release, release_id)
    if release is None:
        return None
    chain = await audit.chain(session, release_id)
    verdict = await audit.verify_release(session, release_id)
    created = next((r for r in chain if r.kind == "release_created"), None)
    version = created.data.get("template_version") if created is not None else None

    messages = (
        (
            await session.execute(
                select(ReleaseMessage)
                .where(ReleaseMessage.release_id == release_id, ReleaseMessage.kind == "phase")
                .order_by(ReleaseMessage.part)
            )
        )
        .scalars()
        .all()
    )
    phase_message: dict[str, MessageRef] = {}
    for m in messages:
        phase_message.setdefault(m.phase_key, MessageRef(m.channel_id, m.ts))
    decisions: dict[int, list[DecisionEntry]] = {}
    for d in (
        await session.execute(
            select(Decision).where(Decision.release_id == release_id).order_by(Decision.at, Decision.id)
        )
    ).scalars():
        decisions.setdefault(d.item_id, []).append(
            DecisionEntry(d.kind, d.user_id, d.role_key, d.at, d.window_start, d.window_end, d.reason, d.for_user)
        )
    items = tuple(
        ItemEntry(
            key=i.key,
            title=i.title,
            phase=i.phase_title,
            gate=bool(i.approver_roles),
            state=i.state,
            approver_roles=tuple(i.approver_roles),
            responsible_roles=tuple(i.responsible_roles),
            decisions=tuple(decisions.get(i.id, ())),
            message=phase_message.get(i.phase_key),
            number=i.number,
            removed_at=i.removed_at,
        )
        for i in (
            await session.execute(
                select(ChecklistItem)
                .where(ChecklistItem.release_id == release_id)
                .order_by(ChecklistItem.phase_position, ChecklistItem.position, ChecklistItem.id)
            )
        ).scalars()
    )
    deliveries: dict[int, list[DeliveryEntry]] = {}
    for dl in (
        await session.execute(select(Delivery).where(Delivery.release_id == release_id).order_by(Delivery.id))
    ).scalars():
        ref = MessageRef(dl.channel_id, dl.ts) if dl.ts else None
        deliveries.setdefault(dl.announcement_id, []).append(
            DeliveryEntry(dl.channel_id, dl.state, dl.due_at, dl.sent_at, ref, dl.error)
        )
    announcements = tuple(
        AnnouncementEntry(
            key=a.key,
            kind=a.kind,
            attempt=a.attempt,
            purpose=a.purpose,
            audiences=tuple(a.audiences),
            send_at=a.send_at,
            cancelled=a.cancelled_at is not None,
            deliveries=tuple(deliveries.get(a.id, ())),
        )
        for a in (
            await session.execute(
                select(Announcement)
                .where(Announcement.release_id == release_id)
                .order_by(Announcement.attempt, Announcement.send_at, Announcement.id)
            )
        ).scalars()
    )
    return ReleaseRecord(
        key=release.key,
        team_id=release.team_id,
        name=release.name,
        workload=release.workload,
        state=release.state,
        timezone=release.timezone,
        channel=release.channel_id,
        template=release.template_key,
        template_version=version if isinstance(version, str) else None,
        attempt=release.attempt,
        created_by=release.created_by,
        created_at=release.created_at,
        planned_start=release.cutover_start,
        planned_end=release.cutover_end,
        actual_start=release.actual_start,
        actual_end=release.actual_end,
        rehearsal_factor=release.rehearsal_factor,
        state_history=tuple(_change(r) for r in chain if r.kind in STATE_KINDS),
        overrides=tuple(_change(r) for r in chain if r.kind in OVERRIDE_KINDS),
        items=items,
        announcements=announcements,
        retro=await _retro(session, release, chain),
        audit=tuple(AuditEntry(r.seq, r.at, r.kind, r.actor, dict(r.data), r.hash) for r in chain),
        head_hash=verdict.head,
        verified=verdict.ok,
        verify_problem=None if verdict.problem is None else f"row {verdict.problem.seq}: {verdict.problem.what}",
    )


async def _retro(session: AsyncSession, release: Release, chain: Any) -> RetroEntry | None:
    survey = (await session.execute(select(Survey).where(Survey.release_id == release.id))).scalar_one_or_none()
    if survey is None:
        return None
    answers = list(
        (await session.execute(select(SurveyResponse.answers).where(SurveyResponse.survey_id == survey.id))).scalars()
    )
    kept = next((r for r in reversed(chain) if r.kind == SURVEY_SUMMARY), None)
    if kept is not None and not answers:
        return RetroEntry(
            survey.state,
            survey.opened_at,
            survey.closed_at,
            survey.invited,
            int(kept.data["responses"]),
            tuple(
                QuestionTally(
                    q["key"],
                    q["text"],
                    q["kind"],
                    q["answered"],
                    q["average"],
                    tuple((str(k), int(v)) for k, v in q["distribution"]),
                )
                for q in kept.data["questions"]
            ),
        )
    return RetroEntry(
        survey.state,
        survey.opened_at,
        survey.closed_at,
        survey.invited,
        len(answers),
        tallies(release.template_key, answers),
    )


def tallies(template_key: str, answers: list[dict[str, Any]]) -> tuple[QuestionTally, ...]:
    """Counts and averages per question. A text question shows only how many answered: its texts are answers.
    Below MIN_RESPONSES nothing (as the posted summary): a tally of one or two would show a person's answer."""
    if len(answers) < MIN_RESPONSES:
        return ()
    try:
        questions = load_template(template_key).survey
    except (TemplateError, UnknownTemplate):
        return ()
    return tuple(
        QuestionTally(s.key, s.text, str(s.kind), s.answered, s.average, s.distribution)
        for s in summarize(questions, answers)
    )


async def releases_numbered(session: AsyncSession, number: int, team_id: str | None) -> list[tuple[int, str]]:
    """(id, team) of the releases called REL-<number>: numbers are per workspace, so several teams may have one."""
    stmt = select(Release.id, Release.team_id).where(Release.number == number)
    if team_id:
        stmt = stmt.where(Release.team_id == team_id)
    return [(rid, team) for rid, team in (await session.execute(stmt.order_by(Release.team_id)))]


async def release_label(session: AsyncSession, release_id: int) -> str:
    row = (await session.execute(select(Release.team_id, Release.number).where(Release.id == release_id))).one()
    return f"REL-{row.number} (team {row.team_id})"


async def purgeable_answers(session: AsyncSession, before: datetime) -> list[tuple[int, str, int]]:
    """(survey id, release label, answers) of closed surveys, closed before `before`, that still hold answers.
    A closed survey's summary has been posted; its tallies are kept in the audit trail when answers go."""
    rows = await session.execute(
        select(Survey.id, Release.team_id, Release.number, func.count(SurveyResponse.id))
        .join(Release, Release.id == Survey.release_id)
        .join(SurveyResponse, SurveyResponse.survey_id == Survey.id)
        .where(Survey.state == "closed", Survey.closed_at < before)
        .group_by(Survey.id, Release.team_id, Release.number)
        .order_by(Release.team_id, Release.number)
    )
    return [(sid, f"REL-{number} (team {team})", int(n)) for sid, team, number, n in rows]


async def purge_answers(session: AsyncSession, survey_ids: Sequence[int], before: datetime, now: datetime) -> int:
    """Delete the answers of these closed surveys, first appending their tallies (never a text) to the audit trail."""
    removed = 0
    for survey_id in survey_ids:
        survey = (
            await session.execute(
                select(Survey).where(Survey.id == survey_id, Survey.state == "closed", Survey.closed_at < before)
            )
        ).scalar_one_or_none()
        if survey is None:
            continue
        release = await session.get(Release, survey.release_id)
        assert release is not None
        answers = list(
            (
                await session.execute(select(SurveyResponse.answers).where(SurveyResponse.survey_id == survey.id))
            ).scalars()
        )
        questions = [
            {
                "key": q.key,
                "text": q.text,
                "kind": q.kind,
                "answered": q.answered,
                "average": q.average,
                "distribution": [[o, n] for o, n in q.distribution],
            }
            for q in tallies(release.template_key, answers)
        ]
        data = {"responses": len(answers), "questions": questions, "answers_purged": True}
        await audit.append(session, release.id, SURVEY_SUMMARY, None, data, now)
        result = await session.execute(delete(SurveyResponse).where(SurveyResponse.survey_id == survey.id))
        removed += int(result.rowcount)  # type: ignore[attr-defined]
    return removed
