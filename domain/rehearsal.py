"""Rehearsals: a release whose whole plan plays out on a compressed clock.

A rehearsal with factor F runs F times faster than the plan: `--rehearsal 60` turns an hour of plan
into a minute. It starts at the beginning of its plan (the earliest due date or announcement) a few
seconds after it is created, whatever cutover date was typed, so the people watching see every step.
A time typed for a rehearsal later (an ad-hoc announcement) is read on the same clock: a day from now
in plan time is a day / F from now.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from domain.template import Template

MIN_FACTOR = 2
MAX_FACTOR = 1_000_000
# Real time between creating a rehearsal and its first announcement: long enough for the checklist to
# be posted first, short enough that nobody wonders whether anything will happen.
LEAD_IN = timedelta(seconds=5)


def factor_problem(factor: int) -> str | None:
    """Why a rehearsal factor cannot be used, or None."""
    if factor < MIN_FACTOR or factor > MAX_FACTOR:
        return (
            f"The rehearsal factor must be a whole number from {MIN_FACTOR} to {MAX_FACTOR:,}, e.g. `60` "
            "(an hour of plan plays in a minute)."
        )
    return None


def scaled(delta: timedelta, factor: int | None) -> timedelta:
    """A plan duration on the release's clock: unchanged for a real release."""
    return delta / factor if factor else delta


def plan_lead(template: Template) -> timedelta:
    """How long before the cutover the plan begins: its earliest item due date or announcement.

    Starting at the earliest of both means no item is overdue the moment a rehearsal is created.
    """
    offsets = [a.offset for a in template.announcements] + [i.due_offset for i in template.items]
    before = [o for o in offsets if o < timedelta(0)]
    return -min(before) if before else timedelta(0)


def rehearsal_window(template: Template, now: datetime, duration: timedelta, factor: int) -> tuple[datetime, datetime]:
    """The compressed cutover window: the plan's beginning falls LEAD_IN after ``now``."""
    start = now + LEAD_IN + plan_lead(template) / factor
    return start, start + duration / factor


def describe(factor: int) -> str:
    """'1 hour of plan = 1 min' in words a person reads at a glance."""
    seconds = 3600 / factor
    if seconds >= 60:
        return f"1 hour of plan = {seconds / 60:.3g} min"
    if seconds >= 1:
        return f"1 hour of plan = {seconds:.3g} s"
    return f"1 day of plan = {86400 / factor:.3g} s"


def compressed_time(typed: datetime, now: datetime, factor: int | None) -> datetime:
    """A typed future time on a rehearsal's clock: as far ahead of ``now`` as the plan says, divided by F."""
    return now + (typed - now) / factor if factor else typed


class _Placed(Protocol):
    @property
    def channel_id(self) -> str: ...
    @property
    def rehearsal_factor(self) -> int | None: ...


def rehearsal_target(release: _Placed) -> str | None:
    """Where every announcement of a rehearsal goes instead of the stakeholder channels (None: a real release).

    Every announcement a rehearsal makes (template, ad-hoc, rollback) takes its target from here."""
    return release.channel_id if release.rehearsal_factor else None
