"""The cutover itself: who may start, complete or roll back, and which sign-offs must come first."""

from __future__ import annotations

from typing import Literal

from domain.model import ItemState, ItemView, ReleaseState, ReleaseView
from domain.roles import PROJECT_MANAGER
from domain.template import load_template

Action = Literal["start", "complete", "rollback"]

# CAF: the migration architect runs the window; the business owner and sponsor own the
# keep-or-revert decision, so they may also call a rollback.
ALLOWED_ROLES: dict[str, tuple[str, ...]] = {
    "start": (PROJECT_MANAGER, "migration-architect"),
    "complete": (PROJECT_MANAGER, "migration-architect"),
    "rollback": (PROJECT_MANAGER, "migration-architect", "workload-business-owner", "project-sponsor"),
}
OVERRIDE_ROLES = (PROJECT_MANAGER,)

FROM_STATES: dict[str, frozenset[ReleaseState]] = {
    "start": frozenset({ReleaseState.PLANNING, ReleaseState.READY}),
    "complete": frozenset({ReleaseState.CUTTING_OVER}),
    "rollback": frozenset({ReleaseState.CUTTING_OVER, ReleaseState.COMPLETED}),
}
TO_STATE: dict[str, ReleaseState] = {
    "start": ReleaseState.CUTTING_OVER,
    "complete": ReleaseState.COMPLETED,
    "rollback": ReleaseState.ROLLED_BACK,
}


def cutover_actions(state: ReleaseState) -> tuple[Action, ...]:
    """The cutover steps the checklist summary offers as buttons in this state, in the order they are drawn.

    Only steps the state allows (see FROM_STATES), but not all of them: a completed release can still be
    rolled back by command, yet the summary offers no button for it once the cutover is over.
    """
    if state in (ReleaseState.PLANNING, ReleaseState.READY):
        return ("start",)
    if state is ReleaseState.CUTTING_OVER:
        return ("complete", "rollback")
    return ()


def wrong_state(release: ReleaseView, action: Action) -> str | None:
    """Why the release cannot take this step now, or None."""
    if release.state in FROM_STATES[action]:
        return None
    state = release.state.value.replace("_", " ")
    hints = {
        "start": f"{release.key} is {state}; only a planned release can start its cutover.",
        "complete": f"{release.key} is {state}; only a cutover in progress can be completed.",
        "rollback": f"{release.key} is {state}; only a cutover in progress or just completed can be rolled back.",
    }
    return hints[action]


def missing_for_start(release: ReleaseView) -> tuple[ItemView, ...]:
    """Go/no-go: the gates marked as blocking the cutover that are not approved."""
    template = load_template(release.template_key)
    blocking = {spec.key for spec in template.items if spec.blocks_cutover}
    return tuple(i for i in release.items if i.key in blocking and i.state is not ItemState.APPROVED)


def missing_for_complete(release: ReleaseView) -> tuple[ItemView, ...]:
    """The in-window sign-offs (the final go/no-go) that must be approved before completing."""
    return tuple(
        i
        for i in release.items
        if i.is_gate and release.cutover_start <= i.due_at <= release.cutover_end and i.state is not ItemState.APPROVED
    )
