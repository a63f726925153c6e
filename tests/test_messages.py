"""Block Kit builders: content, escaping, date tokens and Slack's size limits."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from slack_sdk.models.blocks import Block

from domain.announcements import AnnouncementKind, AnnouncementView, DeliveryState, DeliveryView, StakeholderChannel
from domain.limits import REJECT_REASON_MAX, REJECT_REASON_MIN, RELEASE_NAME_MAX, WORKLOAD_MAX
from domain.model import (
    Assignment,
    ItemState,
    ItemView,
    PhaseView,
    ReleaseState,
    ReleaseView,
    Subject,
    SubjectKind,
)
from domain.retro import SurveyState, SurveyView
from domain.template import DEFAULT_TEMPLATE, load_template
from messages.checklist import phase_message_count, phase_messages, summary_message
from messages.common import Rendered, clip, cut_markup, escape, fits, pack_lines, to_dicts
from messages.dates import slack_date, slack_window
from messages.help import help_message, info_message, refusal_message, usage_error_message
from messages.modals import new_release_modal, reject_modal
from messages.retro import retro_status_message
from messages.schedule import schedule_message
from messages.status import release_list_message, roles_message, status_message
from sandbox.blockkit import validate_message_blocks

RELEASE_ROLES = load_template(DEFAULT_TEMPLATE).roles
CUTOVER = datetime(2026, 12, 5, 22, 0, tzinfo=UTC)
CMD = "/release"  # what SLASH_COMMAND is unless configured; the render tests use another
NOW = CUTOVER - timedelta(days=2)
HOSTILE_REASON = "Rollback plan missing <!channel> & <script>alert(1)</script>"

PM, OCM, WBO, WA, UAT = (
    "project-manager",
    "org-change-manager",
    "workload-business-owner",
    "workload-architect",
    "uat-tester",
)
MA, ME, COM, SPONSOR, SEC = (
    "migration-architect",
    "migration-engineer",
    "cloud-ops-manager",
    "project-sponsor",
    "security-officer",
)

U_PM = Subject(SubjectKind.USER, "UPM000001")
U_WBO = Subject(SubjectKind.USER, "UWBO00001")
G_BIZ = Subject(SubjectKind.GROUP, "SBIZ00001")
G_MIG = Subject(SubjectKind.GROUP, "SMIG00001")
U_UAT1 = Subject(SubjectKind.USER, "UUAT00001")
U_UAT2 = Subject(SubjectKind.USER, "UUAT00002")
U_SEC = Subject(SubjectKind.USER, "USEC00001")

# key, title, item count, responsible roles, gate approver roles, due date of item n (1-based)
PHASES: list[tuple[str, str, int, tuple[str, ...], tuple[str, ...], Any]] = [
    (
        "communicate",
        "Plan change communication",
        12,
        (PM, OCM),
        (WBO,),
        lambda n: CUTOVER - timedelta(days=14) + n * timedelta(hours=12),
    ),
    (
        "test",
        "Conduct business testing",
        14,
        (PM, WBO, WA, UAT),
        (WBO, UAT),
        lambda n: CUTOVER - timedelta(days=7) + n * timedelta(hours=6),
    ),
    ("migrate", "Complete the migration", 16, (MA, ME), (WBO, MA), lambda n: CUTOVER + n * timedelta(minutes=15)),
    (
        "optimize",
        "Optimize costs after the migration",
        10,
        (WA, COM, PM),
        (SPONSOR,),
        lambda n: CUTOVER + n * timedelta(days=1),
    ),
    (
        "retro",
        "Conduct a retrospective",
        8,
        (WA, COM),
        (PM,),
        lambda n: CUTOVER + timedelta(days=7) + n * timedelta(days=1),
    ),
]

# (phase, position) → (state, decided by, reason); everything else is pending.
DECISIONS: dict[tuple[str, int], tuple[ItemState, str, str | None]] = {
    **{("communicate", n): (ItemState.DONE, U_PM.id, None) for n in (1, 2, 3, 5, 6, 7, 9, 10)},
    ("communicate", 4): (ItemState.APPROVED, U_WBO.id, None),
    ("communicate", 8): (ItemState.APPROVED, U_WBO.id, None),
    ("communicate", 12): (ItemState.REJECTED, U_WBO.id, HOSTILE_REASON),
    ("test", 1): (ItemState.DONE, U_UAT1.id, None),
    ("test", 2): (ItemState.DONE, U_UAT2.id, None),
    ("test", 4): (ItemState.APPROVED, U_WBO.id, None),
}


def make_item(
    item_id: int,
    phase: str,
    n: int,
    responsible: tuple[str, ...],
    approvers: tuple[str, ...],
    due: datetime,
    title: str | None = None,
) -> ItemView:
    gate = n % 4 == 0
    state, who, reason = DECISIONS.get((phase, n), (ItemState.PENDING, None, None))
    return ItemView(
        id=item_id,
        key=f"{phase}-{n}",
        phase_key=phase,
        position=n,
        title=title or (f"Sign-off {n} for {phase}" if gate else f"Task {n} of {phase}"),
        responsible_roles=responsible,
        approver_roles=approvers if gate else (),
        due_at=due,
        state=state,
        version=(item_id % 7) + (1 if who else 0),
        decided_by=who,
        decided_at=due - timedelta(hours=1) if who else None,
        reason=reason,
    )


def make_release(**overrides: Any) -> ReleaseView:
    phases = []
    next_id = 100
    for position, (key, title, count, responsible, approvers, due) in enumerate(PHASES, start=1):
        items = []
        for n in range(1, count + 1):
            items.append(make_item(next_id, key, n, responsible, approvers, due(n)))
            next_id += 1
        phases.append(PhaseView(key=key, title=title, position=position, items=tuple(items)))
    fields: dict[str, Any] = dict(
        id=3,
        key="REL-3",
        name="Payroll & HR <wave 2>",
        workload="SAP <!here> HCM",
        channel_id="C0REL3",
        cutover_start=CUTOVER,
        cutover_end=CUTOVER + timedelta(hours=4),
        timezone="Europe/Berlin",
        template_key="caf-migration-release",
        state=ReleaseState.READY,
        created_by=U_PM.id,
        created_at=CUTOVER - timedelta(days=30),
        version=9,
        phases=tuple(phases),
        assignments=(
            Assignment(PM, U_PM),
            Assignment(WBO, U_WBO),
            Assignment(WBO, G_BIZ),
            Assignment(MA, G_MIG),
            Assignment(UAT, U_UAT1),
            Assignment(UAT, U_UAT2),
            Assignment(SEC, U_SEC),
        ),
    )
    fields.update(overrides)
    return ReleaseView(**fields)


def big_phase(count: int = 80, title_len: int = 60) -> PhaseView:
    items = tuple(
        make_item(
            5000 + n,
            "huge",
            n,
            (PM, WA, COM),
            (WBO, SPONSOR),
            CUTOVER + timedelta(hours=n),
            title=f"{n:03d} " + "x" * title_len,
        )
        for n in range(1, count + 1)
    )
    return PhaseView(key="huge", title="A phase far too long for one message", position=6, items=items)


def as_json(*outputs: Rendered) -> str:
    return json.dumps([{"text": r.text, "blocks": to_dicts(r.blocks)} for r in outputs])


def texts(blocks: tuple[Block, ...] | list[Block]) -> str:
    """All text of the blocks, joined, as Slack would receive it."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(to_dicts(blocks))
    return "\n".join(found)


def buttons(rendered: Rendered) -> dict[str, list[dict[str, Any]]]:
    """block_id → buttons in that block (accessories and actions elements)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for block in to_dicts(rendered.blocks):
        found = [block["accessory"]] if block.get("accessory", {}).get("type") == "button" else []
        found += [e for e in block.get("elements", []) if e.get("type") == "button"]
        if found:
            out[block["block_id"]] = found
    return out


def all_phase_parts(release: ReleaseView) -> list[Rendered]:
    return [part for phase in release.phases for part in phase_messages(release, phase, NOW)]


def assert_message_ok(rendered: Rendered) -> None:
    assert rendered.blocks
    assert len(rendered.blocks) <= 50
    assert fits(rendered.blocks)  # also serializes every block: slack_sdk validates in to_dict()
    assert 0 < len(rendered.text) <= 3000
    for block in to_dicts(rendered.blocks):
        assert len(block.get("text", {}).get("text", "")) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150


DATE_TOKEN = re.compile(r"<!date\^(\d+)\^[^|>]+\|(\d{4}-\d\d-\d\d \d\d:\d\d UTC)>")


def assert_dates_are_tokens(text: str) -> None:
    """Every time people see must be a Slack date token (rendered in the reader's zone)."""
    for epoch, fallback in DATE_TOKEN.findall(text):
        assert datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%d %H:%M UTC") == fallback
    stripped = DATE_TOKEN.sub("", text)
    assert "UTC" not in stripped
    assert not re.search(r"\d{4}-\d\d-\d\d", stripped)
    assert not re.search(r"\b\d{1,2}:\d\d\b", stripped)


# --- dates and escaping ----------------------------------------------------------------------


def test_slack_date_token_and_utc_fallback() -> None:
    berlin = timezone(timedelta(hours=1))
    dt = datetime(2026, 12, 5, 23, 0, tzinfo=berlin)
    assert slack_date(dt) == "<!date^1796508000^{date_short_pretty} {time}|2026-12-05 22:00 UTC>"
    assert slack_date(dt, "{date_long}") == "<!date^1796508000^{date_long}|2026-12-05 22:00 UTC>"
    assert slack_window(CUTOVER, CUTOVER + timedelta(hours=4)).endswith("(4h)")
    with pytest.raises(ValueError, match="naive"):
        slack_date(datetime(2026, 12, 5, 22, 0))


def test_escape_and_clip_never_split_entities() -> None:
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"
    clipped = clip("a" * 8 + "&" * 10, 12)
    assert len(clipped) <= 12 and clipped.endswith("…")
    assert clipped == "aaaaaaaa…" and "&" not in clipped
    assert clip("short & sweet", 50) == "short &amp; sweet"
    assert cut_markup("x" * 10 + " <!date^1^{time}|fallback>", 20) == "x" * 10 + "…"
    assert cut_markup("x" * 10 + " &amp;&amp;&amp;", 18) == "x" * 10 + " &amp;…"


def test_pack_lines_caps_sections_and_counts_the_rest() -> None:
    lines = [f"line {i} " + "y" * 90 for i in range(100)]
    packed = pack_lines(lines, heading="*Head*", max_sections=2, budget=100_000)
    assert len(packed) == 2 and packed[0].startswith("*Head*\n")
    assert all(len(p) <= 3000 for p in packed)
    shown = sum(p.count("line ") for p in packed)
    assert packed[-1].endswith(f"_+{100 - shown} more_")
    assert pack_lines(lines[:3], max_sections=5, budget=10_000, max_lines=2)[0].endswith("_+1 more_")


# --- checklist summary -----------------------------------------------------------------------


def test_summary_content() -> None:
    release = make_release()
    msg = summary_message(release, NOW)
    assert_message_ok(msg)
    body = texts(msg.blocks)
    assert to_dicts(msg.blocks)[0]["text"]["text"] == "REL-3 · Payroll &amp; HR &lt;wave 2&gt;"
    assert "*State:* 🟢 Ready" in body
    assert "SAP &lt;!here&gt; HCM" in body
    assert "*Progress* — 13/60 items complete (21%)" in body
    for line in (
        "1. Plan change communication — 10/12",
        "2. Conduct business testing — 3/14",
        "3. Complete the migration — 0/16",
        "4. Optimize costs after the migration — 0/10",
        "5. Conduct a retrospective — 0/8",
    ):
        assert line in body
    assert "*Sign-offs* — 3/14 approved, 1 rejected" in body
    assert body.count("⏳ ") == 10
    assert body.count(f"— approved by <@{U_WBO.id}>") == 3
    assert f"⛔ Sign-off 12 for communicate — *rejected* by <@{U_WBO.id}>" in body
    assert ":warning: 12 items overdue" in body
    assert "Items and sign-offs are in the thread, one reply per phase · updated <!date^" in body
    assert_dates_are_tokens(body)
    assert "REL-3" in msg.text and "13/60" in msg.text


def test_summary_of_a_completed_phase_gets_a_tick() -> None:
    release = make_release()
    first = release.phases[0]
    finished = replace(first, items=tuple(replace(i, state=ItemState.DONE) for i in first.items))
    body = texts(summary_message(replace(release, phases=(finished, *release.phases[1:])), NOW).blocks)
    assert "1. Plan change communication — 12/12 ✓ complete" in body


def test_summary_header_is_truncated() -> None:
    msg = summary_message(make_release(name="N" * 300), NOW)
    head = to_dicts(msg.blocks)[0]["text"]["text"]
    assert len(head) == 150 and head.startswith("REL-3 · NNN") and head.endswith("…")


def test_summary_stays_one_message_for_a_huge_template() -> None:
    phases = tuple(
        replace(big_phase(count=100, title_len=200), key=f"p{k}", position=k, title=f"Phase {k} " + "t" * 140)
        for k in range(1, 13)
    )
    release = make_release(phases=phases)
    assert sum(i.is_gate for i in release.items) == 300
    msg = summary_message(release, NOW)
    assert_message_ok(msg)
    body = texts(msg.blocks)
    more = re.search(r"_\+(\d+) more sign-offs: see the thread_", body)
    assert more is not None
    assert body.count("⏳ ") + int(more.group(1)) == 300
    assert "12. Phase 12" in body


# --- checklist phases ------------------------------------------------------------------------


def test_phase_messages_fit_and_cover_every_item_once() -> None:
    release = make_release()
    seen: Counter[str] = Counter()
    for phase in release.phases:
        parts = phase_messages(release, phase, NOW)
        assert len(parts) == phase_message_count(phase, RELEASE_ROLES) == 1
        for part in parts:
            assert_message_ok(part)
            seen.update(
                b["block_id"]
                for b in to_dicts(part.blocks)
                if b.get("block_id", "").startswith("item-") and not b["block_id"].endswith("-actions")
            )
    assert seen == Counter({f"item-{i.id}": 1 for i in release.items})
    assert len(seen) == 60


def test_phase_header_context_and_item_text() -> None:
    release = make_release()
    (part,) = phase_messages(release, release.phases[0], NOW)
    blocks = to_dicts(part.blocks)
    assert blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "1. Plan change communication", "emoji": True},
    }
    assert blocks[1]["type"] == "context"
    assert blocks[1]["elements"][0]["text"] == (
        "*REL-3* · 10/12 done · sign-offs: 2/3 approved, 1 rejected · :warning: 1 overdue"
    )
    by_id = {b["block_id"]: b for b in blocks if "block_id" in b}
    items = {i.position: i for i in release.phases[0].items}

    overdue = by_id[f"item-{items[11].id}"]["text"]["text"]
    assert overdue.startswith("☐ *Task 11 of communicate*")
    assert "Responsible: Project Manager, Organizational Change Manager · Due <!date^" in overdue
    assert ":warning: *overdue*" in overdue

    done = by_id[f"item-{items[1].id}"]["text"]["text"]
    assert done.startswith("☑️ *Task 1 of communicate*") and "overdue" not in done
    assert f"Done by <@{U_PM.id}> · <!date^" in done

    rejected = by_id[f"item-{items[12].id}"]["text"]["text"]
    assert rejected.startswith("⛔ *Sign-off 12 for communicate*")
    assert "Sign-off: Workload Business Owner" in rejected
    assert f"Rejected by <@{U_WBO.id}> · <!date^" in rejected
    assert "\n> Rollback plan missing &lt;!channel&gt; &amp; &lt;script&gt;" in rejected  # a real quote
    assert_dates_are_tokens(texts(part.blocks))


def test_buttons_per_state_carry_id_and_version() -> None:
    release = make_release()
    parts = all_phase_parts(release)
    found: dict[str, list[dict[str, Any]]] = {}
    for part in parts:
        found.update(buttons(part))
    for item in release.items:
        value = f"{item.id}:{item.version}"
        if item.is_gate:
            assert f"item-{item.id}" not in found  # gates use an actions block, not an accessory
            got = [(b["action_id"], b.get("style"), b["value"]) for b in found[f"item-{item.id}-actions"]]
            expected = {
                ItemState.PENDING: [("item.approve", "primary", value), ("item.reject", "danger", value)],
                ItemState.APPROVED: [("item.undo", None, value)],
                ItemState.REJECTED: [("item.approve", "primary", value), ("item.undo", None, value)],
            }[item.state]
        else:
            got = [(b["action_id"], b.get("style"), b["value"]) for b in found[f"item-{item.id}"]]
            expected = [("item.done" if item.state is ItemState.PENDING else "item.undo", None, value)]
        assert got == expected, item
    gates = [i for i in release.items if i.is_gate and i.state is ItemState.PENDING]
    assert len(gates) == 10
    assert len({i.version for i in release.items}) > 3  # values really carry each item's version


def test_frozen_release_has_no_buttons() -> None:
    release = make_release(state=ReleaseState.CANCELLED)
    assert all(not buttons(p) for p in all_phase_parts(release))
    assert all(b.type != "actions" for p in all_phase_parts(release) for b in p.blocks)


def test_eighty_item_phase_splits_into_parts() -> None:
    phase = big_phase(80)
    release = make_release(phases=(phase,))
    parts = phase_messages(release, phase, NOW)
    assert len(parts) == phase_message_count(phase, RELEASE_ROLES) >= 2
    ids: Counter[str] = Counter()
    for k, part in enumerate(parts, start=1):
        assert_message_ok(part)
        head = to_dicts(part.blocks)[0]["text"]["text"]
        assert head == f"6. A phase far too long for one message (part {k}/{len(parts)})"
        ids.update(
            b.block_id
            for b in part.blocks
            if b.block_id and b.block_id.startswith("item-") and not b.block_id.endswith("-actions")
        )
    assert ids == Counter({f"item-{5000 + n}": 1 for n in range(1, 81)})
    # Parts keep their items in order: part k ends before part k+1 starts.
    firsts = [next(b.block_id for b in p.blocks if b.block_id) for p in parts]
    assert firsts == sorted(firsts, key=lambda s: int(s.split("-")[1]))


def test_part_layout_does_not_depend_on_state() -> None:
    phase = big_phase(80, title_len=150)
    before = phase_message_count(phase, RELEASE_ROLES)
    worst = replace(
        phase,
        items=tuple(
            replace(
                i,
                state=ItemState.REJECTED,
                decided_by="U" + "9" * 10,
                decided_at=NOW,
                reason="<&>" * 700,
                version=99999,
            )
            for i in phase.items
        ),
    )
    release = make_release(phases=(worst,))
    parts = phase_messages(release, worst, CUTOVER + timedelta(days=365))
    assert len(parts) == before == phase_message_count(worst, RELEASE_ROLES)
    for part in parts:
        assert_message_ok(part)


def test_empty_phase_still_renders() -> None:
    phase = PhaseView(key="empty", title="Nothing here", position=9, items=())
    (part,) = phase_messages(make_release(phases=(phase,)), phase, NOW)
    assert_message_ok(part)
    assert "_No items in this phase._" in texts(part.blocks)


def test_no_raw_markup_from_user_text_anywhere() -> None:
    release = make_release()
    gate = next(i for i in release.items if i.state is ItemState.REJECTED)
    outputs = [
        summary_message(release, NOW),
        *all_phase_parts(release),
        status_message(release, NOW, command=CMD),
        roles_message(release, command=CMD),
        release_list_message([release], NOW, command=CMD),
        refusal_message("approve", gate.title + " <!everyone>", [(WBO, (U_WBO,))], command=CMD, roles=RELEASE_ROLES),
        usage_error_message("Unknown role <!channel>", "/release assign <role> <@user|@group>"),
        info_message("Done <!channel> & more"),
        help_message("/release new <name> --cutover <datetime>", command=CMD),
    ]
    dumped = as_json(*outputs)
    for raw in ("<!channel>", "<!here>", "<!everyone>", "<script>", "<wave 2>"):
        assert raw not in dumped
    views = json.dumps(
        [new_release_modal([("caf", "CAF <!channel>")], "C1").to_dict(), reject_modal(gate, release).to_dict()]
    )
    assert "<!channel>" not in views and "<script>" not in views
    for out in outputs:
        assert_message_ok(out)
        assert_dates_are_tokens(texts(out.blocks))


# --- every state in words ------------------------------------------------------------------------

# (gate?, item state, the word beside its icon)
ITEM_STATE_WORDS: list[tuple[bool, ItemState, str]] = [
    (False, ItemState.PENDING, "To do"),
    (False, ItemState.DONE, "Done"),
    (True, ItemState.PENDING, "waiting for sign-off"),
    (True, ItemState.APPROVED, "approved"),
    (True, ItemState.REJECTED, "rejected"),
]


def _one_item(gate: bool, state: ItemState) -> tuple[ReleaseView, ItemView]:
    release = make_release()
    item = next(i for i in release.items if i.is_gate is gate)
    decided = state is not ItemState.PENDING
    item = replace(item, state=state, decided_by=U_WBO.id if decided else None, decided_at=NOW if decided else None)
    phase = PhaseView(key="p", title="Phase", position=1, items=(item,))
    return replace(release, phases=(phase,)), item


def _without_icons(text: str) -> str:
    """The text as read without any emoji: what is left has to carry the state."""
    return re.sub(r":[a-z_]+:|[\u2190-\u2bff\U0001f000-\U0001faff\ufe0f]", "", text)


@pytest.mark.parametrize(
    ("gate", "state", "word"), ITEM_STATE_WORDS, ids=[f"{g}-{s.value}" for g, s, _ in ITEM_STATE_WORDS]
)
def test_every_item_state_is_in_words_not_just_an_icon(gate: bool, state: ItemState, word: str) -> None:
    release, item = _one_item(gate, state)
    (part,) = phase_messages(release, release.phases[0], NOW)
    shown = [next(b["text"]["text"] for b in to_dicts(part.blocks) if b.get("block_id") == f"item-{item.id}")]
    if gate:  # the summary and the status list sign-offs, one line each
        shown.append(
            next(line for line in texts(summary_message(release, NOW).blocks).splitlines() if item.title in line)
        )
        status = texts(status_message(release, NOW, command=CMD).blocks)
        shown.append(next(line for line in status.splitlines() if item.title in line))
    for text in shown:
        assert word.lower() in _without_icons(text).lower(), text


@pytest.mark.parametrize("state", list(ReleaseState))
def test_every_release_state_is_in_words(state: ReleaseState) -> None:
    word = state.value.replace("_", " ")
    release = make_release(state=state)
    for out in (
        summary_message(release, NOW),
        status_message(release, NOW, command=CMD),
        release_list_message([release], NOW, command=CMD),
    ):
        assert word in _without_icons(texts(out.blocks)).lower()


@pytest.mark.parametrize("state", list(DeliveryState))
def test_every_delivery_state_is_in_words(state: DeliveryState) -> None:
    word = {DeliveryState.PENDING: "scheduled", DeliveryState.SENDING: "scheduled"}.get(state, state.value)
    delivery = DeliveryView(1, "C0BIZ0001", state, CUTOVER, error="is_archived")
    ann = AnnouncementView(
        1, "ann.initial", AnnouncementKind.TEMPLATE, ("business",), "p", CUTOVER, None, None, (delivery,)
    )
    channels = [StakeholderChannel("business", "C0BIZ0001")]
    body = texts(schedule_message(make_release(), [ann], channels, NOW, command=CMD).blocks)
    line = next(line for line in body.splitlines() if "<#C0BIZ0001> —" in line)
    assert word in _without_icons(line), line


@pytest.mark.parametrize("state", list(SurveyState))
def test_every_survey_state_is_in_words(state: SurveyState) -> None:
    survey = SurveyView(7, 3, state, True, NOW, NOW + timedelta(days=7), 3, 8)
    body = texts(retro_status_message(make_release(), survey, command=CMD).blocks)
    assert "*State:* " in body
    assert state.value in _without_icons(body).lower()


# --- status, roles, list ---------------------------------------------------------------------


def test_status_message_content() -> None:
    release = make_release()
    msg = status_message(release, NOW, command=CMD)
    assert_message_ok(msg)
    body = texts(msg.blocks)
    assert "*State:* 🟢 Ready" in body and "*Channel:* <#C0REL3>" in body
    assert "*Cutover window:* <!date^" in body and "(4h)" in body
    assert "*Progress* — 13/60 items complete (21%)" in body and "2. Conduct business testing — 3/14" in body
    assert "*Sign-offs* — 3 approved · 10 pending · 1 rejected" in body
    assert (f"⛔ *Sign-off 12 for communicate* — rejected by <@{U_WBO.id}> · <!date^") in body
    assert ": “Rollback plan missing &lt;!channel&gt; &amp; &lt;script&gt;alert(1)&lt;/script&gt;”" in body
    assert body.count(f"— approved by <@{U_WBO.id}> · <!date^") == 3
    assert (
        "⏳ *Sign-off 8 for test* — waiting for sign-off: Workload Business Owner, User Acceptance Tester · due"
    ) in body
    # Rejections come first: they block the release.
    assert body.index("⛔ ") < body.index("⏳ ") < body.index("✅ ")

    assert "*Overdue* — 12 items" in body
    overdue_lines = [line for line in body.splitlines() if line.startswith("• ")]
    assert len(overdue_lines) == 10
    assert "_+2 more_" in body
    assert overdue_lines[0].startswith("• *Task 11 of communicate* — due <!date^")  # the oldest first

    assert f"*Project Manager*: <@{U_PM.id}>" in body
    assert f"*Workload Business Owner*: <@{U_WBO.id}>, <!subteam^{G_BIZ.id}>" in body
    assert f"*Migration Architect*: <!subteam^{G_MIG.id}>" in body
    assert f"*User Acceptance Tester*: <@{U_UAT1.id}>, <@{U_UAT2.id}>" in body
    for role in (
        "Organizational Change Manager",
        "Workload Architect",
        "Migration Engineer",
        "Cloud Operations Manager",
        "Project Sponsor",
    ):
        assert f"*{role}*: _unassigned_" in body
    assert f"*Security Officer*: <@{U_SEC.id}>" in body  # held though no item names it
    assert "Licensing Specialist" not in body
    assert_dates_are_tokens(body)


def test_status_without_overdue_items() -> None:
    body = texts(status_message(make_release(), CUTOVER - timedelta(days=60), command=CMD).blocks)
    assert "*Overdue* — nothing overdue" in body and "• " not in body


def test_status_of_a_huge_release_fits() -> None:
    phases = tuple(replace(big_phase(100, 200), key=f"p{k}", position=k) for k in range(1, 8))
    msg = status_message(make_release(phases=phases), CUTOVER + timedelta(days=30), command=CMD)
    assert_message_ok(msg)
    body = texts(msg.blocks)
    assert "*Overdue* — 700 items" in body and "_+690 more_" in body
    assert re.search(r"_\+\d+ more sign-offs: see the checklist thread_", body)


# --- a release created after some items were due -----------------------------------------------

CREATED = CUTOVER - timedelta(days=10)
# Created ten days before its window with every item open: the eight communication items the template
# wants 14 to 10 days ahead were due already; a minute later nothing has slipped.
FRESH = make_release(
    created_at=CREATED,
    phases=tuple(
        replace(p, items=tuple(replace(i, state=ItemState.PENDING, decided_by=None, decided_at=None) for i in p.items))
        for p in make_release().phases
    ),
)
A_MINUTE_IN = CREATED + timedelta(minutes=1)
LATER = NOW  # eight days on: the other four communication items and all fourteen test items slipped


def _summary(now: datetime) -> str:
    return texts(summary_message(FRESH, now).blocks)


def _phase(now: datetime) -> str:
    (part,) = phase_messages(FRESH, FRESH.phases[0], now)
    return texts(part.blocks)


def _status(now: datetime) -> str:
    return texts(status_message(FRESH, now, command=CMD).blocks)


def _listing(now: datetime) -> str:
    return texts(release_list_message([FRESH], now, command=CMD).blocks)


# (what, when, what the person sees, what they must not see)
LATE_START: list[tuple[Any, datetime, list[str], list[str]]] = [
    (_summary, A_MINUTE_IN, ["*Overdue:* none · 8 open items due before this release existed"], [":warning:"]),
    (
        _phase,
        A_MINUTE_IN,
        ["*REL-3* · 0/12 done · sign-offs: 0/3 approved, 3 pending · 8 due before this release existed"],
        [":warning:"],
    ),
    (_phase, A_MINUTE_IN, ["Due <!date^", "· due before this release existed"], ["*overdue*"]),
    (
        _status,
        A_MINUTE_IN,
        [
            "*Overdue* — nothing overdue",
            "*Due before this release existed* — 8 open items",
            "· due before this release existed",
        ],
        [":warning:"],
    ),
    (_listing, A_MINUTE_IN, ["· 8 due before this release existed"], [":warning:"]),
    (_summary, LATER, ["*Overdue:* :warning: 18 items overdue · 8 open items due before this release existed"], []),
    (_phase, LATER, [":warning: 4 overdue · 8 due before this release existed"], []),
    (_status, LATER, ["*Overdue* — 18 items", "*Due before this release existed* — 8 open items"], []),
    (_listing, LATER, [":warning: 18 overdue · 8 due before this release existed"], []),
]


@pytest.mark.parametrize(
    ("view", "now", "shown", "absent"),
    LATE_START,
    ids=[f"{row[0].__name__[1:]}-{'later' if row[1] == LATER else 'new'}-{n}" for n, row in enumerate(LATE_START)],
)
def test_items_due_before_the_release_existed_are_no_alarm(
    view: Any, now: datetime, shown: list[str], absent: list[str]
) -> None:
    body = view(now)
    for fragment in shown:
        assert fragment in body
    for fragment in absent:
        assert fragment not in body


def test_late_start_items_stay_listed_apart_in_status() -> None:
    body = _status(LATER)
    early = body[body.index("*Due before this release existed*") :]
    assert early.count("• *Task") + early.count("• *Sign-off") == 8
    assert "Task 9 of communicate" not in early  # due after creation: it is overdue, not a late start


def test_roles_message_counts_duties() -> None:
    msg = roles_message(make_release(), command=CMD)
    assert_message_ok(msg)
    body = texts(msg.blocks)
    assert to_dicts(msg.blocks)[0]["text"]["text"] == "Roles · REL-3 · Payroll &amp; HR &lt;wave 2&gt;"
    assert f"*Project Manager* (`project-manager`) — 36 items · signs off 2 gates\n      <@{U_PM.id}>" in body
    assert (
        "*Workload Business Owner* (`workload-business-owner`) — 14 items · signs off 10 gates\n"
        f"      <@{U_WBO.id}>, <!subteam^{G_BIZ.id}>"
    ) in body
    assert "*Project Sponsor* (`project-sponsor`) — 0 items · signs off 2 gates\n      _unassigned_" in body
    assert "*Organizational Change Manager* (`org-change-manager`) — 12 items\n      _unassigned_" in body
    assert "*Security Officer* (`security-officer`) — 0 items" in body
    assert "5 roles unassigned" in msg.text
    # Canonical role order, not insertion order.
    assert body.index("Project Manager") < body.index("Organizational Change") < body.index("Security Officer")


def test_release_list() -> None:
    empty = release_list_message([], NOW, command=CMD)
    assert_message_ok(empty)
    assert "No active releases" in texts(empty.blocks) and empty.text == "No active releases"

    release = make_release()
    one = texts(release_list_message([release], NOW, command=CMD).blocks)
    assert "*REL-3* · Payroll &amp; HR &lt;wave 2&gt; · 🟢 Ready · <!date^" in one
    assert "<#C0REL3> · 13/60 (21%) · :warning: 12 overdue" in one

    many = [make_release(key=f"REL-{n}", name=f"Wave {n}", phases=()) for n in range(1, 46)]
    msg = release_list_message(many, NOW, command=CMD)
    assert_message_ok(msg)
    body = texts(msg.blocks)
    assert "*REL-40* · Wave 40" in body and "*REL-41*" not in body
    assert "_+5 more releases_" in body


# --- help, errors, refusals ------------------------------------------------------------------


def test_usage_error_and_help() -> None:
    msg = usage_error_message("`wb&lt;x` is not a role", "Usage: `/release assign <role> <@user|@group>… [REL-n]`")
    assert_message_ok(msg)
    first, second = to_dicts(msg.blocks)
    assert first["text"]["text"] == ":warning: *`wb&lt;x` is not a role*"  # already escaped: not twice
    assert second["text"]["text"] == (
        "*Usage*\n```Usage: /release assign &lt;role&gt; &lt;@user|@group&gt;… [REL-n]```"
    )

    overview = "\n".join(f"`/release verb{n} <arg>`  does thing {n} " + "z" * 100 for n in range(60))
    help_msg = help_message(overview, command=CMD)
    assert_message_ok(help_msg)
    assert len(help_msg.blocks) > 2  # long help is split, not refused
    assert "`/release verb59 &lt;arg&gt;`" in texts(help_msg.blocks)

    when = slack_date(CUTOVER)
    info = info_message(f"<@U1> now holds *WBO* in <#C0REL3> from {when} <!channel> <https://evil|x> & co")
    assert texts(info.blocks) == (
        f"<@U1> now holds *WBO* in <#C0REL3> from {when} &lt;!channel&gt; &lt;https://evil|x&gt; &amp; co"
    )
    assert texts(info_message("<@U1> & co", plain=True).blocks) == "&lt;@U1&gt; &amp; co"


def test_refusal_names_roles_and_holders() -> None:
    msg = refusal_message(
        "approve", "Go/no-go <decision>", [(WBO, (U_WBO, G_BIZ)), (SPONSOR, ())], command=CMD, roles=RELEASE_ROLES
    )
    assert_message_ok(msg)
    body = texts(msg.blocks)
    assert "You can't *approve* “Go/no-go &lt;decision&gt;”. Nothing was changed." in body
    assert f"• *Workload Business Owner*: <@{U_WBO.id}>, <!subteam^{G_BIZ.id}>" in body
    assert (
        "• *Project Sponsor*: nobody yet — ask the Project Manager to `/release assign project-sponsor @someone`"
    ) in body
    assert "No role may" in texts(refusal_message("undo", "x", [], command=CMD, roles=RELEASE_ROLES).blocks)


# --- modals ----------------------------------------------------------------------------------


def inputs(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


def test_new_release_modal() -> None:
    view = new_release_modal([("caf-release", "CAF migration release"), ("lite", "Small & quick")], "C0REL3").to_dict()
    assert view["type"] == "modal" and view["callback_id"] == "release.new"
    assert view["private_metadata"] == "C0REL3"
    assert view["title"]["text"] == "New release" and view["submit"]["text"] == "Create"
    assert all(len(view[k]["text"]) <= 24 for k in ("title", "submit", "close"))
    fields = inputs(view)
    assert list(fields) == ["name", "workload", "cutover", "duration", "template", "rehearsal"]
    modes = fields["rehearsal"]["element"]
    assert modes["initial_option"]["value"] == "0"  # the real release unless someone picks a rehearsal
    assert [o["value"] for o in modes["options"]] == ["0", "60", "3600", "7200"]
    assert {k: b["element"]["action_id"] for k, b in fields.items()} == {k: k for k in fields}
    assert fields["name"]["element"]["type"] == "plain_text_input"
    assert fields["name"]["element"]["max_length"] == RELEASE_NAME_MAX and not fields["name"].get("optional")
    assert fields["workload"]["optional"] is True and fields["workload"]["element"]["max_length"] == WORKLOAD_MAX
    assert fields["cutover"]["element"]["type"] == "datetimepicker"
    duration = fields["duration"]["element"]
    # The window the chosen template was written for, unless someone picks a length.
    assert [o["value"] for o in duration["options"]] == ["template", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "2d"]
    assert duration["initial_option"]["value"] == "template"
    template = fields["template"]["element"]
    assert [o["value"] for o in template["options"]] == ["caf-release", "lite"]
    assert template["initial_option"]["value"] == "caf-release"
    assert template["options"][1]["text"]["text"] == "Small &amp; quick"


def test_new_release_modal_needs_a_template() -> None:
    with pytest.raises(ValueError):
        new_release_modal([], "C1")


def test_reject_modal() -> None:
    release = make_release()
    gate = next(i for i in release.items if i.is_gate and i.state is ItemState.PENDING)
    gate = replace(gate, title="Go/no-go <!channel>", version=7)
    view = reject_modal(gate, release).to_dict()
    assert view["callback_id"] == "item.reject"
    assert view["private_metadata"] == f"{gate.id}:7"
    assert view["title"]["text"] == "Reject sign-off" and view["submit"]["text"] == "Reject"
    assert len(view["title"]["text"]) <= 24
    intro = view["blocks"][0]["text"]["text"]
    assert "Reject *Go/no-go &lt;!channel&gt;* in *REL-3 · Payroll &amp; HR &lt;wave 2&gt;*?" in intro
    assert "Sign-off: Workload Business Owner, User Acceptance Tester" in intro
    reason = inputs(view)["reason"]
    assert reason["element"]["action_id"] == "reason"
    assert reason["element"]["multiline"] is True and reason["element"]["max_length"] == REJECT_REASON_MAX
    assert reason["element"]["min_length"] == REJECT_REASON_MIN
    assert not reason.get("optional") and reason["element"]["placeholder"]["text"]


# --- lifecycle in the summary and status -------------------------------------------------------


def _release_actions(msg: Rendered) -> dict[str, Any] | None:
    found = [b for b in to_dicts(msg.blocks) if b.get("block_id") == "release-actions"]
    assert len(found) <= 1
    return found[0] if found else None


@pytest.mark.parametrize("state", [ReleaseState.PLANNING, ReleaseState.READY])
def test_summary_offers_start_before_the_cutover(state: ReleaseState) -> None:
    msg = summary_message(make_release(state=state), NOW)
    assert_message_ok(msg)
    assert validate_message_blocks(to_dicts(msg.blocks)) == []
    block = _release_actions(msg)
    assert block is not None and block["type"] == "actions"
    (start,) = block["elements"]
    assert (start["action_id"], start["value"], start["style"]) == ("release.start", "3", "primary")
    assert start["text"]["text"] == "Start cutover"
    assert "go/no-go sign-offs are checked first" in start["confirm"]["text"]["text"]
    # Right under the overview, where the release manager looks first.
    assert to_dicts(msg.blocks).index(block) == 2


def test_summary_offers_complete_and_rollback_while_cutting_over() -> None:
    msg = summary_message(make_release(state=ReleaseState.CUTTING_OVER, actual_start=CUTOVER), NOW)
    assert validate_message_blocks(to_dicts(msg.blocks)) == []
    block = _release_actions(msg)
    assert block is not None
    complete, rollback = block["elements"]
    assert (complete["action_id"], complete["value"], complete["style"]) == ("release.complete", "3", "primary")
    assert (rollback["action_id"], rollback["value"], rollback["style"]) == ("release.rollback", "3", "danger")
    assert complete["text"]["text"] == "Complete" and rollback["text"]["text"] == "Roll back"
    assert "confirm" in complete
    assert "asked for a reason next" in rollback["confirm"]["text"]["text"]
    assert rollback["confirm"]["style"] == "danger"
    assert f"*Cutover started:* {slack_date(CUTOVER)}" in texts(msg.blocks)


@pytest.mark.parametrize(
    "state", [ReleaseState.COMPLETED, ReleaseState.CLOSED, ReleaseState.ROLLED_BACK, ReleaseState.CANCELLED]
)
def test_summary_has_no_lifecycle_buttons_once_the_cutover_is_over(state: ReleaseState) -> None:
    msg = summary_message(make_release(state=state), NOW)
    assert _release_actions(msg) is None
    assert not any(
        e.get("action_id", "").startswith("release.") for b in to_dicts(msg.blocks) for e in b.get("elements", [])
    )


def test_summary_and_status_show_lifecycle_facts() -> None:
    end = CUTOVER + timedelta(hours=5)
    release = make_release(
        state=ReleaseState.COMPLETED,
        actual_start=CUTOVER,
        actual_end=end,
        override_reason="CAB <!channel> ok & signed",
        override_by=U_PM.id,
        retro="survey open: 3/8 answered",
    )
    for msg in (summary_message(release, NOW), status_message(release, NOW, command=CMD)):
        assert_message_ok(msg)
        body = texts(msg.blocks)
        assert f"*Cutover started:* {slack_date(CUTOVER)}" in body
        assert f"*Completed:* {slack_date(end)}" in body
        assert f":warning: *Go/no-go overridden* by <@{U_PM.id}>: “CAB &lt;!channel&gt; ok &amp; signed”" in body
        assert "*Retrospective:* survey open: 3/8 answered" in body
        assert "<!channel>" not in json.dumps(to_dicts(msg.blocks))
        assert_dates_are_tokens(body)

    rolled = make_release(
        state=ReleaseState.ROLLED_BACK, actual_start=CUTOVER, actual_end=end, rollback_reason="Payments <fail>"
    )
    for msg in (summary_message(rolled, NOW), status_message(rolled, NOW, command=CMD)):
        body = texts(msg.blocks)
        assert f"*Rolled back:* {slack_date(end)}" in body
        assert "*Rollback reason:* “Payments &lt;fail&gt;”" in body
        assert "overridden" not in body and "Retrospective:" not in body


def test_summary_without_lifecycle_facts_is_unchanged() -> None:
    body = texts(summary_message(make_release(), NOW).blocks)
    for absent in ("Cutover started", "Completed:", "overridden", "Rollback reason", "Retrospective:"):
        assert absent not in body


def test_summary_with_buttons_still_fits_for_a_huge_template() -> None:
    phases = tuple(
        replace(big_phase(count=100, title_len=200), key=f"p{k}", position=k, title=f"Phase {k} " + "t" * 140)
        for k in range(1, 13)
    )
    release = make_release(
        phases=phases,
        state=ReleaseState.CUTTING_OVER,
        actual_start=CUTOVER,
        override_reason="o" * 500,
        override_by=U_PM.id,
        retro="r" * 500,
    )
    msg = summary_message(release, NOW)
    assert_message_ok(msg)
    assert _release_actions(msg) is not None
