"""Buttons that open a form open it first (a trigger lasts 3 s) and finish their work afterwards: the
survey fills in earlier answers, Reject replaces its form when the checks refuse. Once per backend."""

from __future__ import annotations

import json

from sqlalchemy import text

from sandbox.driver import wait_until
from tests.harness import Stack
from tests.test_e2e_lifecycle import answer_survey, complete_quickly, staffed_release, survey_values


def answers(stack: Stack, release_id: int) -> int:
    return stack.count_rows(
        "survey_responses", f"survey_id IN (SELECT id FROM surveys WHERE release_id = {release_id})"
    )


def test_the_blank_form_opens_then_earlier_answers_are_filled_in(stack: Stack) -> None:
    ch, rel = staffed_release(stack)
    complete_quickly(stack, ch, rel)
    stack.ok("retro open", channel=ch, responses=1)
    wait_until(lambda: any("retro.take" in json.dumps(m.get("blocks")) for m in stack.api.messages(ch)))
    r, first = answer_survey(stack, ch, "UMA", survey_values("Clear comms", "4"))
    assert r.status == 200 and not r.text, r.text
    assert first["submit"]["text"] == "Send"
    # The answer is on file before the form closes (the ack), so the survey can be taken again at once.
    assert answers(stack, rel.id) == 1
    # Again: the same blank form opens at once, then it is updated in place with the answers given.
    _r, again = answer_survey(stack, ch, "UMA", survey_values("Clear comms", "4"))
    assert again["submit"]["text"] == "Send" and "Clear comms" not in json.dumps(again)
    wait_until(lambda: stack.api.view(again["id"])["submit"]["text"] == "Update", timeout=10)
    assert "Clear comms" in json.dumps(stack.api.view(again["id"]))
    # Someone who never answered keeps the blank form.
    _r, fresh = answer_survey(stack, ch, "UPM", survey_values("Good runbook", "5"))
    assert stack.api.view(fresh["id"])["submit"]["text"] == "Send"


def test_reject_opens_its_form_at_once_and_a_refusal_replaces_it(stack: Stack) -> None:
    ch = stack.channel()
    rel = stack.new_release(ch)
    gate = stack.item(rel.id, "bt.signoff")  # approvers: Workload Business Owner, Migration Architect
    before = len(stack.api.views_opened("UNOBODY"))
    r = stack.click(ch, gate.id, "item.reject", "UNOBODY")
    assert r.status == 200
    told = stack.driver.wait_responses(r, count=1)
    assert "Migration Architect" in json.dumps(told), told  # who may reject, as before
    (opened,) = stack.api.views_opened("UNOBODY")[before:]
    assert opened["callback_id"] == "item.reject"
    wait_until(lambda: "can't reject" in json.dumps(stack.api.view(opened["id"])), timeout=10)
    assert "submit" not in stack.api.view(opened["id"])
    assert stack.decisions(gate.id) == []


def test_an_answer_that_cannot_be_saved_keeps_the_form_open_with_the_reason(stack: Stack) -> None:
    ch, rel = staffed_release(stack)
    complete_quickly(stack, ch, rel)
    stack.ok("retro open", channel=ch, responses=1)
    wait_until(lambda: any("retro.take" in json.dumps(m.get("blocks")) for m in stack.api.messages(ch)))
    r, _ = answer_survey(stack, ch, "UPM", survey_values("Good runbook", "5"))
    assert r.status == 200 and not r.text, r.text
    # The database refuses the write (here: its table is gone); the person must not be told it was sent.
    with stack.db.begin() as conn:
        conn.execute(text("ALTER TABLE survey_responses RENAME TO survey_responses_away"))
    r, view = answer_survey(stack, ch, "UMA", survey_values("Clear comms", "4"))
    assert r.status == 200 and r.json is not None and r.json["response_action"] == "errors", r.text
    assert "could not be saved" in json.dumps(r.json["errors"])
    # The form is still open, answers and all: once the database is back, sending it again works.
    with stack.db.begin() as conn:
        conn.execute(text("ALTER TABLE survey_responses_away RENAME TO survey_responses"))
    again = stack.driver.submit_view(
        user="UMA", view=stack.api.view(view["id"]), values=survey_values("Clear comms", "4")
    )
    assert again.status == 200 and not again.text, again.text
    assert answers(stack, rel.id) == 2
