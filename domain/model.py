"""Read-only snapshots of a release, as the rules and the message builders see it.

Services load these from storage; builders and policy functions take them as plain data.
All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from domain.roles import Role
from domain.template import Template, template_of


class ReleaseState(StrEnum):
    PLANNING = "planning"
    READY = "ready"
    CUTTING_OVER = "cutting_over"
    COMPLETED = "completed"
    CLOSED = "closed"
    ROLLED_BACK = "rolled_back"
    CANCELLED = "cancelled"


ACTIVE_STATES = frozenset({ReleaseState.PLANNING, ReleaseState.READY, ReleaseState.CUTTING_OVER})
# Still being worked on: after the cutover, follow-ups (hypercare, decommission) and the retrospective go on.
CURRENT_STATES = ACTIVE_STATES | {ReleaseState.COMPLETED, ReleaseState.ROLLED_BACK}


class ItemState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    APPROVED = "approved"
    REJECTED = "rejected"


class DecisionKind(StrEnum):
    DONE = "done"
    APPROVE = "approve"
    REJECT = "reject"
    UNDO = "undo"
    REOPEN = "reopen"  # a window-bound sign-off reopened because the window moved


class SubjectKind(StrEnum):
    USER = "user"
    GROUP = "group"


@dataclass(frozen=True)
class Subject:
    """A Slack user (U…/W…) or user group (S…) that holds a role."""

    kind: SubjectKind
    id: str

    @property
    def mention(self) -> str:
        return f"<@{self.id}>" if self.kind is SubjectKind.USER else f"<!subteam^{self.id}>"


@dataclass(frozen=True)
class Assignment:
    role_key: str
    subject: Subject


@dataclass(frozen=True)
class Approval:
    """One approval counted towards a gate's quorum: who clicked, and whom they stood in for."""

    user_id: str
    for_user: str | None = None  # the role holder a deputy acted for

    @property
    def people(self) -> frozenset[str]:
        return frozenset(p for p in (self.user_id, self.for_user) if p)


@dataclass(frozen=True)
class Deputy:
    """Someone who may decide for a role on one release, until a deadline (or until removed)."""

    role_key: str
    user_id: str  # the deputy
    for_user: str | None  # the role holder they stand in for (None: the role's holders at large)
    until: datetime | None
    set_by: str


@dataclass(frozen=True)
class ItemView:
    id: int
    key: str
    phase_key: str
    position: int
    title: str
    responsible_roles: tuple[str, ...]
    approver_roles: tuple[str, ...]
    due_at: datetime
    state: ItemState = ItemState.PENDING
    version: int = 0
    decided_by: str | None = None  # Slack user id behind the current state
    decided_at: datetime | None = None
    reason: str | None = None  # the rejection reason, when rejected
    decided_for: str | None = None  # the role holder a deputy decided for
    approvals_needed: int = 1  # a quorum: this many different approvers
    not_by: tuple[str, ...] = ()  # separation of duties: "creator", "responsible"
    approvals: tuple[Approval, ...] = ()  # counted so far while it waits for its quorum
    number: int = 0  # the short key people type (#7); 0 for items built outside a release
    scope_bound: bool = False  # a sign-off about the scope: reopens when the scope changes

    @property
    def label(self) -> str:
        return f"#{self.number}" if self.number else self.key

    @property
    def is_gate(self) -> bool:
        return bool(self.approver_roles)

    @property
    def is_complete(self) -> bool:
        return self.state in (ItemState.DONE, ItemState.APPROVED)


@dataclass(frozen=True)
class PhaseView:
    key: str
    title: str
    position: int
    items: tuple[ItemView, ...]


@dataclass(frozen=True)
class DecisionView:
    id: int
    item_id: int
    kind: DecisionKind
    user_id: str
    role_key: str | None  # the role that allowed it (None for an undo by the decider)
    at: datetime
    reason: str | None = None
    for_user: str | None = None  # a deputy's decision: the role holder they acted for


@dataclass(frozen=True)
class PastAttempt:
    """A cutover that was rolled back, before the release was re-planned."""

    number: int  # 1 for the first attempt
    started_at: datetime | None
    rolled_back_at: datetime
    rolled_back_by: str | None
    reason: str | None


@dataclass(frozen=True)
class ReleaseView:
    id: int
    key: str  # "REL-3"
    name: str
    workload: str
    channel_id: str
    cutover_start: datetime
    cutover_end: datetime
    timezone: str  # IANA name of the creator's zone, for reference only
    template_key: str
    state: ReleaseState
    created_by: str
    created_at: datetime
    version: int
    phases: tuple[PhaseView, ...] = ()
    assignments: tuple[Assignment, ...] = field(default_factory=tuple)
    # Lifecycle facts, filled in as the cutover runs; optional so older callers need not know them.
    actual_start: datetime | None = None
    actual_end: datetime | None = None  # completed or rolled back
    override_reason: str | None = None  # plain text: the go/no-go check was overridden at start
    override_by: str | None = None  # Slack user id
    rollback_reason: str | None = None  # plain text
    retro: str | None = None  # one line of retrospective progress, e.g. "survey open: 3/8 answered"
    rehearsal_factor: int | None = None  # a rehearsal on a clock this many times faster than the plan
    attempt: int = 1  # which cutover attempt the plan is for: one more after each rollback and re-plan
    past_attempts: tuple[PastAttempt, ...] = ()
    deputies: tuple[Deputy, ...] = ()
    team_id: str = ""  # the workspace, for surfaces outside the release channel (App Home)
    template_version: str = ""
    # The template as it was when the release was created (JSON); None for releases older than snapshots.
    template_snapshot: str | None = field(default=None, repr=False)

    @property
    def roles(self) -> tuple[Role, ...]:
        """The release's roles, as its template declares them."""
        return self.template.roles

    @property
    def template(self) -> Template:
        """What this release follows: its snapshot, never a later edit of the template."""
        return template_of(self.template_key, self.template_snapshot)

    @property
    def items(self) -> tuple[ItemView, ...]:
        return tuple(i for p in self.phases for i in p.items)

    def holders(self, role_key: str) -> tuple[Subject, ...]:
        return tuple(a.subject for a in self.assignments if a.role_key == role_key)
