"""Block Kit validation with Slack's error wording and json-pointers (the limits of Slack's Block Kit reference).

Slack reports schema failures as ``"<message> [json-pointer:/blocks/2/text/text]"``; the wording
below follows the strings Slack is known to send ("must be less than 3001 characters", "no more
than 50 items allowed", "failed to match all allowed schemas") so apps that parse them keep working.
Every problem is collected rather than stopping at the first, which makes test failures readable.
"""

from __future__ import annotations

import copy
import json
import secrets
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
VIEW_MAX_BYTES = 250_000

Surface = Literal["message", "modal", "home"]


@dataclass(frozen=True)
class BlockError:
    message: str
    pointer: str

    def __str__(self) -> str:
        return f"{self.message} [json-pointer:{self.pointer}]"


_BLOCK_TYPES: dict[Surface, frozenset[str]] = {
    "message": frozenset(
        {"section", "header", "context", "divider", "actions", "input", "image", "rich_text", "markdown"}
    ),
    # Slack documents the markdown block as message-only.
    "modal": frozenset({"section", "header", "context", "divider", "actions", "input", "image", "rich_text"}),
    "home": frozenset({"section", "header", "context", "divider", "actions", "input", "image", "rich_text"}),
}

_SELECTS = frozenset(
    {
        "static_select",
        "multi_static_select",
        "external_select",
        "multi_external_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
    }
)
_PICKERS = frozenset({"datepicker", "timepicker", "datetimepicker"})
_ACTIONS_ELEMENTS = _SELECTS | _PICKERS | {"button", "overflow", "checkboxes", "radio_buttons", "workflow_button"}
_ACCESSORY_ELEMENTS = _SELECTS | _PICKERS | {"button", "overflow", "checkboxes", "radio_buttons", "image"}
_INPUT_ELEMENTS = (
    _SELECTS
    | _PICKERS
    | {
        "plain_text_input",
        "number_input",
        "email_text_input",
        "url_text_input",
        "checkboxes",
        "radio_buttons",
        "rich_text_input",
        "file_input",
    }
)
# Elements Slack gives an action_id to when the app leaves it out.
_INTERACTIVE = _ACTIONS_ELEMENTS | _INPUT_ELEMENTS


class _Checker:
    """Accumulates errors; each helper returns the value when it has the right shape."""

    def __init__(self) -> None:
        self.errors: list[BlockError] = []

    def add(self, pointer: str, message: str) -> None:
        self.errors.append(BlockError(message, pointer))

    def obj(self, value: Any, ptr: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return value
        self.add(ptr, "must provide an object")
        return None

    def string(self, parent: dict[str, Any], key: str, ptr: str, *, max_len: int, required: bool = False) -> str | None:
        if key not in parent or parent[key] is None:
            if required:
                self.add(ptr, f"missing required field: {key}")
            return None
        value = parent[key]
        here = f"{ptr}/{key}"
        if not isinstance(value, str):
            self.add(here, "must provide a string")
            return None
        if required and not value:
            self.add(here, "must be more than 0 characters")
        elif len(value) > max_len:
            self.add(here, f"must be less than {max_len + 1} characters")
        return value

    def boolean(self, parent: dict[str, Any], key: str, ptr: str) -> None:
        if key in parent and not isinstance(parent[key], bool):
            self.add(f"{ptr}/{key}", "must provide a boolean")

    def integer(self, parent: dict[str, Any], key: str, ptr: str, *, low: int, high: int) -> int | None:
        if key not in parent:
            return None
        value = parent[key]
        if isinstance(value, bool) or not isinstance(value, int):
            self.add(f"{ptr}/{key}", "must provide an integer")
            return None
        if not low <= value <= high:
            self.add(f"{ptr}/{key}", f"must be between {low} and {high}")
        return value

    def array(
        self,
        parent: dict[str, Any],
        key: str,
        ptr: str,
        *,
        max_items: int,
        min_items: int = 0,
        required: bool = False,
    ) -> list[Any] | None:
        if key not in parent or parent[key] is None:
            if required:
                self.add(ptr, f"missing required field: {key}")
            return None
        value = parent[key]
        here = f"{ptr}/{key}"
        if not isinstance(value, list):
            self.add(here, "must provide an array")
            return None
        if len(value) > max_items:
            self.add(here, f"no more than {max_items} items allowed")
        elif len(value) < min_items:
            self.add(here, f"must provide at least {min_items} items")
        return value

    def enum(self, parent: dict[str, Any], key: str, ptr: str, allowed: Iterable[str]) -> None:
        if key in parent and parent[key] not in set(allowed):
            self.add(f"{ptr}/{key}", "must be a valid enum value")

    def text(
        self,
        parent: dict[str, Any],
        key: str,
        ptr: str,
        *,
        max_len: int = 3000,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        """A composition text object: {"type": plain_text|mrkdwn, "text": "..."}."""
        if key not in parent or parent[key] is None:
            if required:
                self.add(ptr, f"missing required field: {key}")
            return
        self.text_object(parent[key], f"{ptr}/{key}", max_len=max_len, plain_only=plain_only)

    def text_object(self, value: Any, here: str, *, max_len: int, plain_only: bool = False) -> None:
        obj = self.obj(value, here)
        if obj is None:
            return
        allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if "type" not in obj:
            self.add(here, "missing required field: type")
        else:
            self.enum(obj, "type", here, allowed)
        self.string(obj, "text", here, max_len=max_len, required=True)
        self.boolean(obj, "emoji", here)
        self.boolean(obj, "verbatim", here)


def _check_confirm(c: _Checker, parent: dict[str, Any], ptr: str) -> None:
    if "confirm" not in parent:
        return
    here = f"{ptr}/confirm"
    confirm = c.obj(parent["confirm"], here)
    if confirm is None:
        return
    c.text(confirm, "title", here, max_len=100, plain_only=True)
    c.text(confirm, "text", here, max_len=300)
    c.text(confirm, "confirm", here, max_len=30, plain_only=True)
    c.text(confirm, "deny", here, max_len=30, plain_only=True)
    c.enum(confirm, "style", here, ("primary", "danger"))


def _check_option(c: _Checker, value: Any, ptr: str, *, allow_mrkdwn: bool) -> None:
    option = c.obj(value, ptr)
    if option is None:
        return
    c.text(option, "text", ptr, max_len=75, plain_only=not allow_mrkdwn)
    c.string(option, "value", ptr, max_len=150, required=True)
    c.text(option, "description", ptr, max_len=75, plain_only=not allow_mrkdwn, required=False)
    c.string(option, "url", ptr, max_len=3000)


def _check_options(
    c: _Checker,
    element: dict[str, Any],
    ptr: str,
    *,
    max_items: int,
    min_items: int = 1,
    required: bool = True,
    allow_mrkdwn: bool = False,
) -> None:
    options = c.array(element, "options", ptr, max_items=max_items, min_items=min_items, required=required)
    for i, option in enumerate(options or []):
        _check_option(c, option, f"{ptr}/options/{i}", allow_mrkdwn=allow_mrkdwn)


def _check_placeholder(c: _Checker, element: dict[str, Any], ptr: str) -> None:
    c.text(element, "placeholder", ptr, max_len=150, plain_only=True, required=False)


def _check_button(c: _Checker, element: dict[str, Any], ptr: str) -> None:
    c.text(element, "text", ptr, max_len=75, plain_only=True)
    c.string(element, "value", ptr, max_len=2000)
    c.string(element, "url", ptr, max_len=3000)
    c.string(element, "accessibility_label", ptr, max_len=75)
    c.enum(element, "style", ptr, ("primary", "danger"))
    _check_confirm(c, element, ptr)


def _check_select(c: _Checker, element: dict[str, Any], ptr: str) -> None:
    _check_placeholder(c, element, ptr)
    _check_confirm(c, element, ptr)
    kind = element["type"]
    if kind in ("static_select", "multi_static_select"):
        if "option_groups" in element:
            groups = c.array(element, "option_groups", ptr, max_items=100, min_items=1)
            for g, group_value in enumerate(groups or []):
                gptr = f"{ptr}/option_groups/{g}"
                group = c.obj(group_value, gptr)
                if group is not None:
                    c.text(group, "label", gptr, max_len=75, plain_only=True)
                    _check_options(c, group, gptr, max_items=100)
        else:
            _check_options(c, element, ptr, max_items=100)
    if "initial_option" in element:
        _check_option(c, element["initial_option"], f"{ptr}/initial_option", allow_mrkdwn=False)
    c.integer(element, "max_selected_items", ptr, low=1, high=100)
    c.integer(element, "min_query_length", ptr, low=0, high=1000)


def _check_overflow(c: _Checker, element: dict[str, Any], ptr: str) -> None:
    _check_options(c, element, ptr, max_items=5)
    _check_confirm(c, element, ptr)


def _check_choice(c: _Checker, element: dict[str, Any], ptr: str) -> None:
    _check_options(c, element, ptr, max_items=10, allow_mrkdwn=True)
    _check_confirm(c, element, ptr)


def _check_plain_text_input(c: _Checker, element: dict[str, Any], ptr: str) -> None:
    _check_placeholder(c, element, ptr)
    low = c.integer(element, "min_length", ptr, low=0, high=3000)
    high = c.integer(element, "max_length", ptr, low=1, high=3000)
    if low is not None and high is not None and low > high:
        c.add(f"{ptr}/min_length", "must be less than or equal to max_length")
    c.boolean(element, "multiline", ptr)
    c.string(element, "initial_value", ptr, max_len=3000)


def _check_placeholder_only(c: _Checker, element: dict[str, Any], ptr: str) -> None:
    _check_placeholder(c, element, ptr)
    _check_confirm(c, element, ptr)


def _check_image_element(c: _Checker, element: dict[str, Any], ptr: str) -> None:
    if "image_url" not in element and "slack_file" not in element:
        c.add(ptr, "missing required field: image_url")
    c.string(element, "image_url", ptr, max_len=3000)
    c.string(element, "alt_text", ptr, max_len=2000, required=True)


def _no_extra_checks(c: _Checker, element: dict[str, Any], ptr: str) -> None:
    return None


_ElementCheck = Callable[[_Checker, dict[str, Any], str], None]
_ELEMENT_CHECKS: dict[str, _ElementCheck] = {
    **dict.fromkeys(_SELECTS, _check_select),
    **dict.fromkeys(_PICKERS, _check_placeholder_only),
    "button": _check_button,
    "overflow": _check_overflow,
    "checkboxes": _check_choice,
    "radio_buttons": _check_choice,
    "plain_text_input": _check_plain_text_input,
    "number_input": _check_placeholder_only,
    "email_text_input": _check_placeholder_only,
    "url_text_input": _check_placeholder_only,
    "rich_text_input": _check_placeholder_only,
    "image": _check_image_element,
    "workflow_button": _no_extra_checks,
    "file_input": _no_extra_checks,
}


def _check_element(c: _Checker, value: Any, ptr: str, allowed: frozenset[str]) -> str | None:
    """Validates one element and returns its action_id (for per-block uniqueness)."""
    element = c.obj(value, ptr)
    if element is None:
        return None
    kind = element.get("type")
    if kind not in allowed:
        c.add(ptr, "failed to match all allowed schemas")
        return None
    action_id = c.string(element, "action_id", ptr, max_len=255)
    _ELEMENT_CHECKS[kind](c, element, ptr)
    return action_id


def _check_section(c: _Checker, block: dict[str, Any], ptr: str) -> None:
    if "text" not in block and "fields" not in block:
        c.add(ptr, "must provide text or fields")
    c.text(block, "text", ptr, max_len=3000, required=False)
    fields = c.array(block, "fields", ptr, max_items=10, min_items=1)
    for i, field in enumerate(fields or []):
        c.text_object(field, f"{ptr}/fields/{i}", max_len=2000)
    if "accessory" in block:
        _check_element(c, block["accessory"], f"{ptr}/accessory", _ACCESSORY_ELEMENTS)
    c.boolean(block, "expand", ptr)


def _check_header(c: _Checker, block: dict[str, Any], ptr: str) -> None:
    c.text(block, "text", ptr, max_len=150, plain_only=True)


def _check_context(c: _Checker, block: dict[str, Any], ptr: str) -> None:
    elements = c.array(block, "elements", ptr, max_items=10, min_items=1, required=True)
    for i, value in enumerate(elements or []):
        eptr = f"{ptr}/elements/{i}"
        element = c.obj(value, eptr)
        if element is None:
            continue
        if element.get("type") == "image":
            _check_image_element(c, element, eptr)
        elif element.get("type") in ("plain_text", "mrkdwn"):
            c.string(element, "text", eptr, max_len=3000, required=True)
        else:
            c.add(eptr, "failed to match all allowed schemas")


def _check_actions(c: _Checker, block: dict[str, Any], ptr: str) -> None:
    elements = c.array(block, "elements", ptr, max_items=25, min_items=1, required=True)
    seen: dict[str, int] = {}
    for i, value in enumerate(elements or []):
        action_id = _check_element(c, value, f"{ptr}/elements/{i}", _ACTIONS_ELEMENTS)
        if action_id is None:
            continue
        if action_id in seen:
            c.add(
                f"{ptr}/elements/{i}/action_id",
                f"duplicate action_id, first used by {ptr}/elements/{seen[action_id]}",
            )
        else:
            seen[action_id] = i


def _check_input(c: _Checker, block: dict[str, Any], ptr: str) -> None:
    c.text(block, "label", ptr, max_len=2000, plain_only=True)
    c.text(block, "hint", ptr, max_len=2000, plain_only=True, required=False)
    if "element" not in block:
        c.add(ptr, "missing required field: element")
    else:
        _check_element(c, block["element"], f"{ptr}/element", _INPUT_ELEMENTS)
    c.boolean(block, "optional", ptr)
    c.boolean(block, "dispatch_action", ptr)


def _check_image_block(c: _Checker, block: dict[str, Any], ptr: str) -> None:
    _check_image_element(c, block, ptr)
    c.text(block, "title", ptr, max_len=2000, plain_only=True, required=False)


def _check_rich_text(c: _Checker, block: dict[str, Any], ptr: str) -> None:
    c.array(block, "elements", ptr, max_items=10_000, required=True)


def _check_markdown(c: _Checker, block: dict[str, Any], ptr: str) -> None:
    c.string(block, "text", ptr, max_len=12_000, required=True)


_BLOCK_CHECKS: dict[str, Callable[[_Checker, dict[str, Any], str], None]] = {
    "section": _check_section,
    "header": _check_header,
    "context": _check_context,
    "divider": _no_extra_checks,
    "actions": _check_actions,
    "input": _check_input,
    "image": _check_image_block,
    "rich_text": _check_rich_text,
    "markdown": _check_markdown,
}


def _check_blocks(c: _Checker, blocks: Any, ptr: str, *, surface: Surface, min_blocks: int) -> None:
    max_blocks = MESSAGE_MAX_BLOCKS if surface == "message" else VIEW_MAX_BLOCKS
    if not isinstance(blocks, list):
        c.add(ptr, "must provide an array")
        return
    if len(blocks) > max_blocks:
        c.add(ptr, f"no more than {max_blocks} items allowed")
    elif len(blocks) < min_blocks:
        c.add(ptr, f"must provide at least {min_blocks} items")
    block_ids: dict[str, int] = {}
    for i, value in enumerate(blocks):
        bptr = f"{ptr}/{i}"
        block = c.obj(value, bptr)
        if block is None:
            continue
        kind = block.get("type")
        if kind not in _BLOCK_TYPES[surface]:
            c.add(bptr, "failed to match all allowed schemas")
            continue
        block_id = c.string(block, "block_id", bptr, max_len=255)
        if block_id is not None:
            if block_id in block_ids:
                c.add(f"{bptr}/block_id", f"duplicate block_id, first used by {ptr}/{block_ids[block_id]}")
            else:
                block_ids[block_id] = i
        _BLOCK_CHECKS[kind](c, block, bptr)


def validate_message_blocks(blocks: Any, pointer: str = "/blocks") -> list[BlockError]:
    c = _Checker()
    _check_blocks(c, blocks, pointer, surface="message", min_blocks=0)
    return c.errors


def view_too_large(view: Any) -> bool:
    return len(json.dumps(view, separators=(",", ":")).encode()) > VIEW_MAX_BYTES


def validate_view(view: Any, pointer: str = "/view") -> list[BlockError]:
    c = _Checker()
    obj = c.obj(view, pointer)
    if obj is None:
        return c.errors
    kind = obj.get("type")
    if kind not in ("modal", "home"):
        c.add(pointer, "failed to match all allowed schemas")
        c.enum(obj, "type", pointer, ("modal", "home"))
        return c.errors
    if kind == "modal":
        c.text(obj, "title", pointer, max_len=24, plain_only=True)
    else:
        c.text(obj, "title", pointer, max_len=24, plain_only=True, required=False)
    c.text(obj, "submit", pointer, max_len=24, plain_only=True, required=False)
    c.text(obj, "close", pointer, max_len=24, plain_only=True, required=False)
    c.string(obj, "private_metadata", pointer, max_len=3000)
    c.string(obj, "callback_id", pointer, max_len=255)
    c.string(obj, "external_id", pointer, max_len=255)
    for flag in ("clear_on_close", "notify_on_close", "submit_disabled"):
        c.boolean(obj, flag, pointer)
    if "blocks" not in obj:
        c.add(pointer, "missing required field: blocks")
    else:
        _check_blocks(c, obj["blocks"], f"{pointer}/blocks", surface=kind, min_blocks=1)
    has_input = isinstance(obj.get("blocks"), list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in obj["blocks"]
    )
    if kind == "modal" and has_input and "submit" not in obj:
        c.add(pointer, "missing required field: submit (a modal with input blocks needs a submit button)")
    return c.errors


_ID_ALPHABET = string.ascii_letters + string.digits


def _generated_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(5))


def with_generated_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy of valid blocks with block_id/action_id filled in where the app left them out.

    Slack does this on every stored message and view, so apps that forget ids still receive
    (random) ids in block_actions payloads; mirroring it keeps the driver's payloads honest.
    """
    result = copy.deepcopy(blocks)
    for block in result:
        block.setdefault("block_id", _generated_id())
        elements: list[Any] = []
        if block.get("type") == "actions":
            elements = block.get("elements", [])
        elif "accessory" in block:
            elements = [block["accessory"]]
        elif block.get("type") == "input":
            elements = [block["element"]]
        for element in elements:
            if isinstance(element, dict) and element.get("type") in _INTERACTIVE:
                element.setdefault("action_id", _generated_id())
    return result
