"""The rich_text block: sections, lists, quotes and preformatted text with styled inline elements.

Unlike mrkdwn, rich text is structured: its strings are raw (no entities, no markup), so they are
only HTML-escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .context import RenderContext, as_list, as_map, as_str, attrs, esc, placeholder, safe_url
from .dates import date_html, parse_epoch
from .emoji import emoji_char
from .mrkdwn import broadcast_html, channel_html, user_html, usergroup_html

_STYLE_TAGS: tuple[tuple[str, str], ...] = (
    ("code", "code"),
    ("bold", "b"),
    ("italic", "i"),
    ("strike", "s"),
    ("underline", "u"),
)


def _styled(inner: str, style: Any) -> str:
    flags = as_map(style)
    for name, tag in _STYLE_TAGS:
        if flags.get(name) is True:
            css = ' class="bk-code"' if tag == "code" else ""
            inner = f"<{tag}{css}>{inner}</{tag}>"
    return inner


def _inline(node: Mapping[str, Any], ctx: RenderContext) -> str:
    kind = as_str(node.get("type"))
    if kind == "text":
        return _styled(esc(as_str(node.get("text"))).replace("\n", "<br>"), node.get("style"))
    if kind == "link":
        url = as_str(node.get("url"))
        label = esc(as_str(node.get("text")) or url)
        href = safe_url(url)
        if href is None:
            return _styled(label, node.get("style"))
        link_attrs = {"class": "bk-link", "href": href, "target": "_blank", "rel": "noopener noreferrer"}
        return f"<a{attrs(link_attrs)}>{_styled(label, node.get('style'))}</a>"
    if kind == "user":
        return user_html(as_str(node.get("user_id")), ctx)
    if kind == "channel":
        return channel_html(as_str(node.get("channel_id")), ctx)
    if kind == "usergroup":
        return usergroup_html(as_str(node.get("usergroup_id")), ctx)
    if kind == "broadcast":
        return broadcast_html(as_str(node.get("range"), "here"))
    if kind == "emoji":
        name = as_str(node.get("name"))
        char = emoji_char(name, as_str(node.get("unicode")))
        return f'<span class="bk-emoji"{attrs({"title": f":{name}:"})}>{esc(char or f":{name}:")}</span>'
    if kind == "date":
        fmt = as_str(node.get("format"))
        fallback = as_str(node.get("fallback"))
        return date_html(parse_epoch(node.get("timestamp")), fmt, fallback, as_str(node.get("url")), ctx)
    if kind == "color":
        value = as_str(node.get("value"))
        return f'<span class="bk-color"{attrs({"data-color": value})}>{esc(value)}</span>'
    return placeholder("rich_text", kind or "rich text element", inline=True)


def _inlines(section: Mapping[str, Any], ctx: RenderContext) -> str:
    return "".join(_inline(as_map(e), ctx) for e in as_list(section.get("elements")))


def _list(node: Mapping[str, Any], ctx: RenderContext) -> str:
    ordered = node.get("style") == "ordered"
    tag = "ol" if ordered else "ul"
    indent = node.get("indent")
    offset = node.get("offset")
    list_attrs = {
        "class": f"bk-rt-list bk-rt-{'ordered' if ordered else 'bullet'}",
        "data-indent": indent if isinstance(indent, int) and not isinstance(indent, bool) else None,
        "start": offset + 1 if ordered and isinstance(offset, int) and not isinstance(offset, bool) else None,
    }
    items = []
    for item in as_list(node.get("elements")):
        item_map = as_map(item)
        if item_map.get("type") == "rich_text_section":
            items.append(f"<li>{_inlines(item_map, ctx)}</li>")
        else:
            items.append(f"<li>{placeholder('rich_text', as_str(item_map.get('type')), inline=True)}</li>")
    return f"<{tag}{attrs(list_attrs)}>{''.join(items)}</{tag}>"


def rich_text_html(elements: Any, ctx: RenderContext) -> str:
    """The inside of a rich_text block (its ``elements``)."""
    out: list[str] = []
    for element in as_list(elements):
        node = as_map(element)
        kind = node.get("type")
        if kind == "rich_text_section":
            out.append(f'<div class="bk-rt-section">{_inlines(node, ctx)}</div>')
        elif kind == "rich_text_list":
            out.append(_list(node, ctx))
        elif kind == "rich_text_quote":
            out.append(f'<blockquote class="bk-quote">{_inlines(node, ctx)}</blockquote>')
        elif kind == "rich_text_preformatted":
            out.append(f'<pre class="bk-pre">{_inlines(node, ctx)}</pre>')
        else:
            out.append(placeholder("rich_text", kind if isinstance(kind, str) else "rich text element"))
    return "".join(out)
