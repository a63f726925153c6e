"""Answers to ``/release status``, ``/release roles`` and ``/release list`` (all ephemeral).

Each fits one message (≤ 50 blocks, within the text budget) for any template: long lists end
in "+N more" instead of growing the message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import Block, DividerBlock

from domain.approvals import approvals_text, deputy_is_valid
from domain.model import ItemState, ItemView, ReleaseView, Subject
from domain.policy import Lateness, lateness
from domain.template import Template

from .checklist import (
    DUE_BEFORE_CREATION,
    decision_text,
    late_counts,
    late_marker,
    lifecycle_lines,
    phase_progress_lines,
    release_title,
)
from .common import (
    MAX_BLOCKS,
    TEXT_BUDGET,
    Rendered,
    clip,
    command_text,
    context,
    escape,
    header,
    item_state_words,
    mentions,
    one_line,
    ordered_roles,
    pack_lines,
    percent,
    plural,
    progress,
    rendered,
    role_names,
    section,
    state_label,
    text_length,
    user_mention,
)
from .dates import slack_date, slack_window

OVERDUE_SHOWN = 10
LIST_SHOWN = 40
HOLDERS_SHOWN = 10
TITLE_MAX = 120
STATUS_REASON_MAX = 500
UNASSIGNED = "_unassigned_"


def holders_text(subjects: Sequence[Subject], shown: int = HOLDERS_SHOWN) -> str:
    """Mentions of the first ``shown`` holders (users and groups), or "_unassigned_"."""
    if not subjects:
        return UNASSIGNED
    text = mentions(subjects[:shown])
    if len(subjects) > shown:
        text += f" +{len(subjects) - shown} more"
    return text


def used_roles(release: ReleaseView) -> list[str]:
    """Roles the release's items name (responsible or sign-off) plus any role someone holds."""
    keys: set[str] = {a.role_key for a in release.assignments}
    for item in release.items:
        keys.update(item.responsible_roles)
        keys.update(item.approver_roles)
    return ordered_roles(keys, release.roles)


def _title(item: ItemView) -> str:
    return f"*{clip(one_line(item.title), TITLE_MAX)}*"


@dataclass(frozen=True)
class Nudged:
    """How often one approver was reminded of a waiting sign-off, and since when."""

    user_id: str
    count: int
    since: datetime


def nudged_text(nudged: Sequence[Nudged]) -> str:
    """``nudged <@U1> 2× since <date>, <@U2> 1× since <date>``."""
    return "nudged " + ", ".join(f"{user_mention(n.user_id)} {n.count}× since {slack_date(n.since)}" for n in nudged)


def _gate_line(release: ReleaseView, item: ItemView, now: datetime, nudged: Sequence[Nudged] = ()) -> str:
    if item.state is ItemState.PENDING:
        signers = role_names(item.approver_roles, release.roles)
        line = f"⏳ {_title(item)} — {item_state_words(item)}: {signers} · due {slack_date(item.due_at)}"
        if item.approvals_needed > 1:
            line += f" · {approvals_text(item)}"
        late = lateness(item, release, now)
        if late is not None:
            line += f" · {late_marker(late)}"
        if nudged:
            line += f" · {nudged_text(nudged)}"
        return line
    icon = "⛔" if item.state is ItemState.REJECTED else "✅"
    # Lower-case only the leading verb: the mention and date token after it are case-sensitive.
    verb, _, rest = (decision_text(item) or str(item.state)).partition(" ")
    line = f"{icon} {_title(item)} — {verb.lower()} {rest}".rstrip()
    if item.state is ItemState.REJECTED and item.reason and item.reason.strip():
        line += f": “{clip(one_line(item.reason), STATUS_REASON_MAX)}”"
    return line


def _gate_lines(release: ReleaseView, now: datetime, nudged: Mapping[int, Sequence[Nudged]]) -> tuple[str, list[str]]:
    gates = [i for i in release.items if i.is_gate]
    by_state = {s: [g for g in gates if g.state is s] for s in ItemState}
    approved, pending, rejected = (
        by_state[ItemState.APPROVED],
        by_state[ItemState.PENDING],
        by_state[ItemState.REJECTED],
    )
    heading = f"*Sign-offs* — {len(approved)} approved · {len(pending)} pending · {len(rejected)} rejected"
    if not gates:
        heading = "*Sign-offs* — none in this release's template"
    # Rejections first: they block the release and need someone's attention.
    ordered = rejected + pending + approved
    return heading, [_gate_line(release, g, now, nudged.get(g.id, ())) for g in ordered]


def _role_lines(release: ReleaseView) -> list[str]:
    return [
        f"*{role_names([key], release.roles)}*: {holders_text(release.holders(key))}" for key in used_roles(release)
    ]


def _late(release: ReleaseView, now: datetime, kind: Lateness) -> list[ItemView]:
    return sorted((i for i in release.items if lateness(i, release, now) is kind), key=lambda i: (i.due_at, i.id))


def template_line(release: ReleaseView, current_version: str | None = None) -> str:
    """Which template the release follows; a newer version of it changes new releases only."""
    version = f" v{release.template_version}" if release.template_version else ""
    line = f"*Template:* `{release.template_key}`{version}"
    if current_version and release.template_version and current_version != release.template_version:
        line += f"; a newer version v{current_version} exists: it applies to new releases only"
    return line


def status_message(
    release: ReleaseView,
    now: datetime,
    *,
    command: str,
    nudged: Mapping[int, Sequence[Nudged]] | None = None,
    current_template_version: str | None = None,
) -> Rendered:
    """`nudged` maps a gate's item id to its approvers' reminders (shown on the waiting sign-offs);
    ``current_template_version``, the template's version today, says when the release's is older."""
    items = release.items
    done, total = progress(items)
    overdue = _late(release, now, Lateness.OVERDUE)
    early = _late(release, now, Lateness.DUE_BEFORE_CREATION)
    workload = clip(one_line(release.workload), 200) if release.workload.strip() else "—"

    top: list[Block] = [
        header(release_title(release)),
        section(
            "\n".join(
                [
                    f"*State:* {state_label(release.state)}",
                    f"*Workload:* {workload}",
                    f"*Cutover window:* {slack_window(release.cutover_start, release.cutover_end)}",
                    *lifecycle_lines(release),
                    template_line(release, current_template_version),
                    f"*Channel:* <#{release.channel_id}>",
                ]
            )
        ),
    ]
    foot = context(f"As of {slack_date(now)} · the live checklist is in <#{release.channel_id}>")
    used = text_length([*top, foot])
    budget_left = TEXT_BUDGET - used

    progress_blocks = [
        section(t)
        for t in pack_lines(
            phase_progress_lines(release),
            heading=f"*Progress* — {done}/{total} items complete ({percent(done, total)}%)",
            max_sections=3,
            budget=budget_left // 6,
        )
    ]
    overdue_heading = f"*Overdue* — {plural(len(overdue), 'item')}" if overdue else "*Overdue* — nothing overdue"
    overdue_blocks = [
        section(t)
        for t in pack_lines(
            [f"• {_title(i)} — due {slack_date(i.due_at)}" for i in overdue],
            heading=overdue_heading,
            max_sections=2,
            budget=budget_left // 4,
            max_lines=OVERDUE_SHOWN,
        )
    ]
    if early:
        # A late start, listed apart from what slipped: still open, but nobody let it lapse.
        overdue_blocks += [
            section(t)
            for t in pack_lines(
                [f"• {_title(i)} — due {slack_date(i.due_at)}" for i in early],
                heading=f"*Due before this release existed* — {plural(len(early), 'open item')}",
                max_sections=1,
                budget=budget_left // 8,
                max_lines=OVERDUE_SHOWN,
            )
        ]
    role_blocks = [
        section(t)
        for t in pack_lines(
            _role_lines(release),
            heading="*Roles*",
            max_sections=4,
            budget=budget_left // 4,
            more=lambda n: f"_+{plural(n, 'more role')}: see `{command_text(command)} roles`_",
        )
    ]
    used += text_length([*progress_blocks, *overdue_blocks, *role_blocks])

    dividers = 3
    fixed = len(top) + 1 + dividers + len(progress_blocks) + len(overdue_blocks) + len(role_blocks)
    gate_heading, gate_lines = _gate_lines(release, now, nudged or {})
    gate_blocks = [
        section(t)
        for t in pack_lines(
            gate_lines,
            heading=gate_heading,
            max_sections=MAX_BLOCKS - fixed,
            budget=TEXT_BUDGET - used,
            more=lambda n: f"_+{plural(n, 'more sign-off')}: see the checklist thread_",
        )
    ]

    blocks: list[Block] = [
        *top,
        *progress_blocks,
        DividerBlock(),
        *gate_blocks,
        DividerBlock(),
        *overdue_blocks,
        DividerBlock(),
        *role_blocks,
        foot,
    ]
    text = (
        f"{release_title(release)} — {state_label(release.state)}: {done}/{total} items complete, "
        f"{len(overdue)} overdue"
    )
    if early:
        text += f", {len(early)} {DUE_BEFORE_CREATION}"
    return rendered(text, blocks)


def roles_message(release: ReleaseView, *, command: str, now: datetime | None = None) -> Rendered:
    lines: list[str] = []
    for key in used_roles(release):
        owns = sum(key in i.responsible_roles for i in release.items)
        signs = sum(key in i.approver_roles for i in release.items)
        duties = [plural(owns, "item")]
        if signs:
            duties.append(f"signs off {plural(signs, 'gate')}")
        lines.append(
            f"*{role_names([key], release.roles)}* (`{escape(key)}`) — {' · '.join(duties)}\n"
            f"      {holders_text(release.holders(key))}"
        )
    for d in release.deputies:
        whose = f" for {user_mention(d.for_user)}" if d.for_user else ""
        if d.until is None:
            span = "until set again"
        elif now is None or deputy_is_valid(d, now):
            span = f"until {slack_date(d.until)}"
        else:
            span = f"_expired_ {slack_date(d.until)}"
        lines.append(f"Deputy *{role_names([d.role_key], release.roles)}*: {user_mention(d.user_id)}{whose} · {span}")
    top: list[Block] = [header(f"Roles · {release_title(release)}")]
    cmd = command_text(command)
    foot = context(
        f"Change holders with `{cmd} assign &lt;role&gt; @user|@group` or `{cmd} unassign &lt;role&gt; @user|@group`"
    )
    texts = pack_lines(
        lines,
        heading=None if lines else "_No roles: this release's template names none._",
        max_sections=MAX_BLOCKS - len(top) - 1,
        budget=TEXT_BUDGET - text_length([*top, foot]),
        more=lambda n: f"_+{plural(n, 'more role')}_",
    )
    unassigned = sum(not release.holders(k) for k in used_roles(release))
    text = f"Roles for {release_title(release)}: {plural(unassigned, 'role')} unassigned"
    return rendered(text, [*top, *(section(t) for t in texts), foot])


def _list_line(release: ReleaseView, now: datetime) -> str:
    done, total = progress(release.items)
    line = (
        f"*{escape(release.key)}* · {clip(one_line(release.name), TITLE_MAX)} · "
        f"{state_label(release.state)} · {slack_window(release.cutover_start, release.cutover_end)} · "
        f"<#{release.channel_id}> · {done}/{total} ({percent(done, total)}%)"
    )
    overdue, early = late_counts(release, release.items, now)
    if overdue:
        line += f" · :warning: {overdue} overdue"
    if early:
        line += f" · {early} {DUE_BEFORE_CREATION}"
    return line


def release_list_message(releases: Sequence[ReleaseView], now: datetime, *, command: str) -> Rendered:
    """Releases in the order given (the caller picks the order and which ones are "active")."""
    top: list[Block] = [header("Active releases")]
    if not releases:
        return rendered("No active releases", [*top, section("No active releases.")])
    foot = context(f"As of {slack_date(now)} · details: `{command_text(command)} status REL-n`")
    texts = pack_lines(
        [_list_line(r, now) for r in releases],
        max_sections=MAX_BLOCKS - len(top) - 1,
        budget=TEXT_BUDGET - text_length([*top, foot]),
        max_lines=LIST_SHOWN,
        more=lambda n: f"_+{plural(n, 'more release')}_",
    )
    text = f"{plural(len(releases), 'active release')}: " + ", ".join(escape(r.key) for r in releases[:20])
    return rendered(text, [*top, *(section(t) for t in texts), foot])


def templates_message(templates: Sequence[Template], default: str, *, command: str) -> Rendered:
    """`templates`: each template's key, version and one line; the default marked."""
    top: list[Block] = [header("Checklist templates")]
    lines = []
    for t in templates:
        mark = " _(default)_" if t.key == default else ""
        lines.append(f"• `{t.key}` v{escape(t.version)}{mark}: {escape(clip(one_line(t.summary), 200))}")
    foot = context(
        f"Use one: `{command_text(command)} new <name> --cutover <datetime> --template <key>`, or pick it in the "
        f"form `{command_text(command)} new` opens."
    )
    texts = pack_lines(
        lines,
        max_sections=MAX_BLOCKS - len(top) - 1,
        budget=TEXT_BUDGET - text_length([*top, foot]),
        max_lines=LIST_SHOWN,
        more=lambda n: f"_+{plural(n, 'more template')}_",
    )
    text = f"{plural(len(templates), 'template')}: " + ", ".join(t.key for t in templates[:20])
    return rendered(text, [*top, *(section(t) for t in texts), foot])
