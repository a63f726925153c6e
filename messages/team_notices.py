"""Notices to the release team about its announcements: a stakeholder channel added or unusable, a
delivery that failed or was missed, and the cutover window moved.

They go to the release channel or to the person who asked, never to stakeholders, so they may tell
people what to type (with the configured slash command).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import SectionBlock

from domain.model import ItemView, ReleaseView

from .checklist import release_title
from .common import (
    MAX_BLOCKS,
    TEXT_BUDGET,
    Rendered,
    channel_mention,
    clip,
    code_text,
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
from .stakeholder_notices import announcement_name, audience_label
from .status import holders_text

TITLE_MAX = 120
HOLDERS_SHOWN = 5
MISSED_SHOWN = 30
REAPPROVAL_SHOWN = 20


def fix_hint(error: str, *, command: str) -> str:
    """What the release manager can do about a Slack error that stops posting to a channel."""
    if error in ("not_in_channel", "channel_not_found"):
        return "invite @Cutover: `/invite @Cutover` in that channel"
    if error == "is_archived":
        return "unarchive it or pick another channel"
    return f"check the channel and run `{command_text(command)} channel` again"


def _problem_text(error: str, command: str) -> str:
    return f"Slack said `{code_text(error or 'unknown error')}`.\n*Fix:* {fix_hint(error, command=command)}."


def preflight_problem_message(release: ReleaseView, channel_id: str, error: str, *, command: str) -> Rendered:
    """Cutover cannot post to a stakeholder channel: which one, what Slack said, and the fix."""
    where = channel_mention(channel_id)
    body = (
        f":warning: *Cutover can't post in {where}*, a stakeholder channel of {release_title(release)}. "
        f"Announcements to it will fail until this is fixed.\n{_problem_text(error, command)}"
    )
    foot = context(f"Check again with `{command_text(command)} schedule` once it is fixed.")
    return rendered(f"Cutover can't post in {where}: {code_text(error)}", [section(body), foot])


def delivery_failed_message(release: ReleaseView, key: str, channel_id: str, error: str, *, command: str) -> Rendered:
    """An announcement could not be delivered to a stakeholder channel."""
    where = channel_mention(channel_id)
    label = announcement_name(key)
    body = (
        f":warning: *The announcement “{label}” of {release_title(release)} was not delivered to "
        f"{where}.*\n{_problem_text(error, command)}\n"
        "Later announcements to that channel go out once it is fixed; to repeat this one, use "
        f"`{command_text(command)} announce`."
    )
    return rendered(f"Announcement “{label}” not delivered to {where}: {code_text(error)}", [section(body)])


def missed_message(release: ReleaseView, items: Sequence[tuple[str, str, datetime]], *, command: str) -> Rendered:
    """Deliveries due while Cutover was down for longer than the grace period: reported, not sent."""
    ordered = sorted(items, key=lambda item: (item[2], item[0], item[1]))
    heading = (
        f":warning: *{plural(len(ordered), 'announcement delivery', 'announcement deliveries')} of "
        f"{release_title(release)} {'was' if len(ordered) == 1 else 'were'} not sent.* "
        "They fell due while Cutover was not running, too long ago to send late."
    )
    lines = [
        f"• {announcement_name(key)} to {channel_mention(channel)} — was due {slack_date(due)}"
        for key, channel, due in ordered
    ]
    foot = context(
        "Re-send any that still matter with "
        f"`{command_text(command)} announce &lt;audience|#channel&gt; at &lt;datetime&gt; &lt;text&gt;`."
    )
    texts = pack_lines(
        lines,
        heading=heading,
        max_sections=MAX_BLOCKS - 1,
        budget=TEXT_BUDGET - text_length([foot]),
        max_lines=MISSED_SHOWN,
        more=lambda n: f"_+{n} more_",
    )
    return rendered(
        f"{plural(len(ordered), 'announcement delivery', 'announcement deliveries')} not sent "
        f"for {release_title(release)}",
        [*(section(t) for t in texts), foot],
    )


def _reapproval_line(release: ReleaseView, item: ItemView) -> str:
    who = "; ".join(
        f"{role_names([role], release.roles)}: {holders_text(release.holders(role), HOLDERS_SHOWN)}"
        for role in item.approver_roles
    )
    return f"• *{clip(one_line(item.title), TITLE_MAX)}* — {who or '_no approver role_'}"


def moved_message(
    release: ReleaseView,
    old_start: datetime,
    old_end: datetime,
    new_start: datetime,
    new_end: datetime,
    moved: int,
    reapproval: Sequence[ItemView],
) -> Rendered:
    """After ``/release move``: old and new window, announcements moved, sign-offs to give again."""
    moved_text = (
        f"{plural(moved, 'pending announcement')} moved with the window."
        if moved
        else "No pending announcements needed moving."
    )
    top = section(
        f":calendar: *Cutover window moved* · {release_title(release)}\n"
        f"*Was:* {slack_window(old_start, old_end)}\n"
        f"*Now:* {slack_window(new_start, new_end)}\n{moved_text}"
    )
    if reapproval:
        heading = (
            f"*{plural(len(reapproval), 'sign-off')} about the window need{'s' if len(reapproval) == 1 else ''} "
            "approval again:*"
        )
    else:
        heading = "No sign-off needs approval again."
    text = f"Cutover window of {release_title(release)} moved to {slack_date(new_start)}"
    return rendered(text, [top, *_reapproval_sections(release, reapproval, heading, top)])


def _reapproval_sections(
    release: ReleaseView, reapproval: Sequence[ItemView], heading: str, top: SectionBlock
) -> list[SectionBlock]:
    """The sign-offs to give again, each with its approvers tagged, in what room the message has left."""
    texts = pack_lines(
        [_reapproval_line(release, i) for i in reapproval],
        heading=heading,
        max_sections=MAX_BLOCKS - 1,
        budget=TEXT_BUDGET - text_length([top]),
        max_lines=REAPPROVAL_SHOWN,
        more=lambda n: f"_+{plural(n, 'more sign-off')}: see the checklist thread_",
    )
    return [section(t) for t in texts]


def scope_changed_message(release: ReleaseView, by: str, change: str, reapproval: Sequence[ItemView]) -> Rendered:
    """After `item add|edit|remove`: who changed what, and the scope-bound sign-offs to give again,
    their approvers tagged."""
    top = section(f":memo: *Scope changed* · {release_title(release)}\n<@{by}> {clip(one_line(change), 600)}")
    if reapproval:
        heading = (
            f"*{plural(len(reapproval), 'sign-off')} about the scope need{'s' if len(reapproval) == 1 else ''} "
            "approval again:*"
        )
    else:
        heading = "No sign-off needs approval again."
    text = f"Scope of {release_title(release)} changed: {clip(one_line(change), 200)}"
    return rendered(text, [top, *_reapproval_sections(release, reapproval, heading, top)])


def replanned_message(
    release: ReleaseView, old_start: datetime, old_end: datetime, reapproval: Sequence[ItemView]
) -> Rendered:
    """After a rolled-back release is re-planned: the next attempt's window, and the sign-offs that
    depended on the failed attempt, with their approvers tagged."""
    failed = release.attempt - 1
    top = section(
        f":repeat: *Re-planned after the rollback* · {release_title(release)}\n"
        f"*Attempt {failed}:* {slack_window(old_start, old_end)} (rolled back)\n"
        f"*Attempt {release.attempt}:* {slack_window(release.cutover_start, release.cutover_end)}\n"
        "The announcement plan was made again for the new window; nothing planned for the first attempt goes out."
    )
    heading = (
        f"*{plural(len(reapproval), 'sign-off')} for the go/no-go and the window need approval again:*"
        if reapproval
        else "No sign-off needs approval again."
    )
    text = f"{release_title(release)} re-planned: attempt {release.attempt} starts {slack_date(release.cutover_start)}"
    return rendered(text, [top, *_reapproval_sections(release, reapproval, heading, top)])


def channel_added_message(
    release: ReleaseView, audience: str, channel_id: str, problem: str | None, pending: int, *, command: str
) -> Rendered:
    """Ephemeral answer to ``/release channel``."""
    where = channel_mention(channel_id)
    who = audience_label(audience)
    added = f"{where} is now a stakeholder channel for *{who}* (`{escape(audience)}`) of {release_title(release)}."
    if release.rehearsal_factor:
        going = "This is a rehearsal: its announcements stay in the release channel and name this channel instead."
    elif pending:
        going = f"{plural(pending, 'pending announcement')} will also go there."
    else:
        going = "No pending announcement is addressed to it yet."
    if problem:
        body = f":warning: {added} {going}\n*But Cutover can't post there yet.* {_problem_text(problem, command)}"
    else:
        body = f":white_check_mark: {added} {going}"
    foot = context(f"See the whole plan with `{command_text(command)} schedule`.")
    return rendered(
        f"{where} added for {who}" + (f" — can't post: {code_text(problem)}" if problem else ""), [section(body), foot]
    )
