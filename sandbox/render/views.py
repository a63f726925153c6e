"""Modals: a title bar, the blocks (input blocks as form controls) and the submit/close buttons.

Errors from a ``response_action: errors`` reply show under their input block. An error for a
block_id the view has no input block for is shown at the top instead of being lost: Slack would
refuse such a reply, and whoever is testing the app should see that something was wrong.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .blocks import blocks_html
from .context import RenderContext, as_list, as_map, as_str, attrs, esc, placeholder
from .mrkdwn import render_plain, render_text


def _input_block_ids(blocks: Any) -> set[str]:
    return {as_str(as_map(b).get("block_id")) for b in as_list(blocks) if as_map(b).get("type") == "input"}


def _button_label(view: Mapping[str, Any], key: str, default: str, ctx: RenderContext) -> str:
    text = view.get(key)
    return render_text(text, ctx) if text is not None else esc(default)


def render_view(view: Mapping[str, Any], ctx: RenderContext, errors: Mapping[str, str] | None = None) -> str:
    node = as_map(view)
    if not node:
        return placeholder("view", type(view).__name__)
    problems = {str(k): str(v) for k, v in as_map(errors).items()}
    blocks = node.get("blocks")
    known = _input_block_ids(blocks)
    stray = "".join(
        f'<div class="bk-error bk-error-unmatched" role="alert">{esc(block_id)}: {render_plain(text)}</div>'
        for block_id, text in problems.items()
        if block_id not in known
    )
    title = node.get("title")
    title_html = render_text(title, ctx) if title is not None else ""
    close = f'<button type="button" class="bk-close">{_button_label(node, "close", "Cancel", ctx)}</button>'
    submit = (
        f'<button type="button" class="bk-submit">{_button_label(node, "submit", "Submit", ctx)}</button>'
        if node.get("submit") is not None
        else ""
    )
    modal_attrs = {
        "class": "bk-modal",
        "data-view-id": as_str(node.get("id")),
        "data-callback-id": as_str(node.get("callback_id")),
        "data-view-type": as_str(node.get("type")) or None,
    }
    return (
        f"<div{attrs(modal_attrs)}>"
        f'<div class="bk-modal-header"><div class="bk-modal-title">{title_html}</div></div>'
        f'<div class="bk-modal-body">{stray}{blocks_html(blocks or [], ctx, surface="modal", errors=problems)}</div>'
        f'<div class="bk-modal-footer">{close}{submit}</div>'
        "</div>"
    )
