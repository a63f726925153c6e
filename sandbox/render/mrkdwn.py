"""Slack mrkdwn and plain_text to HTML.

Slack text arrives with ``&``, ``<`` and ``>`` escaped as entities, and every literal ``<`` starts
markup (a mention, link or date). The renderer decodes the entities only after the markup has been
cut out and HTML-escapes every piece of text it emits, so nothing in a message can inject HTML.

Inline formatting works on one line at a time: markup and code spans are swapped for sentinels
(private-use characters that cannot come from the input, which is scrubbed of them first), the
rest is escaped and formatted, then the sentinels are swapped back for their HTML.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .context import RenderContext, as_map, as_str, attrs, esc, placeholder, safe_url
from .dates import date_html, parse_epoch
from .emoji import emojify

_OPEN, _CLOSE = "\ue000", "\ue001"
_SENTINEL = re.compile(f"{_OPEN}(\\d+){_CLOSE}")
_SCRUB = re.compile(f"[{_OPEN}{_CLOSE}]")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_FENCE = "```"
_INLINE = re.compile(r"`([^`\n]+)`|<([^<>\n]*)>")
_MARKUP = re.compile(r"<([^<>\n]*)>")
_BARE_URL = re.compile(f"\\bhttps?://[^\\s<>{_OPEN}{_CLOSE}]+")
_QUOTE = re.compile(r"^(?:>|&gt;) ?")
_QUOTE_REST = re.compile(r"^(?:>>>|&gt;&gt;&gt;) ?")
_STYLES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"(?<![\w{m}]){re.escape(m)}(?=\S)(.+?)(?<=\S){re.escape(m)}(?![\w{m}])"), tag)
    for m, tag in (("*", "b"), ("_", "i"), ("~", "s"))
)
_LINK_ATTRS = {"class": "bk-link", "target": "_blank", "rel": "noopener noreferrer"}
_BROADCASTS = frozenset({"here", "channel", "everyone"})


def unescape(text: str) -> str:
    """Slack's three entities back to characters (and nothing else: ``&quot;`` stays as typed)."""
    return _ENTITY.sub(lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], text)


def render_plain(text: str, *, emoji: bool = True) -> str:
    """A plain_text string as escaped HTML, with emoji shortcodes drawn."""
    out = esc(unescape(_SCRUB.sub("\ufffd", as_str(text))))
    return emojify(out) if emoji else out


def render_mrkdwn(text: str, ctx: RenderContext) -> str:
    return mrkdwn_html(text, ctx)


def render_text(obj: Any, ctx: RenderContext) -> str:
    """A text object (plain_text or mrkdwn) as HTML; anything else is an inline placeholder."""
    node = as_map(obj)
    kind = node.get("type")
    text = node.get("text")
    if not isinstance(text, str) or kind not in ("plain_text", "mrkdwn"):
        return placeholder("text", kind if isinstance(kind, str) else "text object", inline=True)
    if kind == "plain_text":
        return render_plain(text, emoji=node.get("emoji") is not False)
    return mrkdwn_html(text, ctx, verbatim=node.get("verbatim") is True)


def text_of(obj: Any) -> str:
    """A text object's words without markup (for attributes, ``<option>``s and JSON)."""
    node = as_map(obj)
    text = unescape(as_str(node.get("text")))
    return emojify(text) if node.get("emoji") is not False else text


def mrkdwn_html(text: str, ctx: RenderContext, *, verbatim: bool = False) -> str:
    """Without ``verbatim``, bare URLs become links too (Slack's default for mrkdwn objects)."""
    source = _SCRUB.sub("\ufffd", as_str(text))
    parts: list[str] = []
    pieces = source.split(_FENCE)
    if len(pieces) % 2 == 0:  # an unclosed fence is just three backticks
        pieces[-2:] = [pieces[-2] + _FENCE + pieces[-1]]
    for i, piece in enumerate(pieces):
        if i % 2:
            body = piece.removeprefix("\n").removesuffix("\n")
            parts.append(f'<pre class="bk-pre">{_code_html(body, ctx)}</pre>')
        else:
            if i > 0:
                piece = piece.removeprefix("\n")
            if i < len(pieces) - 1:
                piece = piece.removesuffix("\n")
            parts.append(_lines_html(piece, ctx, verbatim))
    return "".join(parts)


def _lines_html(text: str, ctx: RenderContext, verbatim: bool) -> str:
    """Lines joined by ``<br>``; runs of quoted lines become one blockquote, and ``>>>`` quotes
    everything after it."""
    if not text:
        return ""
    out: list[str] = []
    run: list[str] = []
    run_quoted = False
    quote_rest = False
    for line in text.split("\n"):
        quoted = quote_rest
        if not quote_rest and (m := _QUOTE_REST.match(line) or _QUOTE.match(line)):
            quote_rest = m.re is _QUOTE_REST
            quoted = True
            line = line[m.end() :]
        if run and quoted != run_quoted:
            out.append(_run_html(run, run_quoted))
            run = []
        run_quoted = quoted
        run.append(_inline_html(line, ctx, verbatim))
    out.append(_run_html(run, run_quoted))
    return "".join(out)


def _run_html(lines: list[str], quoted: bool) -> str:
    body = "<br>".join(lines)
    return f'<blockquote class="bk-quote">{body}</blockquote>' if quoted else body


def _inline_html(line: str, ctx: RenderContext, verbatim: bool) -> str:
    saved: list[str] = []

    def keep(html_text: str) -> str:
        saved.append(html_text)
        return f"{_OPEN}{len(saved) - 1}{_CLOSE}"

    def cut(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return keep(f'<code class="bk-code">{_code_html(m.group(1), ctx)}</code>')
        return keep(markup_html(m.group(2), ctx))

    work = _INLINE.sub(cut, line)
    if not verbatim:
        work = _BARE_URL.sub(lambda m: _bare_link(m, keep), work)
    work = emojify(esc(unescape(work)))
    for pattern, tag in _STYLES:
        work = pattern.sub(f"<{tag}>\\1</{tag}>", work)
    return _SENTINEL.sub(lambda m: saved[int(m.group(1))], work)


def _bare_link(m: re.Match[str], keep: Callable[[str], str]) -> str:
    raw = m.group(0)
    url = raw.rstrip(".,;:!?)*_~'\"")
    trail = raw[len(url) :]
    href = unescape(url)
    return keep(f"<a{attrs({'href': href, **_LINK_ATTRS})}>{esc(href)}</a>") + trail


def _code_html(text: str, ctx: RenderContext) -> str:
    """Code keeps its characters as typed, but mentions, links and dates inside are still drawn."""
    out: list[str] = []
    last = 0
    for m in _MARKUP.finditer(text):
        out.append(esc(unescape(text[last : m.start()])))
        out.append(markup_html(m.group(1), ctx))
        last = m.end()
    out.append(esc(unescape(text[last:])))
    return "".join(out)


def _label(inner: str) -> tuple[str, str | None]:
    target, sep, label = inner.partition("|")
    return target, (unescape(label) if sep else None)


def markup_html(inner: str, ctx: RenderContext) -> str:
    """One ``<…>`` token (without the brackets) as HTML."""
    if inner.startswith("@"):
        user_id, label = _label(inner[1:])
        return user_html(user_id, ctx, label)
    if inner.startswith("#"):
        channel_id, label = _label(inner[1:])
        return channel_html(channel_id, ctx, label)
    if inner.startswith("!"):
        return _special_html(inner[1:], ctx)
    target, label = _label(inner)
    href = safe_url(unescape(target))
    if href is None:
        # Not a link Slack would make (or one a browser must not follow): show it as typed.
        return esc(f"<{unescape(inner)}>")
    return f"<a{attrs({'href': href, **_LINK_ATTRS})}>{emojify(esc(label or href.removeprefix('mailto:')))}</a>"


def user_html(user_id: str, ctx: RenderContext, label: str | None = None) -> str:
    name = ctx.users.get(user_id) or label or user_id
    own = " bk-mention-self" if user_id == ctx.viewer else ""
    return f'<span class="bk-mention{own}"{attrs({"data-user-id": user_id})}>@{esc(name)}</span>'


def channel_html(channel_id: str, ctx: RenderContext, label: str | None = None) -> str:
    name = ctx.channels.get(channel_id) or label or channel_id
    return f'<span class="bk-mention bk-channel"{attrs({"data-channel-id": channel_id})}>#{esc(name)}</span>'


def usergroup_html(group_id: str, ctx: RenderContext, label: str | None = None) -> str:
    handle = ctx.usergroups.get(group_id) or (label or "").lstrip("@") or group_id
    return f'<span class="bk-mention bk-usergroup"{attrs({"data-usergroup-id": group_id})}>@{esc(handle)}</span>'


def broadcast_html(name: str) -> str:
    return f'<span class="bk-mention bk-broadcast">@{esc(name)}</span>'


def _special_html(inner: str, ctx: RenderContext) -> str:
    command, label = _label(inner)
    if command.startswith("subteam^"):
        return usergroup_html(command.removeprefix("subteam^"), ctx, label)
    if command in _BROADCASTS:
        return broadcast_html(command)
    if command.startswith("date^"):
        epoch, _, rest = command.removeprefix("date^").partition("^")
        fmt, _, link = rest.partition("^")
        return date_html(parse_epoch(epoch), unescape(fmt), label or "", unescape(link), ctx)
    if label:
        return esc(label)
    return placeholder("mrkdwn", f"<!{unescape(command)}>", inline=True)
