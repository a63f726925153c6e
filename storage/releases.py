"""Writes that create and change a release: creation with its checklist and plan, roles, cancelling."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.audit import iso
from domain.model import ItemState, ReleaseState, Subject
from domain.roles import PROJECT_MANAGER, Role
from domain.states import Verb, from_states
from domain.template import Template, due_at
from storage import audit
from storage.announcements import add_template_plan
from storage.models import ChecklistItem, Release, ReleaseEvent, RoleAssignment
from storage.queries import bump_release_version, next_release_number


@dataclass(frozen=True)
class NewReleaseSpec:
    team_id: str
    channel_id: str
    created_by: str
    name: str
    workload: str
    cutover_start: datetime
    cutover_end: datetime
    timezone: str
    template: Template
    rehearsal_factor: int | None = None  # see domain/rehearsal.py


async def create_release(sessions: async_sessionmaker[AsyncSession], spec: NewReleaseSpec) -> Release:
    """Insert the release, its checklist, its announcement plan and the creator as Project Manager."""
    for attempt in range(5):
        try:
            async with sessions() as session, session.begin():
                return await _insert(session, spec)
        except IntegrityError:
            # Two releases created at once took the same number: take the next one.
            if attempt == 4:
                raise
    raise AssertionError("unreachable")


async def _insert(session: AsyncSession, spec: NewReleaseSpec) -> Release:
    now = datetime.now(UTC)
    release = Release(
        team_id=spec.team_id,
        number=await next_release_number(session, spec.team_id),
        name=spec.name,
        workload=spec.workload,
        channel_id=spec.channel_id,
        cutover_start=spec.cutover_start,
        cutover_end=spec.cutover_end,
        timezone=spec.timezone,
        template_key=spec.template.key,
        template_version=spec.template.version,
        template_snapshot=spec.template.document or None,
        state=ReleaseState.PLANNING.value,
        created_by=spec.created_by,
        created_at=now,
        updated_at=now,
        version=0,
        rehearsal_factor=spec.rehearsal_factor,
    )
    session.add(release)
    await session.flush()
    created = {
        "name": spec.name,
        "template": spec.template.key,
        "template_version": spec.template.version,
        "channel": spec.channel_id,
        "window_start": iso(spec.cutover_start),
        "window_end": iso(spec.cutover_end),
        "timezone": spec.timezone,
        "rehearsal_factor": spec.rehearsal_factor,
    }
    await audit.append(session, release.id, "release_created", spec.created_by, created, now)
    session.add_all(
        ChecklistItem(
            release_id=release.id,
            phase_key=phase.key,
            phase_title=phase.title,
            phase_position=phase.position,
            position=pos,
            key=item.key,
            title=item.title,
            responsible_roles=list(item.responsible_roles),
            approver_roles=list(item.approver_roles),
            due_at=due_at(item, spec.template, spec.cutover_start, spec.cutover_end, spec.rehearsal_factor or 1),
            window_bound=item.window_bound,
            blocks_cutover=item.blocks_cutover,
            approvals_needed=item.approvals,
            not_by=list(item.not_by),
            scope_bound=item.scope_bound,
            description=item.description or None,
            state=ItemState.PENDING.value,
            version=0,
            number=number,
        )
        for number, (phase, pos, item) in enumerate(
            ((phase, pos, item) for phase in spec.template.phases for pos, item in enumerate(phase.items)), start=1
        )
    )
    await add_template_plan(session, release, spec.template, now)
    session.add(
        RoleAssignment(
            release_id=release.id,
            role_key=PROJECT_MANAGER,
            subject_kind="user",
            subject_id=spec.created_by,
            assigned_by=spec.created_by,
            assigned_at=now,
        )
    )
    await session.flush()
    return release


async def delete_release(sessions: async_sessionmaker[AsyncSession], release_id: int) -> None:
    """Undo a creation whose checklist could not be posted."""
    async with sessions() as session, session.begin():
        await session.execute(delete(Release).where(Release.id == release_id))


async def assign(
    session: AsyncSession, release_id: int, role: Role, subjects: Sequence[Subject], by: str
) -> list[Subject]:
    """Add holders; returns those that were new."""
    rows = await session.execute(
        select(RoleAssignment.subject_kind, RoleAssignment.subject_id).where(
            RoleAssignment.release_id == release_id, RoleAssignment.role_key == role.key
        )
    )
    have = {(kind, sid) for kind, sid in rows}
    added = [s for s in subjects if (s.kind.value, s.id) not in have]
    now = datetime.now(UTC)
    session.add_all(
        RoleAssignment(
            release_id=release_id,
            role_key=role.key,
            subject_kind=s.kind.value,
            subject_id=s.id,
            assigned_by=by,
            assigned_at=now,
        )
        for s in added
    )
    for s in added:
        data = {"role": role.key, "subject_kind": s.kind.value, "subject_id": s.id}
        await audit.append(session, release_id, "role_assigned", by, data, now)
    if added:
        await bump_release_version(session, release_id)
    return added


async def unassign(
    session: AsyncSession, release_id: int, role: Role, subjects: Sequence[Subject], by: str | None = None
) -> list[Subject]:
    """Remove holders; returns those that held the role."""
    removed = []
    for s in subjects:
        result = await session.execute(
            delete(RoleAssignment).where(
                RoleAssignment.release_id == release_id,
                RoleAssignment.role_key == role.key,
                RoleAssignment.subject_kind == s.kind.value,
                RoleAssignment.subject_id == s.id,
            )
        )
        if result.rowcount:  # type: ignore[attr-defined]
            removed.append(s)
            data = {"role": role.key, "subject_kind": s.kind.value, "subject_id": s.id}
            await audit.append(session, release_id, "role_unassigned", by, data, datetime.now(UTC))
    if removed:
        await bump_release_version(session, release_id)
    return removed


async def cancel(session: AsyncSession, release_id: int, by: str | None = None) -> bool:
    """Cancel a release the state machine lets go; False when its state does not (nothing changed)."""
    now = datetime.now(UTC)
    result = await session.execute(
        update(Release)
        .where(Release.id == release_id, Release.state.in_([s.value for s in from_states(Verb.CANCEL)]))
        .values(state=ReleaseState.CANCELLED.value, updated_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.add(ReleaseEvent(release_id=release_id, kind="cancelled", user_id=by, reason=None, at=now))
    await bump_release_version(session, release_id)
    return True
