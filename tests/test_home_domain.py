"""What the App Home shows, as pure rules and a builder: gates oldest due first across releases, deputies,
the quorum, and a view within Slack's limits however much waits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domain.home import involved_in, waiting_for
from domain.model import Approval, Assignment, Deputy, ItemView, PhaseView, ReleaseState, ReleaseView, Subject
from domain.model import SubjectKind as K
from messages.home import EMPTY_WAITING, MAX_WAITING, home_view
from sandbox.blockkit import validate_view

NOW = datetime(2027, 1, 12, 12, 0, tzinfo=UTC)
WBO = "workload-business-owner"


CAF = "caf-migration-release"


def gate(item_id: int, due_in_days: int, **extra: object) -> ItemView:
    base = ItemView(
        item_id, f"g{item_id}", "change_comm", item_id, f"Gate {item_id}", ("project-manager",), (WBO,), NOW
    )
    return replace(base, due_at=NOW + timedelta(days=due_in_days), **extra)  # type: ignore[arg-type]


def release(release_id: int, items: tuple[ItemView, ...], *holders: str, **extra: object) -> ReleaseView:
    r = ReleaseView(
        release_id, f"REL-{release_id}", f"Release {release_id}", "", "C1", NOW + timedelta(days=30),
        NOW + timedelta(days=30, hours=4), "UTC", CAF, ReleaseState.PLANNING, "UPM", NOW - timedelta(days=1), 0,
        (PhaseView("change_comm", "Plan", 1, items),), tuple(Assignment(WBO, Subject(K.USER, h)) for h in holders),
    )  # fmt: skip
    return replace(r, **extra)  # type: ignore[arg-type]


def test_waiting_across_releases_oldest_due_first_with_deputies_and_quorum() -> None:
    r1 = release(1, (gate(1, 5), gate(2, 1)), "UW")
    r2 = release(2, (gate(3, 3), replace(gate(4, 0), approvals_needed=2, approvals=(Approval("UW"),))), "UW")
    held = {1: frozenset({WBO}), 2: frozenset({WBO})}
    shown = waiting_for("UW", [r1, r2], held, NOW)
    assert [w.item.id for w in shown] == [2, 3, 1]  # gate 4: UW already approved it, it waits for someone else
    # A deputy sees the gates of the role they stand in for, until their deadline.
    r3 = replace(r1, deputies=(Deputy(WBO, "UD", "UW", NOW + timedelta(hours=1), "UW"),))
    deputy = waiting_for("UD", [r3], {}, NOW)
    assert [(w.item.id, w.for_user) for w in deputy] == [(2, "UW"), (1, "UW")]
    assert waiting_for("UD", [r3], {}, NOW + timedelta(hours=2)) == []
    assert [r.release.id for r in involved_in("UD", [r3], {}, NOW)] == [1]
    assert involved_in("UX", [r1, r2], {}, NOW) == []


def test_the_home_view_stays_within_slacks_limits_and_says_when_nothing_waits() -> None:
    releases = [release(n, tuple(gate(n * 100 + i, i % 9) for i in range(80)), "UW") for n in range(1, 15)]
    held = {r.id: frozenset({WBO}) for r in releases}
    view = home_view(
        waiting_for("UW", releases, held, NOW), involved_in("UW", releases, held, NOW), [], command="/release"
    ).to_dict()
    assert validate_view(view) == []
    assert len(view["blocks"]) <= 100
    assert sum(1 for b in view["blocks"] if b["type"] == "actions") == MAX_WAITING
    empty = home_view([], [], [], command="/ship").to_dict()
    assert validate_view(empty) == []
    text = str(empty)
    assert EMPTY_WAITING in text and "`/ship list`" in text and "No decisions yet." in text
