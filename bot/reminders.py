"""One reminder per overdue item after the cutover has started, to its responsible role holders."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update

from bot.components import Components
from bot.retro import dm
from domain.model import ItemState, ReleaseState, SubjectKind
from messages.lifecycle import overdue_reminder_message
from storage.models import ChecklistItem, Release
from storage.queries import load_release_view

log = logging.getLogger(__name__)


async def remind_overdue(c: Components, now: datetime) -> int:
    """DM the holders of each newly overdue post-cutover item's roles, once. Returns items reminded."""
    async with c.sessions() as s:
        rows = (
            await s.execute(
                select(ChecklistItem.id, ChecklistItem.release_id)
                .join(Release, Release.id == ChecklistItem.release_id)
                .where(
                    Release.state.in_([ReleaseState.CUTTING_OVER.value, ReleaseState.COMPLETED.value]),
                    ChecklistItem.state == ItemState.PENDING.value,
                    ChecklistItem.reminded_at.is_(None),
                    ChecklistItem.due_at < now,
                    ChecklistItem.due_at >= Release.cutover_start,
                )
                .limit(100)
            )
        ).all()
    reminded = 0
    for item_id, release_id in rows:
        async with c.sessions() as s, s.begin():
            # Whoever marks it first sends it: several processes may run this.
            won = await s.execute(
                update(ChecklistItem)
                .where(ChecklistItem.id == item_id, ChecklistItem.reminded_at.is_(None))
                .values(reminded_at=now)
            )
        if won.rowcount != 1:  # type: ignore[attr-defined]
            continue
        async with c.sessions() as s:
            release = await load_release_view(s, release_id)
        if release is None:
            continue
        item = next(i for i in release.items if i.id == item_id)
        people: set[str] = set()
        for role in item.responsible_roles:
            for subject in release.holders(role):
                if subject.kind is SubjectKind.USER:
                    people.add(subject.id)
                else:
                    people |= await c.directory.group_members(subject.id)
        for person in sorted(people):
            await dm(c, person, overdue_reminder_message(release, item))
        reminded += 1
    return reminded
