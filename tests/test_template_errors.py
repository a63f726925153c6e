# ruff: noqa: E501  (the exact messages people read are kept whole)
"""Broken templates and exactly what their authors read: file, line and column, the field's path,
what is wrong and what is allowed. Each row changes one spot of a small valid template (BASE)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from domain.template import TemplateError, available_templates, builtin_dir, load_template, parse_text
from domain.template_schema import json_schema

BASE = """\
key: payroll
name: Payroll release
version: "1.0"
source: https://example.org/runbook
default_duration: 4h
roles:
  - key: project-manager
    name: Project Manager
    aliases: [pm]
  - key: dba
    name: Database Administrator
phases:
  - key: prepare
    title: Prepare
    roles: [project-manager]
    items:
      - key: p.plan
        title: Write the plan
        responsible: [project-manager]
        due: -7d
        source: runbook §1
      - key: p.signoff
        title: Approve the plan
        responsible: [project-manager]
        approvers: [dba]
        gate: true
        blocks_cutover: true
        due: -2d
        source: runbook §2
  - key: cutover
    title: Cut over
    items:
      - key: c.go
        title: Decide go
        responsible: [dba]
        approvers: [project-manager]
        window_bound: true
        due: +4h
        source: runbook §3
announcements:
  - key: ann.notice
    offset: -1d
    audiences: [all]
    purpose: Reminder
    wording: "{release} happens {window}. Questions: {contacts}"
retro_survey:
  - key: q1
    text: What went well?
    kind: text
"""

# (case, text replaced in BASE, replacement, every error shown)
BROKEN: list[tuple[str, str, str, list[str]]] = [
    (
        "unknown approver",
        "approvers: [dba]",
        "approvers: [dba, cab]",
        [
            'payroll.yaml:25:26 phases[0].items[1].approvers[1]: unknown role "cab"; declare it under roles:',
        ],
    ),
    (
        "unknown responsible",
        "responsible: [dba]",
        "responsible: [ciso]",
        [
            'payroll.yaml:35:23 phases[1].items[0].responsible[0]: unknown role "ciso"; declare it under roles:',
        ],
    ),
    (
        "unknown phase role",
        "roles: [project-manager]\n    items",
        "roles: [landing-zone-architect]\n    items",
        [
            'payroll.yaml:15:13 phases[0].roles[0]: unknown role "landing-zone-architect"; declare it under roles:',
        ],
    ),
    (
        "duplicate item key",
        "key: c.go",
        "key: p.plan",
        [
            'payroll.yaml:33:14 phases[1].items[0].key: item key "p.plan" is used twice (first at phases[0].items[0])',
        ],
    ),
    (
        "gate without approvers",
        "        approvers: [dba]\n",
        "",
        [
            "payroll.yaml:22:9 phases[0].items[1].approvers: is empty, but the item is a gate: name the roles that approve it",
        ],
    ),
    (
        "approvers on a task",
        "gate: true",
        "gate: false",
        [
            "payroll.yaml:25:20 phases[0].items[1].approvers: is set, but gate is false: only gates have approvers",
        ],
    ),
    (
        "window_bound on a task",
        "        due: -7d",
        "        window_bound: true\n        due: -7d",
        [
            "payroll.yaml:20:23 phases[0].items[0].window_bound: is only for gates: the item has no approvers",
        ],
    ),
    (
        "blocks_cutover on a task",
        "        due: -7d",
        "        blocks_cutover: true\n        due: -7d",
        [
            "payroll.yaml:20:25 phases[0].items[0].blocks_cutover: is only for gates: the item has no approvers",
        ],
    ),
    (
        "scope_bound on a task",
        "        due: -7d",
        "        scope_bound: true\n        due: -7d",
        [
            "payroll.yaml:20:22 phases[0].items[0].scope_bound: is only for gates: the item has no approvers",
        ],
    ),
    (
        "blocking gate due after start",
        "due: -2d",
        "due: +1h",
        [
            "payroll.yaml:27:25 phases[0].items[1].blocks_cutover: needs a due offset before cutover start (negative), since it blocks the start",
        ],
    ),
    (
        "missing title",
        "        title: Write the plan\n",
        "",
        [
            "payroll.yaml:17:9 phases[0].items[0].title: is missing",
        ],
    ),
    (
        "empty title",
        "title: Write the plan",
        'title: "   "',
        [
            "payroll.yaml:18:16 phases[0].items[0].title: is empty",
        ],
    ),
    (
        "long title",
        "title: Write the plan",
        "title: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        [
            "payroll.yaml:18:16 phases[0].items[0].title: is 151 characters long; the limit is 150",
        ],
    ),
    (
        "multi-line title",
        "title: Write the plan",
        'title: "one\\ntwo"',
        [
            "payroll.yaml:18:16 phases[0].items[0].title: must be a single line",
        ],
    ),
    (
        "bad offset",
        "due: -7d",
        "due: soon",
        [
            "payroll.yaml:20:14 phases[0].items[0].due: `soon` is not an offset. Use a sign and units, e.g. -21d, +0h, +4h, +2d12h.",
        ],
    ),
    (
        "unsigned offset",
        "due: -7d",
        "due: 7d",
        [
            "payroll.yaml:20:14 phases[0].items[0].due: `7d` is not an offset. Use a sign and units, e.g. -21d, +0h, +4h, +2d12h.",
        ],
    ),
    (
        "numeric offset",
        "due: -7d",
        "due: -3",
        [
            "payroll.yaml:20:14 phases[0].items[0].due: must be a signed offset such as -21d or +4h, not the number -3",
        ],
    ),
    (
        "ambiguous offset",
        "due: +4h",
        "due: +6h",
        [
            "payroll.yaml:38:14 phases[1].items[0].due: falls between the end of the 4h window and +1d, which is ambiguous; use +0h to +4h (scaled to the real window) or +1d or later",
        ],
    ),
    (
        "missing due",
        "        due: -7d\n",
        "",
        [
            "payroll.yaml:17:9 phases[0].items[0].due: is missing",
        ],
    ),
    (
        "duplicate phase",
        "key: cutover",
        "key: prepare",
        [
            'payroll.yaml:30:10 phases[1].key: phase "prepare" is used twice (first at phases[0])',
        ],
    ),
    (
        "no phases",
        "phases:\n",
        "phases: []\nold_phases:\n",
        [
            "payroll.yaml:12:9 phases: must list at least one phase",
            "payroll.yaml:13:1 old_phases: unknown field; allowed: key, name, version, source, description, default_duration, nudge_lead, roles, phases, announcements, retro_survey, retro, cutover",
        ],
    ),
    (
        "empty phase",
        "    items:\n      - key: c.go",
        "    items: []\n    old:\n      - key: c.go",
        [
            "payroll.yaml:32:12 phases[1].items: must list at least one item",
            "payroll.yaml:33:5 phases[1].old: unknown field; allowed: key, title, roles, items",
        ],
    ),
    (
        "unknown field",
        "        source: runbook §1",
        "        source: runbook §1\n        aprovers: [dba]",
        [
            "payroll.yaml:22:9 phases[0].items[0].aprovers: unknown field; allowed: key, title, description, responsible, approvers, gate, due, window_bound, blocks_cutover, scope_bound, approvals, not_by, source",
        ],
    ),
    (
        "roles not a list",
        "responsible: [dba]",
        "responsible: dba",
        [
            "payroll.yaml:35:22 phases[1].items[0].responsible: must be a list, not text",
        ],
    ),
    (
        "no responsible",
        "responsible: [dba]",
        "responsible: []",
        [
            "payroll.yaml:35:22 phases[1].items[0].responsible: must list at least one entry",
        ],
    ),
    (
        "role twice",
        "responsible: [dba]",
        "responsible: [dba, dba]",
        [
            'payroll.yaml:35:22 phases[1].items[0].responsible: lists "dba" twice; name each role once',
        ],
    ),
    (
        "bad item key",
        "key: p.plan",
        "key: P Plan",
        [
            'payroll.yaml:17:14 phases[0].items[0].key: "P Plan" is not a valid key: use lowercase words joined by `.`, e.g. cc.window_appr',
        ],
    ),
    (
        "item not a mapping",
        "      - key: c.go\n",
        "      - c.go\n      - key: c.go\n",
        [
            "payroll.yaml:33:9 phases[1].items[0]: must be a mapping, not text",
        ],
    ),
    (
        "flag not true/false",
        "window_bound: true",
        "window_bound: yes please",
        [
            "payroll.yaml:37:23 phases[1].items[0].window_bound: must be true or false, not text",
        ],
    ),
    (
        "zero default duration",
        "default_duration: 4h",
        "default_duration: 0h",
        [
            "payroll.yaml:5:19 default_duration: `0h` is not a duration: it must be longer than zero.",
        ],
    ),
    (
        "default duration a day",
        "default_duration: 4h",
        "default_duration: 1d",
        [
            "payroll.yaml:5:19 default_duration: must be shorter than 1d: offsets of +1d and more are read as days after cutover",
        ],
    ),
    (
        "missing template key",
        "key: payroll\n",
        "",
        [
            "payroll.yaml:1:1 key: is missing",
        ],
    ),
    (
        "bad template key",
        "key: payroll\n",
        "key: Payroll Release\n",
        [
            'payroll.yaml:1:6 key: "Payroll Release" is not a valid key: use lowercase letters, digits and `-`, e.g. payroll-release',
        ],
    ),
    (
        "unknown audience",
        "audiences: [all]",
        "audiences: [everyone]",
        [
            'payroll.yaml:43:17 announcements[0].audiences[0]: "everyone" is not allowed; use one of business, it, support or all',
        ],
    ),
    (
        "bad announcement offset",
        "offset: -1d",
        "offset: yesterday",
        [
            "payroll.yaml:42:13 announcements[0].offset: `yesterday` is not an offset. Use a sign and units, e.g. -21d, +0h, +4h, +2d12h.",
        ],
    ),
    (
        "duplicate announcement",
        "retro_survey:\n",
        "  - key: ann.notice\n    offset: -2d\n    audiences: [it]\n    purpose: Again\n    wording: Again {release}\nretro_survey:\n",
        [
            'payroll.yaml:46:10 announcements[1].key: announcement "ann.notice" is used twice (first at announcements[0])',
        ],
    ),
    (
        "announcement without wording",
        '    wording: "{release} happens {window}. Questions: {contacts}"\n',
        "",
        [
            'payroll.yaml:41:5 announcements[0]: "ann.notice" has no wording: write wording: with placeholders such as {release} and {window}, or use a key with built-in wording (ann.initial, ann.it_ops, ann.freeze, ann.reminder, ann.started, ann.outcome, ann.post_check, ann.hypercare_end, ann.decom_notice, ann.decom_done, ann.outcomes)',
        ],
    ),
    (
        "no project manager role",
        "  - key: project-manager\n    name: Project Manager\n    aliases: [pm]\n",
        "",
        [
            "payroll.yaml:7:3 roles: must declare project-manager: the role that runs the release (assigns roles, changes the scope); give it the name your team uses",
            'payroll.yaml:12:13 phases[0].roles[0]: unknown role "project-manager"; declare it under roles:',
            'payroll.yaml:16:23 phases[0].items[0].responsible[0]: unknown role "project-manager"; declare it under roles:',
            'payroll.yaml:21:23 phases[0].items[1].responsible[0]: unknown role "project-manager"; declare it under roles:',
            'payroll.yaml:33:21 phases[1].items[0].approvers[0]: unknown role "project-manager"; declare it under roles:',
        ],
    ),
    (
        "unknown placeholder",
        "{contacts}",
        "{contact}",
        [
            'payroll.yaml:45:14 announcements[0].wording: uses the placeholder "{contact}", which does not exist; placeholders: {release}, {workload}, {window}, {start}, {end}, {channel}, {contacts}',
        ],
    ),
    (
        "unbalanced brace",
        "{contacts}",
        "{contacts",
        [
            "payroll.yaml:45:14 announcements[0].wording: is not valid wording (expected '}' before end of string); write a literal brace as {{ or }}",
        ],
    ),
    (
        "bad survey kind",
        "kind: text",
        "kind: essay",
        [
            'payroll.yaml:49:11 retro_survey[0].kind: "essay" is not allowed; use one of text, rating, yes_no or choice',
        ],
    ),
    (
        "choice without options",
        "kind: text",
        "kind: choice",
        [
            "payroll.yaml:47:5 retro_survey[0].options: must list at least two choices for a choice question",
        ],
    ),
    (
        "options on a text question",
        "kind: text",
        "kind: text\n    options: [a, b]",
        [
            "payroll.yaml:50:14 retro_survey[0].options: is only for choice questions, not text",
        ],
    ),
    (
        "survey asks the role",
        "kind: text",
        "kind: choice\n    options: [Project Manager, Database Administrator, other]",
        [
            "payroll.yaml:50:14 retro_survey[0].options: name roles (Project Manager, Database Administrator): a survey never asks for the respondent's role, because most roles have one holder and the answer would name the person",
        ],
    ),
    (
        "no roles",
        "roles:\n  - key: project-manager\n    name: Project Manager\n    aliases: [pm]\n  - key: dba\n    name: Database Administrator\n",
        "roles: []\n",
        [
            "payroll.yaml:6:8 roles: must declare at least one role",
        ],
    ),
    (
        "role without a name",
        "    name: Database Administrator\n",
        "",
        [
            "payroll.yaml:10:5 roles[1].name: is missing",
        ],
    ),
    (
        "duplicate role",
        "  - key: dba\n",
        "  - key: project-manager\n",
        [
            'payroll.yaml:10:10 roles[1].key: role "project-manager" is used twice (first at roles[0])',
            'payroll.yaml:25:21 phases[0].items[1].approvers[0]: unknown role "dba"; declare it under roles:',
            'payroll.yaml:35:23 phases[1].items[0].responsible[0]: unknown role "dba"; declare it under roles:',
        ],
    ),
    (
        "alias used twice",
        "    name: Database Administrator\n",
        "    name: Database Administrator\n    aliases: [pm]\n",
        [
            'payroll.yaml:12:15 roles[1].aliases[0]: "pm" already names role "project-manager"',
        ],
    ),
    (
        "bad role slug",
        "  - key: dba\n",
        "  - key: DBA!\n",
        [
            'payroll.yaml:10:10 roles[1].key: "DBA!" is not a valid key: use lowercase letters, digits and `-`, starting with a letter, e.g. dba',
            'payroll.yaml:25:21 phases[0].items[1].approvers[0]: unknown role "dba"; declare it under roles:',
            'payroll.yaml:35:23 phases[1].items[0].responsible[0]: unknown role "dba"; declare it under roles:',
        ],
    ),
    (
        "approvals zero",
        "gate: true",
        "gate: true\n        approvals: 0",
        [
            "payroll.yaml:27:20 phases[0].items[1].approvals: must be at least 1",
        ],
    ),
    (
        "approvals on a task",
        "        due: -7d",
        "        approvals: 2\n        due: -7d",
        [
            "payroll.yaml:20:20 phases[0].items[0].approvals: is only for gates: the item has no approvers",
        ],
    ),
    (
        "not_by unknown",
        "gate: true",
        "gate: true\n        not_by: [owner]",
        [
            'payroll.yaml:27:18 phases[0].items[1].not_by[0]: "owner" is not allowed; use one of creator or responsible',
        ],
    ),
    (
        "nudge_lead not a duration",
        "default_duration: 4h",
        "default_duration: 4h\nnudge_lead: tomorrow",
        [
            "payroll.yaml:6:13 nudge_lead: `tomorrow` is not a duration. Use e.g. 90m, 4h, 1d.",
        ],
    ),
    (
        "several problems at once",
        "approvers: [dba]",
        "approvers: [ciso]\n        colour: red",
        [
            'payroll.yaml:25:21 phases[0].items[1].approvers[0]: unknown role "ciso"; declare it under roles:',
            "payroll.yaml:26:9 phases[0].items[1].colour: unknown field; allowed: key, title, description, responsible, approvers, gate, due, window_bound, blocks_cutover, scope_bound, approvals, not_by, source",
        ],
    ),
    (
        "retro reminder after the close",
        "retro_survey:\n",
        "retro:\n  open_for: 2d\n  reminder: 3d\nretro_survey:\n",
        ["payroll.yaml:48:13 retro.reminder: must be shorter than open_for (2d): it is sent before the survey closes"],
    ),
    (
        "retro section typo",
        "retro_survey:\n",
        "retro:\n  open_delay: 1d\n  remind: 1d\nretro_survey:\n",
        ["payroll.yaml:48:3 retro.remind: unknown field; allowed: open_delay, open_for, reminder"],
    ),
    (
        "role description too long",
        "    name: Database Administrator\n",
        "    name: Database Administrator\n    description: " + "d" * 501 + "\n",
        ["payroll.yaml:12:18 roles[1].description: is 501 characters long; the limit is 500"],
    ),
    (
        "unknown role runs the cutover",
        "retro_survey:\n",
        "cutover:\n  start: [dba, cab]\nretro_survey:\n",
        ['payroll.yaml:47:16 cutover.start[1]: unknown role "cab"; declare it under roles:'],
    ),
    (
        "cutover step typo",
        "retro_survey:\n",
        "cutover:\n  begin: [dba]\nretro_survey:\n",
        ["payroll.yaml:47:3 cutover.begin: unknown field; allowed: start, complete, rollback"],
    ),
    (
        "cutover roles not a list",
        "retro_survey:\n",
        "cutover:\n  rollback: dba\nretro_survey:\n",
        ["payroll.yaml:47:13 cutover.rollback: must be a list, not text"],
    ),
    (
        "cutover section not a mapping",
        "retro_survey:\n",
        "cutover: [dba]\nretro_survey:\n",
        ["payroll.yaml:46:10 cutover: must be a mapping, not a list"],
    ),
]


def test_base_is_valid() -> None:
    template = parse_text(BASE, "payroll.yaml")
    assert [i.key for i in template.items] == ["p.plan", "p.signoff", "c.go"]
    assert [r.key for r in template.roles] == ["project-manager", "dba"]
    assert template.announcements[0].wording == "{release} happens {window}. Questions: {contacts}"


@pytest.mark.parametrize(("case", "old", "new", "errors"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_template(case: str, old: str, new: str, errors: list[str]) -> None:
    assert old in BASE, case
    with pytest.raises(TemplateError) as info:
        parse_text(BASE.replace(old, new, 1), "payroll.yaml")
    assert list(info.value.errors) == errors
    assert str(info.value) == "\n".join(errors)


def test_table_is_big_enough() -> None:
    assert len(BROKEN) >= 30
    assert len({b[0] for b in BROKEN}) == len(BROKEN)


def test_not_yaml_names_the_spot() -> None:
    with pytest.raises(TemplateError) as info:
        parse_text(BASE.replace("due: -7d", "due: [-7d"), "payroll.yaml")
    assert str(info.value).startswith("payroll.yaml:21:")
    assert "not valid YAML" in str(info.value)


@pytest.mark.parametrize("text", ["", "# only a comment\n"])
def test_empty_file(text: str) -> None:
    with pytest.raises(TemplateError, match=r"^payroll.yaml:1:1 the file is empty"):
        parse_text(text, "payroll.yaml")


def test_top_level_not_a_mapping() -> None:
    with pytest.raises(TemplateError) as info:
        parse_text("- a\n- b\n", "payroll.yaml")
    assert info.value.errors == ("payroll.yaml:1:1 (top): the top level must be a mapping, not a list",)


# --- the shipped templates and the JSON Schema ---------------------------------------------------


def test_shipped_templates_validate() -> None:
    keys = available_templates()
    assert {"caf-migration-release", "small-change", "database-migration"} <= set(keys)
    for key in keys:
        assert load_template(key).key == key


def _schema_validator() -> jsonschema.protocols.Validator:
    schema = json_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)  # type: ignore[no-any-return]


@pytest.mark.parametrize("path", sorted(builtin_dir().glob("*.yaml")), ids=lambda p: p.name)
def test_json_schema_accepts_shipped_templates(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert list(_schema_validator().iter_errors(json.loads(json.dumps(document)))) == []


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("due: -7d", "due: soon", ["phases", 0, "items", 0, "due"]),
        ("        title: Write the plan\n", "", ["phases", 0, "items", 0]),
        ("kind: text", "kind: essay", ["retro_survey", 0, "kind"]),
        (
            "        source: runbook §1",
            "        source: runbook §1\n        aprovers: [dba]",
            ["phases", 0, "items", 0],
        ),
        ("window_bound: true", "window_bound: yes please", ["phases", 1, "items", 0, "window_bound"]),
    ],
)
def test_json_schema_rejects_broken(old: str, new: str, where: list[object]) -> None:
    validator = _schema_validator()
    assert list(validator.iter_errors(yaml.safe_load(BASE))) == []
    errors = list(validator.iter_errors(yaml.safe_load(BASE.replace(old, new, 1))))
    assert errors and any(list(e.absolute_path) == where for e in errors), [e.message for e in errors]


def test_the_caf_templates_roles_are_the_built_in_roles() -> None:
    from domain.roles import ROLES

    assert load_template("caf-migration-release").roles == ROLES


def test_retro_timings_come_from_the_template() -> None:
    from datetime import timedelta

    t = parse_text(
        BASE.replace("retro_survey:\n", "retro:\n  open_delay: 2h\n  open_for: 3d\n  reminder: 12h\nretro_survey:\n"),
        "payroll.yaml",
    )
    assert (t.survey_opens_after, t.survey_open_for, t.survey_reminder) == (
        timedelta(hours=2),
        timedelta(days=3),
        timedelta(hours=12),
    )
    caf = load_template("caf-migration-release")
    assert (caf.survey_opens_after, caf.survey_open_for, caf.survey_reminder) == (
        timedelta(days=1),
        timedelta(days=7),
        timedelta(days=1),
    )


def test_builtin_wording_keys_are_the_notice_keys() -> None:
    from domain.announcements import NoticeKey
    from domain.template_schema import BUILTIN_WORDING

    assert set(BUILTIN_WORDING) == {k.value for k in NoticeKey} - {NoticeKey.ROLLBACK.value}


DOCS = Path(__file__).resolve().parents[1] / "docs" / "TEMPLATES.md"


def test_the_worked_example_in_the_docs_is_valid() -> None:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("```yaml", text.index("`templates/payroll.yaml`")) + len("```yaml\n")
    example = parse_text(text[start : text.index("```", start)], "payroll.yaml")
    assert example.key == "payroll" and len(example.items) == 4


def test_every_field_of_the_format_is_documented() -> None:
    from domain.template_schema import (
        AnnouncementModel,
        CutoverModel,
        ItemModel,
        PhaseModel,
        QuestionModel,
        RetroModel,
        RoleModel,
        TemplateModel,
    )

    text = DOCS.read_text(encoding="utf-8")
    models = (
        TemplateModel,
        RoleModel,
        PhaseModel,
        ItemModel,
        AnnouncementModel,
        QuestionModel,
        RetroModel,
        CutoverModel,
    )
    for model in models:
        for field in model.model_fields:
            assert f"`{field}`" in text or f"{field}:" in text, (model.__name__, field)
    from domain.template_schema import PLACEHOLDERS

    for name in PLACEHOLDERS:
        assert f"`{{{name}}}`" in text, name
