"""The Slack stand-in and the signed-request driver, exercised over real loopback HTTP.

Clients are slack_sdk's own (sync WebClient, AsyncWebClient for the GET methods, WebhookClient for
response_urls), so these tests also prove the stand-in speaks the wire format those clients use.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.parse
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import httpx
import pytest
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook import WebhookClient

from sandbox.driver import SlackDriver, wait_until
from sandbox.serving import LoopbackServer
from sandbox.webapi import SlackStandIn

TOKEN = "xoxb-test-token"
SECRET = "s3cr3t"
TS = re.compile(r"^\d{10}\.\d{6}$")
TRIGGER_TTL = 0.3


def seed(api: SlackStandIn) -> None:
    api.add_user("U1", name="alice", real_name="Alice A", tz="Europe/Berlin")
    api.add_user("U2", name="bob", tz="America/New_York")
    api.add_user("U3", name="carol")
    api.add_user("U4", name="dan")
    api.add_user("U5", name="eve")
    api.add_channel("C1", name="rel-payroll", members=("U1", "U2"))
    api.add_channel("C2", name="it-ops", members=("U1",))
    api.add_channel("CBIG", name="everyone", members=("U1", "U2", "U3", "U4", "U5"))
    api.add_channel("GSECRET", name="secret", is_private=True, members=("U1",))
    api.add_channel("GWITHBOT", name="with-bot", is_private=True, members=("U1", "UBOT"))
    api.add_usergroup("S1", handle="wbo-team", users=("U2", "U3"))
    api.add_usergroup("S2", handle="old-team", users=("U4",), disabled=True)


@pytest.fixture
def api() -> Iterator[SlackStandIn]:
    with SlackStandIn(bot_token=TOKEN, trigger_ttl=TRIGGER_TTL) as standin:
        seed(standin)
        yield standin


@pytest.fixture
def client(api: SlackStandIn) -> WebClient:
    return WebClient(base_url=api.base_url, token=TOKEN)


def slack_error(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


def header(error: SlackApiError, name: str) -> str | None:
    return {k.lower(): v for k, v in error.response.headers.items()}.get(name.lower())


def button(action_id: str, text: str = "Go", **extra: Any) -> dict[str, Any]:
    return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": text}, **extra}


def section(text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def options(n: int, *, text_len: int = 5, value_len: int = 5) -> list[dict[str, Any]]:
    return [
        {"text": {"type": "plain_text", "text": f"{i}".ljust(text_len, "o")}, "value": f"{i}".ljust(value_len, "v")}
        for i in range(n)
    ]


def modal(blocks: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": "Reject item"}, "blocks": blocks, **extra}


REASON_INPUT = {
    "type": "input",
    "block_id": "reason",
    "label": {"type": "plain_text", "text": "Reason"},
    "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True},
}


# --- auth and routing ------------------------------------------------------------------------


def test_auth_test_returns_identity_and_scopes_header(api: SlackStandIn, client: WebClient) -> None:
    response = client.auth_test()
    assert response["user_id"] == "UBOT"
    assert response["team_id"] == "T0CUTOVER"
    assert response["bot_id"].startswith("B")
    assert response["url"] == api.url
    scopes = {k.lower(): v for k, v in response.headers.items()}["x-oauth-scopes"].split(",")
    assert {"chat:write", "chat:write.public", "commands", "usergroups:read"} <= set(scopes)


def test_token_is_required_and_checked(api: SlackStandIn) -> None:
    anonymous = WebClient(base_url=api.base_url)
    assert slack_error(anonymous.auth_test).response["error"] == "not_authed"
    wrong = WebClient(base_url=api.base_url, token="xoxb-wrong")
    assert slack_error(lambda: wrong.chat_postMessage(channel="C1", text="x")).response["error"] == "invalid_auth"
    assert api.messages("C1") == []
    good = WebClient(base_url=api.base_url, token=TOKEN)
    assert slack_error(lambda: good.api_call("chat.nothing")).response["error"] == "unknown_method"
    assert [c.status for c in api.calls()] == [200, 200, 200]


def test_a_rotated_token_replaces_the_old_one(api: SlackStandIn, client: WebClient) -> None:
    api.rotate_bot_token("xoxb-rotated")
    assert api.bot_token == "xoxb-rotated"
    assert slack_error(client.auth_test).response["error"] == "token_revoked"
    assert WebClient(base_url=api.base_url, token="xoxb-rotated").auth_test()["user_id"] == "UBOT"
    assert slack_error(WebClient(base_url=api.base_url, token="xoxb-never").auth_test).response["error"] == (
        "invalid_auth"
    )


def test_bad_json_body_is_rejected() -> None:
    with SlackStandIn(bot_token=TOKEN) as api:
        auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        bad = httpx.post(f"{api.base_url}chat.postMessage", content=b"{nope", headers=auth)
        array = httpx.post(f"{api.base_url}chat.postMessage", content=b"[1]", headers=auth)
    assert (bad.status_code, bad.json()) == (200, {"ok": False, "error": "invalid_json"})
    assert array.json()["error"] == "json_not_object"


# --- messages --------------------------------------------------------------------------------


def test_post_update_and_thread(api: SlackStandIn, client: WebClient) -> None:
    first = client.chat_postMessage(channel="C1", text="Release REL-1", blocks=[section("*REL-1*")])
    assert TS.match(first["ts"])
    assert first["channel"] == "C1"
    assert first["message"]["user"] == "UBOT"
    # Slack fills in block ids the app omitted; clicks will carry them.
    assert first["message"]["blocks"][0]["block_id"]

    reply = client.chat_postMessage(channel="C1", text="phase 1", thread_ts=first["ts"])
    nested = client.chat_postMessage(channel="C1", text="phase 1b", thread_ts=reply["ts"])
    assert first["ts"] < reply["ts"] < nested["ts"]
    assert reply["message"]["thread_ts"] == first["ts"]
    assert nested["message"]["thread_ts"] == first["ts"], "a reply to a reply joins the root thread"
    assert [m["text"] for m in api.thread("C1", first["ts"])] == ["phase 1", "phase 1b"]

    missing = slack_error(lambda: client.chat_postMessage(channel="C1", text="x", thread_ts="1000000000.000001"))
    assert missing.response["error"] == "thread_not_found"

    updated = client.chat_update(channel="C1", ts=first["ts"], text="Release REL-1 (ready)")
    assert updated["ts"] == first["ts"]
    stored = api.message("C1", first["ts"])
    assert stored["text"] == "Release REL-1 (ready)"
    assert stored["blocks"] == first["message"]["blocks"], "blocks omitted from chat.update are kept"
    assert stored["edits"] == 1
    assert stored["history"] == [{"text": "Release REL-1", "blocks": first["message"]["blocks"]}]

    client.chat_update(channel="C1", ts=first["ts"], text="cleared", blocks=[])
    assert api.message("C1", first["ts"])["blocks"] == []
    assert api.message("C1", first["ts"])["edits"] == 2

    gone = slack_error(lambda: client.chat_update(channel="C1", ts="1000000000.000001", text="x"))
    assert gone.response["error"] == "message_not_found"
    assert [m["ts"] for m in api.messages("C1")] == [first["ts"], reply["ts"], nested["ts"]]


def test_form_encoded_json_fields_are_decoded(api: SlackStandIn, client: WebClient) -> None:
    blocks = [section("from a form post")]
    response = client.api_call(
        "chat.postMessage",
        data={
            "channel": "C1",
            "text": "form",
            "blocks": json.dumps(blocks),
            "metadata": json.dumps({"event_type": "release_created", "event_payload": {"key": "REL-1"}}),
        },
    )
    stored = api.message("C1", response["ts"])
    assert stored["blocks"][0]["text"] == blocks[0]["text"]
    assert stored["metadata"] == {"event_type": "release_created", "event_payload": {"key": "REL-1"}}
    assert api.calls("chat.postMessage")[0].args["blocks"][0]["type"] == "section"

    garbled = slack_error(
        lambda: client.api_call("chat.postMessage", data={"channel": "C1", "text": "x", "blocks": "[{"})
    )
    assert garbled.response["error"] == "invalid_blocks_format"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
def test_message_content_and_channel_rules(api: SlackStandIn, client: WebClient) -> None:
    assert slack_error(lambda: client.chat_postMessage(channel="C1")).response["error"] == "no_text"
    too_long = slack_error(lambda: client.chat_postMessage(channel="C1", text="x" * 40_001))
    assert too_long.response["error"] == "msg_too_long"
    client.chat_postMessage(channel="C1", text="x" * 40_000)

    assert slack_error(lambda: client.chat_postMessage(channel="CNOPE", text="x")).response["error"] == (
        "channel_not_found"
    )
    missing = slack_error(lambda: client.api_call("chat.postMessage", json={"text": "x"}))
    assert missing.response["error"] == "channel_not_found"

    # Private channel without the bot: not_in_channel. Public channels need no membership.
    assert slack_error(lambda: client.chat_postMessage(channel="GSECRET", text="x")).response["error"] == (
        "not_in_channel"
    )
    client.chat_postMessage(channel="GWITHBOT", text="the bot is a member here")
    client.chat_postMessage(channel="C2", text="chat:write.public")

    joined = client.conversations_join(channel="C2")
    assert joined["channel"]["is_member"] is True
    assert "UBOT" in client.conversations_members(channel="C2")["members"]
    refused = slack_error(lambda: client.conversations_join(channel="GSECRET"))
    assert refused.response["error"] == "method_not_supported_for_channel_type"


def test_ephemeral_and_permalink(api: SlackStandIn, client: WebClient) -> None:
    outsider = slack_error(lambda: client.chat_postEphemeral(channel="C1", user="U3", text="psst"))
    assert outsider.response["error"] == "user_not_in_channel"
    sent = client.chat_postEphemeral(channel="C1", user="U2", text="only you")
    assert TS.match(sent["message_ts"])
    assert [e["text"] for e in api.ephemerals(user="U2")] == ["only you"]
    assert api.ephemerals(user="U1") == []
    assert api.messages("C1") == [], "ephemerals are not channel messages"

    posted = client.chat_postMessage(channel="C1", text="linked")
    link = client.chat_getPermalink(channel="C1", message_ts=posted["ts"])["permalink"]
    assert link == f"{api.url}archives/C1/p{posted['ts'].replace('.', '')}"
    unknown = slack_error(lambda: client.chat_getPermalink(channel="C1", message_ts="1000000000.000001"))
    assert unknown.response["error"] == "message_not_found"


# --- Block Kit -------------------------------------------------------------------------------


def test_fifty_blocks_pass_and_fifty_one_fail_with_slacks_error_shape(client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="ok", blocks=[{"type": "divider"}] * 50)
    error = slack_error(lambda: client.chat_postMessage(channel="C1", text="x", blocks=[{"type": "divider"}] * 51))
    assert error.response.status_code == 200
    assert error.response.data == {
        "ok": False,
        "error": "invalid_blocks",
        "errors": ["no more than 50 items allowed [json-pointer:/blocks]"],
        "response_metadata": {"messages": ["[ERROR] no more than 50 items allowed [json-pointer:/blocks]"]},
    }


def test_block_ids_must_be_unique(api: SlackStandIn, client: WebClient) -> None:
    blocks = [section("a", block_id="item-1"), section("b", block_id="item-2"), section("c", block_id="item-1")]
    error = slack_error(lambda: client.chat_postMessage(channel="C1", text="x", blocks=blocks))
    assert error.response["errors"] == ["duplicate block_id, first used by /blocks/0 [json-pointer:/blocks/2/block_id]"]
    assert api.messages("C1") == []


def test_button_text_limit_is_75(client: WebClient) -> None:
    client.chat_postMessage(channel="C1", text="ok", blocks=[{"type": "actions", "elements": [button("a", "x" * 75)]}])
    error = slack_error(
        lambda: client.chat_postMessage(
            channel="C1", text="x", blocks=[{"type": "actions", "elements": [button("a", "x" * 76)]}]
        )
    )
    assert error.response["errors"] == ["must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"]
    assert error.response["response_metadata"]["messages"] == [f"[ERROR] {error.response['errors'][0]}"]


def _actions(*elements: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "actions", "elements": list(elements)}]


def _input(element: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"type": "input", "label": {"type": "plain_text", "text": "L"}, "element": element}]


CONFIRM = {
    "title": {"type": "plain_text", "text": "Sure?"},
    "text": {"type": "mrkdwn", "text": "Really"},
    "confirm": {"type": "plain_text", "text": "Yes"},
    "deny": {"type": "plain_text", "text": "No"},
}

INVALID_BLOCKS = [
    ([section("x" * 3001)], "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"),
    ([section("")], "must be more than 0 characters [json-pointer:/blocks/0/text/text]"),
    (
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
        "no more than 10 items allowed [json-pointer:/blocks/0/fields]",
    ),
    (
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
        "must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]",
    ),
    ([{"type": "section"}], "must provide text or fields [json-pointer:/blocks/0]"),
    (
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
    ),
    (
        [{"type": "header", "text": {"type": "mrkdwn", "text": "*h*"}}],
        "must be a valid enum value [json-pointer:/blocks/0/text/type]",
    ),
    (
        [{"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}],
        "no more than 10 items allowed [json-pointer:/blocks/0/elements]",
    ),
    ([{"type": "context", "elements": []}], "must provide at least 1 items [json-pointer:/blocks/0/elements]"),
    (
        _actions(*[button(f"a{i}") for i in range(26)]),
        "no more than 25 items allowed [json-pointer:/blocks/0/elements]",
    ),
    (
        _actions(button("same"), button("same")),
        "duplicate action_id, first used by /blocks/0/elements/0 [json-pointer:/blocks/0/elements/1/action_id]",
    ),
    ([{"type": "video_call"}], "failed to match all allowed schemas [json-pointer:/blocks/0]"),
    (_actions(button("a", style="secondary")), "must be a valid enum value [json-pointer:/blocks/0/elements/0/style]"),
    (
        _actions(button("a", value="v" * 2001)),
        "must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]",
    ),
    (
        _actions(button("a", url="https://x/" + "u" * 2991)),
        "must be less than 3001 characters [json-pointer:/blocks/0/elements/0/url]",
    ),
    (
        _actions(button("a", confirm={**CONFIRM, "title": {"type": "plain_text", "text": "t" * 101}})),
        "must be less than 101 characters [json-pointer:/blocks/0/elements/0/confirm/title/text]",
    ),
    (
        _actions(button("a", confirm={**CONFIRM, "deny": {"type": "plain_text", "text": "d" * 31}})),
        "must be less than 31 characters [json-pointer:/blocks/0/elements/0/confirm/deny/text]",
    ),
    (
        # Same shape as the error Slack documents for an overflow with six options.
        [
            {"type": "divider"},
            {"type": "divider"},
            section("menu", accessory={"type": "overflow", "action_id": "o", "options": options(6)}),
        ],
        "no more than 5 items allowed [json-pointer:/blocks/2/accessory/options]",
    ),
    (
        _actions({"type": "static_select", "action_id": "s", "options": options(101)}),
        "no more than 100 items allowed [json-pointer:/blocks/0/elements/0/options]",
    ),
    (
        _actions({"type": "static_select", "action_id": "s", "options": options(1, text_len=76)}),
        "must be less than 76 characters [json-pointer:/blocks/0/elements/0/options/0/text/text]",
    ),
    (
        _actions({"type": "static_select", "action_id": "s", "options": options(1, value_len=151)}),
        "must be less than 151 characters [json-pointer:/blocks/0/elements/0/options/0/value]",
    ),
    (
        _actions({"type": "radio_buttons", "action_id": "r", "options": options(11)}),
        "no more than 10 items allowed [json-pointer:/blocks/0/elements/0/options]",
    ),
    (
        _actions({"type": "users_select", "action_id": "u", "placeholder": {"type": "plain_text", "text": "p" * 151}}),
        "must be less than 151 characters [json-pointer:/blocks/0/elements/0/placeholder/text]",
    ),
    (
        [{"type": "input", "element": {"type": "plain_text_input", "action_id": "i"}}],
        "missing required field: label [json-pointer:/blocks/0]",
    ),
    (
        _input({"type": "plain_text_input", "action_id": "i", "max_length": 3001}),
        "must be between 1 and 3000 [json-pointer:/blocks/0/element/max_length]",
    ),
    ([section("x", block_id="b" * 256)], "must be less than 256 characters [json-pointer:/blocks/0/block_id]"),
    (
        _actions(button("a" * 256)),
        "must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]",
    ),
    (
        [{"type": "section", "text": {"type": "markdown", "text": "x"}}],
        "must be a valid enum value [json-pointer:/blocks/0/text/type]",
    ),
]


@pytest.mark.parametrize(("blocks", "expected"), INVALID_BLOCKS, ids=[e for _, e in INVALID_BLOCKS])
def test_block_kit_limits(client: WebClient, blocks: list[dict[str, Any]], expected: str) -> None:
    error = slack_error(lambda: client.chat_postMessage(channel="C1", text="x", blocks=blocks))
    assert error.response["error"] == "invalid_blocks"
    assert error.response["errors"] == [expected]


def test_every_supported_block_type_passes(client: WebClient) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "REL-1 Payroll"}},
        section("*Gate*", accessory=button("item.approve", "Approve", style="primary", value="12:0", confirm=CONFIRM)),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*When*"}, {"type": "plain_text", "text": "now"}]},
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": "ctx"},
                {"type": "image", "image_url": "https://x/i.png", "alt_text": "i"},
            ],
        },
        {"type": "divider"},
        _actions(
            button("a1"),
            {
                "type": "static_select",
                "action_id": "s1",
                "option_groups": [{"label": {"type": "plain_text", "text": "g"}, "options": options(3)}],
            },
            {"type": "overflow", "action_id": "o1", "options": options(5)},
            {"type": "datepicker", "action_id": "d1"},
            {"type": "checkboxes", "action_id": "c1", "options": options(10)},
        )[0],
        _input({"type": "plain_text_input", "action_id": "i1", "max_length": 3000, "min_length": 0})[0],
        {"type": "image", "image_url": "https://x/i.png", "alt_text": "diagram"},
        {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": "r"}]}]},
        {"type": "markdown", "text": "**markdown** block"},
    ]
    assert client.chat_postMessage(channel="C1", text="kitchen sink", blocks=blocks)["ok"]


# --- views and triggers ----------------------------------------------------------------------


def test_view_validation_and_open(api: SlackStandIn, client: WebClient) -> None:
    trigger = api.new_trigger_id("U1")
    too_many = slack_error(lambda: client.views_open(trigger_id=trigger, view=modal([section()] * 101)))
    assert too_many.response.data == {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": ["[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"]},
    }
    no_submit = slack_error(lambda: client.views_open(trigger_id=trigger, view=modal([REASON_INPUT])))
    assert no_submit.response["response_metadata"]["messages"][0].endswith("[json-pointer:/view]")
    long_title = {"type": "plain_text", "text": "t" * 25}
    titled = slack_error(lambda: client.views_open(trigger_id=trigger, view=modal([section()], title=long_title)))
    assert titled.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    big_metadata = slack_error(
        lambda: client.views_open(trigger_id=trigger, view=modal([section()], private_metadata="m" * 3001))
    )
    assert big_metadata.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 3001 characters [json-pointer:/view/private_metadata]"
    ]
    empty = slack_error(lambda: client.views_open(trigger_id=trigger, view=modal([])))
    assert empty.response["error"] == "invalid_arguments"

    # Rejected views do not spend the trigger.
    view = modal(
        [REASON_INPUT],
        submit={"type": "plain_text", "text": "Reject"},
        callback_id="item.reject",
        private_metadata="12",
    )
    opened = client.views_open(trigger_id=trigger, view=view)["view"]
    assert re.match(r"^V[A-Z0-9]+$", opened["id"])
    assert opened["hash"] and opened["callback_id"] == "item.reject" and opened["private_metadata"] == "12"
    assert opened["state"] == {"values": {}}
    assert opened["blocks"][0]["block_id"] == "reason"
    assert api.views_opened("U1") == [opened]
    assert api.views_opened("U2") == []
    assert [v["id"] for v in api.view_stack("U1")] == [opened["id"]]


def test_trigger_id_expires_and_is_single_use(api: SlackStandIn, client: WebClient) -> None:
    view = modal([section()])
    trigger = api.new_trigger_id("U1")
    client.views_open(trigger_id=trigger, view=view)
    assert slack_error(lambda: client.views_open(trigger_id=trigger, view=view)).response["error"] == (
        "exchanged_trigger_id"
    )
    assert slack_error(lambda: client.views_open(trigger_id="1.2.3", view=view)).response["error"] == (
        "invalid_trigger_id"
    )
    stale = api.new_trigger_id("U1")
    time.sleep(TRIGGER_TTL + 0.05)
    assert slack_error(lambda: client.views_open(trigger_id=stale, view=view)).response["error"] == (
        "expired_trigger_id"
    )


def test_modal_stack_update_and_home(api: SlackStandIn, client: WebClient) -> None:
    root = client.views_open(trigger_id=api.new_trigger_id("U1"), view=modal([section("1")]))["view"]
    client.views_push(trigger_id=api.new_trigger_id("U1"), view=modal([section("2")]))
    third = client.views_push(trigger_id=api.new_trigger_id("U1"), view=modal([section("3")]))["view"]
    assert third["root_view_id"] == root["id"]
    full = slack_error(lambda: client.views_push(trigger_id=api.new_trigger_id("U1"), view=modal([section("4")])))
    assert full.response["error"] == "push_limit_reached"
    assert len(api.view_stack("U1")) == 3

    updated = client.views_update(view_id=root["id"], hash=root["hash"], view=modal([section("1b")]))["view"]
    assert updated["id"] == root["id"] and updated["hash"] != root["hash"]
    stale = slack_error(lambda: client.views_update(view_id=root["id"], hash=root["hash"], view=modal([section()])))
    assert stale.response["error"] == "hash_conflict"
    assert slack_error(lambda: client.views_update(view_id="VNOPE", view=modal([section()]))).response["error"] == (
        "not_found"
    )
    assert api.view(root["id"])["blocks"][0]["text"]["text"] == "1b"

    tagged = client.views_open(
        trigger_id=api.new_trigger_id("U2"), view=modal([section()], external_id="rel-1-reject")
    )["view"]
    by_external = client.views_update(
        external_id="rel-1-reject", view=modal([section("x")], external_id="rel-1-reject")
    )
    assert by_external["view"]["id"] == tagged["id"]

    home = client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("home")]})["view"]
    again = client.views_publish(user_id="U1", view={"type": "home", "blocks": [section("home 2")]})["view"]
    assert again["id"] == home["id"]
    conflict = slack_error(
        lambda: client.views_publish(user_id="U1", hash=home["hash"], view={"type": "home", "blocks": [section()]})
    )
    assert conflict.response["error"] == "hash_conflict"
    assert api.home_view("U1") == again
    wrong_type = slack_error(lambda: client.views_publish(user_id="U1", view=modal([section()])))
    assert wrong_type.response["error"] == "invalid_arguments"
    nobody = slack_error(lambda: client.views_publish(user_id="UNOBODY", view={"type": "home", "blocks": []}))
    assert nobody.response["error"] == "user_not_found"
    too_many = slack_error(
        lambda: client.views_publish(user_id="U1", view={"type": "home", "blocks": [section()] * 101})
    )
    assert too_many.response["error"] == "invalid_arguments"
    assert api.home_view("U1") == again  # a refused publish leaves the Home as it was


# --- response_url ----------------------------------------------------------------------------


def test_response_url_allows_five_uses(api: SlackStandIn) -> None:
    url = api.new_response_url(channel="C1", user="U1")
    assert url.startswith(f"{api.url}hooks/")
    hook = WebhookClient(url)
    for i in range(5):
        sent = hook.send(text=f"update {i}")
        assert (sent.status_code, sent.body) == (200, "ok")
    sixth = hook.send(text="one too many")
    assert (sixth.status_code, sixth.body) == (404, "used_url")
    assert [r["text"] for r in api.responses(url)] == [f"update {i}" for i in range(5)]
    assert len(api.ephemerals(channel="C1", user="U1")) == 5


def test_response_url_rejects_bad_content_and_expires() -> None:
    with SlackStandIn(bot_token=TOKEN, response_url_ttl=0.2) as api:
        seed(api)
        url = api.new_response_url(channel="C1", user="U1")
        bad = WebhookClient(url).send(text="x", blocks=[{"type": "divider"}] * 51)
        assert (bad.status_code, bad.body) == (400, "invalid_blocks")
        assert api.responses(url) == []
        assert WebhookClient(f"{api.url}hooks/unknown").send(text="x").status_code == 404
        time.sleep(0.25)
        late = WebhookClient(url).send(text="too late")
        assert (late.status_code, late.body) == (404, "expired_url")


def test_response_url_replaces_posts_and_deletes(api: SlackStandIn, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="checklist")["ts"]
    hook = WebhookClient(api.new_response_url(channel="C1", message_ts=ts, user="U1"))
    assert hook.send(replace_original=True, text="checklist (1 approved)", blocks=[section("approved")]).body == "ok"
    replaced = api.message("C1", ts)
    assert (replaced["ts"], replaced["text"], replaced["edits"]) == (ts, "checklist (1 approved)", 1)

    hook.send(response_type="in_channel", text="REL-1 approved by alice")
    assert [m["text"] for m in api.messages("C1")] == ["checklist (1 approved)", "REL-1 approved by alice"]

    hook.send(delete_original=True)
    assert [m["text"] for m in api.messages("C1")] == ["REL-1 approved by alice"]


# --- throttling and faults -------------------------------------------------------------------


def test_post_rate_bucket_answers_429_with_retry_after(api: SlackStandIn, client: WebClient) -> None:
    for i in range(10):  # default: bursts of 10 per channel
        client.chat_postMessage(channel="C1", text=f"burst {i}")
    throttled = slack_error(lambda: client.chat_postMessage(channel="C1", text="one more"))
    assert throttled.response.status_code == 429
    assert throttled.response.data == {"ok": False, "error": "ratelimited"}
    assert int(header(throttled, "Retry-After") or 0) >= 1
    client.chat_postMessage(channel="C2", text="other channels have their own bucket")

    api.set_post_rate(20.0, burst=1)
    client.chat_postMessage(channel="C1", text="a")
    assert header(slack_error(lambda: client.chat_postMessage(channel="C1", text="b")), "Retry-After") == "1"
    time.sleep(0.1)
    client.chat_postMessage(channel="C1", text="refilled")

    api.set_post_rate(None, burst=1)
    for i in range(30):
        client.chat_postMessage(channel="C1", text=f"unlimited {i}")


def test_injected_faults(api: SlackStandIn, client: WebClient) -> None:
    api.inject("chat.postMessage", "ratelimited", retry_after=7)
    limited = slack_error(lambda: client.chat_postMessage(channel="C1", text="x"))
    assert (limited.response.status_code, header(limited, "Retry-After")) == (429, "7")

    api.inject("chat.update", "server_error")
    api.inject("users.info", "unavailable")
    ts = client.chat_postMessage(channel="C1", text="x")["ts"]
    crashed = slack_error(lambda: client.chat_update(channel="C1", ts=ts, text="y"))
    assert (crashed.response.status_code, crashed.response["error"]) == (500, "internal_error")
    down = slack_error(lambda: client.users_info(user="U1"))
    assert down.response.status_code == 503

    api.inject("chat.postMessage", "not_in_channel", times=2, channel="C1")
    client.chat_postMessage(channel="C2", text="other channel unaffected")
    for _ in range(2):
        refused = slack_error(lambda: client.chat_postMessage(channel="C1", text="x"))
        assert (refused.response.status_code, refused.response["error"]) == (200, "not_in_channel")
    client.chat_postMessage(channel="C1", text="fault used up")

    api.inject("auth.test", "timeout", delay=0.3)
    started = time.monotonic()
    assert client.auth_test()["ok"]
    assert time.monotonic() - started >= 0.3

    api.inject("auth.test", "invalid_auth", times=5)
    api.clear_faults()
    assert client.auth_test()["ok"]
    with pytest.raises(ValueError, match="unknown method"):
        api.inject("chat.postMesage", "ratelimited")
    with pytest.raises(ValueError, match="fault must be"):
        api.inject("chat.postMessage", "Not An Error")
    assert [c.status for c in api.calls("chat.postMessage")][:1] == [429]


def test_sdk_retry_handler_recovers_from_injected_500(api: SlackStandIn) -> None:
    retrying = WebClient(
        base_url=api.base_url,
        token=TOKEN,
        retry_handlers=[
            ServerErrorRetryHandler(max_retry_count=1, interval_calculator=FixedValueRetryIntervalCalculator(0.01))
        ],
    )
    api.inject("chat.postMessage", "server_error")
    assert retrying.chat_postMessage(channel="C1", text="eventually")["ok"]
    assert [c.status for c in api.calls("chat.postMessage")] == [500, 200]
    assert len(api.messages("C1")) == 1


# --- directory (the async client sends these as GET) -----------------------------------------


def test_async_client_reads_directory_with_get(api: SlackStandIn) -> None:
    async def scenario() -> dict[str, Any]:
        client = AsyncWebClient(base_url=api.base_url, token=TOKEN)
        members: list[str] = []
        cursor: str | None = None
        pages = 0
        while True:
            page = await client.conversations_members(channel="CBIG", limit=2, cursor=cursor)
            members += page["members"]
            pages += 1
            cursor = page["response_metadata"]["next_cursor"]
            if not cursor:
                break
        missing_group = None
        try:
            await client.usergroups_users_list(usergroup="SNOPE")
        except SlackApiError as e:
            missing_group = e.response["error"]
        return {
            "user": (await client.users_info(user="U1"))["user"],
            "members": members,
            "pages": pages,
            "info": (await client.conversations_info(channel="GWITHBOT"))["channel"],
            "groups": (await client.usergroups_list(include_users=True))["usergroups"],
            "all_groups": (await client.usergroups_list(include_disabled=True))["usergroups"],
            "group_users": (await client.usergroups_users_list(usergroup="S1"))["users"],
            "missing_group": missing_group,
        }

    got = asyncio.run(scenario())
    berlin = datetime.now(ZoneInfo("Europe/Berlin"))
    offset = berlin.utcoffset()
    assert offset is not None
    assert got["user"]["tz"] == "Europe/Berlin"
    assert got["user"]["tz_offset"] == int(offset.total_seconds())
    assert got["user"]["tz_label"] == berlin.tzname()
    assert got["user"]["profile"]["real_name"] == "Alice A"
    assert (got["members"], got["pages"]) == (["U1", "U2", "U3", "U4", "U5"], 3)
    assert got["info"]["is_private"] is True and got["info"]["is_member"] is True
    assert [(g["id"], g["handle"], g["users"]) for g in got["groups"]] == [("S1", "wbo-team", ["U2", "U3"])]
    assert {g["id"] for g in got["all_groups"]} == {"S1", "S2"}
    assert got["group_users"] == ["U2", "U3"]
    assert got["missing_group"] == "no_such_subteam"
    read_methods = {
        "users.info",
        "conversations.members",
        "conversations.info",
        "usergroups.list",
        "usergroups.users.list",
    }
    assert {c.http_method for c in api.calls() if c.method in read_methods} == {"GET"}


def test_directory_errors_and_dms(api: SlackStandIn, client: WebClient) -> None:
    assert slack_error(lambda: client.users_info(user="UNOPE")).response["error"] == "user_not_found"
    assert slack_error(lambda: client.conversations_info(channel="GSECRET")).response["error"] == (
        "channel_not_found"
    ), "private channels the bot is not in are invisible to it"
    bad_cursor = slack_error(lambda: client.conversations_members(channel="CBIG", cursor="garbage"))
    assert bad_cursor.response["error"] == "invalid_cursor"
    bad_limit = slack_error(lambda: client.conversations_members(channel="CBIG", limit=0))
    assert bad_limit.response["error"] == "invalid_limit"
    assert slack_error(lambda: client.api_call("usergroups.users.list")).response["error"] == "invalid_arguments"

    dm = client.conversations_open(users="U1")["channel"]["id"]
    assert dm.startswith("D") and dm == api.dm_channel("U1")
    assert client.conversations_open(users=["U1"])["already_open"] is True
    client.chat_postMessage(channel=dm, text="DM")
    via_user_id = client.chat_postMessage(channel="U1", text="also DM")
    assert via_user_id["channel"] == dm
    assert [m["text"] for m in api.messages(dm)] == ["DM", "also DM"]


def test_inspection_returns_copies_and_reset_keeps_directory(api: SlackStandIn, client: WebClient) -> None:
    ts = client.chat_postMessage(channel="C1", text="original")["ts"]
    api.messages("C1")[0]["text"] = "tampered"
    api.calls()[0].args["text"] = "tampered"
    assert api.message("C1", ts)["text"] == "original"
    assert api.calls()[0].args["text"] == "original"
    with pytest.raises(KeyError):
        api.messages("CNOPE")

    api.inject("auth.test", "server_error")
    api.reset()
    assert api.messages("C1") == [] and api.calls() == []
    assert client.auth_test()["ok"], "reset clears faults"
    assert client.users_info(user="U1")["user"]["name"] == "alice"
    assert client.usergroups_users_list(usergroup="S1")["users"] == ["U2", "U3"]


# --- the driver ------------------------------------------------------------------------------


class Receiver:
    """A minimal app endpoint: verifies signatures as Bolt does and records what arrived."""

    def __init__(self) -> None:
        self.verifier = SignatureVerifier(SECRET)
        self.received: list[dict[str, Any]] = []
        self.view_ack: dict[str, Any] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.server = LoopbackServer(self._app, name="receiver")

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/slack/events", self._handle)
        return app

    @property
    def url(self) -> str:
        return f"{self.server.url}slack/events"

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if not self.verifier.is_valid_request(raw, dict(request.headers)):
            return web.json_response({"error": "invalid request"}, status=401)
        if request.content_type == "application/json":
            body = json.loads(raw)
        else:
            form = dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True))
            body = json.loads(form["payload"]) if "payload" in form else form
        self.received.append({"body": body, "headers": dict(request.headers)})
        if "command" in body and "response_url" in body:
            # Like a Bolt listener: ack now, answer through response_url afterwards.
            task = asyncio.create_task(self._respond(body["response_url"], {"text": f"working on {body['text']}"}))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        if body.get("type") == "view_submission" and self.view_ack is not None:
            return web.json_response(self.view_ack)
        return web.Response(text="")

    async def _respond(self, url: str, payload: dict[str, Any]) -> None:
        async with aiohttp.ClientSession() as session, session.post(url, json=payload) as response:
            await response.read()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    app = Receiver()
    app.server.start()
    yield app
    app.server.stop()


@pytest.fixture
def driver(api: SlackStandIn, receiver: Receiver) -> Iterator[SlackDriver]:
    with SlackDriver(app_url=receiver.url, signing_secret=SECRET, standin=api, timeout=5.0) as d:
        yield d


def test_signature_matches_slacks_published_example(api: SlackStandIn) -> None:
    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    with SlackDriver(
        app_url="http://127.0.0.1:9/", signing_secret="8f742231b10e8888abcd99yyyzzz85a5", standin=api
    ) as d:
        headers = d.signed_headers(body, timestamp=1531420618)
    assert headers["X-Slack-Signature"] == "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    assert headers["X-Slack-Request-Timestamp"] == "1531420618"


def test_slash_command_is_signed_and_shaped_like_slacks(
    api: SlackStandIn, client: WebClient, driver: SlackDriver, receiver: Receiver
) -> None:
    r = driver.slash(text="status REL-1", user="U1", channel="C1")
    assert r.status == 200
    body = receiver.received[-1]["body"]
    assert {k: body[k] for k in ("command", "text", "user_id", "user_name", "channel_id", "channel_name")} == {
        "command": "/release",
        "text": "status REL-1",
        "user_id": "U1",
        "user_name": "alice",
        "channel_id": "C1",
        "channel_name": "rel-payroll",
    }
    assert (body["team_id"], body["team_domain"], body["api_app_id"]) == ("T0CUTOVER", "cutover", "A0CUTOVER")
    assert (body["response_url"], body["trigger_id"]) == (r.response_url, r.trigger_id)

    assert driver.wait_responses(r) == [{"text": "working on status REL-1"}]
    assert [e["text"] for e in api.ephemerals(channel="C1", user="U1")] == ["working on status REL-1"]
    assert client.views_open(trigger_id=r.trigger_id, view=modal([section()]))["ok"], "its trigger_id is live"
    assert api.views_opened("U1")[0]["type"] == "modal"


def test_forged_stale_and_unsigned_requests_are_refused(driver: SlackDriver, receiver: Receiver) -> None:
    body = "command=%2Frelease&text=cancel"
    forged = SlackDriver(app_url=receiver.url, signing_secret="not-the-secret", standin=driver.standin)
    with forged:
        assert forged.post_raw(body, forged.signed_headers(body)).status == 401
    stale = driver.signed_headers(body, timestamp=int(time.time()) - 301)
    assert driver.post_raw(body, stale).status == 401
    unsigned = driver.post_raw(body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert (unsigned.status, unsigned.json) == (401, {"error": "invalid request"})
    assert driver.post_raw(body, driver.signed_headers(body)).status == 200
    assert len(receiver.received) == 1


def test_click_carries_the_rendered_message(
    api: SlackStandIn, client: WebClient, driver: SlackDriver, receiver: Receiver
) -> None:
    blocks = [
        section("*Gate* go/no-go", block_id="item-12"),
        {
            "type": "actions",
            "block_id": "item-12-actions",
            "elements": [button("item.approve", "Approve", value="12:0")],
        },
    ]
    ts = client.chat_postMessage(channel="C1", text="checklist", blocks=blocks)["ts"]

    r = driver.click(user="U2", channel="C1", message_ts=ts, action_id="item.approve")
    assert r.status == 200
    payload = receiver.received[-1]["body"]
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == "U2"
    assert payload["container"] == {"type": "message", "message_ts": ts, "channel_id": "C1", "is_ephemeral": False}
    assert payload["message"]["blocks"] == api.message("C1", ts)["blocks"]
    (action,) = payload["actions"]
    assert (action["type"], action["action_id"], action["block_id"], action["value"]) == (
        "button",
        "item.approve",
        "item-12-actions",
        "12:0",
    )
    assert action["text"]["text"] == "Approve" and TS.match(action["action_ts"])
    assert payload["response_url"] == r.response_url and payload["trigger_id"] == r.trigger_id

    forged = driver.click(user="U2", channel="C1", message_ts=ts, action_id="item.approve", value="99:0")
    assert forged.status == 200 and receiver.received[-1]["body"]["actions"][0]["value"] == "99:0"

    assert r.response_url is not None
    WebhookClient(r.response_url).send(replace_original=True, text="checklist (approved)")
    assert api.message("C1", ts)["text"] == "checklist (approved)"
    with pytest.raises(LookupError):
        driver.click(user="U2", channel="C1", message_ts="1000000000.000001", action_id="item.approve")


def test_view_submission_follows_the_apps_ack(
    api: SlackStandIn, client: WebClient, driver: SlackDriver, receiver: Receiver
) -> None:
    view = client.views_open(
        trigger_id=api.new_trigger_id("U1"),
        view=modal(
            [REASON_INPUT],
            submit={"type": "plain_text", "text": "Reject"},
            callback_id="item.reject",
            private_metadata="12",
        ),
    )["view"]
    values = {"reason": {"reason": {"type": "plain_text_input", "value": None}}}

    receiver.view_ack = {"response_action": "errors", "errors": {"reason": "Please give a reason"}}
    refused = driver.submit_view(user="U1", view=view, values=values)
    assert (refused.status, refused.json, refused.view_errors) == (200, receiver.view_ack, [])
    submitted = receiver.received[-1]["body"]
    assert submitted["type"] == "view_submission"
    assert submitted["view"]["state"] == {"values": values}
    for key in ("id", "hash", "callback_id", "private_metadata"):
        assert submitted["view"][key] == view[key]
    assert len(api.view_stack("U1")) == 1, "an errors ack keeps the modal open"

    receiver.view_ack = {"response_action": "errors", "errors": {"not-an-input": "x"}}
    assert driver.submit_view(user="U1", view=view, values=values).view_errors == [
        "errors key 'not-an-input' is not the block_id of an input block"
    ]

    receiver.view_ack = None
    values["reason"]["reason"]["value"] = "vendor not ready"
    closed = driver.submit_view(user="U1", view=view, values=values)
    assert (closed.status, closed.text, closed.view_errors) == (200, "", [])
    assert api.view_stack("U1") == [], "an empty ack closes the modal"


def test_events_carry_envelope_and_retry_headers(api: SlackStandIn, driver: SlackDriver, receiver: Receiver) -> None:
    assert driver.app_home_opened(user="U1").status == 200
    envelope = receiver.received[-1]["body"]
    assert envelope["type"] == "event_callback" and envelope["event"]["type"] == "app_home_opened"
    assert envelope["event"]["channel"] == api.dm_channel("U1")
    assert envelope["authorizations"][0]["user_id"] == "UBOT"

    driver.event({"type": "app_mention", "user": "U1", "text": "<@UBOT> hi"}, event_id="Ev1", retry_num=1)
    retried = receiver.received[-1]
    headers = {k.lower(): v for k, v in retried["headers"].items()}
    assert (retried["body"]["event_id"], headers["x-slack-retry-num"], headers["x-slack-retry-reason"]) == (
        "Ev1",
        "1",
        "http_timeout",
    )


def test_wait_until_returns_value_or_times_out() -> None:
    polls: list[int] = []

    def third_poll() -> list[int] | None:
        polls.append(len(polls))
        return polls if len(polls) == 3 else None

    assert wait_until(third_poll, timeout=1.0, interval=0.001) == [0, 1, 2]
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        wait_until(lambda: False, timeout=0.05)
    assert time.monotonic() - started < 1.0


def test_bolt_async_app_round_trip(api: SlackStandIn, client: WebClient) -> None:
    """The stand-in and driver against the real consumer: a Bolt AsyncApp on aiohttp."""
    bolt = AsyncApp(signing_secret=SECRET, client=AsyncWebClient(base_url=api.base_url, token=TOKEN))
    reject_view = modal([REASON_INPUT], submit={"type": "plain_text", "text": "Reject"}, callback_id="item.reject")

    @bolt.command("/release")
    async def release(ack: AsyncAck, respond: AsyncRespond, client: AsyncWebClient, body: dict[str, Any]) -> None:
        await ack()
        await respond(text="opening the form")
        await client.views_open(trigger_id=body["trigger_id"], view=reject_view)

    @bolt.view("item.reject")
    async def reject(ack: AsyncAck, view: dict[str, Any]) -> None:
        if view["state"]["values"]["reason"]["reason"]["value"]:
            await ack()
        else:
            await ack(response_action="errors", errors={"reason": "A reason is required"})

    @bolt.action("item.approve")
    async def approve(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_update(channel=body["channel"]["id"], ts=body["message"]["ts"], text="approved")

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    def make_app() -> web.Application:
        app = web.Application()
        app.router.add_post("/slack/events", events)
        return app

    server = LoopbackServer(make_app, name="bolt-app")
    server.start()
    try:
        with SlackDriver(app_url=f"{server.url}slack/events", signing_secret=SECRET, standin=api) as d:
            slash = d.slash(text="new", user="U1", channel="C1")
            assert slash.status == 200
            assert d.wait_responses(slash) == [{"text": "opening the form"}]
            (view,) = wait_until(lambda: api.views_opened("U1"))
            empty = {"reason": {"reason": {"type": "plain_text_input", "value": None}}}
            refused = d.submit_view(user="U1", view=view, values=empty)
            assert refused.json == {"response_action": "errors", "errors": {"reason": "A reason is required"}}
            assert refused.view_errors == []
            given = {"reason": {"reason": {"type": "plain_text_input", "value": "vendor late"}}}
            assert d.submit_view(user="U1", view=view, values=given).text == ""
            assert api.view_stack("U1") == []

            ts = client.chat_postMessage(channel="C1", text="gate", blocks=_actions(button("item.approve")))["ts"]
            assert d.click(user="U1", channel="C1", message_ts=ts, action_id="item.approve").status == 200
            wait_until(lambda: api.message("C1", ts)["text"] == "approved")
            unsigned = d.post_raw("command=%2Frelease", {"Content-Type": "application/x-www-form-urlencoded"})
            assert unsigned.status == 401
    finally:
        server.stop()
    assert [c.method for c in api.calls()][:2] == ["auth.test", "views.open"]


# --- what a person's client does (the sandbox page) -------------------------------------------


def test_client_side_changes_are_stored_and_move_activity(api: SlackStandIn, client: WebClient) -> None:
    start = api.activity()
    ts = api.post_as_user("C1", "U1", "hello <@U2|bob>")
    assert api.messages("C1")[-1] | {"ts": ts} == api.message("C1", ts)
    assert api.message("C1", ts)["user"] == "U1" and api.message("C1", ts)["text"] == "hello <@U2|bob>"
    reply = api.post_as_user("C1", "U2", "hi", thread_ts=ts)
    assert [m["ts"] for m in api.thread("C1", ts)] == [reply]
    shown = api.add_ephemeral("C1", "U2", text="only bob", blocks=[section("only bob")], source="ack")
    (ephemeral,) = api.ephemerals(channel="C1", user="U2")
    assert ephemeral["ts"] == shown and ephemeral["source"] == "ack" and ephemeral["blocks"][0]["type"] == "section"
    assert api.activity() == start + 3
    client.chat_postMessage(channel="C1", text="from the app")
    assert api.activity() == start + 4  # Web API calls count too
    for bad in (
        lambda: api.post_as_user("C2", "U2", "not a member"),
        lambda: api.post_as_user("CNOPE", "U1", "x"),
        lambda: api.add_ephemeral("C1", "UNOPE", text="x"),
        lambda: api.post_as_user("C1", "U1", "x", thread_ts="1.000001"),
    ):
        with pytest.raises(KeyError):
            bad()
    assert api.activity() == start + 4


def test_closing_the_top_modal_and_directory_listings(api: SlackStandIn, client: WebClient) -> None:
    form = modal([REASON_INPUT], submit={"type": "plain_text", "text": "Reject"})
    first = client.views_open(trigger_id=api.new_trigger_id("U1"), view=form)["view"]
    second = client.views_push(trigger_id=api.new_trigger_id("U1"), view=form)["view"]
    with pytest.raises(KeyError):
        api.close_top_view("U1", first["id"])  # only the modal on top can be closed
    before = api.activity()
    assert api.close_top_view("U1", second["id"])["id"] == second["id"]
    assert [v["id"] for v in api.view_stack("U1")] == [first["id"]] and api.activity() == before + 1
    users = {u["id"]: u for u in api.users()}
    assert users["U1"]["tz"] == "Europe/Berlin" and users["UBOT"]["is_bot"]
    channels = {c["id"]: c for c in api.channels()}
    assert channels["C1"]["members"] == ["U1", "U2"] and not channels["C1"]["is_im"]
    dm = api.dm_channel("U3")
    assert next(c for c in api.channels() if c["id"] == dm)["user"] == "U3"
    assert {g["id"]: g["users"] for g in api.usergroups()}["S1"] == ["U2", "U3"]


def test_the_sandbox_team_is_one_person_per_role_across_zones(api: SlackStandIn) -> None:
    from sandbox.team import seed

    team = seed(api)
    assert len({p.role_key for p in team.people}) == len(team.people) == 11
    assert len({p.tz for p in team.people}) == len(team.people)
    pm = team.person("UPM")
    assert pm is not None and pm.role_title == "Project Manager" and pm.tz == "Europe/London"
    assert {api.channel_name(c) for c in team.channels} == {"payroll-migration", "business-users", "it-ops"}
    for person in team.people:
        assert api.dm_channel(person.id) == team.dms[person.id]
        assert all(person.id in c["members"] for c in api.channels() if c["id"] in team.channels)
        datetime.now(ZoneInfo(person.tz))  # every zone exists
