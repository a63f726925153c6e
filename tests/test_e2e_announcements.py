"""Announcements end to end: channels, plan, ad-hoc notices, moves, faults. Once per backend."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta

from sandbox.driver import wait_until
from storage.models import Delivery
from tests.harness import Stack

CAF_FIELDS = ("What is changing?", "When?", "Whom to contact?")


def at(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def posts(stack: Stack, channel: str) -> list[dict]:
    return [
        m for m in stack.api.messages(channel) if (m.get("metadata") or {}).get("event_type") == "cutover_announcement"
    ]


def deliveries(stack: Stack, release_id: int) -> list[Delivery]:
    from sqlalchemy import select

    with stack.db.connect() as conn:
        rows = conn.execute(select(Delivery).where(Delivery.release_id == release_id).order_by(Delivery.id)).all()
    return [Delivery(**r._asdict()) for r in rows]


def test_preflight_reports_a_channel_the_app_cannot_post_to(stack: Stack) -> None:
    ch = stack.channel()
    rel = stack.new_release(ch)
    hidden = stack.channel(private=True, bot_member=False)
    out = stack.ok(f"channel it <#{hidden}> REL-{rel.number}", channel=ch, responses=1)
    text = json.dumps(out)
    assert "/invite" in text and hidden in text
    ok_ch = stack.channel(bot_member=False)  # public: postable, the app joins it
    out = stack.ok(f"channel business <#{ok_ch}|biz>", channel=ch, responses=1)
    assert "/invite" not in json.dumps(out)
    assert stack.api.calls("conversations.join")[-1].args["channel"] == ok_ch


def test_template_announcement_goes_out_once_per_channel_with_caf_fields(stack: Stack) -> None:
    ch = stack.channel()
    biz, it = stack.channel(), stack.channel()
    rel = stack.new_release(ch, start=datetime.now(UTC) + timedelta(seconds=6))
    stack.ok(f"channel business <#{biz}>", channel=ch, responses=1)
    stack.ok(f"channel it <#{it}>", channel=ch, responses=1)
    # "Cutover has started" (T0) is for all audiences: each channel gets it once.
    wait_until(lambda: len(posts(stack, biz)) >= 1 and len(posts(stack, it)) >= 1, timeout=20)
    time.sleep(1.0)
    for channel in (biz, it):
        got = posts(stack, channel)
        assert len(got) == 1, [m["text"] for m in got]
        body = json.dumps(got[0]["blocks"], ensure_ascii=False)
        for label in CAF_FIELDS:
            assert label in body
        assert "<!date^" in body and "Payroll to Azure" in body
    # Announcements whose time had passed at creation were skipped, never sent.
    sched = stack.answer("schedule", channel=ch)
    assert "skipped" in sched and "sent" in sched
    states = {d.state for d in deliveries(stack, rel.id)}
    assert "skipped" in states and "sent" in states


def test_adhoc_announcement_schedule_move_and_cancel(stack: Stack) -> None:
    ch = stack.channel()
    biz = stack.channel()
    rel = stack.new_release(ch)
    before = stack.snapshot()
    refused = stack.ok(f"announce business at {at(3)} Early notice", channel=ch, responses=1)
    assert "No channel is set" in json.dumps(refused)
    assert stack.snapshot() == before
    stack.ok(f"channel business <#{biz}>", channel=ch, responses=1)
    outsider = stack.ok(f"announce business at {at(3)} Nope", user="UOUT", channel=ch, responses=1)
    assert "Project Manager" in json.dumps(outsider)
    done = stack.ok(f"announce business at {at(4)} Payroll is read-only from 21:00 <@UWBO>", channel=ch, responses=1)
    told = json.dumps(done)
    assert re.search(r"Scheduled extra announcement #\d+ for", told) and "adhoc-" not in told, told
    wait_until(lambda: any("read-only" in json.dumps(m) for m in posts(stack, biz)), timeout=15)
    assert sum("read-only" in json.dumps(m) for m in posts(stack, biz)) == 1
    sched = stack.answer("schedule", channel=ch)
    assert "extra announcement #" in sched and "adhoc-" not in sched and "`ann." not in sched

    # Moving the window re-times every pending template announcement and tells the channel.
    reminder_before = [d for d in deliveries(stack, rel.id) if d.state == "pending"]
    assert reminder_before
    new_start = rel.cutover_start + timedelta(days=3)
    stack.ok(f"move --cutover {new_start.strftime('%Y-%m-%dT%H:%M:%S')}Z", channel=ch, responses=1)
    wait_until(lambda: any("move" in json.dumps(m).lower() for m in stack.api.messages(ch)[1:]), timeout=10)
    after = {d.id: d for d in deliveries(stack, rel.id)}
    assert all(after[d.id].due_at == d.due_at + timedelta(days=3) for d in reminder_before)

    stack.ok("cancel", channel=ch, responses=1)
    assert {d.state for d in deliveries(stack, rel.id)} <= {"sent", "skipped", "cancelled"}
    assert "cancelled" in {d.state for d in deliveries(stack, rel.id)}


def test_faults_are_retried_or_reported_never_lost(stack: Stack) -> None:
    ch = stack.channel()
    rate, flaky, slow, closed = (stack.channel() for _ in range(4))
    rel = stack.new_release(ch)
    for c in (rate, flaky, slow, closed):
        stack.ok(f"channel all <#{c}>", channel=ch, responses=1)
    stack.api.inject("chat.postMessage", "ratelimited", times=1, retry_after=2, channel=rate)
    stack.api.inject("chat.postMessage", "server_error", times=2, channel=flaky)
    stack.api.inject("chat.postMessage", "timeout", times=1, delay=3.0, channel=slow)  # longer than SLACK_TIMEOUT
    stack.api.inject("chat.postMessage", "not_in_channel", times=1, channel=closed)
    # Whole seconds, a few ahead: on a loaded machine "1 s from now" can be in the past by the fourth command.
    when = at(4)
    for c in (rate, flaky, slow, closed):
        told = stack.ok(f"announce <#{c}> at {when} Fault drill for {c}", channel=ch, responses=1)
        assert "Scheduled" in json.dumps(told), told
    try:
        wait_until(lambda: all(len(posts(stack, c)) == 1 for c in (rate, flaky, slow)), timeout=90)
    except TimeoutError:
        raise AssertionError(
            [
                (d.channel_id, d.state, d.attempts, d.error)
                for d in deliveries(stack, rel.id)
                if d.channel_id in (rate, flaky, slow)
            ]
        ) from None
    time.sleep(1.0)
    assert [len(posts(stack, c)) for c in (rate, flaky, slow)] == [1, 1, 1]  # none twice
    # The 429's Retry-After was honoured: the next post to that channel came at least 2 s later.
    calls = [c for c in stack.api.calls("chat.postMessage") if c.args.get("channel") == rate]
    limited = next(c for c in calls if c.status == 429)
    posted = next(c for c in calls if c.status == 200 and c.at > limited.at)
    assert posted.at - limited.at >= 2.0
    # not_in_channel: recorded as failed and told to the release channel, with the fix.
    wait_until(
        lambda: any(closed in json.dumps(m) and "invite" in json.dumps(m).lower() for m in stack.api.messages(ch)),
        timeout=15,
    )
    failure = next(
        json.dumps(m) for m in stack.api.messages(ch) if closed in json.dumps(m) and "invite" in json.dumps(m).lower()
    )
    assert "extra announcement #" in failure and "adhoc-" not in failure
    states = {d.channel_id: d.state for d in deliveries(stack, rel.id) if d.due_at < datetime.now(UTC)}
    assert states[closed] == "failed"
    assert states[rate] == states[flaky] == states[slow] == "sent"
