"""Change announcements: their plan relative to the cutover window, and their delivery states."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.template import Template, offset_at


class DeliveryState(StrEnum):
    PENDING = "pending"  # waiting for its time
    SENDING = "sending"  # claimed by a sender; the Web API call may be in flight
    SENT = "sent"
    FAILED = "failed"  # Slack refused for good (not_in_channel, channel_not_found, …)
    MISSED = "missed"  # due while nothing was running, beyond the grace period: reported, not sent
    CANCELLED = "cancelled"
    SKIPPED = "skipped"  # its time had passed when the release was created


OPEN_DELIVERY_STATES = frozenset({DeliveryState.PENDING, DeliveryState.SENDING})


class AnnouncementKind(StrEnum):
    TEMPLATE = "template"
    ADHOC = "adhoc"


class NoticeKey(StrEnum):
    """The keys of the stakeholder notices the app has wording for, as templates and the database store them.

    Members compare and hash equal to the stored strings. Two stored keys differ by one letter and mean
    different things, so the names here say what each one is: ``WINDOW_END`` (``ann.outcome``, when the
    cutover window ends) and ``RESULTS_SUMMARY`` (``ann.outcomes``, weeks later). Never rename a value:
    existing announcement rows and templates hold them.
    """

    INITIAL = "ann.initial"
    IT_OPS = "ann.it_ops"
    FREEZE = "ann.freeze"
    REMINDER = "ann.reminder"
    STARTED = "ann.started"
    # At the end of the cutover window: complete, rolled back, or still to be confirmed.
    WINDOW_END = "ann.outcome"
    POST_CHECK = "ann.post_check"
    HYPERCARE_END = "ann.hypercare_end"
    DECOM_NOTICE = "ann.decom_notice"
    DECOM_DONE = "ann.decom_done"
    # Weeks after the cutover: how the migration went (cost against the baseline, performance, incidents).
    RESULTS_SUMMARY = "ann.outcomes"
    # In no template: the app adds it to every audience when a cutover is rolled back.
    ROLLBACK = "ann.rollback"


@dataclass(frozen=True)
class PlannedAnnouncement:
    key: str
    audiences: tuple[str, ...]
    purpose: str
    send_at: datetime
    skipped: bool  # already in the past when planned


@dataclass(frozen=True)
class DeliveryView:
    id: int
    channel_id: str
    state: DeliveryState
    due_at: datetime
    attempts: int = 0
    sent_at: datetime | None = None
    ts: str | None = None
    permalink: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class AnnouncementView:
    id: int
    key: str
    kind: AnnouncementKind
    audiences: tuple[str, ...]  # empty when aimed at one channel directly
    purpose: str
    send_at: datetime
    text: str | None  # the body of an ad-hoc announcement
    created_by: str | None
    deliveries: tuple[DeliveryView, ...]
    cancelled: bool = False

    @property
    def state(self) -> str:
        """One word for the whole announcement, for listings."""
        if self.cancelled:
            return "cancelled"
        states = {d.state for d in self.deliveries}
        if not states:
            return "no channel"
        if states == {DeliveryState.SKIPPED}:
            return "skipped"
        if states <= {DeliveryState.SENT}:
            return "sent"
        if states & OPEN_DELIVERY_STATES:
            return "scheduled"
        if DeliveryState.FAILED in states or DeliveryState.MISSED in states:
            return "failed" if DeliveryState.SENT not in states else "partly sent"
        return "sent"


@dataclass(frozen=True)
class StakeholderChannel:
    audience: str
    channel_id: str
    problem: str | None = None  # last preflight finding, e.g. "not_in_channel"


def plan(
    template: Template, start: datetime, end: datetime, now: datetime, factor: int = 1
) -> list[PlannedAnnouncement]:
    """The template's announcements for a window; those already due are marked skipped."""
    out = []
    for spec in template.announcements:
        at = offset_at(spec.offset, template, start, end, factor)
        out.append(PlannedAnnouncement(spec.key, spec.audiences, spec.purpose, at, skipped=at <= now))
    return out


def retime(template: Template, key: str, start: datetime, end: datetime, factor: int = 1) -> datetime | None:
    """Where a template announcement falls for a (moved) window; None for an unknown key."""
    for spec in template.announcements:
        if spec.key == key:
            return offset_at(spec.offset, template, start, end, factor)
    return None


class Anchor(StrEnum):
    """What a template announcement's time follows once the cutover really happens."""

    BEFORE = "before"  # the plan: pointless once the change has started (freeze, reminder, notices)
    DURING = "during"  # in the window: start and end notices go out when those steps are taken
    AFTER = "after"  # the change's real end: post-change checks, hypercare, decommissioning, outcomes


def anchor(template: Template, key: str) -> Anchor | None:
    """How a template announcement is anchored; None for keys the template does not plan (rollback)."""
    spec = next((a for a in template.announcements if a.key == key), None)
    if spec is None:
        return None
    if spec.offset < timedelta(0):
        return Anchor.BEFORE
    return Anchor.DURING if spec.offset <= template.default_duration else Anchor.AFTER


def after_actual_end(planned_at: datetime, planned_end: datetime, actual_end: datetime) -> datetime:
    """An after-change announcement keeps its distance from the window's end, from the real end."""
    return actual_end + (planned_at - planned_end)


# Why a delivery did not go out, as `/release schedule` shows it.
SKIPPED_STARTED = "the cutover had already started: it only made sense before the change"


def channels_for(audiences: Iterable[str], channels: Sequence[StakeholderChannel]) -> tuple[str, ...]:
    """Every channel an announcement goes to, without duplicates.

    An announcement for `all` goes to every stakeholder channel; a channel set for `all` hears every
    announcement.
    """
    wanted = set(audiences)
    picked = [c.channel_id for c in channels if "all" in wanted or c.audience in wanted or c.audience == "all"]
    return tuple(dict.fromkeys(picked))
