"""What people are told follows the cutover as it really happened, not as it was planned."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from domain.announcements import Anchor, after_actual_end, anchor
from domain.model import ReleaseState
from domain.retro import SurveyState, summarize
from domain.template import load_template
from messages.dates import slack_date, slack_window
from messages.retro import retro_status_message, survey_summary_message
from messages.stakeholder_notices import announcement_message
from tests.test_messages import CUTOVER, NOW, make_release
from tests.test_retro_messages import QUESTIONS, RELEASE, RESPONSES, facts, survey

CAF = load_template("caf-migration-release")


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("ann.initial", Anchor.BEFORE),
        ("ann.it_ops", Anchor.BEFORE),
        ("ann.freeze", Anchor.BEFORE),
        ("ann.reminder", Anchor.BEFORE),
        ("ann.started", Anchor.DURING),
        ("ann.outcome", Anchor.DURING),
        ("ann.post_check", Anchor.AFTER),
        ("ann.hypercare_end", Anchor.AFTER),
        ("ann.decom_notice", Anchor.AFTER),
        ("ann.decom_done", Anchor.AFTER),
        ("ann.outcomes", Anchor.AFTER),
        ("ann.rollback", None),  # decided by an event, not planned
    ],
)
def test_each_built_in_announcement_has_an_anchor(key: str, expected: Anchor | None) -> None:
    assert anchor(CAF, key) is expected


def test_after_change_notices_keep_their_distance_from_the_real_end() -> None:
    planned_end = CUTOVER + timedelta(hours=4)
    planned = CUTOVER + timedelta(days=1)  # the day-after check: 20 h after the planned end
    assert after_actual_end(planned, planned_end, CUTOVER + timedelta(minutes=1)) == CUTOVER + timedelta(
        hours=20, minutes=1
    )
    late = planned_end + timedelta(hours=3)
    assert after_actual_end(planned, planned_end, late) == planned + timedelta(hours=3)


def test_the_outcome_notice_states_the_window_as_it_happened() -> None:
    # Planned 22:00–02:00; it really ran 21:40–21:41 (started early, done in a minute).
    start, end = CUTOVER - timedelta(minutes=20), CUTOVER - timedelta(minutes=19)
    release = make_release(state=ReleaseState.COMPLETED, actual_start=start, actual_end=end)
    body = json.dumps(
        [
            b.to_dict()
            for b in announcement_message(release, "ann.outcome", ("all",), None, NOW, command="/release").blocks
        ],
        ensure_ascii=False,
    )
    assert slack_window(start, end) in body
    assert slack_window(release.cutover_start, release.cutover_end) not in body


def test_a_running_cutover_is_described_from_its_real_start() -> None:
    start = CUTOVER + timedelta(hours=2)  # late
    release = make_release(state=ReleaseState.CUTTING_OVER, actual_start=start)
    body = json.dumps(
        [
            b.to_dict()
            for b in announcement_message(release, "ann.started", ("all",), None, NOW, command="/release").blocks
        ],
        ensure_ascii=False,
    )
    planned_length = release.cutover_end - release.cutover_start
    assert slack_window(start, start + planned_length) in body


def test_a_survey_closed_early_says_when_it_really_closed() -> None:
    planned, actual = CUTOVER + timedelta(days=6), CUTOVER + timedelta(days=4, hours=2)
    closed = survey(state=SurveyState.CLOSED, closes_at=planned, closed_at=actual)
    for out in (
        survey_summary_message(RELEASE, closed, summarize(QUESTIONS, RESPONSES), facts()),
        retro_status_message(RELEASE, closed, command="/release"),
    ):
        body = json.dumps([b.to_dict() for b in out.blocks], ensure_ascii=False)
        assert f"Closed {slack_date(actual)}" in body, body[:600]
        assert slack_date(planned) not in body
