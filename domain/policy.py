"""Who may do what to a checklist item, and what it does. Pure functions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from domain.approvals import approval_refusal, approved_by, completes_quorum, deputy_grants, expired_text
from domain.model import (
    Assignment,
    DecisionKind,
    ItemState,
    ItemView,
    ReleaseView,
    Subject,
    SubjectKind,
)
from domain.roles import PROJECT_MANAGER, role_name
from domain.states import decision_refusal


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    via_role: str | None = None  # the role that grants it
    reason: str = ""  # why not, for the person who clicked
    allowed_roles: tuple[str, ...] = ()  # who could, for the refusal message
    for_user: str | None = None  # a deputy's decision: the role holder they act for
    deputy: bool = False  # allowed as a deputy, not as a role holder


def roles_of(user_id: str, assignments: Iterable[Assignment], user_groups: Iterable[str] = ()) -> frozenset[str]:
    """The roles a user holds directly or through one of the given user groups."""
    groups = set(user_groups)
    held = set()
    for a in assignments:
        s = a.subject
        if (s.kind is SubjectKind.USER and s.id == user_id) or (s.kind is SubjectKind.GROUP and s.id in groups):
            held.add(a.role_key)
    return frozenset(held)


def groups_to_resolve(user_id: str, assignments: Iterable[Assignment], roles: Iterable[str]) -> tuple[str, ...]:
    """The user groups worth asking Slack about: those holding a wanted role the user lacks directly."""
    wanted = set(roles)
    direct = {a.role_key for a in assignments if a.subject == Subject(SubjectKind.USER, user_id)}
    if wanted & direct:
        return ()
    return tuple(
        sorted({a.subject.id for a in assignments if a.role_key in wanted and a.subject.kind is SubjectKind.GROUP})
    )


def roles_needed(item: ItemView, kind: DecisionKind) -> tuple[str, ...]:
    """The roles that may take this decision on this item (undo also allows the decider)."""
    if kind in (DecisionKind.APPROVE, DecisionKind.REJECT):
        return item.approver_roles
    if kind is DecisionKind.DONE:
        return tuple(dict.fromkeys((*item.responsible_roles, PROJECT_MANAGER)))
    return (PROJECT_MANAGER,)


@dataclass(frozen=True)
class NotApplicable:
    """Why a decision does not apply to the item in its current state."""

    reason: str


def next_state(item: ItemView, kind: DecisionKind) -> ItemState | NotApplicable:
    """The item's state after the decision, or why it does not apply."""
    if kind is DecisionKind.DONE:
        if item.is_gate:
            return NotApplicable("is a sign-off: it is approved or rejected, not marked done.")
        return ItemState.DONE if item.state is ItemState.PENDING else NotApplicable("is already done.")
    if kind in (DecisionKind.APPROVE, DecisionKind.REJECT):
        if not item.is_gate:
            return NotApplicable("is not a sign-off; mark it done instead.")
        if kind is DecisionKind.APPROVE:
            if item.state is ItemState.APPROVED:
                return NotApplicable("is already approved.")
            # Short of its quorum, an approval is counted and the gate keeps waiting.
            return ItemState.APPROVED if completes_quorum(item) else ItemState.PENDING
        if item.state is ItemState.REJECTED:
            return NotApplicable("is already rejected.")
        if item.state is ItemState.APPROVED:
            return NotApplicable("is approved; undo the approval first.")
        return ItemState.REJECTED
    if item.state is ItemState.PENDING and not item.approvals:
        return NotApplicable("has no decision to undo.")
    # A pending gate with approvals counted towards its quorum: an undo withdraws them, and it waits on.
    return ItemState.PENDING


def judge(
    release: ReleaseView,
    item: ItemView,
    kind: DecisionKind,
    user_id: str,
    user_roles: frozenset[str],
    now: datetime | None = None,
) -> Verdict:
    """Whether this person may take this decision: the state, the roles (held or as a deputy), and for
    an approval its quorum and separation of duties; a refusal names the rule."""
    if closed := decision_refusal(release.state, release.key, item.due_at < release.cutover_start):
        return Verdict(False, reason=closed)
    needed = roles_needed(item, kind)
    if kind is DecisionKind.UNDO and (item.decided_by == user_id or approved_by(item, user_id)):
        return Verdict(True, via_role=None)
    verdict: Verdict | None = None
    for role in needed:
        if role in user_roles:
            verdict = Verdict(True, via_role=role)
            break
    if verdict is None:
        valid, expired = deputy_grants(user_id, release.deputies, needed, now or datetime.now(UTC))
        if valid:
            verdict = Verdict(True, via_role=valid[0].role_key, for_user=valid[0].for_user, deputy=True)
        elif expired:
            return Verdict(
                False, via_role=expired[0].role_key, reason=expired_text(expired[0], release.roles), deputy=True
            )
    if verdict is not None:
        if kind is DecisionKind.APPROVE and (
            why := approval_refusal(release, item, user_id, verdict.for_user, user_roles)
        ):
            return Verdict(False, reason=why)
        return verdict
    manager = role_name(PROJECT_MANAGER, release.roles)
    if kind is DecisionKind.UNDO:
        why = f"Only the person who decided or a {manager} may undo it."
    elif kind is DecisionKind.DONE:
        why = f"Only its responsible roles or a {manager} may mark it done."
    else:
        why = "Only holders of its approver roles may sign it off."
    return Verdict(False, reason=why, allowed_roles=needed)


def item_actions(item: ItemView) -> tuple[DecisionKind, ...]:
    """The decisions the checklist offers on an item in its state, in the order they are drawn.

    Each one is a decision `next_state` accepts: a pending gate is approved or rejected (and, once it
    counts approvals towards its quorum, they can be withdrawn); a rejected one approved after all or
    reopened; a decided item (done task, approved gate) can only be undone.
    """
    if not item.is_gate:
        return (DecisionKind.DONE,) if item.state is ItemState.PENDING else (DecisionKind.UNDO,)
    if item.state is ItemState.PENDING:
        if item.approvals:
            return (DecisionKind.APPROVE, DecisionKind.REJECT, DecisionKind.UNDO)
        return (DecisionKind.APPROVE, DecisionKind.REJECT)
    if item.state is ItemState.REJECTED:
        return (DecisionKind.APPROVE, DecisionKind.UNDO)
    return (DecisionKind.UNDO,)


def is_overdue(item: ItemView, now: datetime) -> bool:
    """Pending past its due time.

    A rejected gate is not counted even when its due time has passed: it is already shown as rejected,
    with the reason, and what it waits for is a fix, not a late decision. The one overdue reminder goes
    to the same items.
    """
    return item.state is ItemState.PENDING and item.due_at < now


def due_before_creation(item: ItemView, release: ReleaseView) -> bool:
    """The item was already due when the release was created.

    A template asks for some items weeks ahead of the cutover; a release created later than that starts
    with them due. That is a late start, not something that slipped: they stay open (and get the one
    reminder like any other), but they are counted apart from the items that became overdue.
    """
    return item.due_at <= release.created_at


class Lateness(StrEnum):
    OVERDUE = "overdue"  # it fell due while the release existed, and is still open
    DUE_BEFORE_CREATION = "due before creation"  # it was due before the release existed, and is still open


def lateness(item: ItemView, release: ReleaseView, now: datetime) -> Lateness | None:
    """How late an open item is, or None when it is not (decided, rejected, or not due yet)."""
    if not is_overdue(item, now):
        return None
    return Lateness.DUE_BEFORE_CREATION if due_before_creation(item, release) else Lateness.OVERDUE


def may_manage(release: ReleaseView, user_id: str, user_roles: frozenset[str]) -> bool:
    """Release managers: the creator and every Project Manager."""
    return user_id == release.created_by or PROJECT_MANAGER in user_roles
