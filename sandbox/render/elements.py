"""Block elements: buttons, overflow menus and images here, and the dispatch to every other kind.

The same element draws the same way in a message, an actions block, an accessory or a modal's input
block, so the page handles one set of controls wherever they appear.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .context import RenderContext, as_list, as_map, as_str, attrs, esc, placeholder, safe_url
from .controls import control_attrs
from .inputs import PICKERS, TEXT_INPUTS, picker_html, text_input_html
from .mrkdwn import render_text, text_of
from .selects import (
    CHOICES,
    CONVERSATION_SELECTS,
    STATIC_SELECTS,
    USER_SELECTS,
    choices_html,
    directory_select_html,
    static_select_html,
)

_STYLES = frozenset({"primary", "danger"})
BUTTONS = frozenset({"button", "workflow_button"})


def confirm_json(confirm: Any, ctx: RenderContext) -> str | None:
    """The ``data-confirm`` JSON: plain-text title and button labels, the body as rendered HTML."""
    if not isinstance(confirm, Mapping):
        return None
    style = confirm.get("style")
    return json.dumps(
        {
            "title": text_of(confirm.get("title")) or "Are you sure?",
            "text": render_text(confirm.get("text"), ctx),
            "confirm": text_of(confirm.get("confirm")) or "Yes",
            "deny": text_of(confirm.get("deny")) or "Cancel",
            "style": style if style in _STYLES else None,
        },
        ensure_ascii=False,
    )


def button_html(element: Mapping[str, Any], ctx: RenderContext, block_id: str) -> str:
    style = element.get("style")
    url = as_str(element.get("url"))
    value = element.get("value")
    button_attrs = {
        "type": "button",
        "class": "bk-button" + (f" bk-{style}" if style in _STYLES else ""),
        **control_attrs(element, block_id),
        "data-value": value if isinstance(value, str) else None,
        "data-url": safe_url(url) if url else None,
        "data-confirm": confirm_json(element.get("confirm"), ctx),
        "aria-label": text_of({"text": element.get("accessibility_label")}) or None,
    }
    return f"<button{attrs(button_attrs)}>{render_text(element.get('text'), ctx)}</button>"


def overflow_html(element: Mapping[str, Any], ctx: RenderContext, block_id: str) -> str:
    items = ['<option value="" selected>⋯</option>']
    for option in as_list(element.get("options")):
        node = as_map(option)
        url = as_str(node.get("url"))
        option_attrs = {"value": as_str(node.get("value")), "data-url": safe_url(url) if url else None}
        items.append(f"<option{attrs(option_attrs)}>{esc(text_of(node.get('text')))}</option>")
    overflow_attrs = {
        "class": "bk-overflow",
        **control_attrs(element, block_id),
        "data-confirm": confirm_json(element.get("confirm"), ctx),
    }
    return f"<select{attrs(overflow_attrs)}>{''.join(items)}</select>"


def image_url(node: Mapping[str, Any]) -> str:
    """``image_url``, or the URL of a ``slack_file`` reference."""
    return as_str(node.get("image_url")) or as_str(as_map(node.get("slack_file")).get("url"))


def image_html(node: Mapping[str, Any], css_class: str) -> str:
    """An ``<img>``; a URL a browser must not load shows the alt text instead."""
    url = image_url(node)
    alt = as_str(node.get("alt_text"))
    if not url:
        return placeholder("element", "image without image_url", inline=True)
    src = safe_url(url, image=True)
    if src is None:
        return f'<span class="{css_class} bk-image-blocked">{esc(alt or url)}</span>'
    return f"<img{attrs({'class': css_class, 'src': src, 'alt': alt, 'loading': 'lazy'})}>"


def render_element(
    element: Any,
    ctx: RenderContext,
    block_id: str,
    *,
    required: bool = False,
    dom_id: str | None = None,
) -> str:
    """Any block element as HTML; ``required`` and ``dom_id`` only matter inside input blocks."""
    node = as_map(element)
    kind = as_str(node.get("type"))
    try:
        if kind in BUTTONS:
            return button_html(node, ctx, block_id)
        if kind == "overflow":
            return overflow_html(node, ctx, block_id)
        if kind in STATIC_SELECTS:
            return static_select_html(node, block_id, required=required)
        if kind in USER_SELECTS or kind in CONVERSATION_SELECTS:
            return directory_select_html(node, ctx, block_id, required=required)
        if kind in CHOICES:
            return choices_html(node, ctx, block_id, required=required)
        if kind in TEXT_INPUTS:
            return text_input_html(node, block_id, required=required, dom_id=dom_id)
        if kind in PICKERS:
            return picker_html(node, ctx, block_id, required=required, dom_id=dom_id)
        if kind == "image":
            return image_html(node, "bk-image-element")
    except Exception:  # a malformed element must not take the page down with it
        return placeholder("element", kind or "element", inline=True)
    return placeholder("element", kind or "element", inline=True)
