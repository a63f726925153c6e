"""Help, usage errors, plain notices and refusals (all short, usually ephemeral).

``help_message``, ``usage_error_message`` and ``info_message`` take mrkdwn the app composed
(bold, code spans, mentions of users/channels/groups, date tokens). It goes through
``sanitize_mrkdwn``: those mentions and date tokens survive; any other ``<…>`` (``<!channel>``,
links, ``<name>`` placeholders) is escaped, and text escaped once is not escaped again. So a
release name or item title the app forgot to escape still cannot ping a channel. The app should
still ``escape()`` user text it interpolates: a user could otherwise type a user mention.
``refusal_message`` takes raw strings and escapes them itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import Block

from domain.model import Subject
from domain.rehearsal import describe
from domain.roles import PROJECT_MANAGER, Role, role_name

from .common import (
    MAX_BLOCKS,
    SECTION_TEXT_MAX,
    TEXT_BUDGET,
    Rendered,
    clip,
    command_text,
    cut_markup,
    escape,
    header,
    mentions,
    one_line,
    rendered,
    sanitize_mrkdwn,
    section,
)
from .dates import slack_date, slack_window


def _paragraph_sections(text: str, max_sections: int) -> list[str]:
    """Split long text at line breaks so no section passes 3000 chars."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= SECTION_TEXT_MAX:
            current = candidate
            continue
        if current:
            chunks.append(current)
        current = cut_markup(line, SECTION_TEXT_MAX)
    if current.strip():
        chunks.append(current)
    if len(chunks) > max_sections:
        chunks = [*chunks[: max_sections - 1], "_…(cut: too long for one message)_"]
    return chunks or [" "]


def _budgeted(text: str) -> str:
    # The cut may end inside a code span; better a dangling backtick than a refused message.
    return cut_markup(text, TEXT_BUDGET)


def help_message(overview: str, *, command: str) -> Rendered:
    """``overview`` is the verb list with examples, as mrkdwn (``<name>`` placeholders are fine)."""
    body = _budgeted(sanitize_mrkdwn(overview))
    blocks: list[Block] = [header(f"Cutover · {command_text(command)} help")]
    blocks += [section(t) for t in _paragraph_sections(body, MAX_BLOCKS - len(blocks))]
    return rendered(f"Cutover: {command_text(command)} help", blocks)


def usage_error_message(message: str, usage: str) -> Rendered:
    """``message`` says what was wrong; ``usage`` (one or more lines) goes into a code block, and no
    block at all when it is empty (an unknown word whose message points to ``help``)."""
    # Inside a code block backticks show literally and a stray ``` would end it early, so the
    # usage's own code spans are dropped.
    usage_text = cut_markup(sanitize_mrkdwn(usage.replace("`", "").strip()), SECTION_TEXT_MAX - 20)
    problem = cut_markup(sanitize_mrkdwn(message.strip()), SECTION_TEXT_MAX - 20)
    blocks = [section(f":warning: *{problem}*")]
    if usage_text:
        blocks.append(section(f"*Usage*\n```{usage_text}```"))
    return rendered(f":warning: {cut_markup(sanitize_mrkdwn(one_line(message)), 2000)}", blocks)


def info_message(text: str, *, plain: bool = False) -> Rendered:
    """A one-section notice from app-composed mrkdwn (see the module docstring); with
    ``plain=True`` every character is shown as typed (all markup escaped)."""
    body = _budgeted(escape(text) if plain else sanitize_mrkdwn(text))
    return rendered(body, [section(t) for t in _paragraph_sections(body, MAX_BLOCKS)])


def refusal_message(
    action: str,
    item_title: str,
    allowed: Sequence[tuple[str, tuple[Subject, ...]]],
    *,
    command: str,
    roles: Sequence[Role],
) -> Rendered:
    """Why a click was refused: who may ``action`` the item instead. ``allowed`` pairs a role key
    with the users and groups that hold it (empty when nobody does)."""
    what = f"*{clip(one_line(action), 100)}* “{clip(one_line(item_title), 200)}”"
    lines = [f":no_entry: You can't {what}. Nothing was changed."]
    if allowed:
        lines.append("Only these roles may:")
        for key, holders in allowed:
            if holders:
                who = mentions(holders)
            else:
                who = (
                    f"nobody yet — ask the {escape(role_name(PROJECT_MANAGER, roles))} to "
                    f"`{command_text(command)} assign {escape(key)} @someone`"
                )
            lines.append(f"• *{escape(role_name(key, roles))}*: {who}")
    else:
        lines.append("No role may do this right now.")
    body = "\n".join(lines)
    return rendered(
        f"You can't {clip(one_line(action), 100)} “{clip(one_line(item_title), 200)}”",
        [section(t) for t in _paragraph_sections(_budgeted(body), MAX_BLOCKS)],
    )


def release_created_message(
    key: str,
    name: str,
    start: datetime,
    end: datetime,
    planned: datetime | None,
    rehearsal: int | None,
    *,
    command: str,
    manager: str = "Project Manager",
) -> Rendered:
    """The creator's confirmation; ``planned`` is the cutover typed for a rehearsal, if any; ``manager``
    is what the release's template calls the role its creator now holds."""
    cmd = command_text(command)
    nxt = f"You are its {escape(manager)}. Next: `{cmd} assign <role> @person` (see `{cmd} roles`)."
    if rehearsal is None:
        return info_message(f"Created *{key}* “{escape(name)}”: cutover {slack_window(start, end)}. {nxt}")
    of = f" of the plan for {slack_date(planned)}" if planned is not None else ""
    return info_message(
        f":test_tube: Created the rehearsal{of} *{key}* “{escape(name)}” at ×{rehearsal} ({describe(rehearsal)}): "
        f"its plan starts here in a few seconds, the rehearsed cutover is {slack_window(start, end)}. "
        f"Every announcement comes to this channel marked REHEARSAL; reminders and the retrospective follow on "
        f"the same clock. {nxt}"
    )
