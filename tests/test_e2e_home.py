"""End to end: the App Home tab (app_home_opened → views.publish on the stand-in), decided from. Per backend."""

from __future__ import annotations

import json
from typing import Any

from messages.home import EMPTY_WAITING
from sandbox.driver import wait_until
from tests.harness import Stack


def _home_text(stack: Stack, user: str) -> str:
    return json.dumps(stack.api.home_view(user) or {}, ensure_ascii=False)


def _approve_button(home: dict[str, Any], item_id: int) -> dict[str, Any] | None:
    for block in home.get("blocks", []):
        if block.get("block_id") == f"home-item-{item_id}-actions":
            return next(e for e in block["elements"] if e["action_id"] == "item.approve")
    return None


def test_home_shows_gates_of_two_releases_and_deciding_there_updates_channel_and_home(stack: Stack) -> None:
    ch1, ch2 = stack.channel(), stack.channel()
    rel1 = stack.new_release(ch1, name="Payroll to Azure")
    rel2 = stack.new_release(ch2, name="CRM to Azure")
    for ch, rel in ((ch1, rel1), (ch2, rel2)):
        stack.posted(f"assign wbo <@UWBO> REL-{rel.number}", channel=ch, expect="now holds")
    gate1 = stack.item(rel1.id, "cc.window_appr")
    gate2 = stack.item(rel2.id, "cc.window_appr")

    r = stack.driver.app_home_opened(user="UWBO")
    assert r.status == 200
    wait_until(lambda: _approve_button(stack.api.home_view("UWBO") or {}, gate2.id), timeout=10)
    home = stack.api.home_view("UWBO")
    assert home is not None and home["type"] == "home"
    text = _home_text(stack, "UWBO")
    assert f"REL-{rel1.number}" in text and f"REL-{rel2.number}" in text
    assert _approve_button(home, gate1.id) is not None
    assert "Your releases" in text and "Recently decided by you" in text and "No decisions yet." in text
    assert "<!date^" in text  # due times in the viewer's own zone

    # Approve the second release's gate from Home: the same decision as from the channel.
    button = _approve_button(home, gate2.id)
    assert button is not None
    click = stack.driver.click(
        user="UWBO",
        view=home,
        action_id="item.approve",
        block_id=f"home-item-{gate2.id}-actions",
        value=button["value"],
    )
    assert click.status == 200
    wait_until(lambda: len(stack.decisions(gate2.id)) == 1)
    d = stack.decisions(gate2.id)[0]
    assert (d.kind, d.user_id, d.role_key) == ("approve", "UWBO", "workload-business-owner")
    wait_until(lambda: "Approved by <@UWBO>" in stack.item_text(ch2, gate2.id))
    # Home follows: the gate leaves "Waiting for you", the decision shows with a link to the checklist.
    wait_until(lambda: _approve_button(stack.api.home_view("UWBO") or {}, gate2.id) is None, timeout=10)
    wait_until(lambda: "/archives/" in _home_text(stack, "UWBO"), timeout=10)
    text = _home_text(stack, "UWBO")
    assert f"|Approved “{gate2.title}”>" in text  # linked to the checklist message
    assert _approve_button(stack.api.home_view("UWBO") or {}, gate1.id) is not None  # the other still waits

    # A forged click by someone who may not decide is refused, in the app's DM, and changes nothing.
    before = stack.snapshot()
    stack.driver.click(user="UOUT", view=home, action_id="item.approve", value=f"{gate1.id}:{gate1.version}")
    dm = stack.api.dm_channel("UOUT")
    wait_until(lambda: any("You can't approve" in m["text"] for m in stack.api.messages(dm)))
    assert stack.snapshot() == before


def test_someone_with_nothing_waiting_sees_it_said(stack: Stack) -> None:
    r = stack.driver.app_home_opened(user="UOUT")
    assert r.status == 200
    wait_until(lambda: EMPTY_WAITING in _home_text(stack, "UOUT"), timeout=10)
    assert "You hold no role in a current release" in _home_text(stack, "UOUT")


def test_the_messages_tab_publishes_nothing(stack: Stack) -> None:
    stack.driver.app_home_opened(user="USPON", tab="messages")
    stack.driver.app_home_opened(user="UG2")
    wait_until(lambda: stack.api.home_view("UG2") is not None, timeout=10)
    assert stack.api.home_view("USPON") is None


def test_an_assignment_republishes_the_new_holders_home(stack: Stack) -> None:
    stack.driver.app_home_opened(user="USPON")
    wait_until(lambda: EMPTY_WAITING in _home_text(stack, "USPON"), timeout=10)
    ch = stack.channel()
    rel = stack.new_release(ch, name="Billing to Azure")
    gate = stack.item(rel.id, "cc.window_appr")
    stack.posted(f"assign wbo <@USPON> REL-{rel.number}", channel=ch, expect="now holds")
    # Nobody opened the Home again: the assignment itself brings the gate there.
    wait_until(lambda: _approve_button(stack.api.home_view("USPON") or {}, gate.id), timeout=10)
    assert "Billing to Azure" in _home_text(stack, "USPON")


def test_the_events_url_answers_slacks_challenge_only_when_signed(stack: Stack) -> None:
    body = json.dumps({"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV", "type": "url_verification"})
    ok = stack.driver.post_raw(body, stack.driver.signed_headers(body, content_type="application/json"))
    assert (ok.status, ok.json) == (200, {"challenge": "3eZbrw1aBm2rZgRNFdxV"})
    forged = stack.driver.post_raw(body, {"Content-Type": "application/json"})
    assert forged.status == 401 and "3eZbrw1aBm2rZgRNFdxV" not in forged.text
