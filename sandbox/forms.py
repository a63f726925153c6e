"""From what a browser form collected to Slack's typed ``view.state.values``.

The page sends plain strings (``{block_id: {action_id: str | list[str] | None}}``); Slack's client
sends typed state per element kind, with selected options copied from the view itself. Doing that
translation here, against the view the app published, means the app receives exactly the shapes
it would receive from Slack, and a value the view never offered is refused instead of forwarded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

RawValue = str | list[str] | None
RawValues = Mapping[str, Mapping[str, Any]]

TEXT_KINDS = frozenset({"plain_text_input", "number_input", "email_text_input", "url_text_input"})
SINGLE_OPTION_KINDS = frozenset({"static_select", "radio_buttons", "overflow"})
MULTI_OPTION_KINDS = frozenset({"multi_static_select", "checkboxes"})
# element type -> (state key, initial-value key, is a list)
ID_KINDS: dict[str, tuple[str, str, bool]] = {
    "users_select": ("selected_user", "initial_user", False),
    "multi_users_select": ("selected_users", "initial_users", True),
    "conversations_select": ("selected_conversation", "initial_conversation", False),
    "multi_conversations_select": ("selected_conversations", "initial_conversations", True),
    "channels_select": ("selected_channel", "initial_channel", False),
    "multi_channels_select": ("selected_channels", "initial_channels", True),
}


class FormError(ValueError):
    """The collected values do not fit the view; ``problems`` names each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def interactive_elements(view: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(block_id, element) for every element that can hold state: input, actions and accessories."""
    for block in view.get("blocks") or []:
        if not isinstance(block, dict):
            continue
        block_id = str(block.get("block_id", ""))
        found: list[Any] = []
        if block.get("type") == "input":
            found.append(block.get("element"))
        elif block.get("type") == "actions":
            found.extend(block.get("elements") or [])
        elif block.get("type") == "section":
            found.append(block.get("accessory"))
        for element in found:
            if isinstance(element, dict) and isinstance(element.get("action_id"), str):
                yield block_id, element


def state_values(view: Mapping[str, Any], raw: RawValues, *, tz: str = "UTC") -> dict[str, dict[str, dict[str, Any]]]:
    """Slack's ``view.state.values`` for ``view`` given the browser's raw values.

    Elements the browser did not report keep their initial value (or an empty one), as Slack's
    client reports every stateful element. ``tz`` is the submitting user's zone: Slack reads a
    datetimepicker's wall-clock value in it. Raises FormError listing every value that does not
    fit the view (unknown block or action id, option the view does not offer, malformed value).
    """
    problems = _shape_problems(raw)
    if problems:
        raise FormError(problems)
    elements: dict[tuple[str, str], dict[str, Any]] = {}
    for block_id, element in interactive_elements(view):
        elements[(block_id, element["action_id"])] = element
    block_ids = {block_id for block_id, _ in elements}
    for block_id, actions in raw.items():
        if block_id not in block_ids:
            problems.append(f"the view has no input block {block_id!r}")
            continue
        for action_id in actions:
            if (block_id, action_id) not in elements:
                problems.append(f"block {block_id!r} has no element {action_id!r}")
    values: dict[str, dict[str, dict[str, Any]]] = {}
    for (block_id, action_id), element in elements.items():
        reported = raw.get(block_id, {})
        if action_id not in reported and element.get("type") not in _STATEFUL:
            continue  # buttons, overflow menus and placeholders the page could not draw hold no state
        try:
            state = element_state(element, reported[action_id], tz=tz) if action_id in reported else initial(element)
        except FormError as e:
            problems.extend(f"{block_id}/{action_id}: {p}" for p in e.problems)
            continue
        values.setdefault(block_id, {})[action_id] = state
    if problems:
        raise FormError(problems)
    return values


def _shape_problems(raw: Any) -> list[str]:
    if not isinstance(raw, Mapping):
        return ["values must be an object of block ids"]
    problems = []
    for block_id, actions in raw.items():
        if not isinstance(actions, Mapping):
            problems.append(f"values of block {block_id!r} must be an object of action ids")
            continue
        for action_id, value in actions.items():
            if not (value is None or isinstance(value, str) or is_str_list(value)):
                problems.append(f"{block_id}/{action_id}: a value must be a string, a list of strings or null")
    return problems


def is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def element_state(element: Mapping[str, Any], value: RawValue, *, tz: str = "UTC") -> dict[str, Any]:
    """The typed state of one element (also the typed part of a block_actions action)."""
    kind = str(element.get("type"))
    converter = _CONVERTERS.get(kind)
    if converter is None:
        raise FormError([f"element type {kind!r} cannot be filled in from the sandbox page"])
    return {"type": kind, **converter(element, value, tz)}


def initial(element: Mapping[str, Any]) -> dict[str, Any]:
    """The state Slack reports for an element the user left untouched."""
    kind = str(element.get("type"))
    if kind in TEXT_KINDS:
        return {"type": kind, "value": element.get("initial_value")}
    if kind in SINGLE_OPTION_KINDS:
        return {"type": kind, "selected_option": element.get("initial_option")}
    if kind in MULTI_OPTION_KINDS:
        return {"type": kind, "selected_options": list(element.get("initial_options") or [])}
    if kind in ID_KINDS:
        key, initial_key, many = ID_KINDS[kind]
        return {"type": kind, key: element.get(initial_key, [] if many else None)}
    keys = {"datepicker": "date", "timepicker": "time", "datetimepicker": "date_time"}
    return {"type": kind, f"selected_{keys[kind]}": element.get(f"initial_{keys[kind]}")}


def _single(value: RawValue) -> str | None:
    if isinstance(value, list):
        if len(value) > 1:
            raise FormError([f"expected one value, got {len(value)}"])
        value = value[0] if value else None
    return value or None


def _many(value: RawValue) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [v for v in value if v]


def _options(element: Mapping[str, Any]) -> list[dict[str, Any]]:
    options = [o for o in element.get("options") or [] if isinstance(o, dict)]
    for group in element.get("option_groups") or []:
        if isinstance(group, dict):
            options += [o for o in group.get("options") or [] if isinstance(o, dict)]
    return options


def _option(element: Mapping[str, Any], value: str) -> dict[str, Any]:
    for option in _options(element):
        if option.get("value") == value:
            return dict(option)
    offered = ", ".join(repr(o.get("value")) for o in _options(element))
    raise FormError([f"{value!r} is not one of the options ({offered})"])


def _text(element: Mapping[str, Any], value: RawValue, tz: str) -> dict[str, Any]:
    # Slack reports an emptied text field as null, not as "".
    text = value if isinstance(value, str) else _single(value)
    return {"value": text if text else None}


def _select_one(element: Mapping[str, Any], value: RawValue, tz: str) -> dict[str, Any]:
    chosen = _single(value)
    return {"selected_option": _option(element, chosen) if chosen else None}


def _select_many(element: Mapping[str, Any], value: RawValue, tz: str) -> dict[str, Any]:
    return {"selected_options": [_option(element, v) for v in _many(value)]}


def _ids(element: Mapping[str, Any], value: RawValue, tz: str) -> dict[str, Any]:
    key, _, many = ID_KINDS[str(element.get("type"))]
    return {key: _many(value) if many else _single(value)}


def _date(element: Mapping[str, Any], value: RawValue, tz: str) -> dict[str, Any]:
    chosen = _single(value)
    if chosen:
        try:
            date.fromisoformat(chosen)
        except ValueError:
            raise FormError([f"{chosen!r} is not a date (YYYY-MM-DD)"]) from None
    return {"selected_date": chosen}


def _time(element: Mapping[str, Any], value: RawValue, tz: str) -> dict[str, Any]:
    chosen = _single(value)
    if chosen:
        try:
            parsed = time.fromisoformat(chosen)
        except ValueError:
            raise FormError([f"{chosen!r} is not a time (HH:MM)"]) from None
        chosen = parsed.strftime("%H:%M")
    return {"selected_time": chosen}


def _date_time(element: Mapping[str, Any], value: RawValue, tz: str) -> dict[str, Any]:
    chosen = _single(value)
    return {"selected_date_time": None if chosen is None else epoch_seconds(chosen, tz)}


def epoch_seconds(value: str, tz: str) -> int:
    """Unix seconds from digits, or from an ISO date-time (read in ``tz`` when it has no offset)."""
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise FormError([f"{value!r} is not a date and time"]) from None
    if parsed.tzinfo is None:
        # Never read a typed time as UTC for want of the zone: refuse, and say how to send it instead.
        try:
            parsed = parsed.replace(tzinfo=ZoneInfo(tz))
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise FormError(
                [
                    f"unknown time zone {tz!r}, so {text!r} cannot be read; "
                    "send it with its offset (e.g. 2026-12-18T22:00-05:00) or as Unix seconds"
                ]
            ) from None
    return int(parsed.timestamp())


_Converter = Callable[[Mapping[str, Any], RawValue, str], dict[str, Any]]
_CONVERTERS: dict[str, _Converter] = {
    **dict.fromkeys(TEXT_KINDS, _text),
    **dict.fromkeys(SINGLE_OPTION_KINDS, _select_one),
    **dict.fromkeys(MULTI_OPTION_KINDS, _select_many),
    **dict.fromkeys(ID_KINDS, _ids),
    "datepicker": _date,
    "timepicker": _time,
    "datetimepicker": _date_time,
}
_STATEFUL = frozenset(_CONVERTERS) - {"overflow"}
