"""What a person's App Home shows: the gates waiting for them, their releases, the next step. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from domain.model import DecisionKind, ItemState, ItemView, ReleaseView
from domain.policy import judge


@dataclass(frozen=True)
class Waiting:
    """A gate this person may decide now, and how they may: a role held, or standing in for someone."""

    release: ReleaseView
    item: ItemView
    via_role: str
    for_user: str | None = None  # as a deputy: the role holder


@dataclass(frozen=True)
class Involved:
    """A release where the person holds a role (or stands in for one)."""

    release: ReleaseView
    roles: tuple[str, ...]
    next_item: ItemView | None  # the earliest open item: what the release waits for next


def waiting_for(
    user_id: str, releases: Iterable[ReleaseView], held: Mapping[int, frozenset[str]], now: datetime
) -> list[Waiting]:
    """Every pending gate, across these releases, that this person may approve now, oldest due first.

    `held` maps a release id to the roles the person holds there (user groups resolved). The same
    rules as a click decide: the release's state, the roles or a valid deputy standing, the quorum
    (not one they already approved) and separation of duties."""
    out: list[Waiting] = []
    for release in releases:
        roles = held.get(release.id, frozenset())
        for item in release.items:
            if not item.is_gate or item.state is not ItemState.PENDING:
                continue
            verdict = judge(release, item, DecisionKind.APPROVE, user_id, roles, now)
            if verdict.allowed and verdict.via_role:
                out.append(Waiting(release, item, verdict.via_role, verdict.for_user))
    out.sort(key=lambda w: (w.item.due_at, w.release.id, w.item.position, w.item.id))
    return out


def involved_in(
    user_id: str, releases: Iterable[ReleaseView], held: Mapping[int, frozenset[str]], now: datetime
) -> list[Involved]:
    """The releases where this person holds a role or a valid deputy standing, soonest window first."""
    out: list[Involved] = []
    for release in releases:
        roles = set(held.get(release.id, frozenset()))
        roles |= {d.role_key for d in release.deputies if d.user_id == user_id and (d.until is None or now < d.until)}
        if not roles:
            continue
        open_items = [i for i in release.items if not i.is_complete]
        nxt = min(open_items, key=lambda i: (i.due_at, i.position, i.id)) if open_items else None
        out.append(Involved(release, tuple(sorted(roles)), nxt))
    out.sort(key=lambda r: (r.release.cutover_start, r.release.id))
    return out
