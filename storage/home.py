"""What a person's App Home reads: the workspace's current releases, and the decisions they took lately."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import DecisionKind, Deputy, ReleaseView
from storage.models import ChecklistItem, Decision, DeputyRow, Release, ReleaseMessage
from storage.queries import current_releases, release_view


@dataclass(frozen=True)
class RecentDecision:
    kind: DecisionKind
    at: datetime
    item_title: str
    release_key: str
    for_user: str | None
    channel_id: str | None  # the checklist message that shows the item, when it was posted
    message_ts: str | None


async def current_release_views(session: AsyncSession, team_id: str) -> list[ReleaseView]:
    """The workspace's current releases, with their checklists, role holders and deputies."""
    rows = await current_releases(session, team_id)
    ids = [r.id for r in rows]
    deputies: dict[int, list[Deputy]] = {}
    if ids:
        found = await session.execute(select(DeputyRow).where(DeputyRow.release_id.in_(ids)).order_by(DeputyRow.id))
        for d in found.scalars():
            deputies.setdefault(d.release_id, []).append(Deputy(d.role_key, d.user_id, d.for_user, d.until, d.set_by))
    return [release_view(r, deputies=tuple(deputies.get(r.id, ()))) for r in rows]


async def recent_decisions(session: AsyncSession, team_id: str, user_id: str, limit: int = 5) -> list[RecentDecision]:
    """The person's latest approvals, rejections and items done, newest first, with where the item is shown."""
    rows = (
        await session.execute(
            select(Decision, ChecklistItem.title, ChecklistItem.phase_key, Release.number)
            .join(ChecklistItem, ChecklistItem.id == Decision.item_id)
            .join(Release, Release.id == Decision.release_id)
            .where(
                Release.team_id == team_id,
                Decision.user_id == user_id,
                Decision.kind.in_([DecisionKind.APPROVE.value, DecisionKind.REJECT.value, DecisionKind.DONE.value]),
            )
            .order_by(Decision.at.desc(), Decision.id.desc())
            .limit(limit)
        )
    ).all()
    out: list[RecentDecision] = []
    for decision, title, phase_key, number in rows:
        message = (
            await session.execute(
                select(ReleaseMessage.channel_id, ReleaseMessage.ts)
                .where(
                    ReleaseMessage.release_id == decision.release_id,
                    ReleaseMessage.kind == "phase",
                    ReleaseMessage.phase_key == phase_key,
                )
                .order_by(ReleaseMessage.part)
                .limit(1)
            )
        ).first()
        out.append(
            RecentDecision(
                kind=DecisionKind(decision.kind),
                at=decision.at,
                item_title=title,
                release_key=f"REL-{number}",
                for_user=decision.for_user,
                channel_id=message[0] if message else None,
                message_ts=message[1] if message else None,
            )
        )
    return out
