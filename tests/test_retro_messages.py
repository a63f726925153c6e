"""Retrospective builders: invitations, the survey modal, status, and the summary posted on close."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from domain.model import Assignment, ReleaseState, Subject, SubjectKind
from domain.retro import (
    MIN_RESPONSES,
    Answer,
    QuestionSummary,
    ReleaseFacts,
    SurveyState,
    SurveyView,
    release_facts,
    summarize,
    validate_answers,
)
from domain.roles import ROLES
from domain.template import SurveyQuestion, load_template
from messages.common import Rendered, text_length, to_dicts
from messages.dates import slack_date, slack_window
from messages.retro import (
    retro_status_message,
    survey_dm_message,
    survey_invite_message,
    survey_modal,
    survey_reminder_message,
    survey_summary_message,
)
from sandbox.blockkit import validate_message_blocks, validate_view
from tests.test_lifecycle_messages import check
from tests.test_messages import CUTOVER, U_WBO, make_release

QUESTIONS = load_template("caf-migration-release").survey
HOSTILE = "Great <!channel> support & <script>x</script>"
RELEASE = make_release(
    state=ReleaseState.COMPLETED,
    actual_start=CUTOVER + timedelta(minutes=5),
    actual_end=CUTOVER + timedelta(hours=5, minutes=5),
)


def survey(**kw: Any) -> SurveyView:
    fields: dict[str, Any] = dict(
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
    return SurveyView(**fields)


def take_button(out: Rendered) -> dict[str, Any]:
    found = [e for b in to_dicts(out.blocks) if b["type"] == "actions" for e in b["elements"]]
    (button,) = found
    return button


# --- invitations -------------------------------------------------------------------------------


@pytest.mark.parametrize("builder", [survey_invite_message, survey_dm_message, survey_reminder_message])
@pytest.mark.parametrize("anonymous", [True, False])
def test_invitations_carry_the_button_and_say_what_is_stored(builder: Any, anonymous: bool) -> None:
    s = survey(anonymous=anonymous)
    out = builder(RELEASE, s)
    body = check(out)
    button = take_button(out)
    assert (button["action_id"], button["value"], button["style"]) == ("retro.take", "7", "primary")
    assert button["text"]["text"] == "Take the survey"
    assert slack_date(s.closes_at) in body
    if anonymous:
        assert "answers are stored without your name" in body
    else:
        assert "answers are stored with your name" in body and "without your name" not in body
    assert "REL-3" in out.text


def test_invite_wording() -> None:
    body = check(survey_invite_message(RELEASE, survey()))
    assert "*The retrospective for REL-3 · Payroll &amp; HR &lt;wave 2&gt; is open* until <!date^" in body
    assert "what went well, what could have been better, what did we learn" in body
    assert f"only if at least {MIN_RESPONSES} people answered" in body
    assert "You worked on *REL-3" in check(survey_dm_message(RELEASE, survey()))
    reminder = check(survey_reminder_message(RELEASE, survey()))
    assert "This is the only reminder." in reminder and "3 of 8 answered (38%)" in reminder


# --- the survey modal --------------------------------------------------------------------------


def modal(previous: dict[str, Answer] | None = None, questions: Any = QUESTIONS, **kw: Any) -> dict[str, Any]:
    view: dict[str, Any] = survey_modal(RELEASE, survey(**kw), questions, previous).to_dict()
    assert validate_view(view) == []
    assert len(view["blocks"]) <= 100
    return view


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def test_survey_modal_has_one_input_per_question() -> None:
    view = modal()
    assert view["callback_id"] == "retro.submit" and view["private_metadata"] == "7"
    assert view["title"]["text"] == "Retrospective" and view["submit"]["text"] == "Send"
    assert view["blocks"][1]["type"] == "context"
    assert "answers are stored without your name" in json.dumps(view["blocks"][1])
    by_key = inputs(view)
    assert list(by_key) == [q.key for q in QUESTIONS]
    for q in QUESTIONS:
        block = by_key[q.key]
        element = block["element"]
        assert element["action_id"] == q.key
        assert block["label"]["text"] == q.text.replace("&", "&amp;")
        assert block.get("optional", False) is q.optional
        assert "initial_value" not in element and "initial_option" not in element
        if q.kind == "text":
            assert element["type"] == "plain_text_input" and element["multiline"] is True
            assert element["max_length"] == 2000
        elif q.kind == "rating":
            assert element["type"] == "static_select"
            assert [o["value"] for o in element["options"]] == ["5", "4", "3", "2", "1"]
            assert element["options"][0]["text"]["text"] == "5 – very"
            assert element["options"][-1]["text"]["text"] == "1 – not at all"
        elif q.kind == "yes_no":
            assert element["type"] == "radio_buttons"
            assert [o["value"] for o in element["options"]] == ["yes", "no"]
        else:
            assert element["type"] == "static_select"
            assert [o["value"] for o in element["options"]] == list(q.options)


def test_survey_modal_prefills_previous_answers() -> None:
    previous: dict[str, Answer] = {
        "went_well": "Clear <runbook> & comms",
        "smoothness": 4,
        "enough_notice": "no",
        "friction_area": "data and replication",
        "comm_clarity": None,
        "outcome": "gone",
    }
    view = modal(previous)
    assert view["submit"]["text"] == "Update"
    by_key = inputs(view)
    # The input shows exactly what the person typed: plain_text inputs take no escaping.
    assert by_key["went_well"]["element"]["initial_value"] == "Clear <runbook> & comms"
    assert by_key["smoothness"]["element"]["initial_option"]["value"] == "4"
    assert by_key["enough_notice"]["element"]["initial_option"]["value"] == "no"
    assert by_key["friction_area"]["element"]["initial_option"]["value"] == "data and replication"
    assert "initial_option" not in by_key["comm_clarity"]["element"]
    assert "initial_option" not in by_key["outcome"]["element"]  # no longer an option: not preselected
    assert "You answered before" in json.dumps(view["blocks"][0])


def test_survey_modal_round_trip_validates() -> None:
    """Values a person can submit from the modal are exactly what validate_answers accepts."""
    view = modal()
    raw: dict[str, str | None] = {}
    for key, block in inputs(view).items():
        element = block["element"]
        raw[key] = element["options"][0]["value"] if "options" in element else "Something to say"
    clean, errors = validate_answers(QUESTIONS, raw)
    assert errors == {}
    assert clean["smoothness"] == 5 and clean["enough_notice"] == "yes" and clean["went_well"] == "Something to say"


def test_survey_modal_limits() -> None:
    long_options = tuple(f"{n:03d} " + "o" * 200 for n in range(150))
    questions = (
        SurveyQuestion("long", "L" * 150, "choice", long_options, True),
        *(SurveyQuestion(f"q{n}", f"Question {n}?", "text", (), True) for n in range(150)),
    )
    view = modal(None, questions, anonymous=False)
    assert len(view["blocks"]) == 100
    element = inputs(view)["long"]["element"]
    assert len(element["options"]) == 100
    assert all(len(o["text"]["text"]) <= 75 and len(o["value"]) <= 150 for o in element["options"])
    assert element["options"][3]["value"] == "option:3"
    assert "answers are stored with your name" in json.dumps(view["blocks"][1])
    clean, errors = validate_answers(questions[:1], {"long": "option:3"})
    assert errors == {} and clean["long"] == long_options[3]


# --- /release retro status ---------------------------------------------------------------------


def test_retro_status_without_a_survey() -> None:
    body = check(retro_status_message(RELEASE, None, command="/cut"))
    assert "No retrospective survey yet." in body and "`/cut retro open REL-3`" in body


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (SurveyState.SCHEDULED, "Scheduled: opens"),
        (SurveyState.OPEN, "Open until"),
        (SurveyState.CLOSED, "Closed"),
    ],
)
def test_retro_status_shows_counts_and_dates_only(state: SurveyState, expected: str) -> None:
    s = survey(state=state)
    out = retro_status_message(RELEASE, s, command="/release")
    body = check(out)
    assert expected in body and slack_date(s.closes_at) in body
    if state is SurveyState.SCHEDULED:
        assert slack_date(s.opens_at) in body and "`/release retro open REL-3`" in body
    if state is SurveyState.OPEN:
        assert "`/release retro close REL-3`" in body
    assert "*Responses:* 3 of 8 answered (38%)" in body
    assert "*Anonymous:* yes" in body
    assert "Answers are never shown here." in body
    assert f"{state.value}, 3 of 8 answered" in out.text


def test_retro_status_with_nobody_invited() -> None:
    body = check(retro_status_message(RELEASE, survey(invited=0, responses=0, anonymous=False), command="/release"))
    assert "*Responses:* 0 answered" in body and "*Anonymous:* no" in body


# --- the summary -------------------------------------------------------------------------------

RESPONSES: list[dict[str, Answer]] = [
    {
        "went_well": "Clear runbook",
        "could_be_better": HOSTILE,
        "learned": "Plan time for SQL",
        "smoothness": 4,
        "comm_clarity": 5,
        "enough_notice": "yes",
        "friction_area": "networking",
    },
    {
        "went_well": "clear  runbook",
        "could_be_better": "Earlier UAT",
        "learned": "plan time for sql",
        "smoothness": 5,
        "enough_notice": "no",
        "friction_area": "networking",
    },
    {
        "went_well": "Fast rollback drill",
        "could_be_better": "",
        "learned": None,
        "smoothness": 3,
        "comm_clarity": 4,
        "enough_notice": "yes",
        "friction_area": "process",
    },
]


def facts(**kw: Any) -> ReleaseFacts:
    base = release_facts(RELEASE, announcements_sent=9, announcements_failed=1)
    return replace(base, **kw)


def summary(responses: list[dict[str, Answer]], **kw: Any) -> tuple[Rendered, str]:
    s = survey(state=SurveyState.CLOSED, responses=len(responses), **kw)
    out = survey_summary_message(RELEASE, s, summarize(QUESTIONS, responses), facts())
    return out, check(out)


def assert_facts_shown(body: str) -> None:
    assert f"*Planned window:* {slack_window(RELEASE.cutover_start, RELEASE.cutover_end)}" in body
    assert RELEASE.actual_start is not None and RELEASE.actual_end is not None
    assert f"*Actual window:* {slack_window(RELEASE.actual_start, RELEASE.actual_end)}" in body
    assert "*Outcome:* 🏁 Completed" in body
    assert "*Announcements:* 9 sent · 1 failed" in body
    assert "*Sign-off waits* (from release creation to approval)" in body
    assert "— not approved" in body
    assert (
        f"rejected by <@{U_WBO.id}>: “Rollback plan missing &lt;!channel&gt; &amp; "
        "&lt;script&gt;alert(1)&lt;/script&gt;”"
    ) in body


def test_summary_is_withheld_below_three_responses_but_keeps_the_facts() -> None:
    out, body = summary(RESPONSES[:2])
    assert "*Summary withheld:* 2 of 8 answered (25%)" in body
    assert "summary withheld" in out.text
    for answer in ("Clear runbook", "Earlier UAT", "Plan time", "★", "networking"):
        assert answer not in body
    assert_facts_shown(body)


def test_summary_with_three_responses() -> None:
    _, body = summary(RESPONSES)
    assert "*3 of 8 answered (38%)*" in body and "withheld" not in body
    assert "*Overall, how smooth was this release?* — ★ 4.0 · 3 answers · `1: 0 · 2: 0 · 3: 1 · 4: 1 · 5: 1`" in body
    assert "*How clear and timely was the change communication?* — ★ 4.5 · 2 answers" in body
    assert "*Did you get enough notice to prepare for the change?* — yes 2 · no 1" in body
    assert "*Which area caused the most delay or friction?* — process 1 · networking 2" in body
    assert "*Was a rollback needed?* — _no answers_" in body
    assert "*What went well?* — 3 answers\n• Clear runbook (×2)\n• Fast rollback drill" in body
    assert "• Great &lt;!channel&gt; support &amp; &lt;script&gt;x&lt;/script&gt;" in body
    assert "*What did we learn?* — 2 answers\n• Plan time for SQL (×2)" in body
    assert "*One improvement we should apply to the next wave* — _no answers_" in body
    assert_facts_shown(body)
    assert "Anonymous survey" in body
    # The answers come before the facts.
    assert body.index("What went well?") < body.index("How the release went")


def test_summary_durations_override_and_missing_actuals() -> None:
    f = facts(
        actual_start=None,
        actual_end=None,
        outcome="cancelled",
        override_reason="CAB <!here> ok",
        gate_waits=(
            ("Approve window", timedelta(days=3, hours=4, minutes=20)),
            ("UAT", timedelta(minutes=45)),
            ("Change", None),
        ),
        rejections=(),
        announcements_sent=0,
        announcements_failed=0,
    )
    out = survey_summary_message(RELEASE, survey(state=SurveyState.CLOSED), summarize(QUESTIONS, RESPONSES), f)
    body = check(out)
    assert "• Approve window — 3d 4h" in body and "• UAT — 45m" in body and "• Change — not approved" in body
    assert "*Actual window:* the cutover did not start" in body
    assert "*Outcome:* ✖️ Cancelled" in body
    assert ":warning: *Go/no-go overridden:* “CAB &lt;!here&gt; ok”" in body
    assert "*Rejections* — none" in body


# (time from release creation to approval, what the summary's "Sign-off waits" line says)
WAITS: list[tuple[timedelta | None, str]] = [
    (timedelta(seconds=15), "15s"),
    (timedelta(seconds=32, milliseconds=900), "32s"),  # cut, never rounded up
    (timedelta(seconds=59, milliseconds=999), "59s"),
    (timedelta(milliseconds=300), "under 1s"),
    (timedelta(0), "under 1s"),
    (timedelta(minutes=1), "1m"),
    (timedelta(minutes=1, seconds=59), "1m"),  # minutes and up are read in minutes
    (timedelta(hours=2, minutes=5, seconds=30), "2h 5m"),
    (timedelta(hours=23, minutes=59, seconds=59), "23h 59m"),
    (timedelta(days=1), "1d"),
    (timedelta(days=3, hours=4, minutes=20), "3d 4h"),  # past a day, in hours
    (timedelta(days=3, hours=4, minutes=40), "3d 5h"),
    (None, "not approved"),
]


@pytest.mark.parametrize(("wait", "shown"), WAITS, ids=[w[1] + f"-{n}" for n, w in enumerate(WAITS)])
def test_sign_off_waits_read_in_the_unit_they_were_measured_in(wait: timedelta | None, shown: str) -> None:
    f = facts(gate_waits=(("Approve window", wait),))
    out = survey_summary_message(RELEASE, survey(state=SurveyState.CLOSED), summarize(QUESTIONS, RESPONSES), f)
    assert f"• Approve window — {shown}\n" in check(out) + "\n"


# (duration, what is shown, the unit it was measured in)
DURATIONS: list[tuple[timedelta, str, timedelta]] = [
    (timedelta(seconds=20), "20s", timedelta(seconds=1)),
    (timedelta(seconds=20), "under 1m", timedelta(minutes=1)),  # never a unit finer than measured
    (timedelta(minutes=0), "under 1m", timedelta(minutes=1)),
    (timedelta(minutes=90), "1h 30m", timedelta(minutes=1)),
    (timedelta(minutes=90), "1h", timedelta(hours=1)),
    (timedelta(minutes=30), "under 1h", timedelta(hours=1)),
    (timedelta(days=2, hours=5), "2d", timedelta(days=1)),
    (timedelta(hours=-1), "under 1s", timedelta(seconds=1)),
]


@pytest.mark.parametrize(("delta", "shown", "unit"), DURATIONS)
def test_duration_text_never_shows_a_unit_finer_than_measured(delta: timedelta, shown: str, unit: timedelta) -> None:
    from messages.dates import duration_text

    assert duration_text(delta, smallest=unit) == shown


def test_summary_caps_free_text_answers() -> None:
    responses: list[dict[str, Answer]] = [{"went_well": f"Answer {n} " + "w" * 400, "smoothness": 3} for n in range(40)]
    _, body = summary(responses, invited=50)
    assert "*What went well?* — 40 answers" in body and "*40 of 50 answered (80%)*" in body
    assert "`1: 0 · 2: 0 · 3: 40 · 4: 0 · 5: 0`" in body
    assert body.count("• Answer ") == 10 and "_+30 more_" in body
    assert all(len(line) <= 260 for line in body.splitlines() if line.startswith("• Answer "))


def test_summary_of_a_huge_survey_fits_one_message() -> None:
    questions = tuple(SurveyQuestion(f"t{n}", f"Text question {n} " + "q" * 120, "text", (), True) for n in range(60))
    questions += tuple(SurveyQuestion(f"r{n}", f"Rating {n} " + "r" * 120, "rating", (), True) for n in range(40))
    responses: list[dict[str, Answer]] = [
        {**{f"t{n}": f"{k} " + "&<" * 300 for n in range(60)}, **{f"r{n}": 1 + k % 5 for n in range(40)}}
        for k in range(30)
    ]
    many_waits = tuple((f"Gate {n} " + "g" * 150, timedelta(hours=n)) for n in range(200))
    many_rejections = tuple((f"Gate {n}", "U0REJ", "r" * 500) for n in range(50))
    f = facts(gate_waits=many_waits, rejections=many_rejections)
    s = survey(state=SurveyState.CLOSED, responses=30, invited=40)
    out = survey_summary_message(RELEASE, s, summarize(questions, responses), f)
    body = check(out)
    blocks = to_dicts(out.blocks)
    assert len(blocks) <= 50 and text_length(out.blocks) <= 10_000
    assert validate_message_blocks(blocks) == []
    assert re.search(r"_\+\d+ more free-text questions not shown_", body)
    assert re.search(r"_\+\d+ more questions_", body)
    assert "*Announcements:* 9 sent · 1 failed" in body and "*Rejections* — 50" in body
    assert "_+185 more_" in body  # waits are capped at 15 lines


def test_a_release_where_every_role_has_one_holder_keeps_its_respondents_anonymous() -> None:
    # Eleven roles, eleven people: an answer naming a role would name its one holder.
    holders = tuple(Assignment(r.key, Subject(SubjectKind.USER, f"U{n:03d}HOLD")) for n, r in enumerate(ROLES))
    release = replace(RELEASE, assignments=holders)
    assert all(len(release.holders(r.key)) == 1 for r in ROLES)
    role_words = {w.casefold() for r in ROLES for w in (r.name, r.key)}

    # The survey asks nothing whose answer is a role.
    assert not any(o.casefold() in role_words for q in QUESTIONS for o in q.options)
    assert "Nothing asks your role or team" in check(survey_invite_message(release, survey(invited=11)))

    # Everyone answers; answers stored by an older survey still carry the role it used to ask.
    responses: list[dict[str, Answer]] = [
        {
            "went_well": f"Well {chr(ord('k') - n)}",
            "could_be_better": f"Better {chr(ord('a') + n)}",
            "learned": f"Learned {n % 4}",
            "smoothness": 1 + n % 5,
            "friction_area": ("process", "networking", "people")[n % 3],
            "your_role": role.name,
        }
        for n, role in enumerate(ROLES)
    ]
    s = survey(state=SurveyState.CLOSED, responses=len(responses), invited=len(responses))

    def shown(answers: list[dict[str, Answer]]) -> str:
        return check(survey_summary_message(release, s, summarize(QUESTIONS, answers), facts()))

    body = shown(responses)
    answers = body[: body.index("*How the release went*")]
    assert "Well a" in answers and "Better a" in answers
    for role in ROLES:
        assert role.name not in answers and role.key not in answers, role.name
    assert "<@U" not in answers
    # The order people answered in leaves no trace: no answer's position lines up with another's.
    assert answers.index("Well a") < answers.index("Well b") and answers.index("Better a") < answers.index("Better b")
    for reordered in (responses[::-1], responses[5:] + responses[:5]):
        assert shown(reordered) == body


def test_summary_of_a_named_survey_shows_no_names() -> None:
    _, body = summary(RESPONSES, anonymous=False)
    assert "Answers were given with names; this summary shows none." in body


def test_summaries_serialize_for_every_question_kind() -> None:
    sums: tuple[QuestionSummary, ...] = summarize(QUESTIONS, RESPONSES)
    assert {s.kind for s in sums} == {"text", "rating", "yes_no", "choice"}
    out = survey_summary_message(RELEASE, survey(state=SurveyState.CLOSED), sums, facts())
    assert json.loads(json.dumps(out.payload()))["blocks"]


@pytest.mark.parametrize("count", [36, 39, 40, 41, 42, 45, 48])
def test_summary_block_count_near_the_limit(count: int) -> None:
    questions = tuple(SurveyQuestion(f"t{n}", f"Question {n}", "text", (), True) for n in range(count))
    responses: list[dict[str, Answer]] = [{f"t{n}": "ok" for n in range(count)} for _ in range(3)]
    out = survey_summary_message(RELEASE, survey(state=SurveyState.CLOSED), summarize(questions, responses), facts())
    body = check(out)
    shown = body.count("• ok (×3)")
    more = re.search(r"_\+(\d+) more free-text questions? not shown_", body)
    assert shown + (int(more.group(1)) if more else 0) == count
