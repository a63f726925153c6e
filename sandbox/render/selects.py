"""Option-based elements: static, external, user and conversation selects, radio buttons, checkboxes.

Selects are real ``<select>``s whose ``<option value>`` is the Block Kit option's ``value`` (a user
or channel id for user and conversation selects, whose choices come from the render context).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .context import RenderContext, as_list, as_map, as_str, attrs, esc
from .controls import control_attrs, group_name, placeholder_text
from .mrkdwn import render_text, text_of

STATIC_SELECTS = frozenset({"static_select", "multi_static_select", "external_select", "multi_external_select"})
USER_SELECTS = frozenset({"users_select", "multi_users_select"})
CONVERSATION_SELECTS = frozenset(
    {"conversations_select", "multi_conversations_select", "channels_select", "multi_channels_select"}
)
CHOICES = frozenset({"radio_buttons", "checkboxes"})
# element type -> key of its initial value(s)
_INITIAL_IDS: dict[str, str] = {
    "users_select": "initial_user",
    "multi_users_select": "initial_users",
    "conversations_select": "initial_conversation",
    "multi_conversations_select": "initial_conversations",
    "channels_select": "initial_channel",
    "multi_channels_select": "initial_channels",
}


def _options(element: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [as_map(o) for o in as_list(element.get("options"))]


def _initial_values(element: Mapping[str, Any]) -> set[str]:
    picked = [element.get("initial_option"), *as_list(element.get("initial_options"))]
    return {as_str(as_map(o).get("value")) for o in picked if isinstance(o, Mapping)}


def _option_tag(option: Mapping[str, Any], chosen: set[str]) -> str:
    value = as_str(option.get("value"))
    description = text_of(option.get("description"))
    tag_attrs = {"value": value, "selected": value in chosen, "title": description or None}
    return f"<option{attrs(tag_attrs)}>{esc(text_of(option.get('text')) or value)}</option>"


def _select(element: Mapping[str, Any], block_id: str, body: str, *, required: bool, empty: bool) -> str:
    multi = as_str(element.get("type")).startswith("multi_")
    tag_attrs = {
        "class": "bk-select",
        **control_attrs(element, block_id, required=required),
        "multiple": multi,
        "data-max-selected-items": element.get("max_selected_items") if multi else None,
    }
    lead = ""
    if not multi:
        # The empty choice shows the placeholder and lets an optional select be left blank.
        text = placeholder_text(element, "Select an item")
        lead = f'<option value=""{" selected" if empty else ""}>{esc(text)}</option>'
    return f"<select{attrs(tag_attrs)}>{lead}{body}</select>"


def static_select_html(element: Mapping[str, Any], block_id: str, *, required: bool) -> str:
    chosen = _initial_values(element)
    parts = [_option_tag(o, chosen) for o in _options(element)]
    for group in as_list(element.get("option_groups")):
        group_map = as_map(group)
        inner = "".join(_option_tag(o, chosen) for o in _options(group_map))
        parts.append(f"<optgroup{attrs({'label': text_of(group_map.get('label'))})}>{inner}</optgroup>")
    if as_str(element.get("type")).endswith("external_select") and not parts:
        # External options arrive on demand; only the preselected ones are known up front.
        picked = [element.get("initial_option"), *as_list(element.get("initial_options"))]
        parts = [_option_tag(as_map(o), chosen) for o in picked if isinstance(o, Mapping)]
    return _select(element, block_id, "".join(parts), required=required, empty=not chosen)


def _id_options(directory: Mapping[str, str], chosen: Sequence[str], prefix: str) -> str:
    names = dict(directory)
    for missing in chosen:
        names.setdefault(missing, missing)  # an initial value the directory lacks is still shown
    ordered = sorted(names.items(), key=lambda kv: (kv[1].lower(), kv[0]))
    return "".join(
        f"<option{attrs({'value': key, 'selected': key in chosen})}>{esc(prefix + name)}</option>"
        for key, name in ordered
    )


def directory_select_html(element: Mapping[str, Any], ctx: RenderContext, block_id: str, *, required: bool) -> str:
    kind = as_str(element.get("type"))
    initial = element.get(_INITIAL_IDS.get(kind, ""))
    chosen = [as_str(v) for v in (as_list(initial) if kind.startswith("multi_") else [initial]) if as_str(v)]
    if kind in USER_SELECTS:
        body = _id_options(ctx.users, chosen, "")
    else:
        body = _id_options(ctx.channels, chosen, "#")
    return _select(element, block_id, body, required=required, empty=not chosen)


def choices_html(element: Mapping[str, Any], ctx: RenderContext, block_id: str, *, required: bool) -> str:
    kind = as_str(element.get("type"))
    radio = kind == "radio_buttons"
    chosen = _initial_values(element)
    base = control_attrs(element, block_id)
    name = group_name(block_id, as_str(element.get("action_id")))
    items: list[str] = []
    for option in _options(element):
        value = as_str(option.get("value"))
        input_attrs = {
            "type": "radio" if radio else "checkbox",
            "name": name,
            "value": value,
            **base,
            # A required radio group needs one choice; a checkbox marked required would need every box.
            "required": (required and radio) or None,
            "checked": value in chosen,
        }
        description = option.get("description")
        extra = f'<span class="bk-choice-description">{render_text(description, ctx)}</span>' if description else ""
        items.append(
            f'<label class="bk-choice"><input{attrs(input_attrs)}>'
            f'<span class="bk-choice-text">{render_text(option.get("text"), ctx)}</span>{extra}</label>'
        )
    group_attrs = {"class": f"bk-{kind.replace('_', '-')}", "role": "radiogroup" if radio else "group", **base}
    return f"<div{attrs(group_attrs)}>{''.join(items)}</div>"
