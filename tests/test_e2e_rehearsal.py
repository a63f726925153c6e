"""Rehearsals end to end: the whole plan on a compressed clock, in the release channel. Once per backend."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from domain.template import load_template
from sandbox.driver import wait_until
from storage.models import Announcement, Delivery, Release, Survey
from tests.harness import Stack

TEMPLATE = load_template("caf-migration-release")
# Plan order: the template lists some announcements out of time order (decommission after hypercare).
PLAN_ORDER = [a.key for a in sorted(TEMPLATE.announcements, key=lambda a: a.offset)]


def announcement_posts(stack: Stack, channel: str) -> list[dict]:
    return [
        m for m in stack.api.messages(channel) if (m.get("metadata") or {}).get("event_type") == "cutover_announcement"
    ]


def keys_of(stack: Stack, posts: list[dict]) -> list[str]:
    ids = [int(p["metadata"]["event_payload"]["delivery_id"]) for p in posts]
    with stack.db.connect() as conn:
        rows = dict(
            conn.execute(
                select(Delivery.id, Announcement.key)
                .join(Announcement, Announcement.id == Delivery.announcement_id)
                .where(Delivery.id.in_(ids))
            ).all()
        )
    return [rows[i] for i in ids]


def rehearsal(stack: Stack, channel: str, factor: int, extra: str = "") -> Release:
    r = stack.driver.slash(text=f"new Payroll rehearsal --rehearsal {factor}{extra}", user="UPM", channel=channel)
    assert r.status == 200, r.text
    told = json.dumps(stack.driver.wait_responses(r, count=1, timeout=15), ensure_ascii=False)
    assert "rehearsal" in told and f"×{factor}" in told, told
    release = stack.release_in(channel)
    assert release is not None and release.rehearsal_factor == factor
    return release


def test_rehearsal_plays_every_template_announcement_in_order_once_in_the_release_channel(stack: Stack) -> None:
    ch = stack.channel()
    biz = stack.channel()
    # 400000×: the 74 days from the first notice to the outcome summary play in about 16 s.
    rel = rehearsal(stack, ch, 400_000)
    told = json.dumps(stack.ok(f"channel business <#{biz}>", channel=ch, responses=1), ensure_ascii=False)
    assert "This is a rehearsal" in told
    summary = json.dumps(stack.all_blocks(ch), ensure_ascii=False)
    assert "Rehearsal ×400000" in summary

    wait_until(lambda: len(announcement_posts(stack, ch)) >= len(PLAN_ORDER), timeout=60)
    time.sleep(1.0)  # nothing more may follow
    posts = announcement_posts(stack, ch)
    posts.sort(key=lambda m: float(m["ts"]))
    assert keys_of(stack, posts) == PLAN_ORDER
    for p in posts:
        assert p["text"].startswith("REHEARSAL — "), p["text"]
        assert "Rehearsal:" in json.dumps(p["blocks"])
    # Each one says where the real release would send it, which shows gaps in the channel set-up.
    by_key = dict(zip(keys_of(stack, posts), posts, strict=True))
    assert f"goes to <#{biz}>" in json.dumps(by_key["ann.initial"]["blocks"])  # business
    assert "No stakeholder channel is set" in json.dumps(by_key["ann.freeze"]["blocks"])  # IT only
    # Stakeholders hear nothing of a rehearsal.
    assert announcement_posts(stack, biz) == []
    with stack.db.connect() as conn:
        states = conn.execute(select(Delivery.channel_id, Delivery.state).where(Delivery.release_id == rel.id)).all()
    assert sorted(states) == [(ch, "sent")] * len(PLAN_ORDER)


def test_rehearsal_retrospective_opens_on_the_compressed_clock(stack: Stack) -> None:
    ch = stack.channel()
    rel = rehearsal(stack, ch, 100_000, extra=" --cutover 2027-03-01 22:00")
    key = f"REL-{rel.number}"
    # A rehearsal keeps its clock: moving it would not rehearse the plan.
    out = json.dumps(stack.ok(f"move --cutover 2027-03-02 22:00 {key}", channel=ch, responses=1))
    assert "rehearsal" in out and "can't be moved" in out
    stack.ok("cutover start --override rehearsing the run book", channel=ch, responses=1)
    wait_until(lambda: one(stack, select(Release.state).where(Release.id == rel.id))[0] == "cutting_over")
    stack.posted("assign wbo <@UWBO>", channel=ch, expect="now holds")
    gate = stack.item(rel.id, "cm.go_final")
    stack.click(ch, gate.id, "item.approve", "UWBO")
    wait_until(lambda: stack.item(rel.id, "cm.go_final").state == "approved", timeout=10)
    stack.ok("cutover complete", channel=ch, responses=1)
    survey = wait_until(lambda: one(stack, select(Survey).where(Survey.release_id == rel.id)), 10)
    ended = one(stack, select(Release.actual_end).where(Release.id == rel.id))[0]
    # Opens a day after completion and stays open 7 days: 8 days of plan are 6.9 s at 100000×.
    assert 6 < (survey.closes_at - ended).total_seconds() < 7.5
    # Post-cutover items fall overdue seconds after the rehearsed window (about 23 s after creation here):
    # their holders get their one reminder.
    pm_dm = stack.api.dm_channel("UPM")
    wait_until(lambda: any("Overdue in" in json.dumps(m["blocks"]) for m in stack.api.messages(pm_dm)), 45)
    # Housekeeping runs every 5 s: the invitation and the close follow on the compressed clock.
    wait_until(lambda: any("Take the survey" in json.dumps(m["blocks"]) for m in stack.api.messages(ch)), 20)
    wait_until(lambda: one(stack, select(Survey.state).where(Survey.release_id == rel.id))[0] == "closed", 30)


def one(stack: Stack, stmt: Any) -> Any:
    # A fresh connection each time: a SQLite read transaction would keep seeing its first snapshot.
    with stack.db.connect() as conn:
        return conn.execute(stmt).first()


def test_rehearsal_adhoc_and_rollback_notices_stay_in_the_release_channel(stack: Stack) -> None:
    ch = stack.channel()
    ops = stack.channel(bot_member=False)  # public, the app not in it: a real release would join it
    rel = rehearsal(stack, ch, 100_000)
    joins = len(stack.api.calls("conversations.join"))
    stack.ok(f"channel it <#{ops}>", channel=ch, responses=1)

    # Two days of plan ahead are under two seconds on a 100000× clock.
    typed = (datetime.now(UTC) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    told = json.dumps(stack.ok(f"announce <#{ops}> at {typed} Dry run of the freeze", channel=ch, responses=1))
    assert "posts here" in told and f"<#{ops}>" in told
    wait_until(lambda: any("Dry run of the freeze" in m["text"] for m in announcement_posts(stack, ch)), 15)

    stack.ok("cutover start --override rehearsing a rollback", channel=ch, responses=1)
    wait_until(lambda: one(stack, select(Release.state).where(Release.id == rel.id))[0] == "cutting_over")
    stack.ok("cutover rollback Data sync lag above 5 s", channel=ch, responses=1)
    wait_until(lambda: "ann.rollback" in keys_of(stack, announcement_posts(stack, ch)), 15)
    time.sleep(0.5)
    assert keys_of(stack, announcement_posts(stack, ch)).count("ann.rollback") == 1
    # The stakeholder channel was neither joined nor posted to.
    assert stack.api.messages(ops) == []
    assert len(stack.api.calls("conversations.join")) == joins


def test_a_rehearsal_from_the_form(stack: Stack) -> None:
    ch = stack.channel()
    assert stack.driver.slash(text="new", user="UPM", channel=ch).status == 200
    view = wait_until(
        lambda: next((v for v in stack.api.views_opened("UPM") if v.get("callback_id") == "release.new"), None)
    )
    start = int((datetime.now(UTC) + timedelta(days=20)).timestamp())
    values = {
        "name": {"name": {"type": "plain_text_input", "value": "CRM dry run"}},
        "cutover": {"cutover": {"type": "datetimepicker", "selected_date_time": start}},
    }
    forged = stack.driver.submit_view(
        user="UPM",
        view=view,
        values={
            **values,
            "rehearsal": {"rehearsal": {"type": "static_select", "selected_option": {"value": "1"}}},
        },
    )
    assert forged.json is not None and "rehearsal" in forged.json["errors"]
    assert stack.release_in(ch) is None
    good = stack.driver.submit_view(
        user="UPM",
        view=view,
        values={
            **values,
            "rehearsal": {"rehearsal": {"type": "static_select", "selected_option": {"value": "3600"}}},
        },
    )
    assert good.status == 200 and not good.text
    release = wait_until(lambda: stack.release_in(ch), timeout=15)
    assert release.rehearsal_factor == 3600 and release.name == "CRM dry run"
    # Its clock starts now, not at the date picked: the window is the plan's 21 days / 3600 away.
    assert release.cutover_start - release.created_at < timedelta(minutes=10)
