"""The retrospective's pure rules: answer validation, summaries, and the release facts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from domain.model import DecisionKind, DecisionView, ItemState, ReleaseState
from domain.retro import (
    MIN_RESPONSES,
    QuestionSummary,
    SurveyState,
    SurveyView,
    group_texts,
    option_value,
    release_facts,
    summarize,
    validate_answers,
)
from domain.template import SurveyQuestion, load_template
from tests.test_messages import CUTOVER, U_WBO, make_release

WELL = SurveyQuestion("went_well", "What went well?", "text", (), False)
NEXT = SurveyQuestion("next_wave", "One improvement", "text", (), True)
SMOOTH = SurveyQuestion("smoothness", "How smooth?", "rating", (), False)
CLARITY = SurveyQuestion("comm_clarity", "How clear?", "rating", (), True)
NOTICE = SurveyQuestion("enough_notice", "Enough notice?", "yes_no", (), False)
WINDOW = SurveyQuestion("within_window", "Within the window?", "yes_no", (), True)
ROLLBACK = SurveyQuestion("rollback_needed", "Rollback?", "choice", ("none", "partial", "full"), False)
AREA = SurveyQuestion("friction_area", "Friction?", "choice", ("people", "process", "technology"), True)
QUESTIONS = (WELL, NEXT, SMOOTH, CLARITY, NOTICE, WINDOW, ROLLBACK, AREA)

GOOD = {
    "went_well": "  Clear runbook  ",
    "next_wave": "",
    "smoothness": "4",
    "comm_clarity": None,
    "enough_notice": "yes",
    "within_window": "No",
    "rollback_needed": "partial",
    "friction_area": None,
}


def survey(**kw: object) -> SurveyView:
    fields: dict[str, object] = dict(
        id=7,
        release_id=3,
        state=SurveyState.OPEN,
        anonymous=True,
        opens_at=CUTOVER + timedelta(days=3),
        closes_at=CUTOVER + timedelta(days=6),
        responses=3,
        invited=8,
    )
    fields.update(kw)
    return SurveyView(**fields)  # type: ignore[arg-type]


# --- SurveyView --------------------------------------------------------------------------------


def test_survey_rate() -> None:
    assert survey().rate == pytest.approx(3 / 8)
    assert survey(invited=0, responses=0).rate is None
    assert survey(invited=4, responses=4).rate == 1.0
    assert MIN_RESPONSES == 3
    assert [s.value for s in SurveyState] == ["scheduled", "open", "closed"]


# --- validate_answers --------------------------------------------------------------------------


def test_valid_answers_are_typed_and_trimmed() -> None:
    clean, errors = validate_answers(QUESTIONS, GOOD)
    assert errors == {}
    assert clean == {
        "went_well": "Clear runbook",
        "next_wave": None,
        "smoothness": 4,
        "comm_clarity": None,
        "enough_notice": "yes",
        "within_window": "no",
        "rollback_needed": "partial",
        "friction_area": None,
    }


def test_required_questions_must_be_answered() -> None:
    clean, errors = validate_answers(QUESTIONS, {})
    assert set(errors) == {"went_well", "smoothness", "enough_notice", "rollback_needed"}
    assert all(message == "Please answer this question." for message in errors.values())
    # Optional questions left out are valid and recorded as unanswered.
    assert clean == {"next_wave": None, "comm_clarity": None, "within_window": None, "friction_area": None}

    _, errors = validate_answers(QUESTIONS, {**GOOD, "went_well": "   \n  "})
    assert errors == {"went_well": "Please answer this question."}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("smoothness", "6", "Pick a rating from 1 to 5."),
        ("smoothness", "0", "Pick a rating from 1 to 5."),
        ("smoothness", "4.5", "Pick a rating from 1 to 5."),
        ("smoothness", "five", "Pick a rating from 1 to 5."),
        ("comm_clarity", "-1", "Pick a rating from 1 to 5."),
        ("enough_notice", "maybe", "Answer yes or no."),
        ("enough_notice", "y", "Answer yes or no."),
        ("rollback_needed", "total", "Pick one of the listed options."),
        ("rollback_needed", "Partial", "Pick one of the listed options."),
        ("friction_area", "weather", "Pick one of the listed options."),
        ("went_well", "x" * 2001, "Please keep it to 2,000 characters; this is 2,001."),
        ("next_wave", "y" * 2500, "Please keep it to 2,000 characters; this is 2,500."),
    ],
)
def test_bad_values_are_refused_per_question(key: str, value: str, message: str) -> None:
    clean, errors = validate_answers(QUESTIONS, {**GOOD, key: value})
    assert errors == {key: message}
    assert key not in clean


def test_text_limit_counts_after_strip_and_unknown_keys_are_ignored() -> None:
    clean, errors = validate_answers(QUESTIONS, {**GOOD, "went_well": "  " + "x" * 2000 + "  ", "evil": "<!channel>"})
    assert errors == {} and clean["went_well"] == "x" * 2000 and "evil" not in clean


def test_long_choices_travel_by_position() -> None:
    long = "a" * 200
    q = SurveyQuestion("pick", "Pick", "choice", ("short", long), False)
    assert option_value(q.options, 0) == "short"
    assert option_value(q.options, 1) == "option:1"
    assert validate_answers([q], {"pick": "option:1"}) == ({"pick": long}, {})
    assert validate_answers([q], {"pick": long}) == ({"pick": long}, {})
    assert validate_answers([q], {"pick": "option:7"})[1] == {"pick": "Pick one of the listed options."}


def test_the_default_template_survey_validates() -> None:
    questions = load_template("caf-migration-release").survey
    raw: dict[str, str | None] = {q.key: None for q in questions}
    raw.update(went_well="Comms", could_be_better="Testing", learned="Plan time", smoothness="3")
    clean, errors = validate_answers(questions, raw)
    assert errors == {}
    assert clean["smoothness"] == 3 and "your_role" not in clean
    _, errors = validate_answers(questions, {})
    assert set(errors) == {"went_well", "could_be_better", "learned", "smoothness"}


# --- summarize ---------------------------------------------------------------------------------


def by_key(summaries: tuple[QuestionSummary, ...]) -> dict[str, QuestionSummary]:
    return {s.key: s for s in summaries}


def test_summarize_ratings() -> None:
    responses = [{"smoothness": 4}, {"smoothness": 5}, {"smoothness": "4"}, {"smoothness": 2}, {"smoothness": None}]
    s = by_key(summarize([SMOOTH, CLARITY], responses))
    assert s["smoothness"].answered == 4
    assert s["smoothness"].average == 3.8  # 15 / 4 = 3.75, one decimal
    assert s["smoothness"].distribution == (("1", 0), ("2", 1), ("3", 0), ("4", 2), ("5", 1))
    assert s["smoothness"].texts == ()
    assert s["comm_clarity"].answered == 0 and s["comm_clarity"].average is None
    assert s["comm_clarity"].distribution == (("1", 0), ("2", 0), ("3", 0), ("4", 0), ("5", 0))


def test_summarize_ignores_ratings_out_of_range() -> None:
    s = summarize([SMOOTH], [{"smoothness": 9}, {"smoothness": True}, {"smoothness": "x"}, {"smoothness": 1}])[0]
    assert s.answered == 1 and s.average == 1.0


def test_summarize_yes_no_and_choices_in_option_order() -> None:
    responses = [
        {"enough_notice": "no", "rollback_needed": "full"},
        {"enough_notice": "yes", "rollback_needed": "none"},
        {"enough_notice": "yes", "rollback_needed": "none"},
        {"enough_notice": None, "rollback_needed": "retired"},  # an option the template no longer has
    ]
    s = by_key(summarize([NOTICE, ROLLBACK, AREA], responses))
    assert s["enough_notice"].distribution == (("yes", 2), ("no", 1))
    assert s["enough_notice"].answered == 3
    assert s["rollback_needed"].distribution == (("none", 2), ("partial", 0), ("full", 1), ("retired", 1))
    assert s["rollback_needed"].answered == 4
    assert s["friction_area"].distribution == (("people", 0), ("process", 0), ("technology", 0))
    assert s["friction_area"].answered == 0 and s["friction_area"].average is None


def test_summarize_groups_text_answers() -> None:
    responses = [
        {"went_well": "Clear runbook"},
        {"went_well": "Fast rollback"},
        {"went_well": "clear   RUNBOOK "},
        {"went_well": ""},
        {"went_well": None},
        {"went_well": "Good coffee"},
        {"went_well": "fast rollback"},
        {"went_well": "Clear runbook"},
        {},
    ]
    s = summarize([WELL], responses)[0]
    assert s.kind == "text" and s.answered == 6 and s.average is None and s.distribution == ()
    assert s.texts == ("Clear runbook (×3)", "Fast rollback (×2)", "Good coffee")


# (answers in the order people gave them, what the summary lists)
GROUPED: list[tuple[list[str], tuple[str, ...]]] = [
    (["b", "a", "B", "A", "c"], ("A (×2)", "B (×2)", "c")),  # most frequent first, ties alphabetical
    (["Zed", "alpha", "Mid"], ("alpha", "Mid", "Zed")),  # never in the order they came in
    (["Mid", "Zed", "alpha"], ("alpha", "Mid", "Zed")),
    (["fast  rollback", "Fast rollback", "x"], ("Fast rollback (×2)", "x")),  # one wording, whoever came first
    (["", "  "], ()),
]


@pytest.mark.parametrize(("answers", "shown"), GROUPED)
def test_grouped_texts_do_not_keep_the_order_people_answered_in(answers: list[str], shown: tuple[str, ...]) -> None:
    assert group_texts(answers) == shown


def test_summaries_follow_question_order() -> None:
    summaries = summarize(QUESTIONS, [])
    assert [s.key for s in summaries] == [q.key for q in QUESTIONS]
    assert all(s.answered == 0 for s in summaries)


# --- release facts -----------------------------------------------------------------------------


def test_release_facts_from_the_snapshot() -> None:
    release = make_release(
        state=ReleaseState.ROLLED_BACK,
        actual_start=CUTOVER,
        actual_end=CUTOVER + timedelta(hours=3),
        override_reason="CAB by phone",
    )
    facts = release_facts(release, announcements_sent=7, announcements_failed=2)
    gates = [i for i in release.items if i.is_gate]
    assert facts.planned_start == CUTOVER and facts.planned_end == CUTOVER + timedelta(hours=4)
    assert facts.actual_end == CUTOVER + timedelta(hours=3) and facts.outcome == "rolled_back"
    assert facts.override_reason == "CAB by phone"
    assert len(facts.gate_waits) == len(gates)
    waits = dict(facts.gate_waits)
    approved = next(g for g in gates if g.state is ItemState.APPROVED)
    assert approved.decided_at is not None
    assert waits[approved.title] == approved.decided_at - release.created_at
    assert sum(w is None for w in waits.values()) == sum(g.state is not ItemState.APPROVED for g in gates)
    (rejection,) = facts.rejections
    assert rejection[1] == U_WBO.id and "Rollback plan missing" in rejection[2]
    assert (facts.announcements_sent, facts.announcements_failed) == (7, 2)


def test_release_facts_list_every_rejection_from_the_audit() -> None:
    release = make_release()
    gate = next(i for i in release.items if i.is_gate)
    at = datetime(2026, 11, 20, tzinfo=UTC)
    decisions = [
        DecisionView(2, gate.id, DecisionKind.REJECT, "UB", "workload-business-owner", at + timedelta(hours=1), "B"),
        DecisionView(1, gate.id, DecisionKind.REJECT, "UA", "workload-business-owner", at, "A"),
        DecisionView(3, gate.id, DecisionKind.APPROVE, "UA", "workload-business-owner", at + timedelta(hours=2)),
        DecisionView(4, 999_999, DecisionKind.REJECT, "UC", None, at + timedelta(hours=3), None),
    ]
    facts = release_facts(release, decisions)
    assert facts.rejections == ((gate.title, "UA", "A"), (gate.title, "UB", "B"), ("item 999999", "UC", ""))


def test_release_facts_before_the_cutover() -> None:
    release = make_release()
    facts = release_facts(replace(release, phases=()))
    assert facts.actual_start is None and facts.actual_end is None and facts.outcome == "ready"
    assert facts.gate_waits == () and facts.rejections == ()


def test_survey_times_and_reminder_follow_the_templates_retro_section() -> None:
    from datetime import UTC, datetime, timedelta

    from domain.retro import reminder_due, survey_times

    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    opens, closes = survey_times(now, None, open_now=False, opens_after=timedelta(hours=2), open_for=timedelta(days=3))
    assert (opens, closes) == (now + timedelta(hours=2), now + timedelta(hours=2, days=3))
    lead = timedelta(hours=12)
    assert not reminder_due(closes, None, closes - timedelta(hours=13), lead)
    assert reminder_due(closes, None, closes - timedelta(hours=11), lead)
    assert reminder_due(closes, 60, closes - timedelta(minutes=11), lead)  # a rehearsal's clock
