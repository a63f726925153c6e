"""The retrospective survey: invitations, the one reminder, the survey modal, ``/release retro
status`` and the summary posted when the survey closes.

``survey_modal`` — callback_id ``retro.submit``, private_metadata ``str(survey.id)``. One input per
question, block_id = action_id = the question key; the submission's value by kind:

=========  ==================================  ==============================================
kind       element                             value in ``view.state.values[key][key]``
=========  ==================================  ==============================================
text       multiline plain_text_input ≤ 2000   ``value``
rating     static_select                       ``selected_option.value``: ``"1"`` … ``"5"``
yes_no     radio_buttons                       ``selected_option.value``: ``"yes"`` / ``"no"``
choice     static_select                       ``selected_option.value``: see ``option_value``
=========  ==================================  ==============================================

``domain.retro.validate_answers`` takes exactly these values. The invitation buttons are
``retro.take`` with ``value`` = ``str(survey.id)``.

What people are told about anonymity is what the storage does: an anonymous survey keeps only a
keyed one-way respondent key (so answers can be changed) and never the user id. No message here
shows who answered what; status messages show counts only, and the summary shows nothing but
counts and grouped text until ``MIN_RESPONSES`` people have answered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from domain.model import ReleaseState, ReleaseView
from domain.retro import (
    MAX_TEXT_ANSWER,
    MIN_RESPONSES,
    RATINGS,
    Answer,
    QuestionSummary,
    ReleaseFacts,
    SurveyState,
    SurveyView,
    option_value,
)
from domain.template import SurveyQuestion

from . import ids
from .checklist import release_title
from .common import (
    MAX_BLOCKS,
    SECTION_TEXT_MAX,
    TEXT_BUDGET,
    Rendered,
    channel_mention,
    clip,
    command_text,
    context,
    escape,
    header,
    one_line,
    pack_lines,
    plural,
    rendered,
    section,
    state_label,
    text_length,
)
from .dates import duration_text, slack_date, slack_window
from .lifecycle import safe_mention

VIEW_MAX_BLOCKS = 100
MODAL_TITLE = "Retrospective"
LABEL_MAX = 2000
OPTION_TEXT_MAX = 75
OPTIONS_MAX = 100
QUESTION_MAX = 150
ANSWER_SHOWN_MAX = 250  # characters of one free-text answer in the summary
ANSWERS_SHOWN = 10  # free-text answers per question in the summary
WAITS_SHOWN = 15
REJECTIONS_SHOWN = 10
REJECTION_REASON_MAX = 200
GATE_TITLE_MAX = 100

# Labels read for every rating question CAF proposes ("how smooth", "how clear", "how well").
RATING_LABELS: dict[str, str] = {
    "5": "5 – very",
    "4": "4 – mostly",
    "3": "3 – somewhat",
    "2": "2 – a little",
    "1": "1 – not at all",
}

_ANONYMOUS = (
    ":lock: *Anonymous:* answers are stored without your name, so nobody, including the release team, "
    "can see who said what. Nothing asks your role or team, which would name you where one person holds it. "
    "You can still change your own answers until the survey closes."
)
_NAMED = (
    ":bust_in_silhouette: *Not anonymous:* answers are stored with your name, so the organizer can follow "
    "up with you. The channel only ever sees the summary."
)
_SUMMARY_RULE = f"The summary is posted when the survey closes, and only if at least {MIN_RESPONSES} people answered."


def _anonymity(survey: SurveyView) -> str:
    return _ANONYMOUS if survey.anonymous else _NAMED


def _plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=True)


def _take_button(survey: SurveyView, label: str = "Take the survey") -> ActionsBlock:
    return ActionsBlock(
        block_id=f"retro-{survey.id}",
        elements=[
            ButtonElement(text=_plain(label), action_id=ids.SURVEY_TAKE, value=str(survey.id), style="primary"),
        ],
    )


def _rate(survey: SurveyView) -> str:
    """``3 of 8 answered (38%)``, or ``3 answered`` when nobody was counted as invited."""
    rate = survey.rate
    if rate is None:
        return f"{survey.responses} answered"
    return f"{survey.responses} of {survey.invited} answered ({round(rate * 100)}%)"


# --- invitations and the reminder ----------------------------------------------------------------


def survey_invite_message(release: ReleaseView, survey: SurveyView) -> Rendered:
    """Posted in the release channel when the survey opens."""
    body = (
        f":speech_balloon: *The retrospective for {release_title(release)} is open* until "
        f"{slack_date(survey.closes_at)}.\n"
        "Three questions from the Cloud Adoption Framework — what went well, what could have been better, "
        "what did we learn — and a few ratings. It takes about five minutes."
    )
    blocks: list[Block] = [section(body), section(_anonymity(survey)), _take_button(survey), context(_SUMMARY_RULE)]
    return rendered(f"Retrospective for {escape(release.key)} is open until {slack_date(survey.closes_at)}", blocks)


def survey_dm_message(release: ReleaseView, survey: SurveyView) -> Rendered:
    """A direct message to one person on the release."""
    body = (
        f":wave: You worked on *{release_title(release)}*. How did it go for you?\n"
        f"Your answers shape how the next migration wave runs. The survey is open until "
        f"{slack_date(survey.closes_at)}."
    )
    blocks: list[Block] = [section(body), section(_anonymity(survey)), _take_button(survey), context(_SUMMARY_RULE)]
    return rendered(f"How did {escape(release.key)} go for you? The retrospective is open", blocks)


def survey_reminder_message(release: ReleaseView, survey: SurveyView) -> Rendered:
    """The one reminder, shortly before the survey closes."""
    body = (
        f":hourglass_flowing_sand: *The retrospective for {release_title(release)} closes "
        f"{slack_date(survey.closes_at)}.*\n"
        f"So far {_rate(survey)}. If you have answered already, thank you: you can still change your answers "
        "until it closes."
    )
    blocks: list[Block] = [
        section(body),
        section(_anonymity(survey)),
        _take_button(survey),
        context("This is the only reminder."),
    ]
    return rendered(f"Reminder: the retrospective for {escape(release.key)} closes soon", blocks)


# --- the survey modal ----------------------------------------------------------------------------


def _option(value: str, label: str) -> Option:
    return Option(value=value, text=_plain(clip(one_line(label), OPTION_TEXT_MAX) or value))


def _previous_text(answer: Answer) -> str | None:
    if answer is None:
        return None
    text = str(answer)
    return text[:MAX_TEXT_ANSWER] if text.strip() else None


def _pick(options: Sequence[Option], value: str | None) -> Option | None:
    if value is None:
        return None
    return next((o for o in options if o.value == value), None)


def _question_input(q: SurveyQuestion, previous: Answer) -> InputBlock:
    label = _plain(clip(one_line(q.text), LABEL_MAX) or q.key)
    if q.kind == "text":
        return InputBlock(
            block_id=q.key,
            label=label,
            optional=q.optional,
            hint=_plain("Several points? Put each on its own line."),
            element=PlainTextInputElement(
                action_id=q.key,
                multiline=True,
                max_length=MAX_TEXT_ANSWER,
                initial_value=_previous_text(previous),
            ),
        )
    if q.kind == "rating":
        options = [_option(v, RATING_LABELS[v]) for v in reversed(RATINGS)]
        picked = _pick(options, None if previous is None else str(previous))
        return InputBlock(
            block_id=q.key,
            label=label,
            optional=q.optional,
            element=StaticSelectElement(
                action_id=q.key, placeholder=_plain("Pick 1 to 5"), options=options, initial_option=picked
            ),
        )
    if q.kind == "yes_no":
        options = [_option("yes", "Yes"), _option("no", "No")]
        picked = _pick(options, None if previous is None else str(previous).lower())
        return InputBlock(
            block_id=q.key,
            label=label,
            optional=q.optional,
            element=RadioButtonsElement(action_id=q.key, options=options, initial_option=picked),
        )
    shown = q.options[:OPTIONS_MAX]
    options = [_option(option_value(q.options, i), text) for i, text in enumerate(shown)]
    picked = None
    if previous is not None and str(previous) in shown:
        picked = options[shown.index(str(previous))]
    return InputBlock(
        block_id=q.key,
        label=label,
        optional=q.optional,
        element=StaticSelectElement(
            action_id=q.key, placeholder=_plain("Pick one"), options=options, initial_option=picked
        ),
    )


def survey_modal(
    release: ReleaseView,
    survey: SurveyView,
    questions: Sequence[SurveyQuestion],
    previous: Mapping[str, Answer] | None,
) -> View:
    """The survey, prefilled with ``previous`` answers when the person answered before."""
    intro = f"*{release_title(release)}*"
    if previous is not None:
        intro += "\nYou answered before: change anything you like and press *Update*."
    blocks: list[Block] = [
        section(intro),
        context(_anonymity(survey), "Questions marked (optional) can be left empty."),
    ]
    answers = previous or {}
    for q in questions[: VIEW_MAX_BLOCKS - len(blocks)]:
        blocks.append(_question_input(q, answers.get(q.key)))
    return View(
        type="modal",
        callback_id=ids.SURVEY_CALLBACK,
        private_metadata=str(survey.id),
        title=_plain(MODAL_TITLE),
        submit=_plain("Update" if previous is not None else "Send"),
        close=_plain("Cancel"),
        blocks=blocks,
    )


# --- /release retro status -----------------------------------------------------------------------


def retro_status_message(release: ReleaseView, survey: SurveyView | None, *, command: str) -> Rendered:
    """Where the survey stands: its state, dates and how many answered. Never any answer."""
    cmd = command_text(command)
    key = escape(release.key)
    top = header(f"Retrospective · {release_title(release)}")
    if survey is None:
        body = (
            "No retrospective survey yet.\n"
            f"Open one with `{cmd} retro open {key}`; everyone holding a role on the release is invited."
        )
        return rendered(f"No retrospective survey for {key} yet", [top, section(body)])

    if survey.state is SurveyState.SCHEDULED:
        state = f":calendar: Scheduled: opens {slack_date(survey.opens_at)}, closes {slack_date(survey.closes_at)}"
        hint = f"Open it now with `{cmd} retro open {key}`."
    elif survey.state is SurveyState.OPEN:
        state = f":speech_balloon: Open until {slack_date(survey.closes_at)}"
        hint = f"Close it early with `{cmd} retro close {key}`; the summary is posted when it closes."
    else:
        state = f":lock: Closed {slack_date(survey.ended_at)}"
        hint = f"The summary was posted in {channel_mention(release.channel_id)}."
    body = (
        f"*State:* {state}\n"
        f"*Responses:* {_rate(survey)}\n"
        f"*Anonymous:* {'yes: answers are stored without names' if survey.anonymous else 'no: answers carry names'}"
    )
    foot = context(f"{hint} Answers are never shown here.")
    return rendered(f"Retrospective for {key}: {survey.state.value}, {_rate(survey)}", [top, section(body), foot])


# --- the summary ---------------------------------------------------------------------------------


def _wait_text(wait: timedelta | None) -> str:
    if wait is None:
        return "not approved"
    if wait >= timedelta(days=1):
        # Past a day the minutes are noise; "3d 4h" is what a read-out needs, measured in hours.
        hours = round(wait / timedelta(hours=1))
        return duration_text(timedelta(hours=hours), smallest=timedelta(hours=1))
    return duration_text(wait)


def _outcome(outcome: str) -> str:
    try:
        return state_label(ReleaseState(outcome))
    except ValueError:
        return escape(outcome)


def _facts_blocks(facts: ReleaseFacts) -> list[Block]:
    lines = ["*How the release went*", f"*Planned window:* {slack_window(facts.planned_start, facts.planned_end)}"]
    if facts.actual_start is not None and facts.actual_end is not None and facts.actual_end >= facts.actual_start:
        lines.append(f"*Actual window:* {slack_window(facts.actual_start, facts.actual_end)}")
    elif facts.actual_start is not None:
        lines.append(f"*Actual window:* started {slack_date(facts.actual_start)}, no end recorded")
    else:
        lines.append("*Actual window:* the cutover did not start")
    lines.append(f"*Outcome:* {_outcome(facts.outcome)}")
    for past in facts.past_attempts[-3:]:
        why = f": “{clip(one_line(past.reason), 300)}”" if past.reason and past.reason.strip() else ""
        lines.append(f"*Attempt {past.number}:* rolled back {slack_date(past.rolled_back_at)}{why}")
    if facts.override_reason and facts.override_reason.strip():
        lines.append(f":warning: *Go/no-go overridden:* “{clip(one_line(facts.override_reason), 500)}”")
    lines.append(f"*Announcements:* {facts.announcements_sent} sent · {facts.announcements_failed} failed")
    blocks: list[Block] = [section("\n".join(lines))]

    if facts.gate_waits:
        waits = [f"• {clip(one_line(title), GATE_TITLE_MAX)} — {_wait_text(wait)}" for title, wait in facts.gate_waits]
        blocks += [
            section(t)
            for t in pack_lines(
                waits,
                heading="*Sign-off waits* (from release creation to approval)",
                max_sections=1,
                budget=SECTION_TEXT_MAX,
                max_lines=WAITS_SHOWN,
            )
        ]
    if facts.rejections:
        rejections = [
            f"• {clip(one_line(title), GATE_TITLE_MAX)} — rejected by "
            f"{safe_mention(user)}: “{clip(one_line(reason), REJECTION_REASON_MAX) or '—'}”"
            for title, user, reason in facts.rejections
        ]
        blocks += [
            section(t)
            for t in pack_lines(
                rejections,
                heading=f"*Rejections* — {len(facts.rejections)}",
                max_sections=1,
                budget=SECTION_TEXT_MAX,
                max_lines=REJECTIONS_SHOWN,
            )
        ]
    else:
        blocks.append(section("*Rejections* — none"))
    return blocks


def _title(s: QuestionSummary) -> str:
    return f"*{clip(one_line(s.text), QUESTION_MAX)}*"


def _rating_line(s: QuestionSummary) -> str:
    if s.average is None or not s.answered:
        return f"{_title(s)} — _no answers_"
    # "3: 40", not "3:40": a count must never read like a time of day.
    spread = " · ".join(f"{label}: {count}" for label, count in s.distribution)
    return f"{_title(s)} — ★ {s.average:.1f} · {plural(s.answered, 'answer')} · `{spread}`"


def _counts_line(s: QuestionSummary) -> str:
    if not s.answered:
        return f"{_title(s)} — _no answers_"
    # Every yes/no count says something; a long choice list only reads well without its zeros.
    counts = " · ".join(
        f"{clip(one_line(label), 60)} {count}" for label, count in s.distribution if count or s.kind == "yes_no"
    )
    return f"{_title(s)} — {counts}"


def _text_section(s: QuestionSummary, budget: int) -> str:
    heading = f"{_title(s)} — {plural(s.answered, 'answer')}" if s.answered else f"{_title(s)} — _no answers_"
    lines = [f"• {clip(one_line(t), ANSWER_SHOWN_MAX)}" for t in s.texts]
    (text, *_) = pack_lines(
        lines,
        heading=heading,
        max_sections=1,
        budget=max(budget, len(heading) + 40),
        limit=SECTION_TEXT_MAX,
        max_lines=ANSWERS_SHOWN,
    )
    return text


_TRAILER_COST = 60
_MIN_QUESTION_SHARE = 200


def _fair_shares(demands: Sequence[int], total: int) -> list[int]:
    """Split ``total`` characters so small demands are met in full and the big ones share the rest
    equally: one long-winded question must not crowd out the others, nor starve a short one."""
    shares = [0] * len(demands)
    left = max(0, total)
    pending = sorted(range(len(demands)), key=lambda i: demands[i])
    while pending:
        fair = left // len(pending)
        smallest = pending[0]
        if demands[smallest] > fair:
            for i in pending:
                shares[i] = fair
            break
        shares[smallest] = demands[smallest]
        left -= demands[smallest]
        pending.pop(0)
    return shares


def survey_summary_message(
    release: ReleaseView, survey: SurveyView, summaries: Sequence[QuestionSummary], facts: ReleaseFacts
) -> Rendered:
    """Posted in the release channel when the survey closes: the answers grouped per question (only
    with at least ``MIN_RESPONSES`` responses) and the release's facts next to them."""
    key = escape(release.key)
    top: list[Block] = [header(f"Retrospective · {release_title(release)}")]
    fact_blocks: list[Block] = [DividerBlock(), *_facts_blocks(facts)]
    foot = context(
        (
            "Anonymous survey: no answer is linked to a person."
            if survey.anonymous
            else "Answers were given with names; this summary shows none."
        )
        + f" Closed {slack_date(survey.ended_at)}."
    )

    if survey.responses < MIN_RESPONSES:
        body = (
            f":lock: *Summary withheld:* {_rate(survey)}. With fewer than {MIN_RESPONSES} responses a summary "
            "could point at individuals, so the answers stay unpublished. Talk it through in the "
            "retrospective meeting instead."
        )
        blocks = [*top, section(body), *fact_blocks, foot]
        return rendered(f"Retrospective for {key} closed: summary withheld ({_rate(survey)})", blocks)

    intro = section(
        f"*{_rate(survey)}*. Similar answers are grouped; (×N) counts how many gave them. The order says "
        "nothing about who answered: most frequent first, then alphabetical."
    )
    fixed = [*top, intro, *fact_blocks, foot]
    room_blocks = MAX_BLOCKS - len(fixed)
    room_text = TEXT_BUDGET - text_length(fixed)

    short = [_rating_line(s) if s.kind == "rating" else _counts_line(s) for s in summaries if s.kind != "text"]
    short_texts = (
        pack_lines(
            short,
            heading="*Ratings and choices*" if short else None,
            max_sections=min(3, room_blocks),
            budget=room_text // 3,
            more=lambda n: f"_+{plural(n, 'more question')}_",
        )
        if short
        else []
    )
    question_blocks: list[Block] = [section(t) for t in short_texts]
    room_blocks -= len(question_blocks)
    room_text -= text_length(question_blocks)

    texts = [s for s in summaries if s.kind == "text"]
    # One block and a little text stay free for the "+N more" line, whether or not it is needed.
    shown = texts[: max(0, room_blocks - 1)]
    demands = [len(_text_section(s, TEXT_BUDGET)) for s in shown]
    shares = _fair_shares(demands, room_text - _TRAILER_COST)
    hidden = len(texts) - len(shown)
    for s, demand, share in zip(shown, demands, shares, strict=True):
        if share < demand and share < _MIN_QUESTION_SHARE:
            hidden += 1
            continue
        question_blocks.append(section(_text_section(s, share)))
    if hidden:
        question_blocks.append(section(f"_+{plural(hidden, 'more free-text question')} not shown_"))

    blocks = [*top, intro, *question_blocks, *fact_blocks, foot]
    return rendered(f"Retrospective for {key} closed: {_rate(survey)}", blocks)
