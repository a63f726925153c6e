"""Which cutover steps the checklist summary offers in each release state (domain.lifecycle)."""

from __future__ import annotations

import pytest

from domain.lifecycle import FROM_STATES, Action, cutover_actions
from domain.model import ReleaseState


@pytest.mark.parametrize(
    ("state", "offered"),
    [
        (ReleaseState.PLANNING, ("start",)),
        (ReleaseState.READY, ("start",)),
        (ReleaseState.CUTTING_OVER, ("complete", "rollback")),
        (ReleaseState.COMPLETED, ()),
        (ReleaseState.CLOSED, ()),
        (ReleaseState.ROLLED_BACK, ()),
        (ReleaseState.CANCELLED, ()),
    ],
)
def test_cutover_actions(state: ReleaseState, offered: tuple[Action, ...]) -> None:
    assert cutover_actions(state) == offered


@pytest.mark.parametrize("state", list(ReleaseState))
def test_every_offered_step_is_allowed_from_that_state(state: ReleaseState) -> None:
    for action in cutover_actions(state):
        assert state in FROM_STATES[action], (state, action)


def test_a_completed_release_is_rolled_back_by_command_only() -> None:
    assert ReleaseState.COMPLETED in FROM_STATES["rollback"]
    assert "rollback" not in cutover_actions(ReleaseState.COMPLETED)
