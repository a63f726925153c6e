# ruff: noqa: E501  (the exact messages people read are kept whole)
from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from domain.template import (
    AUDIENCES,
    DEFAULT_TEMPLATE,
    PHASE_KEYS,
    AnnouncementSpec,
    ItemSpec,
    SurveyQuestion,
    Template,
    TemplateError,
    UnknownTemplate,
    available_templates,
    due_at,
    load_template,
    offset_at,
    parse_template,
)

START = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def caf() -> Template:
    return load_template(DEFAULT_TEMPLATE)


# --- the default template ------------------------------------------------------------------------


def test_default_template_is_available(caf: Template) -> None:
    assert DEFAULT_TEMPLATE in available_templates()
    assert caf.key == "caf-migration-release"
    assert caf.name and caf.version and caf.source and caf.description
    assert caf.default_duration == timedelta(hours=4)


def test_load_template_is_cached() -> None:
    assert load_template(DEFAULT_TEMPLATE) is load_template(DEFAULT_TEMPLATE)


def test_unknown_template_lists_available() -> None:
    with pytest.raises(UnknownTemplate) as info:
        load_template("nope")
    assert "`nope` is not a template" in str(info.value)
    assert "`caf-migration-release`" in str(info.value)
    assert info.value.available == available_templates()


@pytest.mark.parametrize("key", ["../roles", "caf-migration-release.yaml", "", "CAF-MIGRATION-RELEASE"])
def test_template_keys_cannot_name_other_files(key: str) -> None:
    with pytest.raises(UnknownTemplate):
        load_template(key)


def test_default_template_size_and_phase_order(caf: Template) -> None:
    assert 55 <= len(caf.items) <= 65
    assert tuple(p.key for p in caf.phases) == PHASE_KEYS
    assert [p.position for p in caf.phases] == [1, 2, 3, 4, 5]
    assert all(p.items for p in caf.phases)
    assert caf.phases[0].title == "Plan change communication"
    assert caf.phases[2].title == "Complete the migration"


def test_item_keys_unique_and_titles_fit(caf: Template) -> None:
    keys = [i.key for i in caf.items]
    assert len(keys) == len(set(keys))
    for item in caf.items:
        assert 0 < len(item.title) <= 150, item.key
        assert item.source.startswith("docs/migrate/"), item.key


def test_every_gate_has_approvers_and_all_roles_known(caf: Template) -> None:
    gates = [i for i in caf.items if i.is_gate]
    assert len(gates) >= 10
    for item in caf.items:
        assert item.responsible_roles, item.key
        for role in (*item.responsible_roles, *item.approver_roles):
            assert role in caf.roles_by_key, (item.key, role)
        if item.window_bound or item.blocks_cutover:
            assert item.approver_roles, item.key
    for phase in caf.phases:
        assert all(r in caf.roles_by_key for r in phase.roles)


def test_key_gates(caf: Template) -> None:
    window_bound = {i.key for i in caf.items if i.window_bound}
    assert window_bound == {"cc.window_appr", "cm.go_start", "cm.go_final"}
    blocking = {i.key for i in caf.items if i.blocks_cutover}
    assert {"cc.window_appr", "bt.signoff", "cm.security", "cm.rollback", "cm.go_start"} <= blocking
    assert all(caf.item(k).due_offset < timedelta(0) for k in blocking)
    assert caf.item("cm.security").approver_roles == ("security-officer",)
    assert caf.item("bt.signoff").approver_roles == ("workload-business-owner", "migration-architect")
    assert not caf.item("cm.switch").is_gate
    assert caf.item("cm.go_final").due_offset == timedelta(hours=4)
    assert caf.item("oc.dispose").due_offset == timedelta(days=51)


def test_item_lookup(caf: Template) -> None:
    assert isinstance(caf.item("cm.go_start"), ItemSpec)
    with pytest.raises(KeyError, match=r"no item `zz\.nope`"):
        caf.item("zz.nope")


def test_announcements_and_survey(caf: Template) -> None:
    assert len(caf.announcements) >= 10
    assert all(isinstance(a, AnnouncementSpec) for a in caf.announcements)
    by_key = {a.key: a for a in caf.announcements}
    assert by_key["ann.initial"].offset == timedelta(days=-14)
    assert by_key["ann.initial"].audiences == ("business",)
    assert by_key["ann.outcome"].offset == caf.default_duration
    assert all(set(a.audiences) <= set(AUDIENCES) and a.purpose for a in caf.announcements)

    assert [q.key for q in caf.survey[:3]] == ["went_well", "could_be_better", "learned"]
    assert all(isinstance(q, SurveyQuestion) for q in caf.survey)
    kinds = {q.kind for q in caf.survey}
    assert kinds == {"text", "rating", "yes_no", "choice"}
    rollback = next(q for q in caf.survey if q.key == "rollback_needed")
    assert rollback.options == ("none", "partial", "full")
    performance = next(q for q in caf.survey if q.key == "performance")
    assert "don't know" in performance.options
    assert all(q.options == () for q in caf.survey if q.kind != "choice")


# --- due_at --------------------------------------------------------------------------------------


def test_due_at_four_hour_window(caf: Template) -> None:
    end = START + timedelta(hours=4)
    assert due_at(caf.item("cm.go_final"), caf, START, end) == end
    assert due_at(caf.item("cm.notify_start"), caf, START, end) == START
    assert due_at(caf.item("cm.switch"), caf, START, end) == START + timedelta(hours=3)


def test_due_at_scales_in_window_offsets(caf: Template) -> None:
    end = START + timedelta(hours=8)
    assert due_at(caf.item("cm.go_final"), caf, START, end) == end
    assert due_at(caf.item("cm.switch"), caf, START, end) == START + timedelta(hours=6)
    assert due_at(caf.item("cm.final_sync"), caf, START, end) == START + timedelta(hours=2)
    short_end = START + timedelta(minutes=90)
    assert due_at(caf.item("cm.go_final"), caf, START, short_end) == short_end
    assert due_at(caf.item("cm.source_off"), caf, START, short_end) == START + timedelta(minutes=45)


def test_due_at_keeps_calendar_offsets(caf: Template) -> None:
    end = START + timedelta(hours=8)
    cc_draft = caf.item("cc.draft")
    assert cc_draft.due_offset == timedelta(days=-16)
    assert due_at(cc_draft, caf, START, end) == START - timedelta(days=16)
    assert due_at(caf.item("bt.execute"), caf, START, end) == START - timedelta(days=10)
    assert due_at(caf.item("cm.go_start"), caf, START, end) == START - timedelta(days=1)
    assert due_at(caf.item("cm.hypercare"), caf, START, end) == START + timedelta(days=2)
    assert due_at(caf.item("oc.dispose"), caf, START, end) == START + timedelta(days=51)


def test_minus_14d_unaffected_by_window_length(caf: Template) -> None:
    item = caf.item("cc.window_appr")
    assert item.due_offset == timedelta(days=-14)
    for hours in (1, 4, 8, 30):
        assert due_at(item, caf, START, START + timedelta(hours=hours)) == START - timedelta(days=14)


def test_due_at_converts_to_utc_and_rejects_naive(caf: Template) -> None:
    berlin = timezone(timedelta(hours=1))
    start = datetime(2026, 12, 5, 22, 0, tzinfo=berlin)
    result = due_at(caf.item("cm.go_final"), caf, start, start + timedelta(hours=4))
    assert result == datetime(2026, 12, 6, 1, 0, tzinfo=UTC)
    assert result.utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(caf.item("cm.go_final"), caf, datetime(2026, 12, 5, 22), START)
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at(caf.item("cm.go_final"), caf, START, datetime(2026, 12, 6, 2))
    with pytest.raises(ValueError, match="after cutover_start"):
        due_at(caf.item("cm.go_final"), caf, START, START)


def test_offset_at_for_announcements(caf: Template) -> None:
    end = START + timedelta(hours=6)
    outcome = next(a for a in caf.announcements if a.key == "ann.outcome")
    assert offset_at(outcome.offset, caf, START, end) == end


# --- parse_template validation -------------------------------------------------------------------


def _minimal() -> dict[str, Any]:
    return {
        "key": "mini",
        "name": "Mini",
        "version": "1",
        "source": "test",
        "default_duration": "4h",
        "roles": [
            {"key": r, "name": r.replace("-", " ").title()}
            for r in ("project-manager", "workload-business-owner", "migration-engineer", "migration-architect")
        ]
        + [{"key": "project-sponsor", "name": "Project Sponsor", "aliases": ["sponsor"]}],
        "phases": [
            {
                "key": "change_comm",
                "title": "Plan change communication",
                "roles": ["project-manager"],
                "items": [
                    {
                        "key": "cc.one",
                        "title": "Do one thing",
                        "responsible": ["project-manager"],
                        "due": "-1d",
                        "source": "docs/x.md",
                    },
                    {
                        "key": "cc.gate",
                        "title": "Approve one thing",
                        "responsible": ["project-manager"],
                        "approvers": ["workload-business-owner"],
                        "gate": True,
                        "blocks_cutover": True,
                        "due": "-2d",
                        "source": "docs/x.md",
                    },
                ],
            },
            {
                "key": "complete_migration",
                "title": "Complete",
                "roles": ["migration-engineer"],
                "items": [
                    {
                        "key": "cm.go",
                        "title": "Decide go",
                        "responsible": ["migration-architect"],
                        "approvers": ["project-sponsor"],
                        "window_bound": True,
                        "due": "+4h",
                        "source": "docs/y.md",
                    }
                ],
            },
        ],
        "announcements": [{"key": "ann.reminder", "offset": "-1d", "audiences": ["all"], "purpose": "Remind"}],
        "retro_survey": [{"key": "q1", "text": "What went well?", "kind": "text"}],
    }


def test_minimal_template_parses() -> None:
    t = parse_template(_minimal())
    assert [i.key for i in t.items] == ["cc.one", "cc.gate", "cm.go"]
    assert t.item("cc.gate").is_gate and t.item("cc.gate").blocks_cutover
    assert t.item("cm.go").window_bound
    assert t.phases[1].position == 2
    assert t.survey[0].optional is False
    assert t.version == "1"


def test_numeric_version_and_optional_sections() -> None:
    data = _minimal()
    data["version"] = 1.0
    del data["announcements"], data["retro_survey"]
    t = parse_template(data)
    assert t.version == "1.0"
    assert t.announcements == () and t.survey == ()


def _item(data: dict[str, Any], phase: int = 0, item: int = 0) -> dict[str, Any]:
    return data["phases"][phase]["items"][item]  # type: ignore[no-any-return]


def _mutations() -> list[tuple[str, Any, str]]:
    """(id, mutation, expected message fragment)."""

    def unknown_role(d: dict[str, Any]) -> None:
        _item(d)["responsible"] = ["project-manager", "ciso"]

    def unknown_approver(d: dict[str, Any]) -> None:
        _item(d, 0, 1)["approvers"] = ["cab"]

    def unknown_phase_role(d: dict[str, Any]) -> None:
        d["phases"][0]["roles"] = ["landing-zone-architect"]

    def duplicate_item(d: dict[str, Any]) -> None:
        _item(d, 1, 0)["key"] = "cc.one"

    def gate_without_approvers(d: dict[str, Any]) -> None:
        del _item(d, 0, 1)["approvers"]

    def approvers_on_non_gate(d: dict[str, Any]) -> None:
        _item(d, 0, 1)["gate"] = False

    def window_bound_non_gate(d: dict[str, Any]) -> None:
        _item(d)["window_bound"] = True

    def blocks_non_gate(d: dict[str, Any]) -> None:
        _item(d)["blocks_cutover"] = True

    def blocks_after_start(d: dict[str, Any]) -> None:
        _item(d, 0, 1)["due"] = "+1h"

    def approvals_zero(d: dict[str, Any]) -> None:
        _item(d, 0, 1)["approvals"] = 0

    def approvals_text(d: dict[str, Any]) -> None:
        _item(d, 0, 1)["approvals"] = "two"

    def approvals_on_task(d: dict[str, Any]) -> None:
        _item(d)["approvals"] = 2

    def not_by_unknown(d: dict[str, Any]) -> None:
        _item(d, 0, 1)["not_by"] = ["sponsor"]

    def not_by_on_task(d: dict[str, Any]) -> None:
        _item(d)["not_by"] = ["creator"]

    def nudge_lead_bad(d: dict[str, Any]) -> None:
        d["nudge_lead"] = "soon"

    def nudge_lead_zero(d: dict[str, Any]) -> None:
        d["nudge_lead"] = "0h"

    def missing_title(d: dict[str, Any]) -> None:
        del _item(d)["title"]

    def empty_title(d: dict[str, Any]) -> None:
        _item(d)["title"] = "   "

    def long_title(d: dict[str, Any]) -> None:
        _item(d)["title"] = "x" * 151

    def multiline_title(d: dict[str, Any]) -> None:
        _item(d)["title"] = "one\ntwo"

    def bad_offset(d: dict[str, Any]) -> None:
        _item(d)["due"] = "soon"

    def unsigned_offset(d: dict[str, Any]) -> None:
        _item(d)["due"] = "4h"

    def numeric_offset(d: dict[str, Any]) -> None:
        _item(d)["due"] = -3

    def ambiguous_offset(d: dict[str, Any]) -> None:
        _item(d)["due"] = "+6h"

    def missing_due(d: dict[str, Any]) -> None:
        del _item(d)["due"]

    def duplicate_phase(d: dict[str, Any]) -> None:
        d["phases"][1]["key"] = "change_comm"

    def no_phases(d: dict[str, Any]) -> None:
        d["phases"] = []

    def empty_phase(d: dict[str, Any]) -> None:
        d["phases"][0]["items"] = []

    def unknown_field(d: dict[str, Any]) -> None:
        _item(d)["aprovers"] = ["project-manager"]

    def roles_not_list(d: dict[str, Any]) -> None:
        _item(d)["responsible"] = "project-manager"

    def no_responsible(d: dict[str, Any]) -> None:
        _item(d)["responsible"] = []

    def duplicate_role(d: dict[str, Any]) -> None:
        _item(d)["responsible"] = ["project-manager", "project-manager"]

    def bad_item_key(d: dict[str, Any]) -> None:
        _item(d)["key"] = "CC One"

    def item_not_mapping(d: dict[str, Any]) -> None:
        d["phases"][0]["items"][0] = "cc.one"

    def bad_flag(d: dict[str, Any]) -> None:
        _item(d, 0, 1)["window_bound"] = "yes"

    def bad_duration(d: dict[str, Any]) -> None:
        d["default_duration"] = "0h"

    def long_duration(d: dict[str, Any]) -> None:
        d["default_duration"] = "1d"

    def missing_key(d: dict[str, Any]) -> None:
        del d["key"]

    def bad_audience(d: dict[str, Any]) -> None:
        d["announcements"][0]["audiences"] = ["everyone"]

    def bad_announcement_offset(d: dict[str, Any]) -> None:
        d["announcements"][0]["offset"] = "yesterday"

    def duplicate_announcement(d: dict[str, Any]) -> None:
        d["announcements"].append(dict(d["announcements"][0]))

    def bad_kind(d: dict[str, Any]) -> None:
        d["retro_survey"][0]["kind"] = "essay"

    def choice_without_options(d: dict[str, Any]) -> None:
        d["retro_survey"][0]["kind"] = "choice"

    def options_on_text(d: dict[str, Any]) -> None:
        d["retro_survey"][0]["options"] = ["a", "b"]

    def asks_the_role(d: dict[str, Any]) -> None:
        d["retro_survey"][0].update(kind="choice", options=["Project Manager", "project-sponsor", "Other"])

    return [
        (
            "unknown role",
            unknown_role,
            'phases[0].items[0].responsible[1]: unknown role "ciso"; declare it under roles:',
        ),
        (
            "unknown approver",
            unknown_approver,
            'phases[0].items[1].approvers[0]: unknown role "cab"; declare it under roles:',
        ),
        (
            "unknown phase role",
            unknown_phase_role,
            'phases[0].roles[0]: unknown role "landing-zone-architect"; declare it under roles:',
        ),
        (
            "duplicate item key",
            duplicate_item,
            'phases[1].items[0].key: item key "cc.one" is used twice (first at phases[0].items[0])',
        ),
        (
            "gate without approvers",
            gate_without_approvers,
            "phases[0].items[1].approvers: is empty, but the item is a gate: name the roles that approve it",
        ),
        (
            "approvers on non-gate",
            approvers_on_non_gate,
            "phases[0].items[1].approvers: is set, but gate is false: only gates have approvers",
        ),
        (
            "window_bound on non-gate",
            window_bound_non_gate,
            "phases[0].items[0].window_bound: is only for gates: the item has no approvers",
        ),
        (
            "blocks_cutover on non-gate",
            blocks_non_gate,
            "phases[0].items[0].blocks_cutover: is only for gates: the item has no approvers",
        ),
        (
            "blocks_cutover after start",
            blocks_after_start,
            "phases[0].items[1].blocks_cutover: needs a due offset before cutover start (negative), since it blocks the start",
        ),
        (
            "missing title",
            missing_title,
            "phases[0].items[0].title: is missing",
        ),
        (
            "empty title",
            empty_title,
            "phases[0].items[0].title: is empty",
        ),
        (
            "long title",
            long_title,
            "phases[0].items[0].title: is 151 characters long; the limit is 150",
        ),
        (
            "multi-line title",
            multiline_title,
            "phases[0].items[0].title: must be a single line",
        ),
        (
            "bad offset",
            bad_offset,
            "phases[0].items[0].due: `soon` is not an offset. Use a sign and units, e.g. -21d, +0h, +4h, +2d12h.",
        ),
        (
            "unsigned offset",
            unsigned_offset,
            "phases[0].items[0].due: `4h` is not an offset. Use a sign and units, e.g. -21d, +0h, +4h, +2d12h.",
        ),
        (
            "numeric offset",
            numeric_offset,
            "phases[0].items[0].due: must be a signed offset such as -21d or +4h, not the number -3",
        ),
        (
            "ambiguous offset",
            ambiguous_offset,
            "phases[0].items[0].due: falls between the end of the 4h window and +1d, which is ambiguous; use +0h to +4h (scaled to the real window) or +1d or later",
        ),
        (
            "missing due",
            missing_due,
            "phases[0].items[0].due: is missing",
        ),
        (
            "duplicate phase",
            duplicate_phase,
            'phases[1].key: phase "change_comm" is used twice (first at phases[0])',
        ),
        (
            "no phases",
            no_phases,
            "phases: must list at least one phase",
        ),
        (
            "empty phase",
            empty_phase,
            "phases[0].items: must list at least one item",
        ),
        (
            "unknown field",
            unknown_field,
            "phases[0].items[0].aprovers: unknown field; allowed: key, title, description, responsible, approvers, gate, due, window_bound, blocks_cutover, scope_bound, approvals, not_by, source",
        ),
        (
            "roles not a list",
            roles_not_list,
            "phases[0].items[0].responsible: must be a list, not text",
        ),
        (
            "no responsible",
            no_responsible,
            "phases[0].items[0].responsible: must list at least one entry",
        ),
        (
            "duplicate role",
            duplicate_role,
            'phases[0].items[0].responsible: lists "project-manager" twice; name each role once',
        ),
        (
            "bad item key",
            bad_item_key,
            'phases[0].items[0].key: "CC One" is not a valid key: use lowercase words joined by `.`, e.g. cc.window_appr',
        ),
        (
            "item not a mapping",
            item_not_mapping,
            "phases[0].items[0]: must be a mapping, not text",
        ),
        (
            "flag not bool",
            bad_flag,
            "phases[0].items[1].window_bound: must be true or false, not text",
        ),
        (
            "zero default duration",
            bad_duration,
            "default_duration: `0h` is not a duration: it must be longer than zero.",
        ),
        (
            "default duration a day",
            long_duration,
            "default_duration: must be shorter than 1d: offsets of +1d and more are read as days after cutover",
        ),
        (
            "missing template key",
            missing_key,
            "key: is missing",
        ),
        (
            "unknown audience",
            bad_audience,
            'announcements[0].audiences[0]: "everyone" is not allowed; use one of business, it, support or all',
        ),
        (
            "bad announcement offset",
            bad_announcement_offset,
            "announcements[0].offset: `yesterday` is not an offset. Use a sign and units, e.g. -21d, +0h, +4h, +2d12h.",
        ),
        (
            "duplicate announcement",
            duplicate_announcement,
            'announcements[1].key: announcement "ann.reminder" is used twice (first at announcements[0])',
        ),
        (
            "bad survey kind",
            bad_kind,
            'retro_survey[0].kind: "essay" is not allowed; use one of text, rating, yes_no or choice',
        ),
        (
            "choice without options",
            choice_without_options,
            "retro_survey[0].options: must list at least two choices for a choice question",
        ),
        (
            "options on text",
            options_on_text,
            "retro_survey[0].options: is only for choice questions, not text",
        ),
        (
            "survey asks the role",
            asks_the_role,
            "retro_survey[0].options: name roles (Project Manager, project-sponsor): a survey never asks for the respondent's role, because most roles have one holder and the answer would name the person",
        ),
        ("approvals zero", approvals_zero, "phases[0].items[1].approvals: must be at least 1"),
        ("approvals text", approvals_text, "phases[0].items[1].approvals: must be a whole number, not text"),
        (
            "approvals on a task",
            approvals_on_task,
            "phases[0].items[0].approvals: is only for gates: the item has no approvers",
        ),
        (
            "not_by unknown",
            not_by_unknown,
            'phases[0].items[1].not_by[0]: "sponsor" is not allowed; use one of creator or responsible',
        ),
        ("not_by on a task", not_by_on_task, "phases[0].items[0].not_by: is only for gates: the item has no approvers"),
        ("nudge_lead invalid", nudge_lead_bad, "nudge_lead: `soon` is not a duration. Use e.g. 90m, 4h, 1d."),
        ("nudge_lead zero", nudge_lead_zero, "nudge_lead: `0h` is not a duration: it must be longer than zero."),
    ]


def test_quorum_and_separation_of_duties_parse() -> None:
    data = _minimal()
    _item(data, 0, 1).update(approvals=2, not_by=["creator", "responsible"])
    data["nudge_lead"] = "3d"
    t = parse_template(data)
    assert (t.item("cc.gate").approvals, t.item("cc.gate").not_by) == (2, ("creator", "responsible"))
    assert (t.item("cm.go").approvals, t.item("cm.go").not_by) == (1, ())
    assert t.nudge_lead == timedelta(days=3)
    assert parse_template(_minimal()).nudge_lead == timedelta(hours=24)


def test_shipped_template_keeps_single_approvals(caf: Template) -> None:
    assert all(i.approvals == 1 and i.not_by == () for i in caf.items)


@pytest.mark.parametrize(("mutate", "fragment"), [m[1:] for m in _mutations()], ids=[m[0] for m in _mutations()])
def test_parse_template_rejects(mutate: Any, fragment: str) -> None:
    data = copy.deepcopy(_minimal())
    mutate(data)
    with pytest.raises(TemplateError) as info:
        parse_template(data)
    assert str(info.value) == fragment


def test_parse_template_rejects_non_mapping() -> None:
    with pytest.raises(TemplateError, match="must be a mapping"):
        parse_template(["not", "a", "mapping"])  # type: ignore[arg-type]


def test_every_problem_is_reported() -> None:
    data = _minimal()
    _item(data)["responsible"] = ["nobody"]
    _item(data, 1, 0)["due"] = "later"
    del data["name"]
    with pytest.raises(TemplateError) as info:
        parse_template(data)
    assert info.value.errors == (
        "name: is missing",
        'phases[0].items[0].responsible[0]: unknown role "nobody"; declare it under roles:',
        "phases[1].items[0].due: `later` is not an offset. Use a sign and units, e.g. -21d, +0h, +4h, +2d12h.",
    )


def test_templates_define_their_own_phases() -> None:
    data = _minimal()
    data["phases"][0]["key"] = "deploy"
    data["phases"].reverse()
    t = parse_template(data)
    assert [p.key for p in t.phases] == ["complete_migration", "deploy"]
    assert [p.position for p in t.phases] == [1, 2]


def test_new_policy_fields_map_onto_the_domain() -> None:
    data = _minimal()
    _item(data, 0, 1).update(approvals=2, not_by=["creator", "responsible"], scope_bound=True)
    data["nudge_lead"] = "2h"
    t = parse_template(data)
    gate = t.item("cc.gate")
    assert (gate.approvals, gate.not_by, gate.scope_bound) == (2, ("creator", "responsible"), True)
    assert t.item("cc.one").approvals == 1 and t.item("cc.one").not_by == () and not t.item("cc.one").scope_bound
    assert t.nudge_lead == timedelta(hours=2)
    assert parse_template(_minimal()).nudge_lead == timedelta(hours=24)


def test_snapshot_round_trip() -> None:
    from domain.template import from_snapshot

    t = parse_template(_minimal())
    assert from_snapshot(t.document) == t
