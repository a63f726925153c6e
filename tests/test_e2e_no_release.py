"""Every verb that acts on a release, typed in a channel that has none: a clear private answer, HTTP 200.

Before the dispatch table, several verbs (`channel`, `cutover …`) looked their usage up by class
name and answered HTTP 500 before the ack.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from bot.commands.usage import usage_for
from tests.harness import Stack

# (text, the verb whose usage must follow)
RELEASE_VERBS = [
    ("status", "status"),
    ("roles", "roles"),
    ("schedule", "schedule"),
    ("cancel", "cancel"),
    ("assign wbo <@UWBO>", "assign"),
    ("unassign wbo <@UWBO>", "unassign"),
    ("channel support <#C0NEWS|news>", "channel"),
    ("move --cutover 2031-01-10T10:00Z", "move"),
    ("announce it at 2031-01-10T09:00Z Final runbook is ready", "announce"),
    ("cutover start", "cutover"),
    ("cutover complete", "cutover"),
    ("cutover rollback Payments fail after the switch", "cutover"),
    ("retro open", "retro"),
    ("retro close", "retro"),
    ("retro status", "retro"),
    ('item add 1 "Check the runbook"', "item"),
    ("item edit #3 --title Renamed", "item"),
    ("item remove #3", "item"),
]


@pytest.mark.parametrize(("text", "verb"), RELEASE_VERBS, ids=[t for t, _ in RELEASE_VERBS])
def test_every_verb_in_a_channel_without_a_release_says_so(stack: Stack, text: str, verb: str) -> None:
    ch = stack.channel()
    before = stack.snapshot()
    r = stack.driver.slash(text=text, user="UPM", channel=ch)
    assert r.status == 200, (text, r.status, r.text[:300])
    assert r.json is not None and r.json.get("response_type") == "ephemeral", r.text[:300]
    body = json.dumps(r.json)
    assert "no current release in this channel" in body.lower(), body[:400]
    assert "/release list" in body and "REL-3" in body, body[:400]
    usage_line = usage_for(verb, today=date.today()).splitlines()[0].removeprefix("Usage: ").strip("`")
    assert usage_line.split(" ")[1] in body, body[:400]
    assert stack.snapshot() == before


def test_an_unknown_release_key_is_named(stack: Stack) -> None:
    ch = stack.channel()
    r = stack.driver.slash(text="cutover start REL-987654", user="UPM", channel=ch)
    assert r.status == 200 and r.json is not None
    assert "There is no REL-987654 in this workspace" in json.dumps(r.json)
