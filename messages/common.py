"""Shared pieces of the Block Kit builders: the Rendered result, escaping and size guards.

Limits follow shared/slack/CONTRACTS.md §4. Besides the documented per-block limits, Slack
refuses messages whose blocks carry too much text in total (``msg_blocks_too_long``, reported
around 12–13k characters), so builders also keep to ``TEXT_BUDGET``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    Block,
    BlockElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from domain.model import ItemState, ItemView, ReleaseState, Subject
from domain.roles import Role, role_name

MAX_BLOCKS = 50
SECTION_TEXT_MAX = 3000
HEADER_TEXT_MAX = 150
FALLBACK_TEXT_MAX = 3000
CONTEXT_ELEMENTS_MAX = 10
# Below Slack's undocumented cumulative cap, with room for what we cannot measure exactly.
TEXT_BUDGET = 10_000

_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def escape(text: str) -> str:
    """Escape exactly ``&``, ``<`` and ``>`` so user text cannot mention, link or ping @channel."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Markup the app itself writes into notices: user, channel and group mentions and date tokens.
# Special mentions (@channel, @here, @everyone) and links are deliberately absent.
_ALLOWED_MARKUP = re.compile(
    r"<(?:@[UW][A-Z0-9]+|#C[A-Z0-9]+(?:\|[^<>|]*)?|!subteam\^S[A-Z0-9]+(?:\|[^<>|]*)?"
    r"|!date\^\d+\^[^<>|]*(?:\^[^<>|]*)?\|[^<>|]*)>"
)
_ENTITY = re.compile(r"&(?:amp|lt|gt);")


def _escape_keeping_entities(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        m = _ENTITY.match(text, i)
        if m:
            out.append(m.group())
            i = m.end()
        else:
            out.append(_ESCAPES.get(text[i], text[i]))
            i += 1
    return "".join(out)


def sanitize_mrkdwn(text: str) -> str:
    """Make app-composed mrkdwn safe to post: keep mentions of users, channels and groups and
    date tokens, escape every other ``<``/``>`` (so ``<!channel>`` or a link from an unescaped
    user string is shown, not acted on) and every ``&`` that does not already start an entity.

    Existing entities are kept so text that was escaped once is not escaped twice.
    """
    out: list[str] = []
    last = 0
    for m in _ALLOWED_MARKUP.finditer(text):
        out.append(_escape_keeping_entities(text[last : m.start()]))
        out.append(m.group())
        last = m.end()
    out.append(_escape_keeping_entities(text[last:]))
    return "".join(out)


def one_line(text: str) -> str:
    return " ".join(text.split())


def clip(text: str, limit: int) -> str:
    """Escape ``text`` and shorten it with "…" so the *escaped* result is at most ``limit`` chars.

    Clipping before escaping could still overflow (``&`` grows to 5 chars); clipping after
    escaping could cut an entity in half.
    """
    out = escape(text)
    if len(out) <= limit:
        return out
    pieces: list[str] = []
    size = 0
    for ch in text:
        piece = _ESCAPES.get(ch, ch)
        if size + len(piece) > limit - 1:
            break
        pieces.append(piece)
        size += len(piece)
    return "".join(pieces).rstrip() + "…"


def cut_markup(text: str, limit: int) -> str:
    """Shorten already-escaped mrkdwn without leaving half a ``<…>`` token or ``&…;`` entity."""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)]
    if cut.rfind("<") > cut.rfind(">"):
        cut = cut[: cut.rfind("<")]
    if cut.rfind("&") > cut.rfind(";"):
        cut = cut[: cut.rfind("&")]
    return cut.rstrip() + "…"


@dataclass(frozen=True)
class Rendered:
    """A message ready for chat.postMessage / chat.update / respond()."""

    text: str  # notification fallback, already escaped mrkdwn
    blocks: tuple[Block, ...]

    def payload(self) -> dict[str, Any]:
        """``text`` and ``blocks`` as keyword arguments for the Web API (blocks as dicts)."""
        return {"text": self.text, "blocks": to_dicts(self.blocks)}


def rendered(text: str, blocks: Iterable[Block]) -> Rendered:
    return Rendered(text=cut_markup(text, FALLBACK_TEXT_MAX), blocks=tuple(blocks))


def to_dicts(blocks: Iterable[Block]) -> list[dict[str, Any]]:
    """Serialize blocks; slack_sdk validates each one here and raises SlackObjectFormationError."""
    return [b.to_dict() for b in blocks]


def _text_length(node: Any) -> int:
    if isinstance(node, dict):
        if node.get("type") in ("plain_text", "mrkdwn") and isinstance(node.get("text"), str):
            return len(node["text"])
        return sum(_text_length(v) for v in node.values())
    if isinstance(node, list):
        return sum(_text_length(v) for v in node)
    return 0


def text_length(blocks: Iterable[Block]) -> int:
    """Characters in every text object of ``blocks`` (what counts toward ``TEXT_BUDGET``)."""
    return sum(_text_length(b.to_dict()) for b in blocks)


def fits(blocks: Sequence[Block], max_blocks: int = MAX_BLOCKS) -> bool:
    """True when Slack would accept these blocks as one message (count, per-block limits, total text)."""
    if not 0 < len(blocks) <= max_blocks:
        return False
    try:
        return text_length(blocks) <= TEXT_BUDGET
    except SlackObjectFormationError:
        return False


# --- small block factories -------------------------------------------------------------------


def header(text: str) -> HeaderBlock:
    """A header from already-escaped text, cut to Slack's 150 chars."""
    return HeaderBlock(text=PlainTextObject(text=cut_markup(text, HEADER_TEXT_MAX) or "…", emoji=True))


def section(text: str, *, block_id: str | None = None, accessory: BlockElement | None = None) -> SectionBlock:
    return SectionBlock(
        text=MarkdownTextObject(text=cut_markup(text, SECTION_TEXT_MAX) or " "),
        block_id=block_id,
        accessory=accessory,
    )


def context(*texts: str) -> ContextBlock:
    elements = [MarkdownTextObject(text=cut_markup(t, SECTION_TEXT_MAX)) for t in texts if t]
    return ContextBlock(elements=elements[:CONTEXT_ELEMENTS_MAX])


def pack_lines(
    lines: Sequence[str],
    *,
    max_sections: int,
    budget: int,
    heading: str | None = None,
    more: Callable[[int], str] = lambda n: f"_+{n} more_",
    limit: int = SECTION_TEXT_MAX,
    max_lines: int | None = None,
) -> list[str]:
    """Group mrkdwn lines into section texts (each ≤ ``limit``), at most ``max_sections`` of them
    and ``budget`` characters in all; lines that do not fit, or come after the first
    ``max_lines``, become one trailing "+N more" line.

    ``heading`` starts the first section and is never dropped or counted in "+N more".
    """
    if max_sections <= 0:
        return []
    body = [cut_markup(line, limit) for line in lines]
    head = [cut_markup(heading, limit)] if heading else []
    all_lines = head + body
    shown = len(all_lines) if max_lines is None else len(head) + max(0, max_lines)

    def attempt(reserve: int) -> tuple[list[list[str]], int]:
        chunks: list[list[str]] = []
        sizes: list[int] = []
        total = 0
        for i, line in enumerate(all_lines):
            if i >= shown:
                return chunks, i
            if chunks and sizes[-1] + 1 + len(line) <= limit - reserve:
                cost = 1 + len(line)
                if total + cost > budget - reserve and i >= len(head):
                    return chunks, i
                chunks[-1].append(line)
            else:
                cost = len(line)
                too_big = total + cost > budget - reserve or cost > limit - reserve
                if len(chunks) >= max_sections or (too_big and i >= len(head)):
                    return chunks, i
                chunks.append([line])
                sizes.append(0)
            sizes[-1] += cost
            total += cost
        return chunks, len(all_lines)

    chunks, placed = attempt(0)
    if placed < len(all_lines):
        reserve = len(more(len(body))) + 1
        chunks, placed = attempt(reserve)
        trailer = more(len(all_lines) - max(placed, len(head)))
        if chunks:
            chunks[-1].append(trailer)
        else:
            chunks = [[trailer]]
    return ["\n".join(chunk) for chunk in chunks]


# --- domain wording ----------------------------------------------------------------------------

STATE_LABELS: dict[ReleaseState, str] = {
    ReleaseState.PLANNING: "📝 Planning",
    ReleaseState.READY: "🟢 Ready",
    ReleaseState.CUTTING_OVER: "🚧 Cutting over",
    ReleaseState.COMPLETED: "🏁 Completed",
    ReleaseState.CLOSED: "🔒 Closed",
    ReleaseState.ROLLED_BACK: "↩️ Rolled back",
    ReleaseState.CANCELLED: "✖️ Cancelled",
}

GATE_ICONS: dict[ItemState, str] = {
    ItemState.PENDING: "⏳",
    ItemState.APPROVED: "✅",
    ItemState.REJECTED: "⛔",
    ItemState.DONE: "✅",  # not a gate state, but never show a gate without an icon
}

ITEM_ICONS: dict[ItemState, str] = {
    ItemState.PENDING: "☐",
    ItemState.DONE: "☑️",
    ItemState.APPROVED: "✅",
    ItemState.REJECTED: "⛔",
}


# Every item state in words beside its icon: an emoji alone says nothing to a screen reader, and little
# to someone skimming.
TASK_STATE_WORDS: dict[ItemState, str] = {
    ItemState.PENDING: "to do",
    ItemState.DONE: "done",
    ItemState.APPROVED: "approved",
    ItemState.REJECTED: "rejected",
}
GATE_STATE_WORDS: dict[ItemState, str] = {
    ItemState.PENDING: "waiting for sign-off",
    ItemState.APPROVED: "approved",
    ItemState.REJECTED: "rejected",
    ItemState.DONE: "done",
}


def item_state_words(item: ItemView) -> str:
    """``waiting for sign-off``, ``approved``, ``to do``…: the item's state in words."""
    return (GATE_STATE_WORDS if item.is_gate else TASK_STATE_WORDS)[item.state]


def state_label(state: ReleaseState) -> str:
    return STATE_LABELS.get(state, str(state))


def progress(items: Iterable[ItemView]) -> tuple[int, int]:
    """(complete, total): done items and approved gates count as complete."""
    done = total = 0
    for item in items:
        total += 1
        done += item.is_complete
    return done, total


def percent(done: int, total: int) -> int:
    return (done * 100) // total if total else 0


def mentions(subjects: Iterable[Subject]) -> str:
    return ", ".join(s.mention for s in subjects)


def user_mention(user_id: str) -> str:
    return f"<@{user_id}>"


_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
CODE_TEXT_MAX = 100


def code_text(text: str, limit: int = CODE_TEXT_MAX) -> str:
    """Text for inside a code span: escaped, one line, no backtick that would end the span early."""
    return clip(one_line(text).replace("`", "'"), limit)


def channel_mention(channel_id: str) -> str:
    """``<#C…>`` for a real channel id; anything else is shown as escaped text, never as markup."""
    return f"<#{channel_id}>" if _CHANNEL_ID.fullmatch(channel_id) else f"`{code_text(channel_id)}`"


def command_text(command: str) -> str:
    """The configured slash command (``SLASH_COMMAND``, ``/release`` by default) for inside a code span.

    Builders that tell a person what to type take the command as a parameter and never spell it out.
    """
    return code_text(command)


def role_names(keys: Iterable[str], roles: Sequence[Role]) -> str:
    """Role keys as people call them in a release whose template declares ``roles``."""
    return ", ".join(escape(role_name(k, roles)) for k in keys)


def ordered_roles(keys: Iterable[str], roles: Sequence[Role]) -> list[str]:
    """Role keys in the order the template declares them; keys it does not declare follow, sorted."""
    wanted = set(keys)
    known = [r.key for r in roles if r.key in wanted]
    return known + sorted(wanted - set(known))


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else (many or word + 's')}"
