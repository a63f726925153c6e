"""Announcement builders: CAF's fields, safe user text, delivery states, and Slack's size limits."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest

from domain.announcements import (
    AnnouncementKind,
    AnnouncementView,
    DeliveryState,
    DeliveryView,
    NoticeKey,
    StakeholderChannel,
)
from domain.model import Assignment, ItemView, ReleaseState, Subject, SubjectKind
from domain.template import available_templates, load_template
from messages.common import Rendered, to_dicts
from messages.dates import slack_date, slack_window
from messages.schedule import schedule_message
from messages.stakeholder_notices import (
    ANNOUNCEMENT_NAMES,
    NoWordingError,
    announcement_message,
    announcement_name,
    has_wording,
    missing_wording,
    sanitize_announcement_text,
)
from messages.team_notices import (
    channel_added_message,
    delivery_failed_message,
    fix_hint,
    missed_message,
    moved_message,
    preflight_problem_message,
)
from sandbox.blockkit import validate_message_blocks
from tests.test_messages import (
    COM,
    CUTOVER,
    NOW,
    PM,
    U_PM,
    WBO,
    as_json,
    assert_dates_are_tokens,
    assert_message_ok,
    make_release,
    texts,
)

CAF_FIELDS = (
    "*What is changing?*",
    "*When?*",
    "*Who is affected?*",
    "*How will you be affected?*",
    "*What do I need to do?*",
    "*Whom to contact?*",
)
TEMPLATE_KEYS: dict[str, tuple[str, ...]] = {
    "ann.initial": ("business",),
    "ann.it_ops": ("it", "support"),
    "ann.freeze": ("it",),
    "ann.reminder": ("all",),
    "ann.started": ("all",),
    "ann.outcome": ("all",),
    "ann.post_check": ("business", "support"),
    "ann.hypercare_end": ("it", "support"),
    "ann.decom_notice": ("business", "it"),
    "ann.decom_done": ("business", "it"),
    "ann.outcomes": ("business", "it"),
}
HOSTILE_TEXT = (
    "Heads up <!channel> and <!here|here> and <!everyone>: see <#C0OPS12|ops-runbook>, ask <@U012ABC> or "
    "<!subteam^S0ONCALL|oncall>. Docs: <https://wiki.example.com/payroll|runbook> &amp; <javascript:alert(1)|x> "
    "& <script>"
)
U_COM = Subject(SubjectKind.USER, "UCOM00001")
G_PMO = Subject(SubjectKind.GROUP, "SPMO00001")
CMD = "/release"
PERMALINK = "https://acme.slack.com/archives/C0BIZ0001/p1796000000000100"

CHANNELS = (
    StakeholderChannel("business", "C0BIZ0001"),
    StakeholderChannel("it", "C0ITS0001"),
    StakeholderChannel("it", "G0OPS0001", problem="not_in_channel"),
)


def check(out: Rendered) -> dict[str, Any]:
    """Everything a Slack message must satisfy; returns the payload for further checks."""
    assert_message_ok(out)
    payload = {"text": out.text, "blocks": to_dicts(out.blocks)}
    assert validate_message_blocks(payload["blocks"]) == []
    assert len(payload["blocks"]) <= 50
    dumped = json.dumps(payload)
    for raw in ("<!channel>", "<!here", "<!everyone>", "<script>", "<wave 2>", "<javascript:"):
        assert raw not in dumped
    assert_dates_are_tokens(texts(out.blocks))
    return payload


def delivery(n: int, state: DeliveryState, channel: str = "C0BIZ0001", **kw: Any) -> DeliveryView:
    return DeliveryView(id=n, channel_id=channel, state=state, due_at=CUTOVER - timedelta(days=1), **kw)


def announcement(
    n: int,
    key: str,
    send_at: datetime,
    deliveries: tuple[DeliveryView, ...] = (),
    audiences: tuple[str, ...] = ("business",),
    kind: AnnouncementKind = AnnouncementKind.TEMPLATE,
    **kw: Any,
) -> AnnouncementView:
    return AnnouncementView(
        id=n,
        key=key,
        kind=kind,
        audiences=audiences,
        purpose=f"Purpose of {key}",
        send_at=send_at,
        text="Ad-hoc text" if kind is AnnouncementKind.ADHOC else None,
        created_by=U_PM.id if kind is AnnouncementKind.ADHOC else None,
        deliveries=deliveries,
        **kw,
    )


# --- stakeholder announcements -----------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(TEMPLATE_KEYS))
def test_template_announcement_has_every_caf_field(key: str) -> None:
    release = make_release()
    out = announcement_message(release, key, TEMPLATE_KEYS[key], None, NOW, command=CMD)
    check(out)
    body = texts(out.blocks)
    for label in CAF_FIELDS:
        assert label in body, (key, label)
    assert out.blocks[0].to_dict()["type"] == "header"
    # Release-derived text is escaped: the workload holds `<!here>`, the name `<wave 2>`.
    assert "SAP &lt;!here&gt; HCM" in body and "Payroll &amp; HR &lt;wave 2&gt;" in body
    assert body.rstrip().endswith(f"REL-3 · sent by Cutover · {ANNOUNCEMENT_NAMES[NoticeKey(key)]}")
    assert key not in body  # the app's key for it is never shown
    assert slack_date(CUTOVER) in body


def test_headers_follow_the_key() -> None:
    release = make_release()

    def title(key: str, state: ReleaseState = ReleaseState.READY) -> str:
        out = announcement_message(replace(release, state=state), key, ("all",), None, NOW, command=CMD)
        return str(out.blocks[0].to_dict()["text"]["text"])

    assert title("ann.initial").startswith("Planned change: Payroll")
    assert title("ann.started").startswith("Change starting now: ")
    assert title("ann.outcome", ReleaseState.COMPLETED).startswith("Change complete: ")
    assert title("ann.outcome", ReleaseState.ROLLED_BACK).startswith("Change rolled back: ")
    assert title("ann.outcome", ReleaseState.CUTTING_OVER).startswith("Change window ended: ")
    assert title("ann.freeze").startswith("Change freeze begins: ")
    assert title("ann.decom_notice").startswith("Decommission planned: ")


def test_when_is_the_window_as_date_tokens() -> None:
    release = make_release()
    out = announcement_message(release, "ann.initial", ("business",), None, NOW, command=CMD)
    body = texts(out.blocks)
    assert slack_window(release.cutover_start, release.cutover_end) in body
    assert "(4h)" in body


def test_audiences_and_rollback_line() -> None:
    release = make_release()
    business = texts(announcement_message(release, "ann.initial", ("business",), None, NOW, command=CMD).blocks)
    it_ops = texts(announcement_message(release, "ann.it_ops", ("it", "support"), None, NOW, command=CMD).blocks)
    everyone = texts(announcement_message(release, "ann.reminder", ("all",), None, NOW, command=CMD).blocks)
    assert "Business users of SAP" in business
    assert "IT and operations" in it_ops and "Support and helpdesk" in it_ops
    assert "Everyone who uses or supports" in everyone
    # CAF: IT audiences also get the rollback/contingency line; business users do not need it.
    assert "*Rollback and contingency*" in it_ops and "rollback plan" in it_ops
    assert "*Rollback and contingency*" in everyone
    assert "Rollback" not in business


def test_before_and_after_steps() -> None:
    release = make_release()
    initial = texts(announcement_message(release, "ann.initial", ("business",), None, NOW, command=CMD).blocks)
    assert "*Before:*" in initial and "save your work" in initial
    assert "*After:*" in initial and "report any problem" in initial
    post = texts(announcement_message(release, "ann.post_check", ("business",), None, NOW, command=CMD).blocks)
    assert "*Before:*" not in post and "*After:*" in post and "functions" in post


def test_contacts_before_and_after_the_change() -> None:
    release = make_release(
        assignments=(Assignment(PM, U_PM), Assignment(PM, G_PMO), Assignment(COM, U_COM), Assignment(WBO, U_PM))
    )
    pre = texts(announcement_message(release, "ann.initial", ("business",), None, NOW, command=CMD).blocks)
    assert f"{U_PM.mention}, {G_PMO.mention} (Project Manager)" in pre
    assert U_COM.mention not in pre
    post = texts(announcement_message(release, "ann.post_check", ("business",), None, NOW, command=CMD).blocks)
    assert f"{U_COM.mention} (Cloud Operations Manager)" in post
    assert U_PM.mention not in post

    # Nobody in Cloud Ops: the Project Manager stays the contact; nobody at all: the release channel.
    only_pm = make_release(assignments=(Assignment(PM, U_PM),))
    post = texts(announcement_message(only_pm, "ann.post_check", ("business",), None, NOW, command=CMD).blocks)
    assert f"{U_PM.mention} (Project Manager)" in post
    nobody = make_release(assignments=())
    pre = texts(announcement_message(nobody, "ann.initial", ("business",), None, NOW, command=CMD).blocks)
    assert "The release team in <#C0REL3>" in pre


def test_a_key_without_wording_is_an_error_naming_it() -> None:
    release = make_release()
    with pytest.raises(NoWordingError, match=re.escape("`ann.custom`")) as e:
        announcement_message(release, "ann.custom", ("business",), None, NOW, command=CMD)
    assert e.value.key == "ann.custom"
    # One letter off a real key is still no wording: nothing guesses which notice was meant.
    with pytest.raises(NoWordingError, match=re.escape("`ann.outcomez`")):
        announcement_message(release, "ann.outcomez", ("all",), None, NOW, command=CMD)
    assert not has_wording("ann.custom") and has_wording("ann.outcome") and has_wording("ann.outcomes")
    assert missing_wording(["ann.initial", "ann.custom", "ann.outcomes", "x"]) == ("ann.custom", "x")
    # An ad-hoc announcement brings its own text, whatever its key.
    check(announcement_message(release, "ann.custom", ("business",), "Our own words", NOW, command=CMD))


@pytest.mark.parametrize("template_key", available_templates())
def test_every_announcement_of_every_builtin_template_has_wording(template_key: str) -> None:
    template = load_template(template_key)
    # Keys without built-in wording bring their own (the template loader refuses them otherwise).
    assert all(spec.wording for spec in template.announcements if spec.key in missing_wording([spec.key]))
    release = make_release(template_key=template_key)
    for spec in template.announcements:
        out = announcement_message(release, spec.key, spec.audiences, None, NOW, command=CMD)
        check(out)
        assert not str(out.blocks[0].to_dict()["text"]["text"]).startswith("Announcement: "), spec.key


def test_the_caf_template_announcements_are_the_ones_tested_here() -> None:
    template = load_template("caf-migration-release")
    assert {spec.key: spec.audiences for spec in template.announcements} == TEMPLATE_KEYS


@pytest.mark.parametrize("key", list(NoticeKey))
def test_every_notice_key_has_wording(key: NoticeKey) -> None:
    assert has_wording(key) and has_wording(key.value)
    for state in ReleaseState:
        check(announcement_message(make_release(state=state), key.value, ("all",), None, NOW, command=CMD))


def test_window_end_and_results_summary_are_two_notices() -> None:
    # The stored keys differ by one letter; the names do not, and neither does what people read.
    assert NoticeKey("ann.outcome") is NoticeKey.WINDOW_END
    assert NoticeKey("ann.outcomes") is NoticeKey.RESULTS_SUMMARY
    release = make_release()

    def title(key: str, state: ReleaseState) -> str:
        out = announcement_message(replace(release, state=state), key, ("all",), None, NOW, command=CMD)
        return str(out.blocks[0].to_dict()["text"]["text"])

    for state in ReleaseState:
        assert title("ann.outcomes", state).startswith("Migration outcome: ")
        assert not title("ann.outcome", state).startswith("Migration outcome: ")
    summary = texts(announcement_message(release, NoticeKey.RESULTS_SUMMARY, ("it",), None, NOW, command=CMD).blocks)
    assert "cost against the baseline" in summary and "*How will you be affected?*\nNo outage." in summary


def test_rollback_notice() -> None:
    release = make_release(state=ReleaseState.ROLLED_BACK, assignments=(Assignment(PM, U_PM), Assignment(COM, U_COM)))
    out = announcement_message(release, NoticeKey.ROLLBACK, ("all",), None, CUTOVER + timedelta(hours=1), command=CMD)
    check(out)
    body = texts(out.blocks)
    assert str(out.blocks[0].to_dict()["text"]["text"]).startswith("Rollback notice: Payroll")
    assert "back on its original system" in body and "A new plan will be announced" in body
    assert f"{U_COM.mention} (Cloud Operations Manager)" in body  # after the change: operations first
    assert "*Rollback and contingency*\nThe rollback is complete" in body
    assert body.rstrip().endswith("REL-3 · sent by Cutover · Rollback notice")


def test_decommission_window_when_known() -> None:
    release = make_release()
    start = CUTOVER + timedelta(days=21)
    out = announcement_message(
        release, "ann.decom_notice", ("business",), None, NOW, window=(start, start + timedelta(hours=4)), command=CMD
    )
    check(out)
    body = texts(out.blocks)
    assert f"The decommission window is {slack_window(start, start + timedelta(hours=4))}" in body
    unknown = texts(announcement_message(release, "ann.decom_notice", ("business",), None, NOW, command=CMD).blocks)
    assert "exact decommission window" in unknown


def test_rehearsal_is_marked() -> None:
    release = make_release()
    for text in (None, "Quick test"):
        out = announcement_message(release, "ann.initial", ("business",), text, NOW, rehearsal=True, command=CMD)
        check(out)
        assert str(out.blocks[0].to_dict()["text"]["text"]).startswith("REHEARSAL — ")
        assert out.text.startswith("REHEARSAL — ")
        assert "no change will happen" in texts(out.blocks)
    plain = announcement_message(release, "ann.initial", ("business",), None, NOW, command=CMD)
    assert "REHEARSAL" not in as_json(plain)


def test_adhoc_announcement_keeps_mentions_but_never_broadcasts() -> None:
    release = make_release()
    out = announcement_message(release, "adhoc", ("it",), HOSTILE_TEXT, NOW, command=CMD)
    payload = check(out)
    body = texts(out.blocks)
    assert str(payload["blocks"][0]["text"]["text"]).startswith("Update: Payroll")
    for kept in (
        "<#C0OPS12|ops-runbook>",
        "<@U012ABC>",
        "<!subteam^S0ONCALL|oncall>",
        "<https://wiki.example.com/payroll|runbook>",
    ):
        assert kept in body
    assert "&lt;!channel&gt;" in body and "&lt;!here|here&gt;" in body and "&lt;!everyone&gt;" in body
    assert "&amp; &lt;javascript:alert(1)|x&gt;" in body  # the entity Slack sent is not escaped twice
    assert "&amp;amp;" not in body and "&lt;script&gt;" in body
    assert "*When?*" in body and "*Whom to contact?*" in body
    assert "<!channel>" not in out.text and "<!here" not in out.text


def test_sanitize_announcement_text() -> None:
    assert sanitize_announcement_text("a <!channel> b") == "a &lt;!channel&gt; b"
    assert sanitize_announcement_text("<!date^1^{time}|x>") == "&lt;!date^1^{time}|x&gt;"
    assert sanitize_announcement_text("x &amp; y & z &lt;") == "x &amp; y &amp; z &lt;"
    kept = "<mailto:a@example.com|mail> <@W0BOB99> <#G0PRIV1>"
    assert sanitize_announcement_text(kept) == kept


def test_long_adhoc_text_and_long_names_fit() -> None:
    release = make_release(name="N" * 300 + " & <x>", workload="W&" * 500)
    out = announcement_message(release, "adhoc", ("all",), "&amp;" * 400, NOW, command=CMD)
    check(out)
    for key, audiences in TEMPLATE_KEYS.items():
        check(announcement_message(release, key, audiences, None, NOW, rehearsal=True, command=CMD))
    braces = make_release(name="{name} {" * 50, workload="}{workload}" * 50)
    check(announcement_message(braces, "ann.initial", ("it",), None, NOW, command=CMD))


# --- /release schedule ---------------------------------------------------------------------------


def plan() -> list[AnnouncementView]:
    sent_at = CUTOVER - timedelta(days=14)
    return [
        announcement(
            1,
            "ann.initial",
            CUTOVER - timedelta(days=14),
            (delivery(1, DeliveryState.SENT, sent_at=sent_at, permalink=PERMALINK),),
        ),
        announcement(
            2,
            "ann.it_ops",
            CUTOVER - timedelta(days=7),
            (
                delivery(2, DeliveryState.SENT, "C0ITS0001", sent_at=sent_at),
                delivery(3, DeliveryState.FAILED, "G0OPS0001", error="not_in_channel"),
            ),
            audiences=("it", "support"),
        ),
        announcement(
            3,
            "ann.freeze",
            CUTOVER - timedelta(days=3),
            (delivery(4, DeliveryState.MISSED, "C0ITS0001"),),
            audiences=("it",),
        ),
        announcement(
            4,
            "ann.reminder",
            CUTOVER - timedelta(days=1),
            (delivery(5, DeliveryState.PENDING), delivery(6, DeliveryState.SENDING, "C0ITS0001")),
            audiences=("all",),
        ),
        announcement(5, "ann.started", CUTOVER, (delivery(7, DeliveryState.CANCELLED),), cancelled=True),
        announcement(6, "ann.early", CUTOVER - timedelta(days=30), (delivery(8, DeliveryState.SKIPPED),)),
        announcement(
            7,
            "adhoc-7",
            CUTOVER - timedelta(hours=5),
            (delivery(9, DeliveryState.PENDING, "C0ITS0001"),),
            audiences=(),
            kind=AnnouncementKind.ADHOC,
        ),
        announcement(
            8,
            "ann.post_check",
            CUTOVER + timedelta(days=1),
            (delivery(10, DeliveryState.PENDING),),
            audiences=("business", "support"),
        ),
    ]


def entry(body: str, name: str) -> str:
    """The lines of one announcement in the schedule, found by its name."""
    lines = body.split("\n")
    start = next(i for i, line in enumerate(lines) if f"· {name} ·" in line)
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("      ")), len(lines))
    return "\n".join(lines[start:end])


def test_schedule_shows_each_delivery_state() -> None:
    out = schedule_message(make_release(), plan(), CHANNELS, NOW, command=CMD)
    check(out)
    body = texts(out.blocks)
    sent_at = slack_date(CUTOVER - timedelta(days=14))
    assert f"<#C0BIZ0001> — ✅ <{PERMALINK}|sent> {sent_at}" in entry(body, "First notice")
    it_ops = entry(body, "Operational plan")
    assert f"<#C0ITS0001> — ✅ sent {sent_at}" in it_ops
    assert "<#G0OPS0001> — ⛔ failed: `not_in_channel` — invite @Cutover: `/invite @Cutover` in that channel" in it_ops
    assert "no channel for support: not sent to that audience" in it_ops
    assert "missed" in entry(body, "Change freeze") and "/release announce" in entry(body, "Change freeze")
    reminder = entry(body, "Reminder")
    assert reminder.count("⏳ scheduled") == 2
    assert "no channel for" not in reminder  # `all` has channels
    assert "✖️ cancelled" in entry(body, "Change starting")
    assert "skipped" in entry(body, "Purpose of ann.early")  # a key without wording: its purpose
    adhoc = entry(body, "extra announcement #7")
    assert "to <#C0ITS0001>" in adhoc and "by <@UPM000001>" in adhoc and "⏳ scheduled" in adhoc
    assert "no channel for support yet — `/release channel support #channel`" in entry(body, "After the change")
    # Send-time order, whatever order the caller gave.
    positions = [
        body.index(f"· {name} ·")
        for name in (
            "Purpose of ann.early",
            "First notice",
            "Operational plan",
            "Change freeze",
            "Reminder",
            "extra announcement #7",
            "Change starting",
            "After the change",
        )
    ]
    assert positions == sorted(positions)
    assert "`ann." not in body and "adhoc-" not in body  # no internal key anywhere


def test_schedule_lists_channels_per_audience_with_problems() -> None:
    out = schedule_message(make_release(), plan(), CHANNELS, NOW, command=CMD)
    body = texts(out.blocks)
    channels = body[body.index("*Stakeholder channels*") :]
    assert "*business users* (`business`): <#C0BIZ0001>" in channels
    assert "<#C0ITS0001> · <#G0OPS0001> :warning: can't post: `not_in_channel`" in channels
    assert "*support and helpdesk* (`support`): _none yet_ — `/release channel support #channel`" in channels
    assert "`not_in_channel` — invite @Cutover" in channels


def test_schedule_without_announcements_or_channels() -> None:
    out = schedule_message(make_release(), [], [], NOW, command=CMD)
    check(out)
    body = texts(out.blocks)
    assert "No announcements planned" in body
    assert body.count("_none yet_") == 4
    types = [b["type"] for b in to_dicts(out.blocks)]
    assert all(not (a == b == "divider") for a, b in pairwise(types))


def test_schedule_caps_forty_announcements_times_ten_channels() -> None:
    channel_ids = [f"C0STAKE{n:03d}" for n in range(10)]
    channels = [
        StakeholderChannel(("business", "it", "support")[n % 3], c, problem="channel_not_found" if n == 3 else None)
        for n, c in enumerate(channel_ids)
    ]
    states = list(DeliveryState)
    announcements = []
    for n in range(40):  # every delivery state appears in every announcement
        deliveries = tuple(
            delivery(
                n * 10 + m,
                states[(n + m) % len(states)],
                c,
                error="is_archived",
                permalink=PERMALINK,
                sent_at=CUTOVER - timedelta(days=1),
            )
            for m, c in enumerate(channel_ids)
        )
        announcements.append(
            announcement(
                100 + n, f"ann.bulk_{n:02d}_" + "k" * 40, CUTOVER + timedelta(hours=n), deliveries, audiences=("all",)
            )
        )
    out = schedule_message(make_release(), announcements, channels, NOW, command=CMD)
    payload = check(out)
    assert len(payload["blocks"]) <= 50
    body = texts(out.blocks)
    assert "more channels:" in body  # per-announcement cap
    # The cap keeps problems visible: each shown announcement lists its failed and missed channels.
    shown = [e for e in re.split(r"\n(?=\*<!date)", body) if "· Purpose of ann.bulk_" in e]
    assert len(shown) >= 10
    assert all("⛔ failed" in e and "⚠️ missed" in e for e in shown)
    assert re.search(r"_\+\d+ more announcements_", body)  # list cap
    assert "*Stakeholder channels*" in body and "`channel_not_found`" in body


def test_schedule_with_many_channels_per_audience() -> None:
    channels = [StakeholderChannel("it", f"C0IT{n:05d}", problem="not_in_channel") for n in range(60)]
    out = schedule_message(make_release(), plan(), channels, NOW, command=CMD)
    check(out)
    assert "+50 more" in texts(out.blocks)


# --- release-channel notices -----------------------------------------------------------------------


# (stored key, purpose, ad-hoc id, what people read)
NAMES: list[tuple[str, str, int | None, str]] = [
    ("ann.initial", "First notice: dates, outage window …", None, "First notice"),
    ("ann.outcome", "", None, "Window end"),
    ("ann.outcomes", "", None, "Migration outcome"),
    ("ann.rollback", "", None, "Rollback notice"),
    ("adhoc-12", "", None, "extra announcement #12"),
    ("adhoc-new-3f2a", "", 41, "extra announcement #41"),
    ("", "", 9, "extra announcement #9"),
    ("ann.custom", "Heads-up <b> & more", None, "Heads-up &lt;b&gt; &amp; more"),
    ("adhoc", "", None, "extra announcement"),
    ("ann.<x>", "", None, "`ann.&lt;x&gt;`"),  # nothing else to go by: the key, defused, in a code span
]


@pytest.mark.parametrize(("key", "purpose", "adhoc_id", "shown"), NAMES, ids=[n[3] for n in NAMES])
def test_announcements_are_named_never_keyed(key: str, purpose: str, adhoc_id: int | None, shown: str) -> None:
    assert announcement_name(key, purpose=purpose, adhoc_id=adhoc_id) == shown


def test_every_notice_with_wording_has_a_name() -> None:
    assert set(ANNOUNCEMENT_NAMES) == set(NoticeKey)
    failed = texts(delivery_failed_message(make_release(), "adhoc-12", "C0BIZ0001", "is_archived", command=CMD).blocks)
    assert "The announcement “extra announcement #12” of REL-3" in failed and "adhoc-12" not in failed


@pytest.mark.parametrize(
    ("error", "fix"),
    [
        ("not_in_channel", "`/invite @Cutover` in that channel"),
        ("channel_not_found", "`/invite @Cutover` in that channel"),
        ("is_archived", "unarchive it or pick another channel"),
        ("restricted_action", "check the channel and run `/release channel` again"),
    ],
)
def test_preflight_and_delivery_failure_fixes(error: str, fix: str) -> None:
    assert fix in fix_hint(error, command=CMD)
    release = make_release()
    pre = preflight_problem_message(release, "C0BIZ0001", error, command=CMD)
    check(pre)
    body = texts(pre.blocks)
    assert "<#C0BIZ0001>" in body and f"`{error}`" in body and fix in body
    failed = delivery_failed_message(release, "ann.initial", "G0OPS0001", error, command=CMD)
    check(failed)
    body = texts(failed.blocks)
    assert "<#G0OPS0001>" in body and "“First notice”" in body and f"`{error}`" in body and fix in body
    assert "ann.initial" not in body and "ann.initial" not in failed.text


def test_notices_defuse_odd_errors_keys_and_ids() -> None:
    release = make_release()
    out = preflight_problem_message(release, "<!channel>", "bad `<!here>` error", command=CMD)
    check(out)
    body = texts(out.blocks)
    assert "&lt;!here&gt;" in body and "&lt;!channel&gt;" in body
    out = delivery_failed_message(release, "ann.<x>&y", "C0BIZ0001", "", command=CMD)
    check(out)
    body = texts(out.blocks)
    assert "`ann.&lt;x&gt;&amp;y`" in body and "&amp;amp;" not in body and "`unknown error`" in body


def test_missed_message_lists_and_caps() -> None:
    release = make_release()
    items = [
        ("ann.reminder", "C0BIZ0001", CUTOVER - timedelta(days=1)),
        ("ann.freeze", "C0ITS0001", CUTOVER - timedelta(days=3)),
    ]
    out = missed_message(release, items, command=CMD)
    check(out)
    body = texts(out.blocks)
    assert body.index("• Change freeze to") < body.index("• Reminder to")
    assert f"to <#C0BIZ0001> — was due {slack_date(CUTOVER - timedelta(days=1))}" in body
    assert "/release announce" in body and "2 announcement deliveries" in body
    many = [(f"ann.k{n}", "C0BIZ0001", CUTOVER + timedelta(hours=n)) for n in range(300)]
    out = missed_message(release, many, command=CMD)
    check(out)
    assert "_+270 more_" in texts(out.blocks)


def gate(n: int, title: str, approvers: tuple[str, ...]) -> ItemView:
    return ItemView(
        id=n,
        key=f"g{n}",
        phase_key="communicate",
        position=n,
        title=title,
        responsible_roles=(PM,),
        approver_roles=approvers,
        due_at=CUTOVER - timedelta(days=14),
    )


def test_moved_message() -> None:
    release = make_release()
    new_start = CUTOVER + timedelta(days=7)
    reapproval = [gate(1, "Outage window approved <!channel>", (WBO,)), gate(2, "Change approved", (PM, COM))]
    out = moved_message(
        release, CUTOVER, CUTOVER + timedelta(hours=4), new_start, new_start + timedelta(hours=6), 5, reapproval
    )
    check(out)
    body = texts(out.blocks)
    assert f"*Was:* {slack_window(CUTOVER, CUTOVER + timedelta(hours=4))}" in body
    assert f"*Now:* {slack_window(new_start, new_start + timedelta(hours=6))}" in body
    assert "5 pending announcements moved" in body
    assert "Outage window approved &lt;!channel&gt;" in body
    assert "Workload Business Owner: <@UWBO00001>, <!subteam^SBIZ00001>" in body
    assert "Project Manager: <@UPM000001>; Cloud Operations Manager: _unassigned_" in body

    quiet = moved_message(release, CUTOVER, CUTOVER + timedelta(hours=4), new_start, new_start, 0, [])
    check(quiet)
    assert "No sign-off needs approval again" in texts(quiet.blocks)
    crowded = [gate(n, f"Gate {n} " + "t" * 140, (WBO, PM, COM)) for n in range(200)]
    check(moved_message(release, CUTOVER, CUTOVER, new_start, new_start, 1, crowded))


def test_channel_added_message() -> None:
    release = make_release()
    ok = channel_added_message(release, "business", "C0BIZ0001", None, 3, command=CMD)
    check(ok)
    body = texts(ok.blocks)
    assert "<#C0BIZ0001>" in body and "business" in body and "3 pending announcements will also go there" in body
    bad = channel_added_message(release, "it", "G0OPS0001", "not_in_channel", 0, command=CMD)
    check(bad)
    body = texts(bad.blocks)
    assert "can't post there" in body and "`not_in_channel`" in body and "`/invite @Cutover`" in body


def test_rehearsal_names_where_the_real_release_would_post() -> None:
    release = make_release()
    out = announcement_message(
        release, "ann.initial", ("business",), None, NOW, rehearsal=True, rehearsal_channels=("C0BIZ1",), command=CMD
    )
    assert "In the release it goes to <#C0BIZ1>." in as_json(out)
    none = announcement_message(
        release, "ann.initial", ("business",), None, NOW, rehearsal=True, rehearsal_channels=(), command=CMD
    )
    assert "No stakeholder channel is set" in as_json(none)
    many = tuple(f"C0CH{i:03d}" for i in range(14))
    out = announcement_message(
        release, "ann.initial", ("all",), None, NOW, rehearsal=True, rehearsal_channels=many, command=CMD
    )
    assert "and 4 more" in as_json(out) and "C0CH013" not in as_json(out)
