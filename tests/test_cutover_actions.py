"""Which cutover steps the checklist summary offers in each release state, and who may take them
(domain.lifecycle)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.lifecycle import FROM_STATES, Action, allowed_roles, cutover_actions
from domain.model import ReleaseState
from domain.template import CutoverRoles, load_template


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


# Who may take each step: the managers, then the template's own roles (its `cutover:` section), and
# where a template names none, only the default roles it declares.
@pytest.mark.parametrize(
    ("template", "action", "roles"),
    [
        ("caf-migration-release", "start", ("project-manager", "migration-architect")),
        ("caf-migration-release", "complete", ("project-manager", "migration-architect")),
        (
            "caf-migration-release",
            "rollback",
            ("project-manager", "migration-architect", "workload-business-owner", "project-sponsor"),
        ),
        ("database-migration", "start", ("project-manager", "dba")),
        ("database-migration", "rollback", ("project-manager", "dba", "data-owner")),
        ("small-change", "complete", ("project-manager", "implementer")),
        ("small-change", "rollback", ("project-manager", "implementer", "service-owner")),
    ],
)
def test_allowed_roles_come_from_the_template(template: str, action: Action, roles: tuple[str, ...]) -> None:
    assert allowed_roles(load_template(template), action) == roles


def test_without_a_cutover_section_only_declared_default_roles_may() -> None:
    caf = load_template("caf-migration-release")
    silent = replace(caf, cutover=CutoverRoles())
    assert allowed_roles(silent, "rollback") == allowed_roles(caf, "rollback")
    # A template without the CAF roles: nobody is told to assign a role the release does not have.
    only_manager = replace(caf, roles=tuple(r for r in caf.roles if r.key == "project-manager"), cutover=CutoverRoles())
    for action in ("start", "complete", "rollback"):
        assert allowed_roles(only_manager, action) == ("project-manager",)
    # Named explicitly, even as an empty list, the template's word stands; the manager is never listed twice.
    named = replace(caf, cutover=CutoverRoles(start=("project-manager", "project-sponsor"), rollback=()))
    assert allowed_roles(named, "start") == ("project-manager", "project-sponsor")
    assert allowed_roles(named, "rollback") == ("project-manager",)
