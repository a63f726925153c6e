"""The retrospective survey: validating one person's answers, summarizing everyone's, and the
release facts the summary puts next to them.

Pure: no Slack, no database, no clock. Answers arrive as the survey modal hands them over (text, or
the value of the picked option) and leave as typed values: text as str, ratings as int, yes/no and
choices as the option text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from domain.model import DecisionKind, DecisionView, ItemState, PastAttempt, ReleaseView
from domain.template import SurveyKind, SurveyQuestion

# Below this many responses a summary could point at individuals (two people, one "no"): withhold it.
# The same k holds for any answer that narrows respondents to a group (a role, a team): in most releases
# each role has one holder, so such a question names the person and, stored with the rest of their
# answers, unmasks them. The survey therefore never asks it (the template loader refuses a question
# whose options are roles), and the summary keeps no trace of the order people answered in.
MIN_RESPONSES = 3
MAX_TEXT_ANSWER = 2000
RATINGS: tuple[str, ...] = ("1", "2", "3", "4", "5")
YES_NO: tuple[str, ...] = ("yes", "no")
# Slack caps an option's value at 150 characters; longer choices travel by position instead.
OPTION_VALUE_MAX = 150
_BY_POSITION = "option:"

Answer = str | int | None


# CAF: learn while it is fresh, after the dust settles. A rehearsal runs these on its own clock. These are
# the defaults of a template's `retro:` section (open_delay, open_for, reminder).
SURVEY_OPENS_AFTER = timedelta(days=1)  # after the cutover completes
SURVEY_OPEN_FOR = timedelta(days=7)
REMIND_BEFORE_CLOSE = timedelta(days=1)  # the one reminder to those who have not answered
MAX_REMINDER = timedelta(days=14)  # the longest a template may set (a duration's limit)


def survey_times(
    now: datetime,
    factor: int | None,
    *,
    open_now: bool,
    opens_after: timedelta = SURVEY_OPENS_AFTER,
    open_for: timedelta = SURVEY_OPEN_FOR,
) -> tuple[datetime, datetime]:
    """(opens at, closes at) of a survey planned at ``now``: at completion, or opened by hand."""
    scale = factor or 1
    opens = now if open_now else now + opens_after / scale
    return opens, opens + open_for / scale


def reminder_due(closes_at: datetime, factor: int | None, now: datetime, lead: timedelta = REMIND_BEFORE_CLOSE) -> bool:
    """Whether the one reminder before the close is due now (``lead`` before it, on the release's clock)."""
    return closes_at - lead / (factor or 1) <= now < closes_at


class SurveyState(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class SurveyView:
    id: int
    release_id: int
    state: SurveyState
    anonymous: bool
    opens_at: datetime
    closes_at: datetime
    responses: int
    invited: int
    closed_at: datetime | None = None  # when it really closed: by hand, or at closes_at

    @property
    def ended_at(self) -> datetime:
        """When it closed if it has, else when it is planned to."""
        return self.closed_at or self.closes_at

    @property
    def rate(self) -> float | None:
        """Share of invited people who answered (0..1), None when nobody was invited."""
        return self.responses / self.invited if self.invited > 0 else None


def option_value(options: Sequence[str], index: int) -> str:
    """What a choice option sends back from the modal: its text, or its position when too long for Slack."""
    option = options[index]
    return option if len(option) <= OPTION_VALUE_MAX else f"{_BY_POSITION}{index}"


def _choice(options: Sequence[str], value: str) -> str | None:
    if value in options:
        return value
    for index in range(len(options)):
        if option_value(options, index) == value:
            return options[index]
    return None


# --- one person's answers --------------------------------------------------------------------------


def validate_answers(
    questions: Sequence[SurveyQuestion], raw: Mapping[str, str | None]
) -> tuple[dict[str, Answer], dict[str, str]]:
    """(clean answers, errors), both keyed by question key.

    Every question gets a clean entry when its answer is valid (None for an unanswered optional one);
    keys in ``raw`` that name no question are ignored. Errors are short sentences for the modal.
    """
    clean: dict[str, Answer] = {}
    errors: dict[str, str] = {}
    for q in questions:
        value = raw.get(q.key)
        text = value.strip() if isinstance(value, str) else ""
        if not text:
            if q.optional:
                clean[q.key] = None
            else:
                errors[q.key] = "Please answer this question."
            continue
        answer, error = _check(q, text)
        if error is not None:
            errors[q.key] = error
        else:
            clean[q.key] = answer
    return clean, errors


def _check(q: SurveyQuestion, text: str) -> tuple[Answer, str | None]:
    if q.kind == "text":
        if len(text) > MAX_TEXT_ANSWER:
            return None, f"Please keep it to {MAX_TEXT_ANSWER:,} characters; this is {len(text):,}."
        return text, None
    if q.kind == "rating":
        if text in RATINGS:
            return int(text), None
        return None, "Pick a rating from 1 to 5."
    if q.kind == "yes_no":
        word = text.lower()
        if word in YES_NO:
            return word, None
        return None, "Answer yes or no."
    picked = _choice(q.options, text)
    if picked is None:
        return None, "Pick one of the listed options."
    return picked, None


# --- everyone's answers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionSummary:
    key: str
    text: str
    kind: SurveyKind
    answered: int
    average: float | None  # ratings only, one decimal
    distribution: tuple[tuple[str, int], ...]  # ratings "1".."5"; yes/no and choices in option order
    texts: tuple[str, ...]  # text answers, grouped: "answer (×N)" when several gave it, most frequent first,
    # ties alphabetical: never in the order people answered (see `group_texts`)


def summarize(
    questions: Sequence[SurveyQuestion], responses: Sequence[Mapping[str, Answer]]
) -> tuple[QuestionSummary, ...]:
    """One summary per question, in question order. Answers that do not fit the question (a
    template edited after people answered) are left out of ratings; for choices they are counted
    after the listed options so nobody's answer silently disappears."""
    return tuple(_summarize(q, [r.get(q.key) for r in responses]) for q in questions)


def _summarize(q: SurveyQuestion, answers: Sequence[Answer]) -> QuestionSummary:
    if q.kind == "rating":
        ratings = [r for r in (_rating(a) for a in answers) if r is not None]
        average = round(sum(ratings) / len(ratings), 1) if ratings else None
        distribution = tuple((label, ratings.count(int(label))) for label in RATINGS)
        return QuestionSummary(q.key, q.text, q.kind, len(ratings), average, distribution, ())
    if q.kind == "text":
        given = [" ".join(str(a).split()) for a in answers if a is not None and str(a).strip()]
        return QuestionSummary(q.key, q.text, q.kind, len(given), None, (), group_texts(given))
    options = YES_NO if q.kind == "yes_no" else q.options
    counts: dict[str, int] = dict.fromkeys(options, 0)
    answered = 0
    for a in answers:
        if a is None or not str(a).strip():
            continue
        value = str(a).strip()
        if q.kind == "yes_no":
            value = value.lower()
        elif value not in counts:
            value = _choice(options, value) or value
        counts[value] = counts.get(value, 0) + 1
        answered += 1
    return QuestionSummary(q.key, q.text, q.kind, answered, None, tuple(counts.items()), ())


def _rating(answer: Answer) -> int | None:
    if isinstance(answer, bool):
        return None
    if isinstance(answer, int):
        return answer if 1 <= answer <= 5 else None
    if isinstance(answer, str) and answer.strip() in RATINGS:
        return int(answer.strip())
    return None


def group_texts(answers: Sequence[str]) -> tuple[str, ...]:
    """Identical answers (ignoring case and spacing) merged into one with a " (×N)" suffix; the most
    frequent first, ties in alphabetical order.

    Nothing here depends on the order the answers came in: in that order the first answer to every
    question is the same person's, so a summary listing them as they came would line one person's
    answers up across questions. Of several wordings of one answer, the alphabetically first is shown.
    """
    wordings: dict[str, list[str]] = {}
    counts: Counter[str] = Counter()
    for answer in answers:
        shown = " ".join(answer.split())
        if not shown:
            continue
        key = shown.casefold()
        wordings.setdefault(key, []).append(shown)
        counts[key] += 1
    ordered = sorted(counts, key=lambda k: (-counts[k], k, min(wordings[k])))
    return tuple(f"{min(wordings[k])} (×{counts[k]})" if counts[k] > 1 else min(wordings[k]) for k in ordered)


# --- what happened, for the summary ------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseFacts:
    planned_start: datetime
    planned_end: datetime
    actual_start: datetime | None
    actual_end: datetime | None
    outcome: str  # the release state's value, e.g. "completed", "rolled_back"
    override_reason: str | None
    gate_waits: tuple[tuple[str, timedelta | None], ...]  # gate title, release creation → approval (None: never)
    rejections: tuple[tuple[str, str, str], ...]  # gate title, Slack user id, reason
    announcements_sent: int
    announcements_failed: int
    past_attempts: tuple[PastAttempt, ...] = ()  # cutovers rolled back before the one this looks back on


def release_facts(
    release: ReleaseView,
    decisions: Sequence[DecisionView] | None = None,
    announcements_sent: int = 0,
    announcements_failed: int = 0,
) -> ReleaseFacts:
    """The facts of a release from its snapshot. With the decision audit, every rejection ever made
    is listed (also those approved later); without it, only gates rejected right now."""
    gates = [i for i in release.items if i.is_gate]
    waits = tuple(
        (
            g.title,
            max(timedelta(0), g.decided_at - release.created_at)
            if g.state is ItemState.APPROVED and g.decided_at is not None
            else None,
        )
        for g in gates
    )
    titles = {g.id: g.title for g in gates}
    if decisions is None:
        rejections = tuple(
            (g.title, g.decided_by or "", g.reason or "") for g in gates if g.state is ItemState.REJECTED
        )
    else:
        rejections = tuple(
            (titles.get(d.item_id, f"item {d.item_id}"), d.user_id, d.reason or "")
            for d in sorted(decisions, key=lambda d: (d.at, d.id))
            if d.kind is DecisionKind.REJECT
        )
    return ReleaseFacts(
        planned_start=release.cutover_start,
        planned_end=release.cutover_end,
        actual_start=release.actual_start,
        actual_end=release.actual_end,
        outcome=release.state.value,
        override_reason=release.override_reason,
        gate_waits=waits,
        rejections=rejections,
        announcements_sent=announcements_sent,
        announcements_failed=announcements_failed,
        past_attempts=release.past_attempts,
    )
