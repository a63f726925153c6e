"""Every verb in every state the release can reach, end to end.

Each verb is sent as the Project Manager (who may do everything), so the only thing that can refuse it
is the release's state. A refusal names the state and changes nothing; an accepted verb acts.
`ready` and `closed` are in the state machine but no verb leads to them yet: tests/test_states.py
covers them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from sandbox.driver import wait_until
from storage.models import Release
from tests.harness import Stack
from tests.test_e2e_lifecycle import approve, release_row, staffed_release

FUTURE = (datetime.now(UTC) + timedelta(days=40)).strftime("%Y-%m-%dT%H:%MZ")
SOON = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT%H:%MZ")

# verb → the command text ({key}: the release; {biz}: a stakeholder channel)
COMMANDS = {
    "assign": "assign uat <@UOUT> {key}",
    "unassign": "unassign sec <@UOCM> {key}",
    "channel": "channel business <#{biz}> {key}",
    "announce": "announce it at " + SOON + " Runbook updated {key}",
    "move": "move --cutover " + FUTURE + " {key}",
    "cancel": "cancel {key}",
    "cutover start": "cutover start --override drill for the state table {key}",
    "cutover complete": "cutover complete {key}",
    "cutover rollback": "cutover rollback Data sync lag above five seconds {key}",
    "retro open": "retro open {key}",
    "retro close": "retro close {key}",
    "status": "status {key}",
    "roles": "roles {key}",
    "schedule": "schedule {key}",
    "retro status": "retro status {key}",
    "item add": "item add 1 Check the state table {key}",
    "item edit": "item edit #1 --title Renamed in the state table {key}",
    "item remove": "item remove #2 {key}",
}
STATES = ("planning", "cutting_over", "completed", "rolled_back", "cancelled")
# The rules, written out here rather than read from the code under test: verb → states it acts in.
ACTS_IN = {
    "assign": {"planning", "cutting_over", "completed", "rolled_back"},
    "unassign": {"planning", "cutting_over", "completed", "rolled_back"},
    "channel": {"planning", "cutting_over", "completed", "rolled_back"},
    "announce": {"planning", "cutting_over", "completed", "rolled_back"},
    "move": {"planning", "rolled_back"},
    "cancel": {"planning", "rolled_back"},
    "cutover start": {"planning"},
    "cutover complete": {"cutting_over"},
    "cutover rollback": {"cutting_over", "completed"},
    "retro open": {"completed", "rolled_back"},
    "retro close": {"completed", "rolled_back"},
    "status": set(STATES),
    "roles": set(STATES),
    "schedule": set(STATES),
    "retro status": set(STATES),
    "item add": {"planning", "cutting_over", "completed"},
    "item edit": {"planning", "cutting_over", "completed"},
    "item remove": {"planning", "cutting_over", "completed"},
}
# What an accepted verb that changes the state leads to.
LEADS_TO = {
    ("planning", "cancel"): "cancelled",
    ("planning", "cutover start"): "cutting_over",
    ("cutting_over", "cutover complete"): "completed",
    ("cutting_over", "cutover rollback"): "rolled_back",
    ("completed", "cutover rollback"): "rolled_back",
    ("rolled_back", "move"): "planning",
    ("rolled_back", "cancel"): "cancelled",
}


def _start(stack: Stack, ch: str, rel: Release) -> None:
    stack.ok("cutover start --override setting up the state table", channel=ch, responses=1)
    wait_until(lambda: release_row(stack, rel).state == "cutting_over")


def _complete(stack: Stack, ch: str, rel: Release) -> None:
    _start(stack, ch, rel)
    approve(stack, ch, rel, "cm.go_final")
    stack.ok("cutover complete", channel=ch, responses=1)
    wait_until(lambda: release_row(stack, rel).state == "completed")


def _roll_back(stack: Stack, ch: str, rel: Release) -> None:
    _start(stack, ch, rel)
    stack.ok("cutover rollback Payments failed the smoke test", channel=ch, responses=1)
    wait_until(lambda: release_row(stack, rel).state == "rolled_back")


def _cancel(stack: Stack, ch: str, rel: Release) -> None:
    stack.ok("cancel", channel=ch, responses=1)
    wait_until(lambda: release_row(stack, rel).state == "cancelled")


INTO: dict[str, Callable[[Stack, str, Release], None]] = {
    "planning": lambda *_: None,
    "cutting_over": _start,
    "completed": _complete,
    "rolled_back": _roll_back,
    "cancelled": _cancel,
}


def in_state(stack: Stack, state: str) -> tuple[str, Release]:
    ch, rel = staffed_release(stack)
    INTO[state](stack, ch, rel)
    return ch, rel


def fingerprint(stack: Stack, rel: Release) -> dict[str, Any]:
    with stack.db.connect() as conn:
        row = conn.execute(select(Release.state, Release.version).where(Release.id == rel.id)).one()
    return {
        **stack.snapshot(),
        "release": tuple(row),
        "announcements": stack.count_rows("announcements", f"release_id = {rel.id}"),
        "deliveries": stack.column("deliveries", "state"),
        "channels": stack.count_rows("stakeholder_channels", f"release_id = {rel.id}"),
        "surveys": stack.count_rows("surveys", f"release_id = {rel.id}"),
    }


def label(state: str) -> str:
    return state.replace("_", " ")


@pytest.mark.parametrize("state", STATES)
def test_every_verb_in_this_state(stack: Stack, state: str) -> None:
    ch, rel = in_state(stack, state)
    key = f"REL-{rel.number}"
    biz = stack.channel()
    refused = [v for v in COMMANDS if state not in ACTS_IN[v]]
    for verb in refused:
        before = fingerprint(stack, rel)
        r = stack.driver.slash(text=COMMANDS[verb].format(key=key, biz=biz), user="UPM", channel=ch)
        assert r.status == 200, (verb, r.status)
        body = json.dumps(r.json, ensure_ascii=False)
        assert r.json is not None and r.json.get("response_type") == "ephemeral", (verb, r.text[:300])
        assert f"{key} is {label(state)}:" in body, (verb, body[:500])
        assert fingerprint(stack, rel) == before, verb

    # Accepted verbs that keep the state share this release; those that change it get a fresh one.
    for verb in [v for v in COMMANDS if state in ACTS_IN[v] and (state, v) not in LEADS_TO]:
        seen = {m["ts"] for m in stack.api.messages(ch)}
        r = stack.driver.slash(text=COMMANDS[verb].format(key=key, biz=biz), user="UPM", channel=ch)
        assert r.status == 200, (verb, r.status)
        said = json.dumps(r.json, ensure_ascii=False) if r.json else ""
        if not said:  # answered after the ack: privately, or (assign, unassign) by one post in the channel

            def answered(r: Any = r, seen: set[str] = seen, verb: str = verb) -> list[Any]:
                posts = [m for m in stack.api.messages(ch) if m["ts"] not in seen and "hold" in m["text"]]
                return stack.driver.responses(r) or (posts if verb in ("assign", "unassign") else [])

            said = json.dumps(wait_until(answered, timeout=10), ensure_ascii=False)
        assert f"{key} is {label(state)}:" not in said, (verb, said[:500])
        assert release_row(stack, rel).state == state, verb
    for (from_state, verb), to_state in LEADS_TO.items():
        if from_state != state:
            continue
        fch, fresh = in_state(stack, state)
        fkey = f"REL-{fresh.number}"
        if verb == "cutover complete":
            approve(stack, fch, fresh, "cm.go_final")  # its own rule: the final go/no-go comes first
        r = stack.driver.slash(text=COMMANDS[verb].format(key=fkey, biz=biz), user="UPM", channel=fch)
        assert r.status == 200 and not (r.json and f"{fkey} is" in json.dumps(r.json)), (verb, r.text[:300])
        wait_until(lambda f=fresh, t=to_state: release_row(stack, f).state == t, timeout=10, message=verb)


# The checklist's buttons ask the same machine: a pre-window task and a post-window task, Done by the PM.
DECISIONS = [
    ("planning", "cc.change_req", True),
    ("cutting_over", "cc.change_req", True),
    ("completed", "cc.change_req", False),  # before the window: history once the cutover is over
    ("completed", "oc.outcomes", True),
    ("rolled_back", "oc.outcomes", False),  # waits for the re-plan
    ("cancelled", "oc.outcomes", False),
]


@pytest.mark.parametrize(("state", "item_key", "acts"), DECISIONS, ids=[f"{s}-{k}" for s, k, _ in DECISIONS])
def test_checklist_decisions_follow_the_state(stack: Stack, state: str, item_key: str, acts: bool) -> None:
    ch, rel = staffed_release(stack)
    item = stack.item(rel.id, item_key)
    # The button as drawn while planning: a closed checklist may draw none, but a person can still click
    # one that is on their screen from before.
    ts, button, block_id = stack.find_button(ch, item.id, "item.done")
    INTO[state](stack, ch, rel)
    before = len(stack.decisions(item.id))
    r = stack.driver.click(
        user="UPM", channel=ch, message_ts=ts, action_id="item.done", value=button["value"], block_id=block_id
    )
    assert r.status == 200
    if acts:
        wait_until(lambda: stack.item(rel.id, item_key).state == "done", timeout=10)
        assert len(stack.decisions(item.id)) == before + 1
        return
    said = json.dumps(stack.driver.wait_responses(r, count=1, timeout=10), ensure_ascii=False)
    assert f"REL-{rel.number} is {label(state)}" in said, said[:400]
    assert stack.item(rel.id, item_key).state == "pending"
    assert len(stack.decisions(item.id)) == before
