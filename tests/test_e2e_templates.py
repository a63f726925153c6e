# ruff: noqa: E501  (the exact messages people read are kept whole)
"""Templates end to end: a release from each shipped template and from TEMPLATES_DIR, its own roles
signing its own gates, its announcements planned from its offsets and sent in its own words, and a
release that keeps its template's snapshot when the file changes. A real `cutover serve`, the Slack
stand-in, signed requests; once per backend."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from domain.template import Template, available_templates, due_at, load_template, offset_at
from sandbox.driver import wait_until
from storage.models import Announcement, Release
from tests.databases import backends, fresh_database
from tests.harness import Stack, running_stack
from tests.test_template_errors import BASE

SHIPPED = ("caf-migration-release", "small-change", "database-migration")


@pytest.fixture(scope="module", params=backends())
def tstack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp(f"templates-{request.param}")
    own = tmp / "templates"
    own.mkdir()
    (own / "payroll.yaml").write_text(BASE)
    with fresh_database(request.param, tmp) as url, running_stack(url, tmp, TEMPLATES_DIR=str(own)) as s:
        yield s


def create(stack: Stack, channel: str, template: str, start: datetime) -> Release:
    text = f"new Orders {template} --cutover {start.strftime('%Y-%m-%dT%H:%M:%S')}Z --template {template}"
    r = stack.driver.slash(text=text, user="UPM", channel=channel)
    assert r.status == 200, r.text
    told = stack.driver.wait_responses(r, count=1, timeout=15)
    assert "Created" in str(told), told
    release = stack.release_in(channel)
    assert release is not None
    return release


def first_gate_and_role(template: Template) -> tuple[str, str, str]:
    """(item key, approver role slug, the alias people type) of the template's first gate."""
    gate = next(i for i in template.items if i.is_gate and "creator" not in i.not_by)
    role = template.roles_by_key[gate.approver_roles[0]]
    return gate.key, role.key, (role.aliases[0] if role.aliases else role.key)


@pytest.mark.parametrize("key", [*SHIPPED, "payroll"])
def test_a_release_from_each_template(tstack: Stack, key: str) -> None:
    stack = tstack
    template = load_template(key) if key != "payroll" else None
    ch = stack.channel()
    start = (datetime.now(UTC) + timedelta(days=40)).replace(second=0, microsecond=0)
    rel = create(stack, ch, key, start)
    version = template.version if template is not None else "1.0"
    assert rel.template_key == key and rel.template_version == version and rel.template_snapshot
    snap = json.loads(rel.template_snapshot)
    template = template or _from(snap)
    end = start + template.default_duration

    # The checklist: every item of the template, numbered, and nothing else.
    items = stack.items(rel.id)
    assert sorted(i.key for i in items) == sorted(i.key for i in template.items)
    assert sorted(i.number for i in items) == list(range(1, len(template.items) + 1))
    for item in items:
        spec = template.item(item.key)
        assert item.due_at == due_at(spec, template, start, end)
        assert item.scope_bound == spec.scope_bound
    shown = {b["block_id"] for b in stack.all_blocks(ch) if b.get("block_id", "").startswith("item-")}
    assert {f"item-{i.id}" for i in items} <= shown

    # Announcements planned from the template's own offsets.
    with stack.db.connect() as conn:
        planned = dict(
            conn.execute(select(Announcement.key, Announcement.send_at).where(Announcement.release_id == rel.id)).all()
        )
    assert planned == {a.key: offset_at(a.offset, template, start, end) for a in template.announcements}

    # A gate signed off by the template's own role, assigned by the alias the template gives it.
    gate_key, role, alias = first_gate_and_role(template)
    gate = stack.item(rel.id, gate_key)
    name = template.roles_by_key[role].name
    out = stack.posted(f"assign {alias} <@UWBO> REL-{rel.number}", channel=ch, expect="now holds")
    assert name in json.dumps(out)
    r = stack.click(ch, gate.id, "item.approve", "UWBO")
    assert r.status == 200
    wait_until(lambda: len(stack.decisions(gate.id)) == 1)
    d = stack.decisions(gate.id)[0]
    assert (d.kind, d.user_id, d.role_key) == ("approve", "UWBO", role)
    wait_until(lambda: "<@UWBO>" in stack.item_text(ch, gate.id))

    # The release's roles, by the template's names; status names the template and its version.
    roles = stack.answer(f"roles REL-{rel.number}", channel=ch)
    assert all(template.roles_by_key[r].name in roles for i in template.items for r in i.responsible_roles)
    status = stack.answer(f"status REL-{rel.number}", channel=ch)
    assert f"`{key}` v{version}" in status and "newer version" not in status


def _from(document: dict[str, object]) -> Template:
    from domain.template import parse_template

    return parse_template(document)


def test_roles_are_the_release_templates(tstack: Stack) -> None:
    stack = tstack
    ch = stack.channel()
    rel = create(stack, ch, "database-migration", datetime.now(UTC) + timedelta(days=40))
    key = f"REL-{rel.number}"
    before = stack.snapshot()
    # A CAF role is not a role of a database migration: the answer lists this release's roles.
    # Answered at once (in the ack), like every other bad input.
    out = stack.answer(f"assign wbo <@UWBO> {key}", channel=ch)
    assert "`wbo` is not a role. Roles: `project-manager` (pm), `dba` (db-admin), `data-owner` (owner)" in out
    assert f"({key})" in out
    out = stack.answer(f"assign d <@UWBO> {key}", channel=ch)
    assert "`d` could mean `dba`, `data-owner`; type more of the name." in out
    assert stack.snapshot() == before
    stack.posted(f"assign dba <@UMA> {key}", channel=ch, expect="now holds")
    stack.posted(f"assign owner <@UWBO> {key}", channel=ch, expect="now holds")
    roles = stack.answer(f"roles {key}", channel=ch)
    assert "Database Administrator" in roles and "<@UMA>" in roles and "Data Owner" in roles

    # A DBA may not sign the data owner's acceptance: the refusal names the template's role and holder.
    accept = stack.item(rel.id, "co.accept")
    r = stack.click(ch, accept.id, "item.approve", "UMA")
    refusal = json.dumps(stack.driver.wait_responses(r, count=1)[0])
    assert "Data Owner" in refusal and "<@UWBO>" in refusal
    assert stack.decisions(accept.id) == []

    # The DBA runs the window (the template's `cutover:`): only the missing sign-offs stop the start.
    before = stack.snapshot()
    told = json.dumps(stack.ok(f"cutover start {key}", user="UMA", channel=ch, responses=1), ensure_ascii=False)
    assert "Cutover cannot start yet" in told, told
    # The data owner may not start it; the refusal names this release's roles and holders, no CAF role.
    told = json.dumps(stack.ok(f"cutover start {key}", user="UWBO", channel=ch, responses=1), ensure_ascii=False)
    assert "You can't" in told and "Database Administrator" in told and "<@UMA>" in told, told
    assert "Migration Architect" not in told and "migration-architect" not in told
    assert stack.snapshot() == before


def test_refusals_call_the_manager_by_the_templates_name(tstack: Stack) -> None:
    stack = tstack
    ch = stack.channel()
    rel = create(stack, ch, "small-change", datetime.now(UTC) + timedelta(days=10))
    key = f"REL-{rel.number}"
    # Only the creator or the Change Owner (the small change's name for the manager) may assign roles.
    told = json.dumps(stack.ok(f"assign eng <@UMA> {key}", user="UOUT", channel=ch, responses=1), ensure_ascii=False)
    assert "Change Owner" in told and "Project Manager" not in told, told
    stack.posted(f"assign eng <@UMA> {key}", channel=ch, expect="now holds")
    # The implementer may start (and is told only what is missing); nobody is told about a Project Manager.
    told = json.dumps(stack.ok(f"cutover start {key}", user="UMA", channel=ch, responses=1), ensure_ascii=False)
    assert "Cutover cannot start yet" in told and "Change Owner" in told and "Project Manager" not in told, told
    told = json.dumps(stack.ok(f"cutover start {key}", user="UOUT", channel=ch, responses=1), ensure_ascii=False)
    assert "Change Owner" in told and "Implementer" in told and "<@UMA>" in told, told
    assert "Project Manager" not in told and "Migration Architect" not in told


def test_templates_lists_every_template(tstack: Stack) -> None:
    out = tstack.answer("templates", channel=tstack.channel())
    for key in SHIPPED:
        assert f"`{key}` v{load_template(key).version}" in out
    assert "`payroll` v1.0" in out
    assert "`caf-migration-release` v1.0 _(default)_" in out
    assert "--template &lt;key&gt;" in out or "--template <key>" in out
    assert set(available_templates()) >= set(SHIPPED)


def test_unknown_template_is_refused_by_name(tstack: Stack) -> None:
    ch = tstack.channel()
    before = tstack.snapshot()
    out = tstack.answer("new Orders --cutover 2031-01-10T10:00Z --template payrol", channel=ch)
    assert (
        "`payrol` is not a template. Templates: `caf-migration-release`, `database-migration`, `payroll`, `small-change`."
        in out
    )
    assert tstack.snapshot() == before


def test_the_form_offers_every_template_with_the_default_first(tstack: Stack) -> None:
    stack = tstack
    ch = stack.channel()
    r = stack.driver.slash(text="new", user="UPM", channel=ch)
    assert r.status == 200
    wait_until(lambda: any(v.get("callback_id") == "release.new" for v in stack.api.views_opened("UPM")))
    view = [v for v in stack.api.views_opened("UPM") if v.get("callback_id") == "release.new"][-1]
    select_el = next(b["element"] for b in view["blocks"] if b.get("block_id") == "template")
    values = [o["value"] for o in select_el["options"]]
    assert sorted(values) == sorted([*SHIPPED, "payroll"])
    assert select_el["initial_option"]["value"] == "caf-migration-release"
    start = int((datetime.now(UTC) + timedelta(days=20)).timestamp())
    good = stack.driver.submit_view(
        user="UPM",
        view=view,
        values={
            "name": {"name": {"type": "plain_text_input", "value": "Small fix"}},
            "cutover": {"cutover": {"type": "datetimepicker", "selected_date_time": start}},
            "duration": {"duration": {"type": "static_select", "selected_option": {"value": "4h"}}},
            "template": {"template": {"type": "static_select", "selected_option": {"value": "small-change"}}},
        },
    )
    assert good.status == 200 and not good.text
    wait_until(lambda: stack.release_in(ch) is not None and len(stack.messages_of(stack.release_in(ch).id)) >= 4)
    rel = stack.release_in(ch)
    assert rel is not None and rel.template_key == "small-change"
    assert stack.count_rows("checklist_items", f"release_id = {rel.id}") == 10


def test_a_template_notice_goes_out_in_the_templates_words(tstack: Stack) -> None:
    stack = tstack
    ch = stack.channel()
    # 200000×: the small change's five days of plan play in about two seconds.
    r = stack.driver.slash(text="new Tiny fix --rehearsal 200000 --template small-change", user="UPM", channel=ch)
    assert r.status == 200
    stack.driver.wait_responses(r, count=1, timeout=15)

    def notice() -> dict | None:
        for m in stack.api.messages(ch):
            if (m.get("metadata") or {}).get("event_type") == "cutover_announcement":
                return m
        return None

    post = wait_until(notice, timeout=30)
    text = json.dumps(post["blocks"], ensure_ascii=False)
    assert "*Tiny fix* is scheduled for" in text and "may be briefly" in text
    assert "The change tomorrow" in text and "REHEARSAL" in text
    assert "{release}" not in text and "{contacts}" not in text


def test_a_release_keeps_its_template_snapshot(tmp_path: Path) -> None:
    own = tmp_path / "templates"
    own.mkdir()
    (own / "payroll.yaml").write_text(BASE)
    start = datetime.now(UTC) + timedelta(days=30)
    with fresh_database(backends()[-1], tmp_path) as url:
        with running_stack(url, tmp_path, TEMPLATES_DIR=str(own)) as stack:
            ch = stack.channel()
            rel = create(stack, ch, "payroll", start)
        # The template changes: a new version, a renamed item, a new item.
        edited = BASE.replace('version: "1.0"', 'version: "1.1"').replace(
            "title: Write the plan", "title: Write the runbook"
        )
        (own / "payroll.yaml").write_text(edited)
        with running_stack(url, tmp_path, TEMPLATES_DIR=str(own)) as stack:
            stack.api.add_channel(ch, name="rel-again", is_private=False, members=("UPM", "UBOT"))
            status = stack.answer(f"status REL-{rel.number}", channel=ch)
            assert "`payroll` v1.0; a newer version v1.1 exists: it applies to new releases only" in status
            assert stack.item(rel.id, "p.plan").title == "Write the plan"
            # A new release follows the new version.
            ch2 = stack.channel()
            rel2 = create(stack, ch2, "payroll", start)
            assert rel2.template_version == "1.1"
            assert stack.item(rel2.id, "p.plan").title == "Write the runbook"
            status2 = stack.answer(f"status REL-{rel2.number}", channel=ch2)
            assert "`payroll` v1.1" in status2 and "newer version" not in status2


def test_the_form_takes_the_window_of_the_template_chosen_in_it(tmp_path: Path) -> None:
    # A form is not redrawn when a select changes, so its window length starts as "as the template says":
    # a release made from it gets the window its template was written for, whichever template is picked.
    with fresh_database("sqlite", tmp_path) as url, running_stack(url, tmp_path, DEFAULT_TEMPLATE="small-change") as s:
        ch = s.channel()
        assert s.driver.slash(text="new", user="UPM", channel=ch).status == 200
        wait_until(lambda: any(v.get("callback_id") == "release.new" for v in s.api.views_opened("UPM")))
        view = [v for v in s.api.views_opened("UPM") if v.get("callback_id") == "release.new"][-1]
        blocks = {b.get("block_id"): b for b in view["blocks"]}
        assert blocks["template"]["element"]["initial_option"]["value"] == "small-change"
        labels = {o["value"]: o["text"]["text"] for o in blocks["template"]["element"]["options"]}
        assert labels["small-change"].endswith("(1h window)") and labels["database-migration"].endswith("(6h window)")
        assert blocks["duration"]["element"]["initial_option"]["value"] == "template"
        start = (datetime.now(UTC) + timedelta(days=20)).replace(second=0, microsecond=0)
        r = s.driver.submit_view(
            user="UPM",
            view=view,
            values={
                "name": {"name": {"type": "plain_text_input", "value": "Orders database"}},
                "cutover": {"cutover": {"type": "datetimepicker", "selected_date_time": int(start.timestamp())}},
                "duration": {"duration": {"type": "static_select", "selected_option": {"value": "template"}}},
                "template": {"template": {"type": "static_select", "selected_option": {"value": "database-migration"}}},
            },
        )
        assert r.status == 200 and not r.text, r.text
        rel = wait_until(lambda: s.release_in(ch))
        assert rel.template_key == "database-migration"
        assert rel.cutover_end - rel.cutover_start == timedelta(hours=6)
