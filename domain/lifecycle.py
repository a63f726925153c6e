"""The cutover itself: who may start, complete or roll back, and which sign-offs must come first."""

from __future__ import annotations

from typing import Literal

from domain.model import ItemState, ItemView, ReleaseState, ReleaseView
from domain.roles import PROJECT_MANAGER
from domain.states import Verb, after, from_states, refusal
from domain.template import Template

Action = Literal["start", "complete", "rollback"]

# Where a template does not say (its `cutover:` section): CAF's migration architect runs the window;
# the business owner and sponsor own the keep-or-revert decision, so they may also call a rollback.
DEFAULT_ROLES: dict[str, tuple[str, ...]] = {
    "start": ("migration-architect",),
    "complete": ("migration-architect",),
    "rollback": ("migration-architect", "workload-business-owner", "project-sponsor"),
}
OVERRIDE_ROLES = (PROJECT_MANAGER,)


def allowed_roles(template: Template, action: Action) -> tuple[str, ...]:
    """The roles that may take this cutover step: the managers, then the template's roles for it.

    A template that names none for the step gets the default roles it declares, so nobody is ever told
    to assign a role the release does not have.
    """
    named = getattr(template.cutover, action)
    if named is None:
        declared = template.roles_by_key
        named = tuple(r for r in DEFAULT_ROLES[action] if not declared or r in declared)
    return (PROJECT_MANAGER, *(r for r in named if r != PROJECT_MANAGER))


# The state machine (domain/states.py) says where each step may start and where it leads.
ACTION_VERBS: dict[str, Verb] = {"start": Verb.START, "complete": Verb.COMPLETE, "rollback": Verb.ROLLBACK}
FROM_STATES: dict[str, frozenset[ReleaseState]] = {a: from_states(v) for a, v in ACTION_VERBS.items()}
TO_STATE: dict[str, ReleaseState] = {a: after(min(FROM_STATES[a]), v) for a, v in ACTION_VERBS.items()}


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


def wrong_state(release: ReleaseView, action: Action, command: str = "/release") -> str | None:
    """Why the release cannot take this step now (its state, and what to do instead), or None."""
    return refusal(ACTION_VERBS[action], release.state, release.key, command)


def missing_for_start(release: ReleaseView) -> tuple[ItemView, ...]:
    """Go/no-go: the gates marked as blocking the cutover that are not approved."""
    template = release.template
    blocking = {spec.key for spec in template.items if spec.blocks_cutover}
    return tuple(i for i in release.items if i.key in blocking and i.state is not ItemState.APPROVED)


def missing_for_complete(release: ReleaseView) -> tuple[ItemView, ...]:
    """The in-window sign-offs (the final go/no-go) that must be approved before completing."""
    return tuple(
        i
        for i in release.items
        if i.is_gate and release.cutover_start <= i.due_at <= release.cutover_end and i.state is not ItemState.APPROVED
    )
