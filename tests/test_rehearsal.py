"""Rehearsal clock and grammar: pure rules, no Slack."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.commands.parser import parse
from bot.commands.types import NewRelease, UsageError
from domain.announcements import plan
from domain.rehearsal import LEAD_IN, describe, factor_problem, plan_lead, rehearsal_window, scaled
from domain.template import due_at, load_template

TEMPLATE = load_template("caf-migration-release")
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_factor_bounds() -> None:
    assert factor_problem(60) is None and factor_problem(2) is None and factor_problem(1_000_000) is None
    for bad in (0, 1, 1_000_001):
        problem = factor_problem(bad)
        assert problem is not None and "2" in problem


def test_describe_reads_naturally() -> None:
    assert describe(60) == "1 hour of plan = 1 min"
    assert describe(3600) == "1 hour of plan = 1 s"
    assert describe(86400) == "1 day of plan = 1 s"


EARLIEST = min(i.due_offset for i in TEMPLATE.items)


def test_window_starts_after_the_whole_lead_of_the_plan() -> None:
    assert EARLIEST < min(a.offset for a in TEMPLATE.announcements)  # items start before announcements
    assert plan_lead(TEMPLATE) == -EARLIEST
    start, end = rehearsal_window(TEMPLATE, NOW, timedelta(hours=4), 60)
    assert start == NOW + LEAD_IN - EARLIEST / 60
    assert end - start == timedelta(minutes=4)


def test_nothing_is_overdue_when_a_rehearsal_begins() -> None:
    start, end = rehearsal_window(TEMPLATE, NOW, timedelta(hours=4), 7200)
    dues = [due_at(i, TEMPLATE, start, end, 7200) for i in TEMPLATE.items]
    assert min(dues) == NOW + LEAD_IN


def test_compressed_plan_keeps_order_and_starts_right_after_creation() -> None:
    start, end = rehearsal_window(TEMPLATE, NOW, timedelta(hours=4), 3600)
    planned = plan(TEMPLATE, start, end, NOW, 3600)
    assert not any(p.skipped for p in planned)
    times = sorted(p.send_at for p in planned)
    assert times[0] == start - timedelta(days=14) / 3600  # the first business notice
    assert times[-1] - times[0] == timedelta(days=74) / 3600  # -14d ... +60d
    real = plan(TEMPLATE, start, end, NOW)  # the same window read as a real plan: first notice long past
    assert sum(p.skipped for p in real) > 0


def test_item_due_dates_scale_outside_the_window_only() -> None:
    start = NOW + timedelta(hours=1)
    end = start + timedelta(hours=4)
    before = next(i for i in TEMPLATE.items if i.due_offset < timedelta(0))
    assert due_at(before, TEMPLATE, start, end, 100) == start + before.due_offset / 100
    inside = next(i for i in TEMPLATE.items if timedelta(0) < i.due_offset <= TEMPLATE.default_duration)
    assert due_at(inside, TEMPLATE, start, end, 100) == due_at(inside, TEMPLATE, start, end)
    assert scaled(timedelta(days=1), None) == timedelta(days=1)
    assert scaled(timedelta(days=1), 24) == timedelta(hours=1)


def test_grammar_rehearsal() -> None:
    cmd = parse("new Payroll dry run --rehearsal 60", today=NOW)
    assert cmd == NewRelease("Payroll dry run", None, None, None, rehearsal=60)
    cmd = parse("new Payroll --cutover 2026-12-05 22:00 --duration 2h --rehearsal x120", today=NOW)
    assert isinstance(cmd, NewRelease) and cmd.rehearsal == 120 and cmd.cutover is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("new Payroll --rehearsal", "needs a value"),
        ("new Payroll --rehearsal fast", "whole number"),
        ("new Payroll --rehearsal 1.5", "whole number"),
        ("new Payroll --rehearsal 1", "from 2 to 1,000,000"),
        ("new Payroll --rehearsal 99999999", "from 2 to 1,000,000"),
        ("new Payroll --rehearsal 60 --rehearsal 60", "given twice"),
        ("new Payroll", "needs `--cutover"),
    ],
)
def test_grammar_rehearsal_errors(text: str, expected: str) -> None:
    with pytest.raises(UsageError) as e:
        parse(text, today=NOW)
    assert expected in str(e.value.message if hasattr(e.value, "message") else e.value)


def test_compressed_windows_show_seconds() -> None:
    from messages.dates import duration_text

    assert duration_text(timedelta(hours=4) / 7200) == "2s"
    assert duration_text(timedelta(hours=4) / 400_000) == "under 1s"
    assert duration_text(timedelta(hours=4, minutes=30)) == "4h 30m"


def test_typed_times_are_read_on_the_rehearsal_clock() -> None:
    from domain.rehearsal import compressed_time

    assert compressed_time(NOW + timedelta(days=2), NOW, 48) == NOW + timedelta(hours=1)
    assert compressed_time(NOW + timedelta(days=2), NOW, None) == NOW + timedelta(days=2)
