"""Nudges about a waiting sign-off: the approver's DM (with Approve, Reject and Snooze), the one mention in
the release thread once it is due, and the word to the Project Manager a working day later. Pure builders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, ButtonElement, PlainTextObject

from domain.approvals import approvals_text
from domain.model import ItemView, ReleaseView

from . import ids
from .checklist import release_title
from .common import Rendered, channel_mention, clip, context, escape, one_line, rendered, role_names, section
from .dates import slack_date

TITLE_MAX = 150


def _what(release: ReleaseView, item: ItemView) -> str:
    line = (
        f"*{clip(one_line(item.title), TITLE_MAX)}* · {release_title(release)} · {channel_mention(release.channel_id)}"
    )
    if item.approvals_needed > 1:
        line += f" · {approvals_text(item)}"
    return line


def nudge_message(release: ReleaseView, item: ItemView, *, for_user: str | None, now: datetime) -> Rendered:
    """The DM to one approver: what waits, when it is due, and the buttons to answer from here."""
    due = "was due" if item.due_at <= now else "is due"
    whose = f" (as deputy for <@{for_user}>)" if for_user else ""
    body = (
        f":hourglass_flowing_sand: *Your sign-off is waiting*{whose}\n{_what(release, item)}\n"
        f"It {due} {slack_date(item.due_at)}. Sign-off: {role_names(item.approver_roles, release.roles)}."
    )
    value = f"{item.id}:{item.version}"
    buttons = ActionsBlock(
        block_id=f"nudge-{item.id}",
        elements=[
            ButtonElement(
                text=PlainTextObject(text="Approve"), action_id=ids.ITEM_APPROVE, value=value, style="primary"
            ),
            ButtonElement(text=PlainTextObject(text="Reject"), action_id=ids.ITEM_REJECT, value=value, style="danger"),
            ButtonElement(text=PlainTextObject(text="Snooze 2 h"), action_id=ids.NUDGE_SNOOZE_2H, value=str(item.id)),
            ButtonElement(
                text=PlainTextObject(text="Snooze until tomorrow"),
                action_id=ids.NUDGE_SNOOZE_TOMORROW,
                value=str(item.id),
            ),
        ],
    )
    return rendered(
        f"Sign-off waiting: {clip(one_line(item.title), 100)} ({escape(release.key)})",
        [section(body), buttons, context("At most one reminder a working day, inside your working hours.")],
    )


def due_mention_message(release: ReleaseView, item: ItemView, approvers: Sequence[str]) -> Rendered:
    """The one mention in the release thread once a gate is due and still unanswered."""
    who = " ".join(approvers) or role_names(item.approver_roles, release.roles)
    title = clip(one_line(item.title), TITLE_MAX)
    body = f":bell: {who}: *{title}* was due {slack_date(item.due_at)} and waits for your sign-off."
    return rendered(f"Sign-off due: {clip(one_line(item.title), 100)}", [section(body)])


def pm_notice_message(release: ReleaseView, item: ItemView, approvers: Sequence[str]) -> Rendered:
    """To the Project Manager: a gate is a working day past due."""
    who = ", ".join(approvers) or "nobody holds its approver roles"
    body = (
        f":warning: *A sign-off is a working day overdue* in {release_title(release)}\n{_what(release, item)}\n"
        f"It was due {slack_date(item.due_at)}. Waiting on: {who}. They were nudged in their working hours and "
        "mentioned in the release thread."
    )
    return rendered(f"Overdue sign-off: {clip(one_line(item.title), 100)} ({escape(release.key)})", [section(body)])


def snoozed_message(until: datetime) -> Rendered:
    return rendered("Snoozed", [section(f":zzz: Snoozed: no reminder about this sign-off before {slack_date(until)}.")])
