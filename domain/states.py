"""The release's state machine: which verb may act in which state, and where each step leads.

This is the only place that says so. The dispatcher asks `refusal` before running a command, the
buttons ask it before acting, and the storage layer's guarded updates take their `from` states from
`TRANSITIONS`, so a race between two people cannot step outside it. docs/ARCHITECTURE.md shows the
diagram and the verb × state table generated from here (tests/test_states.py keeps them equal).

Why the rules are what they are (CAF's release phase):
- While the cutover runs, the window cannot move and the release cannot be cancelled: the migration is
  half done. Complete it or roll it back first. Ad-hoc announcements stay possible (updates during the
  window).
- A completed release keeps its window as it happened; post-cutover work (hypercare, decommissioning,
  the retrospective) goes on, and it can still be rolled back.
- A rolled-back release is re-planned with `move --cutover <when>`: it returns to planning with a new
  window, the sign-offs that depended on the failed attempt reopen and the announcement plan is rebuilt.
  Or it is cancelled: the migration is abandoned.
- Cancelled and closed releases are records: nothing changes them; reading verbs still answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from domain.model import ReleaseState


class Verb(StrEnum):
    """What a person can ask of a release (as they type it; `decide` is any checklist button)."""

    STATUS = "status"
    ROLES = "roles"
    SCHEDULE = "schedule"
    RETRO_STATUS = "retro status"
    EXPORT = "export"
    ASSIGN = "assign"
    UNASSIGN = "unassign"
    DEPUTY = "deputy"
    CHANNEL = "channel"
    ANNOUNCE = "announce"
    MOVE = "move"
    CANCEL = "cancel"
    START = "cutover start"
    COMPLETE = "cutover complete"
    ROLLBACK = "cutover rollback"
    RETRO_OPEN = "retro open"
    RETRO_CLOSE = "retro close"
    DECIDE = "decide"
    ITEM_ADD = "item add"
    ITEM_EDIT = "item edit"
    ITEM_REMOVE = "item remove"


S = ReleaseState
ALL_STATES: Final = (S.PLANNING, S.READY, S.CUTTING_OVER, S.COMPLETED, S.ROLLED_BACK, S.CANCELLED, S.CLOSED)
READ_ONLY: Final = frozenset({Verb.STATUS, Verb.ROLES, Verb.SCHEDULE, Verb.RETRO_STATUS, Verb.EXPORT})
_PLANNED = frozenset({S.PLANNING, S.READY})
_RUNNING = frozenset({S.PLANNING, S.READY, S.CUTTING_OVER, S.COMPLETED, S.ROLLED_BACK})
_AFTER = frozenset({S.COMPLETED, S.ROLLED_BACK})

# verb → the states in which it may act. Read-only verbs act in every state.
ALLOWED: Final[Mapping[Verb, frozenset[ReleaseState]]] = {
    **{v: frozenset(ALL_STATES) for v in READ_ONLY},
    Verb.ASSIGN: _RUNNING,
    Verb.UNASSIGN: _RUNNING,
    Verb.DEPUTY: _RUNNING,
    Verb.CHANNEL: _RUNNING,
    Verb.ANNOUNCE: _RUNNING,
    Verb.MOVE: _PLANNED | {S.ROLLED_BACK},  # in rolled_back: the re-plan
    Verb.CANCEL: _PLANNED | {S.ROLLED_BACK},
    Verb.START: _PLANNED,
    Verb.COMPLETE: frozenset({S.CUTTING_OVER}),
    Verb.ROLLBACK: frozenset({S.CUTTING_OVER, S.COMPLETED}),
    Verb.RETRO_OPEN: _AFTER,
    Verb.RETRO_CLOSE: _AFTER,
    # In completed, only items due from the window on: the sign-offs before it are history (see
    # `item_refusal`). In rolled_back, decisions wait for the re-plan that reopens them.
    Verb.DECIDE: _PLANNED | {S.CUTTING_OVER, S.COMPLETED},
    Verb.ITEM_ADD: _PLANNED | {S.CUTTING_OVER, S.COMPLETED},
    Verb.ITEM_EDIT: _PLANNED | {S.CUTTING_OVER, S.COMPLETED},
    Verb.ITEM_REMOVE: _PLANNED | {S.CUTTING_OVER, S.COMPLETED},
}

# (state, verb) → the state it leads to. Everything else leaves the state as it is.
TRANSITIONS: Final[Mapping[tuple[ReleaseState, Verb], ReleaseState]] = {
    (S.PLANNING, Verb.START): S.CUTTING_OVER,
    (S.READY, Verb.START): S.CUTTING_OVER,
    (S.CUTTING_OVER, Verb.COMPLETE): S.COMPLETED,
    (S.CUTTING_OVER, Verb.ROLLBACK): S.ROLLED_BACK,
    (S.COMPLETED, Verb.ROLLBACK): S.ROLLED_BACK,
    (S.ROLLED_BACK, Verb.MOVE): S.PLANNING,
    (S.PLANNING, Verb.CANCEL): S.CANCELLED,
    (S.READY, Verb.CANCEL): S.CANCELLED,
    (S.ROLLED_BACK, Verb.CANCEL): S.CANCELLED,
}

# What to do instead, by the state the release is in (`{key}` and `{command}` are filled in).
_INSTEAD: Final[Mapping[ReleaseState, str]] = {
    S.PLANNING: "start the cutover first (`{command} cutover start {key}`)",
    S.READY: "start the cutover first (`{command} cutover start {key}`)",
    S.CUTTING_OVER: "complete or roll back the cutover first",
    S.COMPLETED: "its cutover is over; roll it back (`{command} cutover rollback <reason> {key}`) to change that",
    S.ROLLED_BACK: "re-plan it with `{command} move --cutover <when> {key}`, or cancel it",
    S.CANCELLED: "nothing changes a cancelled release; `{command} status {key}` and `schedule` still answer",
    S.CLOSED: "nothing changes a closed release; `{command} status {key}` and `schedule` still answer",
}
# Refusals that read better said for the verb than for the state.
_SPECIFIC: Final[Mapping[tuple[Verb, ReleaseState], str]] = {
    (Verb.START, S.CUTTING_OVER): "its cutover is already running",
    (Verb.START, S.COMPLETED): "its cutover is over",
    (Verb.RETRO_OPEN, S.PLANNING): "the retrospective opens after the cutover",
    (Verb.RETRO_OPEN, S.READY): "the retrospective opens after the cutover",
    (Verb.RETRO_OPEN, S.CUTTING_OVER): "the retrospective opens after the cutover",
    (Verb.RETRO_CLOSE, S.PLANNING): "the retrospective opens after the cutover",
    (Verb.RETRO_CLOSE, S.READY): "the retrospective opens after the cutover",
    (Verb.RETRO_CLOSE, S.CUTTING_OVER): "the retrospective opens after the cutover",
    (Verb.COMPLETE, S.PLANNING): "its cutover has not started (`{command} cutover start {key}`)",
    (Verb.COMPLETE, S.READY): "its cutover has not started (`{command} cutover start {key}`)",
    (Verb.ROLLBACK, S.PLANNING): "its cutover has not started; to drop the release, `{command} cancel {key}`",
    (Verb.ROLLBACK, S.READY): "its cutover has not started; to drop the release, `{command} cancel {key}`",
}


def state_label(state: ReleaseState) -> str:
    return state.value.replace("_", " ")


def allowed(verb: Verb, state: ReleaseState) -> bool:
    return state in ALLOWED[verb]


def refusal(verb: Verb, state: ReleaseState, key: str, command: str = "/release") -> str | None:
    """None when the verb may act in this state; else the state and what to do instead, e.g.
    "REL-1 is cutting over: complete or roll back the cutover first."."""
    if allowed(verb, state):
        return None
    instead = _SPECIFIC.get((verb, state)) or _INSTEAD[state]
    return f"{key} is {state_label(state)}: {instead.format(key=key, command=command)}."


def decision_refusal(state: ReleaseState, key: str, due_before_window: bool, command: str = "/release") -> str | None:
    """Whether a checklist decision may be taken: by the release's state, and once the cutover is over,
    only on items due from the window on (the sign-offs before it are history)."""
    if why := refusal(Verb.DECIDE, state, key, command):
        return why
    if state is S.COMPLETED and due_before_window:
        return f"{key} is completed: the items due before its cutover are closed."
    return None


def after(state: ReleaseState, verb: Verb) -> ReleaseState:
    """The state a verb that was allowed leads to."""
    return TRANSITIONS.get((state, verb), state)


def from_states(verb: Verb) -> frozenset[ReleaseState]:
    """The states a state-changing verb leaves: the guard of its database update."""
    return frozenset(s for (s, v) in TRANSITIONS if v is verb)


def table_markdown() -> str:
    """The verb × state table, as docs/ARCHITECTURE.md shows it."""
    head = "| verb | " + " | ".join(state_label(s) for s in ALL_STATES) + " |"
    rule = "| --- |" + " :---: |" * len(ALL_STATES)
    rows = []
    for verb in Verb:
        cells = []
        for s in ALL_STATES:
            if not allowed(verb, s):
                cells.append("—")
            elif (s, verb) in TRANSITIONS:
                cells.append(f"→ {state_label(TRANSITIONS[(s, verb)])}")
            else:
                cells.append("✓")
        rows.append(f"| `{verb.value}` | " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *rows])


def diagram_mermaid() -> str:
    """The state diagram (Mermaid), as docs/ARCHITECTURE.md shows it."""
    lines = ["stateDiagram-v2", "    [*] --> planning: new"]
    for (src, verb), dst in TRANSITIONS.items():
        label = "move (re-plan)" if verb is Verb.MOVE else verb.value
        lines.append(f"    {src.value} --> {dst.value}: {label}")
    lines += ["    cancelled --> [*]", "    closed --> [*]"]
    return "\n".join(lines)
