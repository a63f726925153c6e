"""Signed requests only, idempotent clicks, converging live messages, bad input changes nothing."""

from __future__ import annotations

import json
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest
from slack_sdk.signature import SignatureVerifier

from sandbox.driver import wait_until
from tests.harness import Stack


def slash_body(channel: str, text: str) -> str:
    return urllib.parse.urlencode(
        {
            "command": "/release",
            "text": text,
            "team_id": "T0CUTOVER",
            "channel_id": channel,
            "user_id": "UPM",
            "response_url": "http://127.0.0.1:9/unused",
            "trigger_id": "1.2.3",
        }
    )


@pytest.mark.parametrize("case", ["forged", "missing", "stale", "future", "tampered"])
def test_unsigned_or_replayed_requests_get_401_and_change_nothing(stack: Stack, case: str) -> None:
    ch = stack.channel()
    body = slash_body(ch, "new Rogue release --cutover 2030-01-01T10:00Z")
    now = int(time.time())
    signer = SignatureVerifier(stack.signing_secret)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if case == "forged":
        headers |= {
            "X-Slack-Request-Timestamp": str(now),
            "X-Slack-Signature": SignatureVerifier("not-the-secret").generate_signature(timestamp=str(now), body=body),
        }
    elif case in ("stale", "future"):
        ts = str(now - 360 if case == "stale" else now + 360)
        headers |= {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signer.generate_signature(timestamp=ts, body=body),
        }
    elif case == "tampered":
        headers |= {
            "X-Slack-Request-Timestamp": str(now),
            "X-Slack-Signature": signer.generate_signature(timestamp=str(now), body=body),
        }
        body = body.replace("Rogue", "Other")
    before = stack.snapshot()
    calls = len(stack.api.calls())
    r = stack.driver.post_raw(body, headers)
    assert r.status == 401
    time.sleep(0.3)
    assert stack.snapshot() == before
    assert len(stack.api.calls()) == calls, "no Web API call for a rejected request"


def test_same_click_twice_and_concurrently_records_one_decision(stack: Stack) -> None:
    ch = stack.channel()
    rel = stack.new_release(ch)
    stack.posted(f"assign wbo <@UWBO> REL-{rel.number}", channel=ch, expect="now holds")
    gate = stack.item(rel.id, "cc.window_appr")
    ts, button, block_id = stack.find_button(ch, gate.id, "item.approve")

    def click() -> int:
        return stack.driver.click(
            user="UWBO", channel=ch, message_ts=ts, action_id="item.approve", value=button["value"], block_id=block_id
        ).status

    assert click() == 200
    assert click() == 200  # Slack retry / double click, one after the other
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(lambda _: click(), range(8))) == [200] * 8
    time.sleep(0.5)
    assert len(stack.decisions(gate.id)) == 1
    gate2 = stack.item(rel.id, "cm.cost_check")
    ts, button, block_id = stack.find_button(ch, gate2.id, "item.approve")
    with ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda _: stack.driver.click(
                    user="UWBO",
                    channel=ch,
                    message_ts=ts,
                    action_id="item.approve",
                    value=button["value"],
                    block_id=block_id,
                ),
                range(8),
            )
        )
    wait_until(lambda: len(stack.decisions(gate2.id)) >= 1)
    time.sleep(0.5)
    assert len(stack.decisions(gate2.id)) == 1


def test_twenty_concurrent_decisions_all_recorded_and_shown(stack: Stack) -> None:
    ch = stack.channel()
    rel = stack.new_release(ch)
    tasks = [i for i in stack.items(rel.id) if not i.approver_roles][:20]
    assert len(tasks) == 20
    targets = [(stack.find_button(ch, t.id, "item.done"), t) for t in tasks]

    def click(target: tuple[tuple[str, dict, str], object]) -> int:
        (ts, button, block_id), _t = target
        return stack.driver.click(
            user="UPM", channel=ch, message_ts=ts, action_id="item.done", value=button["value"], block_id=block_id
        ).status

    with ThreadPoolExecutor(20) as pool:
        assert list(pool.map(click, targets)) == [200] * 20
    wait_until(lambda: all(len(stack.decisions(t.id)) == 1 for t in tasks), timeout=20)

    wait_until(lambda: all(stack.has_button(ch, t.id, "item.undo") for t in tasks), timeout=20)
    summary = stack.api.messages(ch)[0]
    assert "20" in json.dumps(summary["blocks"])  # overall progress counts them all


BAD_INPUTS = [
    ("frobnicate", "frobnicate"),
    ("stauts", "status"),  # near miss: suggests the verb
    ("assign", "role"),
    ("assign wbo", "person"),
    ("assign ceo <@UWBO>", "ceo"),
    ("assign m <@UWBO>", "m"),  # ambiguous prefix
    ("assign wbo @wanda", "autocomplete"),
    ("assign wbo <@UWBO> REL-999999", "REL-999999"),
    ("unassign wbo", "person"),
    ("status REL-0", "REL-0"),
    ("status REL-x", "REL-x"),
    ("status REL-424242", "REL-424242"),
    ("status REL-1 REL-2", "REL-2"),
    ("roles now", "now"),
    ("cancel REL-", "REL-"),
    ("new", None),  # opens the modal: valid
    ("new --cutover 2030-01-01T10:00Z", "name"),
    ("new Payroll", "--cutover"),
    ("new Payroll --cutover", "--cutover"),
    ("new Payroll --cutover tomorrow", "tomorrow"),
    ("new Payroll --cutover 2026-02-30T10:00", "2026-02-30"),
    ("new Payroll --cutover 12/05/2026", "12/05/2026"),
    ("new Payroll --cutover 2030-01-01T10:00Z --duration 5x", "5x"),
    ("new Payroll --cutover 2030-01-01T10:00Z --duration 0h", "0h"),
    ("new Payroll --cutover 2030-01-01T10:00Z --duration 30d", "30d"),
    ("new Payroll --cutover 2030-01-01T10:00Z --template nope", "nope"),
    ("new Payroll --cutover 2030-01-01T10:00Z --colour blue", "--colour"),
    ("new Payroll --cutover 2030-01-01T10:00Z --cutover 2030-01-02T10:00Z", "--cutover"),
    ("new <!channel> party --cutover 2030-01-01T10:00Z", "mention"),
    ("new " + "x" * 120 + " --cutover 2030-01-01T10:00Z", "80"),
    ("status " + "A" * 3000, "2,000"),
    ("'; DROP TABLE releases; -- --cutover", "is not a `/release` command"),  # a pointer to help, not all of it
    ("help frobnicate", "frobnicate"),
    ("{{7*7}}", "{{7*7}}"),
]


def test_bad_input_gets_a_specific_ephemeral_error_and_changes_nothing(stack: Stack) -> None:
    ch = stack.channel()
    stack.new_release(ch)  # so a channel default exists where one would be used
    before = stack.snapshot()
    checked = 0
    for text, expected in BAD_INPUTS:
        r = stack.driver.slash(text=text, user="UOUT", channel=ch)
        assert r.status == 200, (text, r.status)
        if expected is None:
            continue
        assert r.json is not None, (text, r.text)
        assert r.json.get("response_type", "ephemeral") == "ephemeral"
        body = json.dumps(r.json)
        assert expected.lower() in body.lower(), (text, body[:400])
        assert "Usage" in body or "help" in body.lower(), (text, body[:400])
        checked += 1
    assert checked >= 25
    time.sleep(0.5)
    assert stack.snapshot() == before


def test_past_cutover_is_refused_without_creating(stack: Stack) -> None:
    ch = stack.channel()
    before = stack.snapshot()
    r = stack.driver.slash(text="new Old news --cutover 2020-01-01T10:00Z", user="UPM", channel=ch)
    out = stack.driver.wait_responses(r, count=1)
    assert "past" in json.dumps(out)
    assert stack.snapshot() == before


def test_private_channel_without_the_app_is_explained(stack: Stack) -> None:
    ch = stack.channel(private=True, bot_member=False)
    before = stack.snapshot()
    r = stack.driver.slash(text="new Secret --cutover 2027-06-01T10:00Z", user="UPM", channel=ch)
    out = stack.driver.wait_responses(r, count=1)
    assert "/invite" in json.dumps(out)
    assert stack.snapshot() == before


def test_unknown_and_malformed_button_values_change_nothing(stack: Stack) -> None:
    ch = stack.channel()
    rel = stack.new_release(ch)
    ts = stack.api.messages(ch)[0]["ts"]
    before = stack.snapshot()
    for value in ("999999:0", "abc", "", "1:2:3", f"{stack.items(rel.id)[0].id}:x"):
        r = stack.driver.click(user="UPM", channel=ch, message_ts=ts, action_id="item.done", value=value, block_id="x")
        assert r.status == 200
        assert stack.driver.wait_responses(r, count=1), value
    assert stack.snapshot() == before


def test_healthz(stack: Stack) -> None:
    import httpx

    r = httpx.get(stack.app_url + "/healthz")
    body = r.json()
    assert r.status_code == 200 and body["status"] == "ok" and body["database"] == "ok"
    assert body["scheduler"] == "running" and body["sender_last_tick_seconds_ago"] < 5
