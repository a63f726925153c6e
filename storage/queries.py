"""Queries the app needs, and the mapping from rows to domain snapshots."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from domain.approvals import decode_approval
from domain.model import (
    CURRENT_STATES,
    Assignment,
    Deputy,
    ItemState,
    ItemView,
    PastAttempt,
    PhaseView,
    ReleaseState,
    ReleaseView,
    Subject,
    SubjectKind,
)
from storage.models import ChecklistItem, DeputyRow, Release, ReleaseEvent, Survey, SurveyResponse, TeamCounter


def item_view(row: ChecklistItem) -> ItemView:
    return ItemView(
        id=row.id,
        key=row.key,
        phase_key=row.phase_key,
        position=row.position,
        title=row.title,
        responsible_roles=tuple(row.responsible_roles),
        approver_roles=tuple(row.approver_roles),
        due_at=row.due_at,
        state=ItemState(row.state),
        version=row.version,
        decided_by=row.decided_by,
        decided_at=row.decided_at,
        reason=row.reason,
        decided_for=row.decided_for,
        approvals_needed=row.approvals_needed,
        not_by=tuple(row.not_by or ()),
        approvals=tuple(decode_approval(a) for a in row.approved_by or ()),
        number=row.number,
        scope_bound=row.scope_bound,
    )


def release_view(
    row: Release,
    *,
    with_items: bool = True,
    retro: str | None = None,
    past: tuple[PastAttempt, ...] = (),
    deputies: tuple[Deputy, ...] = (),
) -> ReleaseView:
    phases: list[PhaseView] = []
    if with_items:
        by_phase: dict[str, list[ChecklistItem]] = {}
        for it in row.items:
            if it.removed_at is not None:
                continue  # removed from the scope: its row and decisions stay for the audit
            by_phase.setdefault(it.phase_key, []).append(it)
        for key, rows in sorted(by_phase.items(), key=lambda kv: kv[1][0].phase_position):
            rows.sort(key=lambda r: r.position)
            phases.append(
                PhaseView(key, rows[0].phase_title, rows[0].phase_position, tuple(item_view(r) for r in rows))
            )
    return ReleaseView(
        id=row.id,
        key=row.key,
        name=row.name,
        workload=row.workload,
        channel_id=row.channel_id,
        cutover_start=row.cutover_start,
        cutover_end=row.cutover_end,
        timezone=row.timezone,
        template_key=row.template_key,
        state=ReleaseState(row.state),
        created_by=row.created_by,
        created_at=row.created_at,
        version=row.version,
        phases=tuple(phases),
        assignments=tuple(
            Assignment(a.role_key, Subject(SubjectKind(a.subject_kind), a.subject_id)) for a in row.assignments
        ),
        actual_start=row.actual_start,
        actual_end=row.actual_end,
        override_reason=row.override_reason,
        override_by=row.override_by,
        rollback_reason=row.rollback_reason,
        retro=retro,
        rehearsal_factor=row.rehearsal_factor,
        attempt=row.attempt,
        past_attempts=past,
        deputies=deputies,
        team_id=row.team_id,
        template_version=row.template_version,
        template_snapshot=row.template_snapshot,
    )


async def load_release(session: AsyncSession, release_id: int) -> Release | None:
    stmt = (
        select(Release)
        .where(Release.id == release_id)
        .options(selectinload(Release.items), selectinload(Release.assignments))
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def load_release_view(session: AsyncSession, release_id: int) -> ReleaseView | None:
    row = await load_release(session, release_id)
    if row is None:
        return None
    past = await past_attempts(session, release_id) if row.attempt > 1 else ()
    return release_view(
        row, retro=await retro_line(session, release_id), past=past, deputies=await deputies_of(session, release_id)
    )


async def deputies_of(session: AsyncSession, release_id: int) -> tuple[Deputy, ...]:
    rows = await session.execute(select(DeputyRow).where(DeputyRow.release_id == release_id).order_by(DeputyRow.id))
    return tuple(Deputy(d.role_key, d.user_id, d.for_user, d.until, d.set_by) for d in rows.scalars())


async def past_attempts(session: AsyncSession, release_id: int) -> tuple[PastAttempt, ...]:
    """The cutovers that were rolled back before a re-plan, from the release's event log."""
    rows = (
        await session.execute(
            select(ReleaseEvent.kind, ReleaseEvent.at, ReleaseEvent.user_id, ReleaseEvent.reason)
            .where(
                ReleaseEvent.release_id == release_id,
                ReleaseEvent.kind.in_(["cutover_start", "cutover_rollback", "replanned"]),
            )
            .order_by(ReleaseEvent.at, ReleaseEvent.id)
        )
    ).all()
    attempts: list[PastAttempt] = []
    started = rolled = None
    for kind, at, user, reason in rows:
        if kind == "cutover_start":
            started = at
        elif kind == "cutover_rollback":
            rolled = (at, user, reason)
        elif rolled is not None:  # replanned: the attempt before it is over
            attempts.append(PastAttempt(len(attempts) + 1, started, rolled[0], rolled[1], rolled[2]))
            started = rolled = None
    return tuple(attempts)


async def retro_line(session: AsyncSession, release_id: int) -> str | None:
    """One line of retrospective progress, without any answer."""
    survey = (await session.execute(select(Survey).where(Survey.release_id == release_id))).scalar_one_or_none()
    if survey is None:
        return None
    answered = await session.scalar(
        select(func.count()).select_from(SurveyResponse).where(SurveyResponse.survey_id == survey.id)
    )
    if survey.state == "scheduled":
        return "survey scheduled: it opens a day after completion"
    invited = f"/{survey.invited}" if survey.invited else ""
    return f"survey {survey.state}: {answered or 0}{invited} answered"


async def load_release_header(session: AsyncSession, release_id: int) -> ReleaseView | None:
    """The release and its role holders, without the checklist: for surfaces that show no items."""
    stmt = select(Release).where(Release.id == release_id).options(selectinload(Release.assignments))
    row = (await session.execute(stmt)).scalar_one_or_none()
    return release_view(row, with_items=False, deputies=await deputies_of(session, release_id)) if row else None


async def item_with_header(session: AsyncSession, item_id: int, team_id: str) -> tuple[ItemView, ReleaseView] | None:
    """One item and its release's header (no checklist), if the item is in this workspace: what a
    form about one item shows."""
    stmt = select(ChecklistItem, Release).join(Release, Release.id == ChecklistItem.release_id)
    # An item removed from the scope keeps its row for the audit, but nobody decides it any more.
    stmt = stmt.where(ChecklistItem.id == item_id, ChecklistItem.removed_at.is_(None))
    stmt = stmt.options(selectinload(Release.assignments))
    if team_id:
        stmt = stmt.where(Release.team_id == team_id)
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        return None
    # Deputies decide for a role, so the rules need them too.
    header = release_view(row[1], with_items=False, deputies=await deputies_of(session, row[1].id))
    return item_view(row[0]), header


async def team_release_header(session: AsyncSession, release_id: int, team_id: str) -> ReleaseView | None:
    """The release's header (no checklist), if it belongs to this workspace."""
    stmt = select(Release).where(Release.id == release_id).options(selectinload(Release.assignments))
    if team_id:
        stmt = stmt.where(Release.team_id == team_id)
    row = (await session.execute(stmt)).scalar_one_or_none()
    return release_view(row, with_items=False) if row else None


async def team_release_view(session: AsyncSession, release_id: int, team_id: str) -> ReleaseView | None:
    """The release, if it belongs to this workspace: ids from a payload are checked on the way in."""
    owner = await session.scalar(select(Release.team_id).where(Release.id == release_id))
    if owner is None or (team_id and owner != team_id):
        return None
    return await load_release_view(session, release_id)


async def release_keys(session: AsyncSession, release_ids: Sequence[int]) -> list[str]:
    rows = await session.execute(select(Release.number).where(Release.id.in_(release_ids)).order_by(Release.number))
    return [f"REL-{n}" for n in rows.scalars()]


async def find_release_id(session: AsyncSession, team_id: str, number: int) -> int | None:
    stmt = select(Release.id).where(Release.team_id == team_id, Release.number == number)
    return (await session.execute(stmt)).scalar_one_or_none()


async def current_release_ids_in_channel(session: AsyncSession, team_id: str, channel_id: str) -> list[int]:
    stmt = (
        select(Release.id)
        .where(
            Release.team_id == team_id,
            Release.channel_id == channel_id,
            Release.state.in_([s.value for s in CURRENT_STATES]),
        )
        .order_by(Release.number)
    )
    return list((await session.execute(stmt)).scalars())


async def current_releases(session: AsyncSession, team_id: str) -> Sequence[Release]:
    stmt = (
        select(Release)
        .where(Release.team_id == team_id, Release.state.in_([s.value for s in CURRENT_STATES]))
        .options(selectinload(Release.items), selectinload(Release.assignments))
        .order_by(Release.cutover_start, Release.number)
    )
    return (await session.execute(stmt)).scalars().all()


async def next_release_number(session: AsyncSession, team_id: str) -> int:
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(TeamCounter)
        .values(team_id=team_id, last_release_number=1)
        .on_conflict_do_update(
            index_elements=[TeamCounter.team_id],
            set_={"last_release_number": TeamCounter.last_release_number + 1},
        )
        .returning(TeamCounter.last_release_number)
    )
    return int((await session.execute(stmt)).scalar_one())


async def bump_release_version(session: AsyncSession, release_id: int) -> None:
    """Every change a live checklist shows bumps this, in the transaction that makes the change.

    The live messages compare it before and after a push (bot/live.py): the one way to bump it."""
    await session.execute(update(Release).where(Release.id == release_id).values(version=Release.version + 1))


async def release_version(session: AsyncSession, release_id: int) -> int | None:
    stmt = select(Release.version).where(Release.id == release_id)
    return (await session.execute(stmt)).scalar_one_or_none()
