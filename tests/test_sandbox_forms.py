"""sandbox.forms: what the page's form collected becomes Slack's typed view.state.values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sandbox.forms import FormError, element_state, epoch_seconds, state_values


def opt(value: str, text: str | None = None) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": text or value.title()}, "value": value}


def field(block_id: str, element: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": block_id},
        "element": {"action_id": block_id, **element},
        **extra,
    }


VIEW: dict[str, Any] = {
    "type": "modal",
    "blocks": [
        {"type": "section", "block_id": "intro", "text": {"type": "mrkdwn", "text": "Fill it in"}},
        field("reason", {"type": "plain_text_input", "multiline": True}),
        field("count", {"type": "number_input", "is_decimal_allowed": False}),
        field("mail", {"type": "email_text_input"}),
        field("link", {"type": "url_text_input"}),
        field("duration", {"type": "static_select", "options": [opt("4h"), opt("8h")], "initial_option": opt("4h")}),
        field(
            "grouped",
            {
                "type": "static_select",
                "option_groups": [
                    {"label": {"type": "plain_text", "text": "Short"}, "options": [opt("1h")]},
                    {"label": {"type": "plain_text", "text": "Long"}, "options": [opt("1d")]},
                ],
            },
        ),
        field("audiences", {"type": "multi_static_select", "options": [opt("business"), opt("it"), opt("support")]}),
        field("mode", {"type": "radio_buttons", "options": [opt("quick"), opt("full")]}),
        field("flags", {"type": "checkboxes", "options": [opt("notify"), opt("silent")]}),
        field("day", {"type": "datepicker"}),
        field("at", {"type": "timepicker"}),
        field("cutover", {"type": "datetimepicker"}),
        field("owner", {"type": "users_select"}),
        field("team", {"type": "multi_users_select"}),
        field("where", {"type": "conversations_select"}),
        field("channel", {"type": "channels_select"}),
        {
            "type": "actions",
            "block_id": "more",
            "elements": [{"type": "button", "action_id": "help", "text": {"type": "plain_text", "text": "Help"}}],
        },
    ],
}


def test_every_element_kind_gets_slacks_typed_shape() -> None:
    values = state_values(
        VIEW,
        {
            "reason": {"reason": "Rollback test failed"},
            "count": {"count": "3"},
            "mail": {"mail": "pat@example.com"},
            "link": {"link": "https://example.com/runbook"},
            "duration": {"duration": "8h"},
            "grouped": {"grouped": "1d"},
            "audiences": {"audiences": ["business", "it"]},
            "mode": {"mode": "full"},
            "flags": {"flags": ["notify"]},
            "day": {"day": "2026-12-05"},
            "at": {"at": "22:00"},
            "cutover": {"cutover": "2026-12-05T22:00"},
            "owner": {"owner": "UWBO"},
            "team": {"team": ["UMA", "UME"]},
            "where": {"where": "CPAYROLL"},
            "channel": {"channel": "CITOPS"},
        },
        tz="Europe/Berlin",
    )
    assert values["reason"] == {"reason": {"type": "plain_text_input", "value": "Rollback test failed"}}
    assert values["count"]["count"] == {"type": "number_input", "value": "3"}
    assert values["mail"]["mail"] == {"type": "email_text_input", "value": "pat@example.com"}
    assert values["link"]["link"] == {"type": "url_text_input", "value": "https://example.com/runbook"}
    # Options are copied from the view, text included, as Slack's client sends them.
    assert values["duration"]["duration"] == {"type": "static_select", "selected_option": opt("8h")}
    assert values["grouped"]["grouped"]["selected_option"] == opt("1d")
    assert values["audiences"]["audiences"] == {
        "type": "multi_static_select",
        "selected_options": [opt("business"), opt("it")],
    }
    assert values["mode"]["mode"] == {"type": "radio_buttons", "selected_option": opt("full")}
    assert values["flags"]["flags"] == {"type": "checkboxes", "selected_options": [opt("notify")]}
    assert values["day"]["day"] == {"type": "datepicker", "selected_date": "2026-12-05"}
    assert values["at"]["at"] == {"type": "timepicker", "selected_time": "22:00"}
    berlin = datetime(2026, 12, 5, 22, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert values["cutover"]["cutover"] == {"type": "datetimepicker", "selected_date_time": int(berlin.timestamp())}
    assert isinstance(values["cutover"]["cutover"]["selected_date_time"], int)
    assert values["owner"]["owner"] == {"type": "users_select", "selected_user": "UWBO"}
    assert values["team"]["team"] == {"type": "multi_users_select", "selected_users": ["UMA", "UME"]}
    assert values["where"]["where"] == {"type": "conversations_select", "selected_conversation": "CPAYROLL"}
    assert values["channel"]["channel"] == {"type": "channels_select", "selected_channel": "CITOPS"}
    assert "more" not in values and "intro" not in values  # buttons and text hold no state


def test_untouched_and_emptied_elements_report_like_slack() -> None:
    values = state_values(VIEW, {"reason": {"reason": ""}, "mode": {"mode": None}, "flags": {"flags": []}})
    assert values["reason"]["reason"]["value"] is None  # an emptied text field is null, not ""
    assert values["mode"]["mode"]["selected_option"] is None
    assert values["flags"]["flags"]["selected_options"] == []
    # Not reported at all: the initial value (or nothing), as Slack reports every input.
    assert values["duration"]["duration"]["selected_option"] == opt("4h")
    assert values["grouped"]["grouped"]["selected_option"] is None
    assert values["team"]["team"]["selected_users"] == []
    assert values["cutover"]["cutover"]["selected_date_time"] is None


def test_whitespace_is_kept_for_the_app_to_judge() -> None:
    values = state_values(VIEW, {"reason": {"reason": "   "}})
    assert values["reason"]["reason"]["value"] == "   "


def test_unknown_block_action_and_option_are_reported_together() -> None:
    with pytest.raises(FormError) as caught:
        state_values(
            VIEW,
            {
                "nope": {"x": "1"},
                "reason": {"other": "text"},
                "duration": {"duration": "99h"},
                "flags": {"flags": ["notify", "loud"]},
            },
        )
    problems = caught.value.problems
    assert "the view has no input block 'nope'" in problems
    assert "block 'reason' has no element 'other'" in problems
    assert any("duration/duration" in p and "'99h' is not one of the options" in p and "'4h'" in p for p in problems)
    assert any("flags/flags" in p and "'loud'" in p for p in problems)


@pytest.mark.parametrize(
    "raw",
    [
        {"day": {"day": "05/12/2026"}},
        {"at": {"at": "ten"}},
        {"cutover": {"cutover": "soon"}},
        {"duration": {"duration": ["4h", "8h"]}},
    ],
)
def test_malformed_values_are_refused(raw: dict[str, Any]) -> None:
    with pytest.raises(FormError):
        state_values(VIEW, raw)


@pytest.mark.parametrize("raw", [[], {"reason": "text"}, {"reason": {"reason": 3}}, {"reason": {"reason": [1]}}])
def test_raw_values_of_the_wrong_shape_are_refused(raw: Any) -> None:
    with pytest.raises(FormError):
        state_values(VIEW, raw)


def test_element_kinds_the_page_cannot_fill_are_named() -> None:
    view = {"blocks": [field("file", {"type": "file_input"})]}
    assert state_values(view, {}) == {}  # nothing reported: nothing to send
    with pytest.raises(FormError, match="file_input"):
        state_values(view, {"file": {"file": "x"}})


def test_element_state_serves_block_actions_too() -> None:
    overflow = {"type": "overflow", "action_id": "menu", "options": [opt("edit"), opt("delete")]}
    assert element_state(overflow, "delete") == {"type": "overflow", "selected_option": opt("delete")}
    assert element_state({"type": "users_select", "action_id": "u"}, ["UPM"]) == {
        "type": "users_select",
        "selected_user": "UPM",
    }


def test_epoch_seconds_reads_digits_offsets_and_wall_clock() -> None:
    assert epoch_seconds("1765000000", "UTC") == 1765000000
    assert epoch_seconds("2026-12-05T22:00+01:00", "Asia/Tokyo") == int(
        datetime(2026, 12, 5, 21, 0, tzinfo=UTC).timestamp()
    )
    assert epoch_seconds("2026-12-05T22:00", "UTC") == int(datetime(2026, 12, 5, 22, 0, tzinfo=UTC).timestamp())
    with pytest.raises(FormError, match=r"time zone 'Mars/Olympus'.*with its offset"):
        epoch_seconds("2026-12-05T22:00", "Mars/Olympus")
    # With its offset, a time needs no zone.
    assert epoch_seconds("2026-12-05T22:00-05:00", "Mars/Olympus") == int(
        datetime(2026, 12, 6, 3, 0, tzinfo=UTC).timestamp()
    )
