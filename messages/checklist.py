"""The live checklist: one summary message in the release channel plus, as thread replies, one
message per phase (several "parts" when a phase needs more than one message).

How a phase is split depends only on its items (titles, roles, gate or not), never on their
state or on ``now``: the app can post ``phase_message_count(phase)`` replies once and keep
updating them in place as decisions arrive. Each part is sized for the worst state its items
can reach (a rejection with a reason, an overdue marker, every button), so it stays within
50 blocks and the total text budget whatever happens.

Interactive elements (block ids and action ids are stable; ``value`` is ``"<item id>:<version>"``):

- non-gate item: section ``item-<id>`` with an accessory button ``item.done`` (pending) or
  ``item.undo`` (done);
- gate item: section ``item-<id>`` followed by actions block ``item-<id>-actions`` holding
  ``item.approve`` + ``item.reject`` (pending), ``item.undo`` (approved), or
  ``item.approve`` + ``item.undo`` (rejected).

Closed and cancelled releases render without buttons: nothing there can change any more.

The summary also carries the lifecycle buttons while the cutover can still move (actions block
``release-actions``, ``value`` = ``str(release.id)``): ``release.start`` in planning and ready;
``release.complete`` and ``release.rollback`` while cutting over.

Which decisions an item offers (``domain.policy.item_actions``) and which cutover steps a release
offers (``domain.lifecycle.cutover_actions``) are rules of the domain; this module only draws them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from functools import lru_cache

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    PlainTextObject,
)

from domain.approvals import approvals_text
from domain.lifecycle import Action, cutover_actions
from domain.model import (
    CURRENT_STATES,
    Approval,
    DecisionKind,
    ItemState,
    ItemView,
    PhaseView,
    ReleaseState,
    ReleaseView,
)
from domain.policy import Lateness, item_actions, lateness
from domain.rehearsal import describe
from domain.roles import Role

from . import ids
from .common import (
    GATE_ICONS,
    HEADER_TEXT_MAX,
    ITEM_ICONS,
    MAX_BLOCKS,
    TEXT_BUDGET,
    Rendered,
    clip,
    context,
    escape,
    header,
    item_state_words,
    one_line,
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

ITEM_TITLE_MAX = 150
REASON_SHOWN = 200  # the checklist shows the start of a reason; /release status shows more
LIFECYCLE_REASON_MAX = 300
PAST_ATTEMPTS_SHOWN = 3
RETRO_LINE_MAX = 200
SUMMARY_TITLE_MAX = 100
# Room for a part's header and progress context, whatever their final wording.
_PART_OVERHEAD_BLOCKS = 2
_PART_OVERHEAD_CHARS = HEADER_TEXT_MAX + 350
# Long enough for any Slack user id, so the worst case really is the worst case.
_WORST_USER = "U" + "X" * 20

_DECIDED_VERBS: dict[ItemState, str] = {
    ItemState.DONE: "Done",
    ItemState.APPROVED: "Approved",
    ItemState.REJECTED: "Rejected",
}


def _value(item: ItemView) -> str:
    return f"{item.id}:{item.version}"


def _button(
    label: str, action_id: str, item: ItemView, style: str | None = None, confirm: ConfirmObject | None = None
) -> ButtonElement:
    return ButtonElement(
        text=PlainTextObject(text=label, emoji=True),
        action_id=action_id,
        value=_value(item),
        style=style,
        confirm=confirm,
    )


def _confirm(title: str, text: str, yes: str, no: str, style: str | None = None) -> ConfirmObject:
    return ConfirmObject(
        title=PlainTextObject(text=title),
        text=PlainTextObject(text=text),
        confirm=PlainTextObject(text=yes),
        deny=PlainTextObject(text=no),
        style=style,
    )


# Undoing a sign-off reopens a gate others may rely on: make it a deliberate act. The text is
# fixed (no item title) so it costs the same few characters in every gate's actions block.
_UNDO_CONFIRM = _confirm(
    "Undo this sign-off?", "The gate goes back to waiting for sign-off, and the undo is recorded.", "Undo", "Keep"
)
# A quorum gate still waiting: the undo takes an approval back, and the gate waits on.
_WITHDRAW_CONFIRM = _confirm(
    "Undo an approval?",
    "Your approval no longer counts and the gate keeps waiting (a manager's undo takes back every approval). "
    "The undo is recorded.",
    "Undo",
    "Keep",
)


# How each decision domain.policy.item_actions offers is drawn: (label, action id, style).
_ITEM_BUTTONS: dict[DecisionKind, tuple[str, str, str | None]] = {
    DecisionKind.DONE: ("Done", ids.ITEM_DONE, None),
    DecisionKind.APPROVE: ("Approve", ids.ITEM_APPROVE, "primary"),
    DecisionKind.REJECT: ("Reject", ids.ITEM_REJECT, "danger"),
    DecisionKind.UNDO: ("Undo", ids.ITEM_UNDO, None),
}


def _item_buttons(item: ItemView) -> list[ButtonElement]:
    buttons = []
    for kind in item_actions(item):
        label, action_id, style = _ITEM_BUTTONS[kind]
        # Only a sign-off's undo asks first: marking a task not done again costs nobody anything.
        confirm = None
        if kind is DecisionKind.UNDO and item.is_gate:
            confirm = _WITHDRAW_CONFIRM if item.state is ItemState.PENDING else _UNDO_CONFIRM
        buttons.append(_button(label, action_id, item, style=style, confirm=confirm))
    return buttons


def decision_text(item: ItemView) -> str | None:
    """``Approved by <@U…> · <date>``, or None while the item is pending."""
    verb = _DECIDED_VERBS.get(item.state)
    if verb is None:
        return None
    text = verb
    if item.decided_by:
        text += f" by {user_mention(item.decided_by)}"
        if item.decided_for:
            text += f" for {user_mention(item.decided_for)} (deputy)"
    if item.decided_at is not None:
        text += f" · {slack_date(item.decided_at)}"
    return text


def quorum_text(item: ItemView) -> str:
    """``1 of 2 approvals: <@U1>`` (a deputy's as ``<@D> for <@W> (deputy)``)."""
    text = approvals_text(item)
    if item.approvals:
        text += ": " + ", ".join(
            user_mention(a.user_id) + (f" for {user_mention(a.for_user)} (deputy)" if a.for_user else "")
            for a in item.approvals
        )
    return text


# An item that was due before the release existed is a late start, not an alarm: no warning sign.
DUE_BEFORE_CREATION = "due before this release existed"


def late_marker(late: Lateness | None) -> str:
    """What follows an item's due date: nothing, the overdue warning, or the late start."""
    if late is Lateness.OVERDUE:
        return ":warning: *overdue*"
    if late is Lateness.DUE_BEFORE_CREATION:
        return DUE_BEFORE_CREATION
    return ""


def late_counts(release: ReleaseView, items: Iterable[ItemView], now: datetime) -> tuple[int, int]:
    """(overdue, due before the release existed) among ``items``: open items only, counted apart."""
    found = [lateness(i, release, now) for i in items]
    return found.count(Lateness.OVERDUE), found.count(Lateness.DUE_BEFORE_CREATION)


def item_text(item: ItemView, late: Lateness | None, roles: Sequence[Role]) -> str:
    lines = [f"{ITEM_ICONS[item.state]} *{clip(one_line(item.title), ITEM_TITLE_MAX)}*"]
    # The short key people type in `item edit|remove` (`#7`), first so it is easy to find.
    meta: list[str] = [f"`#{item.number}`"] if item.number else []
    if item.state is ItemState.PENDING and not item.is_gate:
        meta.append("To do")  # decided items say so in their decision line; a gate in its sign-off line
    if item.responsible_roles:
        meta.append(f"Responsible: {role_names(item.responsible_roles, roles)}")
    meta.append(f"Due {slack_date(item.due_at)}")
    if late is not None:
        meta.append(late_marker(late))
    lines.append(" · ".join(meta))
    if item.is_gate:
        waiting = "Waiting for sign-off" if item.state is ItemState.PENDING else "Sign-off"
        lines.append(f"{waiting}: {role_names(item.approver_roles, roles)}")
        if item.approvals_needed > 1 and item.state is ItemState.PENDING:
            lines.append(quorum_text(item))
    decided = decision_text(item)
    if decided:
        lines.append(decided)
    if item.state is ItemState.REJECTED and item.reason and item.reason.strip():
        lines.append(f"> {clip(one_line(item.reason), REASON_SHOWN)}")
    return "\n".join(lines)


def item_blocks(
    item: ItemView, roles: Sequence[Role], *, late: Lateness | None = None, buttons: bool = True
) -> list[Block]:
    """``roles``: the release's (its template's), for the names of the roles the item names."""
    block_id = ids.item_block(item.id)
    text = item_text(item, late, roles)
    drawn = _item_buttons(item) if buttons else []
    if not item.is_gate:
        # A task offers one decision at a time, so its button fits beside the text.
        return [section(text, block_id=block_id, accessory=drawn[0] if drawn else None)]
    blocks: list[Block] = [section(text, block_id=block_id)]
    if drawn:
        blocks.append(ActionsBlock(block_id=f"{block_id}-actions", elements=drawn))
    return blocks


def _worst_cost(item: ItemView, roles: tuple[Role, ...]) -> tuple[int, int]:
    """(blocks, text chars) of the largest rendering this item can ever have."""
    # It does not depend on the item's state, so every refresh of a release can reuse it: rendering
    # the four variants of 60 items was most of a click's work.
    return _worst_cost_of(
        replace(item, state=ItemState.PENDING, version=0, decided_by=None, decided_at=None, reason=None, approvals=()),
        roles,
    )


@lru_cache(maxsize=8192)
def _worst_cost_of(item: ItemView, roles: tuple[Role, ...]) -> tuple[int, int]:
    decided = item.due_at  # a date token's length does not depend on the instant
    most = tuple(Approval(_WORST_USER, _WORST_USER) for _ in range(max(0, item.approvals_needed - 1)))
    variants = [
        replace(item, state=ItemState.PENDING, approvals=most),
        replace(item, state=ItemState.DONE, decided_by=_WORST_USER, decided_at=decided),
        replace(item, state=ItemState.APPROVED, decided_by=_WORST_USER, decided_at=decided, decided_for=_WORST_USER),
        replace(item, state=ItemState.REJECTED, decided_by=_WORST_USER, decided_at=decided, reason="&" * REASON_SHOWN),
    ]
    chars = max(text_length(item_blocks(v, roles, late=late)) for v in variants for late in Lateness)
    return (2 if item.is_gate else 1), chars


def _ordered_items(phase: PhaseView) -> list[ItemView]:
    return sorted(phase.items, key=lambda i: (i.position, i.id))


def plan_parts(phase: PhaseView, roles: tuple[Role, ...]) -> list[list[ItemView]]:
    """Items of ``phase`` packed greedily into message parts; at least one (possibly empty) part."""
    parts: list[list[ItemView]] = [[]]
    blocks, chars = _PART_OVERHEAD_BLOCKS, _PART_OVERHEAD_CHARS
    for item in _ordered_items(phase):
        cost_blocks, cost_chars = _worst_cost(item, roles)
        if parts[-1] and (blocks + cost_blocks > MAX_BLOCKS or chars + cost_chars > TEXT_BUDGET):
            parts.append([])
            blocks, chars = _PART_OVERHEAD_BLOCKS, _PART_OVERHEAD_CHARS
        parts[-1].append(item)
        blocks += cost_blocks
        chars += cost_chars
    return parts


def phase_message_count(phase: PhaseView, roles: tuple[Role, ...]) -> int:
    """How many thread replies ``phase_messages`` returns for this phase (state-independent)."""
    return len(plan_parts(phase, roles))


def _phase_header(phase: PhaseView, part: int, parts: int) -> str:
    prefix = f"{phase.position}. "
    suffix = f" (part {part}/{parts})" if parts > 1 else ""
    room = HEADER_TEXT_MAX - len(prefix) - len(suffix)
    return prefix + clip(one_line(phase.title), room) + suffix


def _phase_progress(release: ReleaseView, phase: PhaseView, now: datetime) -> str:
    done, total = progress(phase.items)
    bits = [f"*{escape(release.key)}*", f"{done}/{total} done"]
    gates = [i for i in phase.items if i.is_gate]
    if gates:
        pending = sum(i.state is ItemState.PENDING for i in gates)
        rejected = sum(i.state is ItemState.REJECTED for i in gates)
        gate_bits = f"sign-offs: {sum(i.state is ItemState.APPROVED for i in gates)}/{len(gates)} approved"
        if pending:
            gate_bits += f", {pending} pending"
        if rejected:
            gate_bits += f", {rejected} rejected"
        bits.append(gate_bits)
    overdue, early = late_counts(release, phase.items, now)
    if overdue:
        bits.append(f":warning: {overdue} overdue")
    if early:
        bits.append(f"{early} {DUE_BEFORE_CREATION}")
    return " · ".join(bits)


def emptied_part() -> Rendered:
    """A checklist message whose items all left the scope (or moved to an earlier part)."""
    return rendered("No items here any more", [section("_No items here any more: the scope changed._")])


def phase_messages(release: ReleaseView, phase: PhaseView, now: datetime) -> tuple[Rendered, ...]:
    """One Rendered per part of the phase, in order; see the module docstring for the layout."""
    parts = plan_parts(phase, release.roles)
    # The states in which policy.judge accepts a decision; elsewhere a button could only be refused.
    buttons = release.state in CURRENT_STATES
    status = _phase_progress(release, phase, now)
    out: list[Rendered] = []
    for k, items in enumerate(parts, start=1):
        blocks: list[Block] = [header(_phase_header(phase, k, len(parts))), context(status)]
        for item in items:
            blocks.extend(item_blocks(item, release.roles, late=lateness(item, release, now), buttons=buttons))
        if not items:
            blocks.append(section("_No items in this phase._"))
        done, total = progress(phase.items)
        part_note = f" (part {k}/{len(parts)})" if len(parts) > 1 else ""
        text = (
            f"{escape(release.key)} · {phase.position}. {clip(one_line(phase.title), 150)}{part_note}: "
            f"{done}/{total} done"
        )
        out.append(rendered(text, blocks))
    return tuple(out)


# --- summary -----------------------------------------------------------------------------------


def _gate_line(item: ItemView) -> str:
    line = f"{GATE_ICONS[item.state]} {clip(one_line(item.title), SUMMARY_TITLE_MAX)}"
    if item.state is ItemState.PENDING:
        line += f" — {item_state_words(item)}"
        if item.approvals_needed > 1:
            line += f" ({approvals_text(item)})"
    elif item.state is ItemState.APPROVED:
        line += " — approved" + (f" by {user_mention(item.decided_by)}" if item.decided_by else "")
        if item.decided_by and item.decided_for:
            line += f" for {user_mention(item.decided_for)} (deputy)"
    elif item.state is ItemState.REJECTED:
        line += " — *rejected*" + (f" by {user_mention(item.decided_by)}" if item.decided_by else "")
    return line


def phase_progress_lines(release: ReleaseView) -> list[str]:
    lines = []
    for phase in sorted(release.phases, key=lambda p: p.position):
        done, total = progress(phase.items)
        mark = " ✓ complete" if total and done == total else ""
        title = clip(one_line(phase.title), SUMMARY_TITLE_MAX)
        lines.append(f"{phase.position}. {title} — {done}/{total}{mark}")
    return lines


def release_title(release: ReleaseView) -> str:
    """``REL-3 · <name>``, escaped and within a header's 150 chars."""
    key = escape(release.key)
    return f"{key} · {clip(one_line(release.name), max(20, HEADER_TEXT_MAX - len(key) - 3))}"


_END_LABELS: dict[ReleaseState, str] = {
    ReleaseState.COMPLETED: "Completed",
    ReleaseState.CLOSED: "Completed",
    ReleaseState.ROLLED_BACK: "Rolled back",
}


def lifecycle_lines(release: ReleaseView) -> list[str]:
    """What the cutover has done so far: actual start and end, an override, a rollback reason and
    the retrospective's progress, and the rehearsal clock; empty for a real release still in planning."""
    lines: list[str] = []
    if release.rehearsal_factor:
        lines.append(
            f":test_tube: *Rehearsal ×{release.rehearsal_factor}* ({describe(release.rehearsal_factor)}): "
            "announcements post here only, marked REHEARSAL"
        )
    for past in release.past_attempts[-PAST_ATTEMPTS_SHOWN:]:
        by = f" by {user_mention(past.rolled_back_by)}" if past.rolled_back_by else ""
        why = f": “{clip(one_line(past.reason), LIFECYCLE_REASON_MAX)}”" if past.reason and past.reason.strip() else ""
        lines.append(f"*Attempt {past.number}:* rolled back {slack_date(past.rolled_back_at)}{by}{why}")
    if release.attempt > 1:
        lines.append(f"*Current attempt:* {release.attempt}")
    if release.actual_start is not None:
        lines.append(f"*Cutover started:* {slack_date(release.actual_start)}")
    if release.actual_end is not None:
        lines.append(f"*{_END_LABELS.get(release.state, 'Ended')}:* {slack_date(release.actual_end)}")
    if release.override_reason and release.override_reason.strip():
        by = f" by {user_mention(release.override_by)}" if release.override_by else ""
        reason = clip(one_line(release.override_reason), LIFECYCLE_REASON_MAX)
        lines.append(f":warning: *Go/no-go overridden*{by}: “{reason}”")
    if release.rollback_reason and release.rollback_reason.strip():
        lines.append(f"*Rollback reason:* “{clip(one_line(release.rollback_reason), LIFECYCLE_REASON_MAX)}”")
    if release.retro and release.retro.strip():
        lines.append(f"*Retrospective:* {clip(one_line(release.retro), RETRO_LINE_MAX)}")
    return lines


def overview_text(release: ReleaseView, now: datetime) -> str:
    overdue, early = late_counts(release, release.items, now)
    workload = clip(one_line(release.workload), 200) if release.workload.strip() else "—"
    overdue_text = f":warning: {plural(overdue, 'item')} overdue" if overdue else "none"
    if early:
        overdue_text += f" · {plural(early, 'open item')} {DUE_BEFORE_CREATION}"
    return "\n".join(
        [
            f"*State:* {state_label(release.state)}",
            f"*Workload:* {workload}",
            f"*Cutover window:* {slack_window(release.cutover_start, release.cutover_end)}",
            *lifecycle_lines(release),
            f"*Overdue:* {overdue_text}",
        ]
    )


_START_CONFIRM = _confirm(
    "Start the cutover?",
    "The go/no-go sign-offs are checked first: if any is not approved, nothing starts and you see which ones are "
    "missing.",
    "Start",
    "Not yet",
)
_COMPLETE_CONFIRM = _confirm(
    "Complete the cutover?",
    "The sign-offs due inside the window are checked first; the release channel is told when the cutover is complete.",
    "Complete",
    "Not yet",
)
_ROLLBACK_CONFIRM = _confirm(
    "Roll back the cutover?",
    "You are asked for a reason next; nothing changes until you send it.",
    "Continue",
    "Cancel",
    style="danger",
)


# How each step domain.lifecycle.cutover_actions offers is drawn: (label, action id, style, confirmation).
_CUTOVER_BUTTONS: dict[Action, tuple[str, str, str, ConfirmObject]] = {
    "start": ("Start cutover", ids.RELEASE_START, "primary", _START_CONFIRM),
    "complete": ("Complete", ids.RELEASE_COMPLETE, "primary", _COMPLETE_CONFIRM),
    "rollback": ("Roll back", ids.RELEASE_ROLLBACK, "danger", _ROLLBACK_CONFIRM),
}


def lifecycle_actions(release: ReleaseView) -> ActionsBlock | None:
    """The summary's lifecycle buttons for the release's state, or None when the cutover can't move."""
    elements = []
    for action in cutover_actions(release.state):
        label, action_id, style, confirm = _CUTOVER_BUTTONS[action]
        elements.append(
            ButtonElement(
                text=PlainTextObject(text=label, emoji=True),
                action_id=action_id,
                value=str(release.id),
                style=style,
                confirm=confirm,
            )
        )
    if not elements:
        return None
    return ActionsBlock(block_id=ids.RELEASE_ACTIONS_BLOCK, elements=elements)


def summary_message(release: ReleaseView, now: datetime) -> Rendered:
    items = release.items
    done, total = progress(items)
    gates = [i for i in items if i.is_gate]
    approved = sum(i.state is ItemState.APPROVED for i in gates)
    rejected = sum(i.state is ItemState.REJECTED for i in gates)

    top: list[Block] = [header(release_title(release)), section(overview_text(release, now))]
    actions = lifecycle_actions(release)
    if actions is not None:
        top.append(actions)
    foot = context(f"Items and sign-offs are in the thread, one reply per phase · updated {slack_date(now)}")
    used = text_length([*top, foot])

    progress_texts = pack_lines(
        phase_progress_lines(release),
        heading=f"*Progress* — {done}/{total} items complete ({percent(done, total)}%)",
        max_sections=4,
        budget=(TEXT_BUDGET - used) // 3,
    )
    progress_blocks = [section(t) for t in progress_texts]
    used += text_length(progress_blocks)

    gate_heading = f"*Sign-offs* — {approved}/{len(gates)} approved"
    if rejected:
        gate_heading += f", {rejected} rejected"
    if not gates:
        gate_heading = "*Sign-offs* — none in this release's template"
    gate_texts = pack_lines(
        [_gate_line(g) for g in gates],
        heading=gate_heading,
        max_sections=MAX_BLOCKS - len(top) - len(progress_blocks) - 1,
        budget=TEXT_BUDGET - used,
        more=lambda n: f"_+{plural(n, 'more sign-off')}: see the thread_",
    )
    blocks = [*top, *progress_blocks, *(section(t) for t in gate_texts), foot]

    text = (
        f"{release_title(release)} — {state_label(release.state)}: {done}/{total} items complete, "
        f"{approved}/{len(gates)} sign-offs approved"
    )
    if rejected:
        text += f", {rejected} rejected"
    return rendered(text, blocks)
