"""The cutover's lifecycle: refusals when sign-offs are missing, the notices the release channel gets
when the cutover starts, completes or rolls back, the one reminder for an overdue item, and the
"Roll back" modal.

``rollback_modal`` — callback_id ``release.rollback``, private_metadata ``str(release.id)``; one
input, block_id ``reason`` / action_id ``reason`` (multiline plain_text_input, required,
``CUTOVER_REASON_MIN``–``CUTOVER_REASON_MAX`` chars from ``domain.limits``, the same bounds as
``/release cutover rollback <reason>``). Slack only enforces the lengths: the app still refuses a
whitespace-only reason with ``response_action: errors`` on ``reason``.

Reasons and override reasons are plain text (typed into a modal, or unescaped by the grammar) and
are escaped here; people are mentioned by their Slack ids only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from slack_sdk.models.blocks import Block, PlainTextObject
from slack_sdk.models.views import View

from domain.limits import CUTOVER_REASON_MAX, CUTOVER_REASON_MIN
from domain.model import ItemState, ItemView, ReleaseView
from domain.roles import PROJECT_MANAGER, role_name

from . import ids
from .checklist import release_title
from .common import (
    MAX_BLOCKS,
    TEXT_BUDGET,
    Rendered,
    channel_mention,
    clip,
    command_text,
    context,
    escape,
    one_line,
    pack_lines,
    plural,
    rendered,
    role_names,
    section,
    text_length,
)
from .dates import slack_date, slack_window
from .modals import reason_modal
from .status import holders_text

LifecycleAction = Literal["started", "completed", "rolled_back"]

# A reason is posted whole: its input limit already keeps it short enough for a notice.
REASON_SHOWN = CUTOVER_REASON_MAX
TITLE_MAX = 150
REFUSAL_REASON_MAX = 300
MISSING_SHOWN = 25
HOLDERS_SHOWN = 5

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def safe_mention(user_id: str) -> str:
    """A mention for a real Slack user id; anything else is shown as text, never as markup."""
    return f"<@{user_id}>" if _USER_ID.fullmatch(user_id) else escape(user_id) or "someone"


def _quote(text: str, limit: int) -> str:
    return f"“{clip(one_line(text), limit)}”"


# --- refusals ------------------------------------------------------------------------------------


def _approvers(release: ReleaseView, item: ItemView) -> str:
    parts: list[str] = []
    for key in item.approver_roles:
        holders = release.holders(key)
        name = escape(role_name(key, release.roles))
        if holders:
            parts.append(f"*{name}*: {holders_text(holders, HOLDERS_SHOWN)}")
        else:
            parts.append(f"nobody holds *{name}* yet")
    return "; ".join(parts) or "_no approver role_"


def _missing_line(release: ReleaseView, item: ItemView) -> str:
    title = f"*{clip(one_line(item.title), TITLE_MAX)}*"
    lines: list[str] = []
    if item.state is ItemState.REJECTED:
        by = f" by {safe_mention(item.decided_by)}" if item.decided_by else ""
        lines.append(f"⛔ {title} — *rejected*{by} · due {slack_date(item.due_at)}")
        if item.reason and item.reason.strip():
            lines.append(f"      Reason: {_quote(item.reason, REFUSAL_REASON_MAX)}")
    else:
        lines.append(f"⏳ {title} — pending · due {slack_date(item.due_at)}")
    lines.append(f"      Sign-off: {_approvers(release, item)}")
    return "\n".join(lines)


def _refusal(
    release: ReleaseView, missing: Sequence[ItemView], heading: str, foot_text: str, fallback: str
) -> Rendered:
    foot = section(foot_text)
    ordered = sorted(missing, key=lambda i: (i.state is not ItemState.REJECTED, i.due_at, i.id))
    texts = pack_lines(
        [_missing_line(release, i) for i in ordered],
        heading=heading,
        max_sections=MAX_BLOCKS - 1,
        budget=TEXT_BUDGET - text_length([foot]),
        max_lines=MISSING_SHOWN,
        more=lambda n: f"_+{plural(n, 'more sign-off')}: see the checklist thread_",
    )
    return rendered(fallback, [*(section(t) for t in texts), foot])


def _not_approved(n: int) -> str:
    return f"{plural(n, 'sign-off')} {'is' if n == 1 else 'are'} not approved"


def gonogo_refusal_message(release: ReleaseView, missing: Sequence[ItemView], *, command: str) -> Rendered:
    """Why ``cutover start`` did nothing: the go/no-go gates not yet approved, who may approve each,
    and how a Project Manager may start anyway."""
    what = _not_approved(len(missing))
    heading = f":no_entry: *Cutover cannot start yet: {what}* · {release_title(release)}"
    foot = (
        f"Approve them in the checklist thread in {channel_mention(release.channel_id)}, then start again. "
        f"A {escape(role_name(PROJECT_MANAGER, release.roles))} may start anyway, with a reason that is posted in "
        "the release "
        f"channel and kept in the audit log:\n"
        f"`{command_text(command)} cutover start --override &lt;reason&gt; {escape(release.key)}`"
    )
    return _refusal(release, missing, heading, foot, f"Cutover of {escape(release.key)} cannot start yet: {what}")


def complete_refusal_message(release: ReleaseView, missing: Sequence[ItemView], *, command: str) -> Rendered:
    """Why ``cutover complete`` did nothing: the sign-offs inside the window not yet approved."""
    what = _not_approved(len(missing))
    heading = f":no_entry: *Cutover cannot be completed yet: {what}* · {release_title(release)}"
    foot = (
        f"Approve them in the checklist thread in {channel_mention(release.channel_id)}, then complete again. "
        "If the cutover cannot finish, roll back instead:\n"
        f"`{command_text(command)} cutover rollback &lt;reason&gt; {escape(release.key)}`"
    )
    return _refusal(
        release, missing, heading, foot, f"Cutover of {escape(release.key)} cannot be completed yet: {what}"
    )


# --- channel notices -----------------------------------------------------------------------------

_NOTICE_HEAD: dict[str, tuple[str, str, str]] = {
    # action: (icon, headline, verb for "… by")
    "started": (":rocket:", "Cutover started", "Started"),
    "completed": (":checkered_flag:", "Cutover completed", "Completed"),
    "rolled_back": (":leftwards_arrow_with_hook:", "Cutover rolled back", "Rolled back"),
}


_NOTICE_FOOT: dict[str, str] = {
    "started": "Complete or roll back with the buttons on the checklist summary.",
    "completed": "The checklist summary shows the final state; the retrospective comes next.",
    "rolled_back": "The checklist stays as it is for the next attempt; the audit log keeps the reason.",
}


def lifecycle_notice(
    release: ReleaseView,
    action: LifecycleAction,
    by: str,
    reason: str | None,
    override: str | None,
    now: datetime,
) -> Rendered:
    """Posted in the release channel when the cutover starts, completes or rolls back."""
    icon, headline, verb = _NOTICE_HEAD[action]
    head = f"{icon} *{headline}* · {release_title(release)}\n{verb} by {safe_mention(by)} · {slack_date(now)}"
    facts = [f"*Planned window:* {slack_window(release.cutover_start, release.cutover_end)}"]
    if action != "started" and release.actual_start is not None and release.actual_start <= now:
        facts.append(f"*Actual:* {slack_window(release.actual_start, now)}")
    if action == "rolled_back":
        facts.append(f"*Reason:* {_quote(reason, REASON_SHOWN) if reason and reason.strip() else '_none given_'}")

    overridden = action == "started" and bool(override and override.strip())
    blocks: list[Block] = [section(head)]
    if overridden and override is not None:
        # Its own section right under the headline: everyone must see that the gates were skipped.
        overridden_by = f":warning: *Go/no-go overridden by {safe_mention(by)}:*"
        blocks.append(section(f"{overridden_by} {_quote(override, REASON_SHOWN)}"))
    blocks.append(section("\n".join(facts)))
    blocks.append(context(_NOTICE_FOOT[action]))

    fallback = f"{headline}: {escape(release.key)} · {clip(one_line(release.name), 100)}"
    if overridden:
        fallback += " (go/no-go overridden)"
    return rendered(fallback, blocks)


def overdue_reminder_message(release: ReleaseView, item: ItemView) -> Rendered:
    """A direct message to someone responsible for ``item``: it is overdue. Sent once per item."""
    where = channel_mention(release.channel_id)
    meta = [f"Due {slack_date(item.due_at)}"]
    if item.responsible_roles:
        meta.append(f"Responsible: {role_names(item.responsible_roles, release.roles)}")
    if item.is_gate:
        meta.append(f"Sign-off: {role_names(item.approver_roles, release.roles)}")
    body = (
        f":alarm_clock: *Overdue in {release_title(release)}*\n"
        f"*{clip(one_line(item.title), TITLE_MAX)}*\n"
        + " · ".join(meta)
        + f"\nYou hold a role responsible for it. Move it forward in the checklist thread in {where}, "
        "or say there why it is late."
    )
    return rendered(
        f"Overdue: {clip(one_line(item.title), 100)} ({escape(release.key)})",
        [section(body), context("This is the only reminder for this item.")],
    )


# --- the rollback modal --------------------------------------------------------------------------


def _plain(text: str) -> PlainTextObject:
    return PlainTextObject(text=text, emoji=True)


def rollback_modal(release: ReleaseView) -> View:
    intro = (
        f"Roll back the cutover of *{release_title(release)}*?\n"
        f"Your reason is posted in {channel_mention(release.channel_id)} and kept in the release's audit log."
    )
    return reason_modal(
        callback_id=ids.ROLLBACK_CALLBACK,
        metadata=str(release.id),
        title="Roll back",
        submit="Roll back",
        intro=intro,
        min_length=CUTOVER_REASON_MIN,
        max_length=CUTOVER_REASON_MAX,
        placeholder="What went wrong, and what happens next?",
    )
