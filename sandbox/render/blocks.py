"""Blocks and messages.

Every block is a ``<div>`` (the divider an ``<hr>``) with ``data-block-type`` and ``data-block-id``;
its class is ``bk-<type>`` (``bk-input`` for input blocks, which also carry ``data-optional``).
A block the renderer cannot draw, or one so malformed it would raise, becomes a placeholder in place,
so the rest of the message still shows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

from .context import RenderContext, as_list, as_map, as_str, attrs, placeholder
from .controls import control_id
from .elements import image_html, render_element
from .mrkdwn import mrkdwn_html, render_plain, render_text
from .richtext import rich_text_html

Surface = Literal["message", "modal", "home"]
_SINGLE_CONTROLS = frozenset(
    {
        "plain_text_input",
        "email_text_input",
        "url_text_input",
        "number_input",
        "datepicker",
        "timepicker",
        "datetimepicker",
    }
)


class _Blocks:
    """What one rendering shares across its blocks: the context and the modal's errors."""

    def __init__(self, ctx: RenderContext, errors: Mapping[str, str]) -> None:
        self.ctx = ctx
        self.errors = errors

    def block(self, block: Any) -> str:
        if not isinstance(block, Mapping):
            return placeholder("block", type(block).__name__)
        kind = as_str(block.get("type"))
        renderer = _RENDERERS.get(kind)
        if renderer is None:
            return placeholder("block", kind or "block")
        try:
            return renderer(self, block, as_str(block.get("block_id")))
        except Exception:  # one broken block must not hide the message around it
            return placeholder("block", kind)

    def text_div(self, obj: Any, css_class: str) -> str:
        kind = "plain" if as_map(obj).get("type") == "plain_text" else "mrkdwn"
        return f'<div class="{css_class} bk-{kind}">{render_text(obj, self.ctx)}</div>'

    def header(self, block: Mapping[str, Any], block_id: str) -> str:
        return _wrap("header", block_id, render_text(block.get("text"), self.ctx))

    def section(self, block: Mapping[str, Any], block_id: str) -> str:
        text = block.get("text")
        fields = as_list(block.get("fields"))
        if text is None and not fields:
            return placeholder("block", "section without text or fields")
        main = self.text_div(text, "bk-section-text") if text is not None else ""
        if fields:
            main += f'<div class="bk-fields">{"".join(self.text_div(f, "bk-field") for f in fields)}</div>'
        body = f'<div class="bk-section-main">{main}</div>'
        accessory = block.get("accessory")
        if accessory is not None:
            body += f'<div class="bk-accessory">{self.accessory(accessory, block_id)}</div>'
        return _wrap("section", block_id, body)

    def accessory(self, element: Any, block_id: str) -> str:
        if as_map(element).get("type") == "image":
            return image_html(as_map(element), "bk-accessory-image")
        return render_element(element, self.ctx, block_id)

    def context(self, block: Mapping[str, Any], block_id: str) -> str:
        items: list[str] = []
        for element in as_list(block.get("elements")):
            node = as_map(element)
            if node.get("type") == "image":
                items.append(image_html(node, "bk-context-image"))
            elif node.get("type") in ("plain_text", "mrkdwn"):
                items.append(self.text_div(node, "bk-context-text"))
            else:
                items.append(placeholder("element", as_str(node.get("type")) or "element"))
        return _wrap("context", block_id, "".join(items))

    def divider(self, block: Mapping[str, Any], block_id: str) -> str:
        return f'<hr class="bk-divider"{attrs({"data-block-type": "divider", "data-block-id": block_id})}>'

    def actions(self, block: Mapping[str, Any], block_id: str) -> str:
        inner = "".join(render_element(e, self.ctx, block_id) for e in as_list(block.get("elements")))
        return _wrap("actions", block_id, inner)

    def image(self, block: Mapping[str, Any], block_id: str) -> str:
        title = block.get("title")
        caption = f'<figcaption class="bk-image-title">{render_text(title, self.ctx)}</figcaption>' if title else ""
        return _wrap("image", block_id, caption + image_html(block, "bk-image-img"))

    def rich_text(self, block: Mapping[str, Any], block_id: str) -> str:
        return _wrap("rich_text", block_id, rich_text_html(block.get("elements"), self.ctx))

    def input(self, block: Mapping[str, Any], block_id: str) -> str:
        element = as_map(block.get("element"))
        optional = block.get("optional") is True
        kind = as_str(element.get("type"))
        dom_id = control_id(block_id, as_str(element.get("action_id"))) if kind in _SINGLE_CONTROLS else None
        flag = '<span class="bk-optional"> (optional)</span>' if optional else ""
        label = render_text(block.get("label"), self.ctx)
        label_html = (
            f'<label class="bk-label"{attrs({"for": dom_id})}>{label}{flag}</label>'
            if dom_id
            else f'<div class="bk-label">{label}{flag}</div>'
        )
        control = render_element(element, self.ctx, block_id, required=not optional, dom_id=dom_id)
        hint = block.get("hint")
        hint_html = f'<div class="bk-hint">{render_text(hint, self.ctx)}</div>' if hint else ""
        error = self.errors.get(block_id)
        error_html = f'<div class="bk-error" role="alert">{render_plain(error)}</div>' if error else ""
        wrapper = {
            "class": "bk-input",
            "data-block-type": "input",
            "data-block-id": block_id,
            "data-optional": "true" if optional else "false",
            "data-dispatch-action": "true" if block.get("dispatch_action") is True else None,
            "data-has-error": "true" if error else None,
        }
        return f"<div{attrs(wrapper)}>{label_html}{control}{hint_html}{error_html}</div>"


def _wrap(kind: str, block_id: str, inner: str) -> str:
    css = f"bk-{kind.replace('_', '-')}"
    return f'<div class="{css}"{attrs({"data-block-type": kind, "data-block-id": block_id})}>{inner}</div>'


_RENDERERS: dict[str, Callable[[_Blocks, Mapping[str, Any], str], str]] = {
    "header": _Blocks.header,
    "section": _Blocks.section,
    "context": _Blocks.context,
    "divider": _Blocks.divider,
    "actions": _Blocks.actions,
    "image": _Blocks.image,
    "rich_text": _Blocks.rich_text,
    "input": _Blocks.input,
}


def blocks_html(blocks: Any, ctx: RenderContext, *, surface: Surface, errors: Mapping[str, str] | None = None) -> str:
    if not isinstance(blocks, list | tuple):
        return placeholder("blocks", type(blocks).__name__)
    renderer = _Blocks(ctx, errors or {})
    inner = "".join(renderer.block(b) for b in blocks)
    return f'<div class="bk-blocks"{attrs({"data-surface": surface})}>{inner}</div>'


def render_blocks(blocks: Sequence[Mapping[str, Any]], ctx: RenderContext, *, surface: Surface) -> str:
    return blocks_html(blocks, ctx, surface=surface)


def _attachment_html(attachment: Any, ctx: RenderContext) -> str:
    node = as_map(attachment)
    if not node:
        return placeholder("attachment", type(attachment).__name__)
    if node.get("blocks"):
        body = blocks_html(node.get("blocks"), ctx, surface="message")
    else:
        body = f'<div class="bk-mrkdwn">{mrkdwn_html(as_str(node.get("text") or node.get("fallback")), ctx)}</div>'
    color = as_str(node.get("color"))
    return f'<div class="bk-attachment"{attrs({"data-color": color or None})}>{body}</div>'


def render_message(message: Mapping[str, Any], ctx: RenderContext) -> str:
    """Blocks when the message has any, else its ``text`` as mrkdwn (what Slack shows either way)."""
    node = as_map(message)
    blocks = node.get("blocks")
    if blocks:
        body = blocks_html(blocks, ctx, surface="message")
    else:
        body = f'<div class="bk-message-text bk-mrkdwn">{mrkdwn_html(as_str(node.get("text")), ctx)}</div>'
    body += "".join(_attachment_html(a, ctx) for a in as_list(node.get("attachments")))
    ts = as_str(node.get("ts"))
    return f'<div class="bk-message"{attrs({"data-ts": ts or None})}>{body}</div>'
