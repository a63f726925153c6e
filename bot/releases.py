"""Release use cases: create, find, assign roles, cancel. Each runs in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.announcing import add_template_plan
from domain.model import ACTIVE_STATES, ReleaseState, Subject
from domain.roles import PROJECT_MANAGER, Role
from domain.template import Template, due_at
from storage.models import ChecklistItem, Release, RoleAssignment
from storage.queries import (
    bump_release_version,
    current_release_ids_in_channel,
    find_release_id,
    next_release_number,
)


class ReleaseNotFound(Exception):
    """Phrased for the person who typed the command."""


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


async def resolve_release(session: AsyncSession, team_id: str, channel_id: str, ref: str | None) -> int:
    """The id of `REL-n`, or of the one active release of this channel when no key is given."""
    if ref is not None:
        number = int(ref.split("-", 1)[1])
        found = await find_release_id(session, team_id, number)
        if found is None:
            raise ReleaseNotFound(f"There is no {ref} in this workspace. `/release list` shows the active ones.")
        return found
    ids = await current_release_ids_in_channel(session, team_id, channel_id)
    if not ids:
        raise ReleaseNotFound(
            "No current release is coordinated in this channel. Name one (e.g. `REL-3`) or see `/release list`."
        )
    if len(ids) > 1:
        keys = []
        for rid in ids:
            row = await session.get(Release, rid)
            if row is not None:
                keys.append(row.key)
        raise ReleaseNotFound(f"Several releases are current in this channel ({', '.join(keys)}); name one.")
    return ids[0]


async def create_release(sessions: async_sessionmaker[AsyncSession], spec: NewReleaseSpec) -> Release:
    """Insert the release, its checklist and the creator as Project Manager."""
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
    number = await next_release_number(session, spec.team_id)
    release = Release(
        team_id=spec.team_id,
        number=number,
        name=spec.name,
        workload=spec.workload,
        channel_id=spec.channel_id,
        cutover_start=spec.cutover_start,
        cutover_end=spec.cutover_end,
        timezone=spec.timezone,
        template_key=spec.template.key,
        state=ReleaseState.PLANNING.value,
        created_by=spec.created_by,
        created_at=now,
        updated_at=now,
        version=0,
        rehearsal_factor=spec.rehearsal_factor,
    )
    session.add(release)
    await session.flush()
    items = []
    for phase in spec.template.phases:
        for pos, item in enumerate(phase.items):
            items.append(
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
                    due_at=due_at(
                        item, spec.template, spec.cutover_start, spec.cutover_end, spec.rehearsal_factor or 1
                    ),
                    window_bound=item.window_bound,
                    blocks_cutover=item.blocks_cutover,
                    state="pending",
                    version=0,
                )
            )
    session.add_all(items)
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
    rows = (
        (
            await session.execute(
                select(RoleAssignment).where(
                    RoleAssignment.release_id == release_id, RoleAssignment.role_key == role.key
                )
            )
        )
        .scalars()
        .all()
    )
    have = {(r.subject_kind, r.subject_id) for r in rows}
    added = [s for s in subjects if (s.kind.value, s.id) not in have]
    now = datetime.now(UTC)
    for s in added:
        session.add(
            RoleAssignment(
                release_id=release_id,
                role_key=role.key,
                subject_kind=s.kind.value,
                subject_id=s.id,
                assigned_by=by,
                assigned_at=now,
            )
        )
    if added:
        await bump_release_version(session, release_id)
    return added


async def unassign(session: AsyncSession, release_id: int, role: Role, subjects: Sequence[Subject]) -> list[Subject]:
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
    if removed:
        await bump_release_version(session, release_id)
    return removed


async def cancel(session: AsyncSession, release_id: int) -> bool:
    release = await session.get(Release, release_id)
    if release is None or ReleaseState(release.state) not in ACTIVE_STATES:
        return False
    release.state = ReleaseState.CANCELLED.value
    release.updated_at = datetime.now(UTC)
    release.version += 1
    return True
