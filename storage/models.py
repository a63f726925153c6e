"""SQLAlchemy 2 typed models. Instants are UTC (see UTCDateTime)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, MetaData, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from storage.types import UTCDateTime

# Named constraints so Alembic can drop and alter them later.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON, list[str]: JSON}  # noqa: RUF012


class TeamCounter(Base):
    """Hands out release numbers per workspace atomically (an upsert takes the row lock)."""

    __tablename__ = "team_counters"

    team_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_release_number: Mapped[int] = mapped_column(default=0)


class Release(Base):
    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("team_id", "number", name="uq_releases_team_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    number: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    workload: Mapped[str] = mapped_column(String(200), default="")
    channel_id: Mapped[str] = mapped_column(String(32), index=True)
    cutover_start: Mapped[datetime]
    cutover_end: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64))
    template_key: Mapped[str] = mapped_column(String(64))
    # The template as it was when the release was created: what the release uses from then on.
    template_version: Mapped[str] = mapped_column(String(40), default="", server_default="")
    template_snapshot: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(20), index=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Bumped by every change the live messages show; renderers compare against it.
    version: Mapped[int] = mapped_column(default=0)
    actual_start: Mapped[datetime | None]
    actual_end: Mapped[datetime | None]
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by: Mapped[str | None] = mapped_column(String(32))
    rollback_reason: Mapped[str | None] = mapped_column(Text)
    # Set for a rehearsal: its clock runs this many times faster than the plan, and its announcements
    # go to the release channel only.
    rehearsal_factor: Mapped[int | None]
    # Which cutover attempt the plan is for: a rollback and a re-plan make the next one.
    attempt: Mapped[int] = mapped_column(default=1, server_default="1")

    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="release", order_by="ChecklistItem.id", lazy="raise", cascade="all, delete-orphan"
    )
    assignments: Mapped[list[RoleAssignment]] = relationship(
        back_populates="release", order_by="RoleAssignment.id", lazy="raise", cascade="all, delete-orphan"
    )
    messages: Mapped[list[ReleaseMessage]] = relationship(
        back_populates="release", order_by="ReleaseMessage.id", lazy="raise", cascade="all, delete-orphan"
    )

    @property
    def key(self) -> str:
        return f"REL-{self.number}"


class ChecklistItem(Base):
    __tablename__ = "checklist_items"
    __table_args__ = (
        UniqueConstraint("release_id", "key", name="uq_checklist_items_release_key"),
        UniqueConstraint("release_id", "number", name="uq_checklist_items_release_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    phase_key: Mapped[str] = mapped_column(String(64))
    phase_title: Mapped[str] = mapped_column(String(200))
    phase_position: Mapped[int]
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    responsible_roles: Mapped[list[str]]
    approver_roles: Mapped[list[str]]
    due_at: Mapped[datetime]
    window_bound: Mapped[bool] = mapped_column(default=False)
    blocks_cutover: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(20), default="pending")
    # Optimistic-concurrency counter: a button carries the version it was rendered with.
    version: Mapped[int] = mapped_column(default=0)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    reminded_at: Mapped[datetime | None]  # the one overdue reminder went out
    decided_for: Mapped[str | None] = mapped_column(String(32))  # a deputy's decision: the holder stood in for
    # Quorum and separation of duties, copied from the template when the release is made.
    approvals_needed: Mapped[int] = mapped_column(default=1, server_default="1")
    not_by: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    # The approvals counted while a quorum gate waits: "U1", or "U1>U2" for a deputy U1 standing in for U2.
    approved_by: Mapped[list[str]] = mapped_column(default=list, server_default="[]")
    # The short key people type (`#7`): per release, in creation order, never reused.
    number: Mapped[int] = mapped_column(default=0, server_default="0")
    # Removed from the scope: hidden from the checklist, its decisions kept.
    removed_at: Mapped[datetime | None]
    scope_bound: Mapped[bool] = mapped_column(default=False, server_default=false())
    description: Mapped[str | None] = mapped_column(Text)

    release: Mapped[Release] = relationship(back_populates="items", lazy="raise")


class RoleAssignment(Base):
    __tablename__ = "role_assignments"
    __table_args__ = (
        UniqueConstraint("release_id", "role_key", "subject_kind", "subject_id", name="uq_role_assignments_holder"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    role_key: Mapped[str] = mapped_column(String(64))
    subject_kind: Mapped[str] = mapped_column(String(8))
    subject_id: Mapped[str] = mapped_column(String(32))
    assigned_by: Mapped[str] = mapped_column(String(32))
    assigned_at: Mapped[datetime]

    release: Mapped[Release] = relationship(back_populates="assignments", lazy="raise")


class Decision(Base):
    """Append-only audit trail of every approve / reject / done / undo."""

    __tablename__ = "decisions"
    # One decision per item version: the database itself refuses a double click.
    __table_args__ = (UniqueConstraint("item_id", "item_version", name="uq_decisions_item_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_items.id", ondelete="CASCADE"))
    item_version: Mapped[int]
    kind: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(32))
    role_key: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
    for_user: Mapped[str | None] = mapped_column(String(32))  # a deputy's decision: the holder they acted for
    # The window a sign-off was given for, so a later move can tell it is stale.
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]


class DeputyRow(Base):
    """Someone standing in for a role on one release, until a deadline (or until set again)."""

    __tablename__ = "deputies"
    __table_args__ = (UniqueConstraint("release_id", "role_key", "user_id", name="uq_deputies_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    role_key: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(32))
    for_user: Mapped[str | None] = mapped_column(String(32))
    until: Mapped[datetime | None]
    set_by: Mapped[str] = mapped_column(String(32))
    set_at: Mapped[datetime]


class Nudge(Base):
    """One nudge about a waiting gate, claimed before it is sent so that it goes out once, whoever ticks.

    `kind`: `dm` (to an approver, at most once per gate per local working `day` of theirs), `thread` (the
    one mention in the release thread once the gate is due), `pm` (the Project Manager told, a working
    day past due). The unique key is the claim."""

    __tablename__ = "nudges"
    __table_args__ = (UniqueConstraint("item_id", "user_id", "kind", "day", name="uq_nudges_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_items.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))  # "" for the thread and the PM notices
    kind: Mapped[str] = mapped_column(String(16))
    day: Mapped[str] = mapped_column(String(10))  # the recipient's local date for a DM, else ""
    at: Mapped[datetime]
    claimed_by: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime | None]


class NudgeSnooze(Base):
    """An approver asked not to be nudged about a gate until then."""

    __tablename__ = "nudge_snoozes"
    __table_args__ = (UniqueConstraint("item_id", "user_id", name="uq_nudge_snoozes_item_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("checklist_items.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(String(32))
    until: Mapped[datetime]


class ReleaseMessage(Base):
    """A Slack message that shows part of a release: the summary, or one part of one phase."""

    __tablename__ = "release_messages"
    __table_args__ = (
        UniqueConstraint("release_id", "kind", "phase_key", "part", name="uq_release_messages_slot"),
        Index("ix_release_messages_channel_ts", "channel_id", "ts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # summary | phase
    phase_key: Mapped[str] = mapped_column(String(64), default="")
    part: Mapped[int] = mapped_column(default=0)
    channel_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    rendered_version: Mapped[int] = mapped_column(default=0)
    content_hash: Mapped[str] = mapped_column(String(64), default="")

    release: Mapped[Release] = relationship(back_populates="messages", lazy="raise")


class StakeholderChannelRow(Base):
    """A channel that receives a release's announcements for one audience."""

    __tablename__ = "stakeholder_channels"
    __table_args__ = (UniqueConstraint("release_id", "audience", "channel_id", name="uq_stakeholder_channels_slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    audience: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    added_by: Mapped[str] = mapped_column(String(32))
    added_at: Mapped[datetime]
    checked_at: Mapped[datetime | None]
    problem: Mapped[str | None] = mapped_column(String(64))


class Announcement(Base):
    __tablename__ = "announcements"
    # A re-plan after a rollback plans the template's announcements again, for the next attempt.
    __table_args__ = (UniqueConstraint("release_id", "attempt", "key", name="uq_announcements_release_attempt_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(default=1, server_default="1")
    kind: Mapped[str] = mapped_column(String(16))  # template | adhoc
    audiences: Mapped[list[str]]
    target_channel: Mapped[str | None] = mapped_column(String(32))  # ad-hoc to one channel
    purpose: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str | None] = mapped_column(Text)
    send_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]


class Delivery(Base):
    """One announcement to one channel: claimed atomically before the post, so it is posted once."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("announcement_id", "channel_id", name="uq_deliveries_announcement_channel"),
        Index("ix_deliveries_state_due", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    announcement_id: Mapped[int] = mapped_column(ForeignKey("announcements.id", ondelete="CASCADE"))
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    not_before: Mapped[datetime | None]  # set after a 429: Slack's Retry-After
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    ts: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(200))
    reported_at: Mapped[datetime | None]  # a failure or miss is told to the release channel once


class ReleaseEvent(Base):
    """Append-only audit of lifecycle steps: cutover start (and overrides), complete, rollback, retro."""

    __tablename__ = "release_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


class Survey(Base):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), unique=True)
    state: Mapped[str] = mapped_column(String(16))  # scheduled | open | closed
    anonymous: Mapped[bool] = mapped_column(default=True)
    # Mixed into the respondent key so a person can edit their answer without being stored.
    salt: Mapped[str] = mapped_column(String(64))
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    invited: Mapped[int] = mapped_column(default=0)


class SurveyResponse(Base):
    """One person's answers. `respondent` is a keyed hash when the survey is anonymous, else the user id."""

    __tablename__ = "survey_responses"
    __table_args__ = (UniqueConstraint("survey_id", "respondent", name="uq_survey_responses_respondent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    respondent: Mapped[str] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AppSecret(Base):
    """A secret the app made for itself (never one of Slack's): generated once, shared by every process."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class AuditEvent(Base):
    """One row of a release's hash-chained audit trail (domain/audit.py). Inserted only: storage/audit.py."""

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("release_id", "seq", name="uq_audit_events_release_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(48))
    actor: Mapped[str | None] = mapped_column(String(32))
    at: Mapped[datetime]
    data: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The last row of a release's chain, kept apart from the rows so a removed tail shows."""

    __tablename__ = "audit_heads"

    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))
