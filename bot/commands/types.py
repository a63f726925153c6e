"""What a `/release` command asks for: one frozen type per verb, as the parser returns it.

Pure data: no Slack, no database. Times stay as typed (`ParsedDateTime`): the zone they are read in
is the invoking person's, which only the flow that runs the command can ask Slack for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, TypeAlias

from domain.model import Subject
from domain.timeparse import ParsedDateTime

CutoverAction = Literal["start", "complete", "rollback"]
RetroAction = Literal["open", "close", "status"]
CUTOVER_ACTIONS: tuple[CutoverAction, ...] = ("start", "complete", "rollback")
RETRO_ACTIONS: tuple[RetroAction, ...] = ("open", "close", "status")


class UsageError(ValueError):
    """Bad `/release` input: `message` says what is wrong, `usage` shows the right form."""

    def __init__(self, message: str, usage: str) -> None:
        self.message = message
        self.usage = usage
        super().__init__(message)


@dataclass(frozen=True)
class Help:
    topic: str | None  # a verb, or None for the overview


@dataclass(frozen=True)
class NewModal:
    pass


@dataclass(frozen=True)
class NewRelease:
    name: str  # plain text: Slack's entity escaping is undone, whitespace collapsed
    cutover: ParsedDateTime | None  # naive unless the user typed an offset; None only for a rehearsal
    duration: timedelta | None  # None: the template's default
    template: str | None  # None: the default template
    rehearsal: int | None = None  # clock factor of a rehearsal (domain/rehearsal.py)


@dataclass(frozen=True)
class ListReleases:
    pass


@dataclass(frozen=True)
class ListTemplates:
    pass


@dataclass(frozen=True)
class Status:
    release: str | None  # "REL-<n>", or None for the release of the current channel


@dataclass(frozen=True)
class Roles:
    release: str | None


@dataclass(frozen=True)
class Assign:
    role: str  # the role word as typed; resolved against the release's template roles in the flow
    subjects: tuple[Subject, ...]  # in the order given, duplicates removed
    release: str | None


@dataclass(frozen=True)
class Unassign:
    role: str
    subjects: tuple[Subject, ...]
    release: str | None


@dataclass(frozen=True)
class SetDeputy:
    role: str  # as typed: resolved against the release's template roles
    user_id: str  # the deputy: one person
    until: ParsedDateTime | None  # naive unless typed with an offset: read in the person's Slack zone
    release: str | None


@dataclass(frozen=True)
class Cancel:
    release: str | None


@dataclass(frozen=True)
class SetChannel:
    audience: str  # one of domain.template.AUDIENCES, lower-case
    channel_id: str  # C… or G…
    release: str | None


@dataclass(frozen=True)
class Schedule:
    release: str | None


@dataclass(frozen=True)
class Move:
    cutover: ParsedDateTime  # naive unless the user typed an offset: read it in their Slack zone
    duration: timedelta | None  # None: keep the window's current length
    release: str | None


@dataclass(frozen=True)
class Announce:
    """Exactly one of `audience` and `channel_id` is set."""

    audience: str | None
    channel_id: str | None
    at: ParsedDateTime
    text: str  # Slack mrkdwn as it arrived (escapes and user mentions kept), trimmed
    release: str | None


@dataclass(frozen=True)
class CutoverCommand:
    """`reason` is set for rollback only, `override` for an overridden start only. Both are plain text:
    Slack's entity escaping is undone (like a release name), so builders escape them when they show them."""

    action: CutoverAction
    reason: str | None
    override: str | None
    release: str | None


@dataclass(frozen=True)
class Retro:
    """`retro open` or `retro close`: the release manager moves the survey's clock."""

    action: Literal["open", "close"]
    release: str | None


@dataclass(frozen=True)
class RetroStatus:
    """`retro status`: how many answered, for anyone."""

    release: str | None


# `item add|edit|remove`: the scope of a running release. Role words and item references stay as typed;
# the flow resolves them against the release (its template's roles and phases, its items' keys).
Due: TypeAlias = timedelta | ParsedDateTime  # an offset from cutover start (-2d, +1h) or a date-time


@dataclass(frozen=True)
class ItemAdd:
    phase: str  # a phase key or its number
    title: str
    gate: bool
    responsible: tuple[str, ...]
    approvers: tuple[str, ...]
    due: Due | None  # None: with the phase's last item
    release: str | None


@dataclass(frozen=True)
class ItemEdit:
    item: str  # `#7` or an item key
    title: str | None
    due: Due | None
    approvers: tuple[str, ...] | None
    release: str | None


@dataclass(frozen=True)
class ItemRemove:
    item: str
    release: str | None


@dataclass(frozen=True)
class Export:
    """`export`: the release's record as Markdown and JSON files, in a DM to the person who asked."""

    release: str | None


Command: TypeAlias = (
    Help
    | NewModal
    | NewRelease
    | ListReleases
    | ListTemplates
    | Status
    | Roles
    | Assign
    | Unassign
    | SetDeputy
    | Cancel
    | SetChannel
    | Schedule
    | Move
    | Announce
    | CutoverCommand
    | Retro
    | RetroStatus
    | ItemAdd
    | ItemEdit
    | ItemRemove
    | Export
)
