"""Typed-in elements: text, number, email and URL inputs, and the date and time pickers.

Values are what the browser control understands (``YYYY-MM-DD``, ``HH:MM``, ``YYYY-MM-DDTHH:MM``),
so the page can post them back as typed; a datetimepicker shows and takes wall-clock time in the
viewer's zone, which it names in ``data-timezone`` (Slack does the same in the user's zone).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from .context import RenderContext, as_str, attrs, esc
from .controls import control_attrs, placeholder_text
from .dates import parse_epoch

TEXT_INPUTS: dict[str, str] = {
    "plain_text_input": "text",
    "email_text_input": "email",
    "url_text_input": "url",
    "number_input": "number",
}
PICKERS: dict[str, str] = {"datepicker": "date", "timepicker": "time", "datetimepicker": "datetime-local"}
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}")


def _length(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def text_input_html(element: Mapping[str, Any], block_id: str, *, required: bool, dom_id: str | None) -> str:
    kind = as_str(element.get("type"))
    initial = as_str(element.get("initial_value"))
    base: dict[str, object | None] = {
        "id": dom_id,
        **control_attrs(element, block_id, required=required),
        "placeholder": placeholder_text(element) or None,
    }
    if kind == "number_input":
        decimal = element.get("is_decimal_allowed") is True
        number_attrs = {
            "type": "number",
            "class": "bk-text-input bk-number-input",
            **base,
            "step": "any" if decimal else "1",
            "min": as_str(element.get("min_value")) or None,
            "max": as_str(element.get("max_value")) or None,
            "value": initial or None,
        }
        return f"<input{attrs(number_attrs)}>"
    lengths = {"minlength": _length(element.get("min_length")), "maxlength": _length(element.get("max_length"))}
    if kind == "plain_text_input" and element.get("multiline") is True:
        # The initial value is what a person typed: shown exactly, never read as mrkdwn.
        return f"<textarea{attrs({'class': 'bk-text-input bk-multiline', **base, **lengths})}>{esc(initial)}</textarea>"
    input_attrs = {
        "type": TEXT_INPUTS.get(kind, "text"),
        "class": "bk-text-input",
        **base,
        **lengths,
        "value": initial or None,
    }
    return f"<input{attrs(input_attrs)}>"


def _picker_value(element: Mapping[str, Any], ctx: RenderContext) -> str | None:
    kind = as_str(element.get("type"))
    if kind == "datepicker":
        value = as_str(element.get("initial_date"))
        return value if _DATE.fullmatch(value) else None
    if kind == "timepicker":
        value = as_str(element.get("initial_time"))
        return value if _TIME.fullmatch(value) else None
    epoch = parse_epoch(element.get("initial_date_time"))
    if epoch is None:
        return None
    try:
        return datetime.fromtimestamp(epoch, UTC).astimezone(ctx.zone).strftime("%Y-%m-%dT%H:%M")
    except (OverflowError, OSError, ValueError):
        return None


def picker_html(
    element: Mapping[str, Any], ctx: RenderContext, block_id: str, *, required: bool, dom_id: str | None
) -> str:
    kind = as_str(element.get("type"))
    zone = as_str(element.get("timezone")) if kind == "timepicker" else ctx.viewer_tz
    picker_attrs = {
        "type": PICKERS[kind],
        "class": f"bk-picker bk-{kind}",
        "id": dom_id,
        **control_attrs(element, block_id, required=required),
        "placeholder": placeholder_text(element) or None,
        "value": _picker_value(element, ctx),
        "data-timezone": zone if kind != "datepicker" and zone else None,
    }
    return f"<input{attrs(picker_attrs)}>"
