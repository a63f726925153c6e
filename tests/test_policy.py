from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.approvals import after_undo, decode_approval, deputy_is_valid, encode_approval
from domain.model import (
    Approval,
    Assignment,
    DecisionKind,
    Deputy,
    ItemState,
    ItemView,
    PhaseView,
    ReleaseState,
    ReleaseView,
    Subject,
    SubjectKind,
)
from domain.policy import (
    Lateness,
    NotApplicable,
    due_before_creation,
    groups_to_resolve,
    is_overdue,
    item_actions,
    judge,
    lateness,
    may_manage,
    next_state,
    roles_of,
)

T0 = datetime(2026, 12, 5, 22, 0, tzinfo=UTC)
GATE = ItemView(
    1,
    "cc.window_appr",
    "change_comm",
    0,
    "Outage window approved",
    ("project-manager",),
    ("workload-business-owner",),
    T0 - timedelta(days=14),
)
TASK = ItemView(
    2, "cc.draft", "change_comm", 1, "Draft communication", ("org-change-manager",), (), T0 - timedelta(days=16)
)
U = SubjectKind.USER
G = SubjectKind.GROUP


def release(state: ReleaseState = ReleaseState.PLANNING, *assignments: Assignment) -> ReleaseView:
    return ReleaseView(
        1,
        "REL-1",
        "Payroll",
        "",
        "C1",
        T0,
        T0 + timedelta(hours=4),
        "UTC",
        "caf-migration-release",
        state,
        "UPM",
        T0 - timedelta(days=30),
        0,
        (PhaseView("change_comm", "Plan", 1, (GATE, TASK)),),
        assignments,
    )


def test_roles_direct_and_through_groups() -> None:
    a = (Assignment("workload-business-owner", Subject(G, "S1")), Assignment("project-manager", Subject(U, "U1")))
    assert roles_of("U1", a) == {"project-manager"}
    assert roles_of("U2", a, ["S1"]) == {"workload-business-owner"}
    assert roles_of("U2", a) == frozenset()


def test_groups_are_asked_only_when_the_user_lacks_the_role() -> None:
    a = (
        Assignment("workload-business-owner", Subject(G, "S1")),
        Assignment("workload-business-owner", Subject(U, "U9")),
    )
    assert groups_to_resolve("U2", a, ["workload-business-owner"]) == ("S1",)
    assert groups_to_resolve("U9", a, ["workload-business-owner"]) == ()
    assert groups_to_resolve("U2", a, ["project-sponsor"]) == ()


@pytest.mark.parametrize(
    ("item", "kind", "roles", "allowed"),
    [
        (GATE, DecisionKind.APPROVE, {"workload-business-owner"}, True),
        (GATE, DecisionKind.APPROVE, {"project-manager"}, False),  # responsible is not approver
        (GATE, DecisionKind.REJECT, {"workload-business-owner"}, True),
        (GATE, DecisionKind.REJECT, set(), False),
        (TASK, DecisionKind.DONE, {"org-change-manager"}, True),
        (TASK, DecisionKind.DONE, {"project-manager"}, True),  # the PM may mark any item done
        (TASK, DecisionKind.DONE, {"uat-tester"}, False),
    ],
)
def test_judge(item: ItemView, kind: DecisionKind, roles: set[str], allowed: bool) -> None:
    v = judge(release(), item, kind, "U5", frozenset(roles))
    assert v.allowed is allowed
    if not allowed:
        assert v.allowed_roles and v.reason


def test_undo_by_decider_or_pm_only() -> None:
    done = ItemView(**{**TASK.__dict__, "state": ItemState.DONE, "decided_by": "U7", "version": 1})
    assert judge(release(), done, DecisionKind.UNDO, "U7", frozenset()).allowed
    assert judge(release(), done, DecisionKind.UNDO, "U8", frozenset({"project-manager"})).allowed
    refused = judge(release(), done, DecisionKind.UNDO, "U8", frozenset({"org-change-manager"}))
    assert not refused.allowed and refused.allowed_roles == ("project-manager",)


def test_closed_release_refuses_everything() -> None:
    v = judge(release(ReleaseState.CANCELLED), GATE, DecisionKind.APPROVE, "U1", frozenset({"workload-business-owner"}))
    assert not v.allowed and "cancelled" in v.reason and not v.allowed_roles


def test_state_transitions() -> None:
    assert next_state(GATE, DecisionKind.APPROVE) is ItemState.APPROVED
    assert next_state(GATE, DecisionKind.REJECT) is ItemState.REJECTED
    assert isinstance(next_state(GATE, DecisionKind.DONE), NotApplicable)
    assert isinstance(next_state(TASK, DecisionKind.APPROVE), NotApplicable)
    assert next_state(TASK, DecisionKind.DONE) is ItemState.DONE
    assert isinstance(next_state(TASK, DecisionKind.UNDO), NotApplicable)  # nothing to undo
    rejected = ItemView(**{**GATE.__dict__, "state": ItemState.REJECTED})
    assert next_state(rejected, DecisionKind.APPROVE) is ItemState.APPROVED
    assert next_state(rejected, DecisionKind.UNDO) is ItemState.PENDING
    approved = ItemView(**{**GATE.__dict__, "state": ItemState.APPROVED})
    refused = next_state(approved, DecisionKind.REJECT)
    assert isinstance(refused, NotApplicable) and "undo the approval first" in refused.reason


def test_overdue_means_pending_past_due() -> None:
    assert is_overdue(TASK, T0)
    assert is_overdue(GATE, T0)
    assert not is_overdue(TASK, T0 - timedelta(days=20))
    assert not is_overdue(TASK, TASK.due_at)  # due now is not late yet
    for decided in (ItemState.DONE, ItemState.APPROVED, ItemState.REJECTED):
        # A rejected gate shows as rejected, with its reason; it is not counted again as overdue.
        assert not is_overdue(replace(GATE, state=decided), T0), decided


# A release created ten days before its window: TASK (due T-16d) and GATE (due T-14d) were due already.
CREATED = T0 - timedelta(days=10)
# (item due, state, now, lateness)
LATENESS: list[tuple[timedelta, ItemState, datetime, Lateness | None]] = [
    (-timedelta(days=21), ItemState.PENDING, CREATED, Lateness.DUE_BEFORE_CREATION),
    (-timedelta(days=21), ItemState.PENDING, T0, Lateness.DUE_BEFORE_CREATION),  # still a late start later on
    (-timedelta(days=10), ItemState.PENDING, CREATED + timedelta(minutes=1), Lateness.DUE_BEFORE_CREATION),
    (-timedelta(days=9), ItemState.PENDING, CREATED, None),  # not due yet
    (-timedelta(days=9), ItemState.PENDING, T0 - timedelta(days=8), Lateness.OVERDUE),  # slipped after creation
    (-timedelta(days=21), ItemState.DONE, T0, None),
    (-timedelta(days=21), ItemState.APPROVED, T0, None),
    (-timedelta(days=21), ItemState.REJECTED, T0, None),  # shown as rejected, not as late
    (timedelta(hours=2), ItemState.PENDING, T0 + timedelta(hours=3), Lateness.OVERDUE),
]


@pytest.mark.parametrize(("due", "state", "now", "expected"), LATENESS)
def test_items_due_before_the_release_existed_are_a_late_start(
    due: timedelta, state: ItemState, now: datetime, expected: Lateness | None
) -> None:
    r = replace(release(), created_at=CREATED)
    item = replace(GATE, due_at=T0 + due, state=state)
    assert lateness(item, r, now) is expected
    assert due_before_creation(item, r) is (T0 + due <= CREATED)


ITEM_STATES = tuple(ItemState)
REACHABLE: tuple[tuple[ItemView, ItemState], ...] = (
    *((TASK, s) for s in (ItemState.PENDING, ItemState.DONE)),
    *((GATE, s) for s in (ItemState.PENDING, ItemState.APPROVED, ItemState.REJECTED)),
)


@pytest.mark.parametrize(
    ("item", "state", "offered"),
    [
        (TASK, ItemState.PENDING, (DecisionKind.DONE,)),
        (TASK, ItemState.DONE, (DecisionKind.UNDO,)),
        (GATE, ItemState.PENDING, (DecisionKind.APPROVE, DecisionKind.REJECT)),
        (GATE, ItemState.REJECTED, (DecisionKind.APPROVE, DecisionKind.UNDO)),
        (GATE, ItemState.APPROVED, (DecisionKind.UNDO,)),
    ],
)
def test_item_actions(item: ItemView, state: ItemState, offered: tuple[DecisionKind, ...]) -> None:
    assert item_actions(replace(item, state=state)) == offered


@pytest.mark.parametrize(("item", "state"), REACHABLE)
def test_item_actions_are_exactly_the_decisions_that_apply(item: ItemView, state: ItemState) -> None:
    at = replace(item, state=state)
    applies = {
        kind
        for kind in (DecisionKind.DONE, DecisionKind.APPROVE, DecisionKind.REJECT, DecisionKind.UNDO)
        if not isinstance(next_state(at, kind), NotApplicable)
    }
    assert set(item_actions(at)) == applies


@pytest.mark.parametrize("state", ITEM_STATES)
def test_a_task_offers_one_decision_in_any_state(state: ItemState) -> None:
    # The checklist draws a task's decision as the one button beside its text.
    assert len(item_actions(replace(TASK, state=state))) == 1


@pytest.mark.parametrize("state", ITEM_STATES)
def test_reopening_is_never_offered(state: ItemState) -> None:
    # Only moving the window reopens a sign-off; nobody clicks it.
    for item in (TASK, GATE):
        assert DecisionKind.REOPEN not in item_actions(replace(item, state=state))


def test_managers() -> None:
    r = release()
    assert may_manage(r, "UPM", frozenset())
    assert may_manage(r, "UX", frozenset({"project-manager"}))
    assert not may_manage(r, "UX", frozenset({"migration-architect"}))


# --- quorum, separation of duties, deputies ------------------------------------------------------

WBO = "workload-business-owner"
QUORUM = replace(GATE, approvals_needed=2)


def test_quorum_counts_different_people() -> None:
    assert next_state(QUORUM, DecisionKind.APPROVE) is ItemState.PENDING  # one of two: still waiting
    one = replace(QUORUM, approvals=(Approval("U1"),))
    assert next_state(one, DecisionKind.APPROVE) is ItemState.APPROVED
    again = judge(release(), one, DecisionKind.APPROVE, "U1", frozenset({WBO}))
    assert not again.allowed
    assert again.reason.startswith("This sign-off needs 2 different approvers: you already approved (1 of 2 approvals)")
    assert judge(release(), one, DecisionKind.APPROVE, "U2", frozenset({WBO})).allowed
    # A rejection by any approver is never held back by the quorum.
    assert judge(release(), one, DecisionKind.REJECT, "U1", frozenset({WBO})).allowed
    assert next_state(one, DecisionKind.REJECT) is ItemState.REJECTED


def test_an_approval_counted_towards_a_quorum_can_be_taken_back() -> None:
    none_yet = replace(QUORUM, approvals_needed=3)
    assert isinstance(next_state(none_yet, DecisionKind.UNDO), NotApplicable)
    assert DecisionKind.UNDO not in item_actions(none_yet)
    two = replace(none_yet, approvals=(Approval("U1"), Approval("UD", for_user="U2")))
    assert next_state(two, DecisionKind.UNDO) is ItemState.PENDING
    assert item_actions(two) == (DecisionKind.APPROVE, DecisionKind.REJECT, DecisionKind.UNDO)
    # Each approver may take back their own (a deputy's, or the holder it was made for); others may not.
    assert judge(release(), two, DecisionKind.UNDO, "U1", frozenset({WBO})).allowed
    assert judge(release(), two, DecisionKind.UNDO, "U2", frozenset({WBO})).allowed
    assert not judge(release(), two, DecisionKind.UNDO, "U3", frozenset({WBO})).allowed
    assert judge(release(), two, DecisionKind.UNDO, "U3", frozenset({"project-manager"})).allowed
    # An approver's undo withdraws only theirs; a manager's takes back every one.
    assert after_undo(two, "U1") == (Approval("UD", for_user="U2"),)
    assert after_undo(two, "U2") == (Approval("U1"),)
    assert after_undo(two, "UPM") == ()


def test_separation_of_duties_names_the_rule() -> None:
    by_creator = replace(GATE, not_by=("creator",))
    refused = judge(release(), by_creator, DecisionKind.APPROVE, "UPM", frozenset({WBO}))
    assert not refused.allowed
    assert refused.reason == "The release's creator may not approve this gate (not_by: creator)."
    assert judge(release(), by_creator, DecisionKind.APPROVE, "U2", frozenset({WBO})).allowed
    by_responsible = replace(GATE, not_by=("responsible",))  # responsible: project-manager
    refused = judge(release(), by_responsible, DecisionKind.APPROVE, "U2", frozenset({WBO, "project-manager"}))
    assert not refused.allowed and "(not_by: responsible)" in refused.reason
    assert judge(release(), by_responsible, DecisionKind.APPROVE, "U2", frozenset({WBO})).allowed


def _with_deputy(until: datetime | None, for_user: str | None = "UW") -> ReleaseView:
    return replace(release(), deputies=(Deputy(WBO, "UD", for_user, until, "UW"),))


def test_deputy_decides_while_valid_and_is_refused_after() -> None:
    now = T0 - timedelta(days=20)
    v = judge(_with_deputy(now + timedelta(hours=1)), GATE, DecisionKind.APPROVE, "UD", frozenset(), now)
    assert v.allowed and v.deputy and (v.via_role, v.for_user) == (WBO, "UW")
    assert judge(_with_deputy(None), GATE, DecisionKind.APPROVE, "UD", frozenset(), now).allowed
    late = judge(_with_deputy(now), GATE, DecisionKind.APPROVE, "UD", frozenset(), now)  # the deadline is exclusive
    assert not late.allowed and late.deputy and late.via_role == WBO
    assert "Your deputy standing as Workload Business Owner for <@UW> ended <!date^" in late.reason
    # A deputy is for the role's decisions only, and stands in for one person in a quorum.
    assert not judge(_with_deputy(None), TASK, DecisionKind.DONE, "UD", frozenset(), now).allowed
    one = replace(QUORUM, approvals=(Approval("UW"),))
    twice = judge(_with_deputy(None), one, DecisionKind.APPROVE, "UD", frozenset(), now)
    assert not twice.allowed and "you already approved" in twice.reason


def test_approvals_are_stored_as_text() -> None:
    for a in (Approval("U1"), Approval("U1", "U2")):
        assert decode_approval(encode_approval(a)) == a
    assert deputy_is_valid(Deputy(WBO, "UD", None, None, "UPM"), T0)
