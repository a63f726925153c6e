"""The release state machine: its table, its refusals and the docs that show it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.lifecycle import FROM_STATES, TO_STATE
from domain.model import ReleaseState
from domain.states import (
    ALL_STATES,
    ALLOWED,
    READ_ONLY,
    TRANSITIONS,
    Verb,
    after,
    decision_refusal,
    diagram_mermaid,
    from_states,
    refusal,
    state_label,
    table_markdown,
)

ROOT = Path(__file__).resolve().parent.parent
S = ReleaseState

# (verb, state, what the person reads: None when it may act)
TABLE: list[tuple[Verb, ReleaseState, str | None]] = [
    (Verb.MOVE, S.CUTTING_OVER, "REL-1 is cutting over: complete or roll back the cutover first."),
    (Verb.CANCEL, S.CUTTING_OVER, "REL-1 is cutting over: complete or roll back the cutover first."),
    (Verb.ANNOUNCE, S.CUTTING_OVER, None),
    (Verb.MOVE, S.COMPLETED, "REL-1 is completed: its cutover is over; roll it back"),
    (Verb.CANCEL, S.COMPLETED, "REL-1 is completed: its cutover is over"),
    (Verb.ANNOUNCE, S.COMPLETED, None),
    (Verb.RETRO_OPEN, S.COMPLETED, None),
    (Verb.ROLLBACK, S.COMPLETED, None),
    (Verb.CANCEL, S.ROLLED_BACK, None),
    (Verb.MOVE, S.ROLLED_BACK, None),
    (Verb.START, S.ROLLED_BACK, "REL-1 is rolled back: re-plan it with `/release move --cutover <when> REL-1`"),
    (Verb.DECIDE, S.ROLLED_BACK, "REL-1 is rolled back: re-plan it"),
    (Verb.START, S.CUTTING_OVER, "REL-1 is cutting over: its cutover is already running."),
    (Verb.COMPLETE, S.PLANNING, "REL-1 is planning: its cutover has not started"),
    (Verb.ROLLBACK, S.PLANNING, "to drop the release, `/release cancel REL-1`"),
    (Verb.RETRO_OPEN, S.PLANNING, "REL-1 is planning: the retrospective opens after the cutover."),
    (Verb.ASSIGN, S.CANCELLED, "REL-1 is cancelled: nothing changes a cancelled release"),
    (Verb.ANNOUNCE, S.CLOSED, "REL-1 is closed: nothing changes a closed release"),
    (Verb.STATUS, S.CANCELLED, None),
    (Verb.SCHEDULE, S.CLOSED, None),
    (Verb.EXPORT, S.CANCELLED, None),
]


@pytest.mark.parametrize(("verb", "state", "expected"), TABLE, ids=[f"{v.value}@{s.value}" for v, s, _ in TABLE])
def test_the_rules_the_issue_asks_for(verb: Verb, state: ReleaseState, expected: str | None) -> None:
    got = refusal(verb, state, "REL-1")
    if expected is None:
        assert got is None
    else:
        assert got is not None and expected in got, got


def test_every_refusal_names_the_state_and_says_what_to_do() -> None:
    for verb in Verb:
        for state in ALL_STATES:
            why = refusal(verb, state, "REL-7", "/deploy")
            if why is None:
                continue
            assert why.startswith(f"REL-7 is {state_label(state)}: "), why
            assert len(why) > len(f"REL-7 is {state_label(state)}: ") + 10, why
            assert "/release" not in why and "{" not in why, why


def test_reading_verbs_answer_in_every_state_and_records_change_nothing() -> None:
    for verb in READ_ONLY:
        assert ALLOWED[verb] == frozenset(ALL_STATES)
    for record in (S.CANCELLED, S.CLOSED):
        assert {v for v in Verb if record in ALLOWED[v]} == set(READ_ONLY)


def test_transitions_are_allowed_steps_and_the_lifecycle_uses_them() -> None:
    for (state, verb), target in TRANSITIONS.items():
        assert state in ALLOWED[verb], (state, verb)
        assert after(state, verb) is target
    assert FROM_STATES["start"] == from_states(Verb.START) == {S.PLANNING, S.READY}
    assert FROM_STATES["rollback"] == {S.CUTTING_OVER, S.COMPLETED}
    assert TO_STATE == {"start": S.CUTTING_OVER, "complete": S.COMPLETED, "rollback": S.ROLLED_BACK}
    assert after(S.ROLLED_BACK, Verb.MOVE) is S.PLANNING
    assert after(S.PLANNING, Verb.MOVE) is S.PLANNING  # a plain move keeps the state


def test_after_the_cutover_only_items_from_the_window_on_can_be_decided() -> None:
    assert decision_refusal(S.COMPLETED, "REL-2", due_before_window=False) is None
    why = decision_refusal(S.COMPLETED, "REL-2", due_before_window=True)
    assert why == "REL-2 is completed: the items due before its cutover are closed."
    assert decision_refusal(S.PLANNING, "REL-2", due_before_window=True) is None


def _between(text: str, begin: str, end: str) -> str:
    m = re.search(re.escape(begin) + r"\n(.*?)\n" + re.escape(end), text, re.S)
    assert m, f"docs/ARCHITECTURE.md lacks the {begin} … {end} markers"
    return m.group(1).strip()


def test_the_docs_show_the_table_and_diagram_the_code_has() -> None:
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    assert _between(doc, "<!-- verb-state-table:begin -->", "<!-- verb-state-table:end -->") == table_markdown()
    diagram = _between(doc, "<!-- state-diagram:begin -->", "<!-- state-diagram:end -->")
    assert diagram == f"```mermaid\n{diagram_mermaid()}\n```"
