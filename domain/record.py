"""The release record a change board or an auditor reads: frozen data, assembled in storage/, rendered in messages/.

It never holds a survey answer's text or who gave it: only the retrospective's counts and averages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class MessageRef:
    """A Slack message the record links to (its permalink is asked for when the record is rendered)."""

    channel: str
    ts: str


@dataclass(frozen=True)
class StateChange:
    at: datetime
    kind: str  # the audit row's kind: release_created, cutover_start, cancelled, replanned, …
    actor: str | None
    reason: str | None


@dataclass(frozen=True)
class DecisionEntry:
    kind: str  # approve | reject | done | undo | reopen
    user: str
    role: str | None  # the role the person acted in (a deputy: the role they deputised)
    at: datetime
    window_start: datetime | None  # the window in force when they approved
    window_end: datetime | None
    reason: str | None
    for_user: str | None = None  # a deputy's decision: the role holder they stood in for


@dataclass(frozen=True)
class ItemEntry:
    key: str
    title: str
    phase: str
    gate: bool  # has approver roles
    state: str
    approver_roles: tuple[str, ...]
    responsible_roles: tuple[str, ...]
    decisions: tuple[DecisionEntry, ...]
    message: MessageRef | None  # the checklist message that shows it
    number: int = 0  # the short key people type (#7)
    removed_at: datetime | None = None  # removed from the scope: its decisions stay on record


@dataclass(frozen=True)
class DeliveryEntry:
    channel: str
    state: str
    due_at: datetime
    sent_at: datetime | None
    message: MessageRef | None
    error: str | None


@dataclass(frozen=True)
class AnnouncementEntry:
    key: str
    kind: str  # template | adhoc
    attempt: int
    purpose: str
    audiences: tuple[str, ...]
    send_at: datetime
    cancelled: bool
    deliveries: tuple[DeliveryEntry, ...]


@dataclass(frozen=True)
class QuestionTally:
    """One question's summary: counts and averages only, never an answer's text."""

    key: str
    text: str
    kind: str
    answered: int
    average: float | None
    distribution: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class RetroEntry:
    state: str
    opened_at: datetime | None
    closed_at: datetime | None
    invited: int
    responses: int
    questions: tuple[QuestionTally, ...]  # empty when fewer than domain.retro.MIN_RESPONSES answered


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: datetime
    kind: str
    actor: str | None
    data: dict[str, Any]
    hash: str


@dataclass(frozen=True)
class ReleaseRecord:
    key: str
    team_id: str
    name: str
    workload: str
    state: str
    timezone: str
    channel: str
    template: str
    template_version: str | None
    attempt: int
    created_by: str
    created_at: datetime
    planned_start: datetime
    planned_end: datetime
    actual_start: datetime | None
    actual_end: datetime | None
    rehearsal_factor: int | None
    state_history: tuple[StateChange, ...]
    overrides: tuple[StateChange, ...]
    items: tuple[ItemEntry, ...]
    announcements: tuple[AnnouncementEntry, ...]
    retro: RetroEntry | None
    audit: tuple[AuditEntry, ...]
    head_hash: str
    verified: bool
    verify_problem: str | None  # "row 5: …" when it did not verify

    def messages(self) -> set[MessageRef]:
        refs = {i.message for i in self.items if i.message}
        refs |= {d.message for a in self.announcements for d in a.deliveries if d.message}
        return refs


# State changes: which audit rows move a release from one state to another (or re-plan its window).
STATE_KINDS = frozenset(
    {
        "release_created",
        "cutover_start",
        "cutover_complete",
        "cutover_rollback",
        "replanned",
        "cancelled",
        "closed",
    }
)
OVERRIDE_KINDS = frozenset({"gonogo_override"})
