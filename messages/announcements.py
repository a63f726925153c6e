"""Change announcements: what stakeholders receive, the ``/release schedule`` plan, and the notices the
release channel gets when an announcement cannot go out or the window moves.

Stakeholder messages answer CAF's change-communication questions (what is changing, when, who is
affected, how, what to do before and after, whom to contact) from the release's own data, so the
template only decides *which* notice goes out *when*. Every time is a Slack date token: stakeholders
read them in their own zones. Release names and workloads are user text and always escaped; an ad-hoc
announcement's text is mrkdwn the user wrote and keeps its mentions and links, but never a broadcast.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import Block, DividerBlock

from domain.announcements import (
    OPEN_DELIVERY_STATES,
    AnnouncementKind,
    AnnouncementView,
    DeliveryState,
    DeliveryView,
    StakeholderChannel,
    channels_for,
)
from domain.model import ItemView, ReleaseState, ReleaseView
from domain.roles import PROJECT_MANAGER, role_name
from domain.template import AUDIENCES

from .checklist import release_title
from .common import (
    MAX_BLOCKS,
    SECTION_TEXT_MAX,
    TEXT_BUDGET,
    Rendered,
    clip,
    context,
    cut_markup,
    escape,
    header,
    one_line,
    pack_lines,
    plural,
    rendered,
    role_names,
    section,
    text_length,
)
from .dates import slack_date, slack_window
from .status import holders_text

CLOUD_OPS_MANAGER = "cloud-ops-manager"
NAME_MAX = 100
WORKLOAD_MAX = 200
PURPOSE_MAX = 300
ERROR_MAX = 100
TITLE_MAX = 120
CONTACTS_SHOWN = 5
DELIVERIES_SHOWN = 4  # per announcement in /release schedule; the rest are counted by state
CHANNELS_SHOWN = 10  # per audience in /release schedule
ANNOUNCEMENTS_SHOWN = 40
MISSED_SHOWN = 30
REAPPROVAL_SHOWN = 20
REHEARSAL_PREFIX = "REHEARSAL — "
ADHOC_LABEL = "ad-hoc"

# Pre-change notices name the project as contact, later ones operations (CAF's template separates the
# pre-change contact from the post-change one, which is the helpdesk side).
_PRE, _DURING, _POST = "pre", "during", "post"

_AUDIENCE_WHO: dict[str, str] = {
    "business": "Business users of {workload}, and teams whose systems exchange data with it",
    "it": "IT and operations: owners and operators of the systems being moved, developers who deploy "
    "to them, and change managers",
    "support": "Support and helpdesk teams",
    "all": "Everyone who uses or supports {workload}",
}
_AUDIENCE_SHORT: dict[str, str] = {
    "business": "business users",
    "it": "IT and operations",
    "support": "support and helpdesk",
    "all": "everyone",
}
_IT_AUDIENCES = frozenset({"it", "all"})

_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
_SAFE_URL = re.compile(r"https://[^\s<>|`]+")
# What an ad-hoc text may keep as markup: people, groups, channels and links. Broadcasts
# (``<!channel>``, ``<!here>``, ``<!everyone>``), date tokens and anything else are shown, not acted on.
_USER_MARKUP = re.compile(
    r"<(?:@[UW][A-Z0-9]+(?:\|[^<>|]*)?"
    r"|#[CG][A-Z0-9]+(?:\|[^<>|]*)?"
    r"|!subteam\^S[A-Z0-9]+(?:\|[^<>|]*)?"
    r"|(?:https?://|mailto:)[^<>|\s]+(?:\|[^<>|]*)?)>"
)
_LONE_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt);)")


# --- shared wording ------------------------------------------------------------------------------


def channel_mention(channel_id: str) -> str:
    """``<#C…>`` for a real channel id; anything else is shown as escaped text, never as markup."""
    return f"<#{channel_id}>" if _CHANNEL_ID.fullmatch(channel_id) else f"`{_code(channel_id)}`"


def _code(text: str, limit: int = ERROR_MAX) -> str:
    """Text for inside a code span: escaped, one line, no backtick that would end the span early."""
    return clip(one_line(text).replace("`", "'"), limit)


def fix_hint(error: str) -> str:
    """What the release manager can do about a Slack error that stops posting to a channel."""
    if error in ("not_in_channel", "channel_not_found"):
        return "invite @Cutover: `/invite @Cutover` in that channel"
    if error == "is_archived":
        return "unarchive it or pick another channel"
    return "check the channel and run `/release channel` again"


def audience_label(audience: str) -> str:
    return escape(_AUDIENCE_SHORT.get(audience, audience))


def sanitize_announcement_text(text: str) -> str:
    """An ad-hoc announcement's mrkdwn, safe to post: mentions of people, groups and channels and links
    survive; every other ``<…>`` is escaped so it cannot ping a channel, and Slack's entities are kept
    as they are so text escaped once is not escaped twice."""
    out: list[str] = []
    last = 0
    for m in _USER_MARKUP.finditer(text):
        out.append(_escape_plain(text[last : m.start()]))
        out.append(m.group())
        last = m.end()
    out.append(_escape_plain(text[last:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    return _LONE_AMPERSAND.sub("&amp;", text).replace("<", "&lt;").replace(">", "&gt;")


def _name(release: ReleaseView) -> str:
    return clip(one_line(release.name), NAME_MAX) or escape(release.key)


def _workload(release: ReleaseView) -> str:
    """The workload, or the release name when none was given: sentences need a subject."""
    if release.workload.strip():
        return clip(one_line(release.workload), WORKLOAD_MAX)
    return _name(release)


def _contacts(release: ReleaseView, stage: str) -> str:
    """Whom stakeholders should contact: the project before the change, operations after it."""
    roles = (PROJECT_MANAGER,) if stage != _POST else (CLOUD_OPS_MANAGER, PROJECT_MANAGER)
    team = f"the release team in {channel_mention(release.channel_id)}"
    for role in roles:
        holders = release.holders(role)
        if holders:
            return f"{holders_text(holders, CONTACTS_SHOWN)} ({escape(role_name(role))}), or {team}"
    return team[0].upper() + team[1:]


def _stage_by_time(release: ReleaseView, now: datetime) -> str:
    if now < release.cutover_start:
        return _PRE
    if now < release.cutover_end:
        return _DURING
    return _POST


def _context_line(release: ReleaseView, key: str) -> str:
    return f"{escape(release.key)} · sent by Cutover · {escape(one_line(key)) or ADHOC_LABEL}"


_REHEARSAL_NOTE = (
    ":test_tube: *Rehearsal:* no change will happen and nothing will be unavailable; "
    "this shows what stakeholders will receive."
)


_MAX_TARGETS = 10


def _rehearsal_targets(audiences: Sequence[str], channels: Sequence[str] | None) -> str:
    """Where the real release would send this, so a rehearsal also shows gaps in the channel set-up."""
    if channels is None or not audiences:
        return ""
    if not channels:
        return " No stakeholder channel is set for it yet (`/release channel <audience> #channel`)."
    shown = ", ".join(channel_mention(c) for c in channels[:_MAX_TARGETS])
    more = f" and {len(channels) - _MAX_TARGETS} more" if len(channels) > _MAX_TARGETS else ""
    return f" In the release it goes to {shown}{more}."


# --- stakeholder announcements -------------------------------------------------------------------


@dataclass(frozen=True)
class _Notice:
    """One template announcement's wording. Placeholders: {name} {workload} {start} {end} {window}
    {channel}; values are already escaped mrkdwn."""

    header: str
    lead: str
    stage: str
    how: str
    todo: tuple[tuple[str, str], ...]  # (label, text) lines under "What do I need to do?"
    rollback: str


_CHECK_AFTER = "Check that your usual work in {workload} functions, and report any problem to the contacts below."
_UNAVAILABLE = "{workload} is unavailable for new work from {start} until {end}."
_ROLLBACK_PLAN = (
    "If the go/no-go checks fail, the migration team rolls back to the current system following the "
    "rollback plan; the decision and any new plan are posted in {channel}."
)
_ROLLBACK_KEPT = (
    "The original system is kept until it is decommissioned, so the change can still be reversed if "
    "needed; the release team decides in {channel}."
)

_NOTICES: dict[str, _Notice] = {
    "ann.initial": _Notice(
        header="Planned change: {name}",
        lead="Advance notice of a planned change and its outage window.",
        stage=_PRE,
        how=_UNAVAILABLE,
        todo=(
            ("Before", "Plan around the outage. Before it starts, save your work and sign out of {workload}."),
            ("After", _CHECK_AFTER),
        ),
        rollback=_ROLLBACK_PLAN,
    ),
    "ann.it_ops": _Notice(
        header="Operational plan: {name}",
        lead="How operations, deployments and support are affected by this change.",
        stage=_PRE,
        how="The systems being moved are unavailable from {start} until {end}; a change freeze applies "
        "before the window.",
        todo=(
            (
                "Before",
                "Hold deployments and changes to the systems being moved; read the runbook, escalation path "
                "and on-call roster in {channel}; get monitoring and support ready for the new environment.",
            ),
            ("After", "Watch monitoring and alerts on the new environment and route incidents as the runbook says."),
        ),
        rollback=_ROLLBACK_PLAN,
    ),
    "ann.freeze": _Notice(
        header="Change freeze begins: {name}",
        lead="A change freeze on the systems being moved starts now and lasts until the change is complete.",
        stage=_PRE,
        how="No changes or deployments to {workload} until {end}, except emergency changes through the change "
        "approval process. The outage runs from {start} until {end}.",
        todo=(
            (
                "Before",
                "Make no changes or deployments to the systems being moved. For an emergency change, get "
                "approval from the contacts below first.",
            ),
            ("After", "Deployments resume against the new environment once the change is confirmed complete."),
        ),
        rollback=_ROLLBACK_PLAN,
    ),
    "ann.reminder": _Notice(
        header="Reminder — planned change: {name}",
        lead="The change window is close.",
        stage=_PRE,
        how=_UNAVAILABLE,
        todo=(
            ("Before", "Save your work and sign out of {workload} before {start}. Updates will be posted here."),
            ("After", _CHECK_AFTER),
        ),
        rollback=_ROLLBACK_PLAN,
    ),
    "ann.started": _Notice(
        header="Change starting now: {name}",
        lead="The change window has begun.",
        stage=_DURING,
        how="{workload} is unavailable from now until {end}.",
        todo=(
            ("Now", "Do not start new work in {workload} until the change is confirmed complete."),
            ("After", "Wait for the completion notice here, then check that your work functions."),
        ),
        rollback=_ROLLBACK_PLAN,
    ),
    "ann.outcome": _Notice(
        header="Change window ended: {name}",
        lead="The planned window has ended; the release team will confirm the outcome here.",
        stage=_POST,
        how="The outage was planned for {window}. Until the outcome is confirmed, {workload} may still be unavailable.",
        todo=(("After", "Wait for the confirmation here before you resume work in {workload}."),),
        rollback=_ROLLBACK_PLAN,
    ),
    "ann.post_check": _Notice(
        header="After the change: {name}",
        lead="The change is done; please confirm that your work functions.",
        stage=_POST,
        how="The outage window ({window}) is over and {workload} runs on the new platform. During hypercare "
        "the project team watches closely for problems.",
        todo=(("After", _CHECK_AFTER + " Name {name} in the subject of any report."),),
        rollback=_ROLLBACK_KEPT,
    ),
    "ann.hypercare_end": _Notice(
        header="Hypercare ends: {name}",
        lead="The hypercare period after the change has ended.",
        stage=_POST,
        how="No outage. Normal service levels and support routes apply again.",
        todo=(("From now on", "Raise problems with {workload} through the normal support routes."),),
        rollback=_ROLLBACK_KEPT,
    ),
    "ann.decom_notice": _Notice(
        header="Decommission planned: {name}",
        lead="The old systems behind {workload} are being retired in a maintenance window of at least four hours.",
        stage=_POST,
        how="The old systems may be unavailable during the decommission window. The new platform is not affected.",
        todo=(
            ("Before", "Stop using the old systems and move anything you still keep there."),
            ("After", "Report anything that stops working to the contacts below."),
        ),
        rollback="If something depends on the old systems after all, they can be re-enabled; the release "
        "team decides in {channel}.",
    ),
    "ann.decom_done": _Notice(
        header="Decommission complete: {name}",
        lead="The decommission window has ended.",
        stage=_POST,
        how="The old systems are retired; the new platform was not affected.",
        todo=(("After", "Report anything that stopped working to the contacts below."),),
        rollback="If a problem traces back to the retired systems, they can be re-enabled; the release team "
        "decides in {channel}.",
    ),
    "ann.outcomes": _Notice(
        header="Migration outcome: {name}",
        lead="A summary of how the migration went (cost against the baseline, performance, incidents) is "
        "available from the release team in {channel}.",
        stage=_POST,
        how="No outage.",
        todo=(("After", "Nothing to do; questions go to the contacts below."),),
        rollback=_ROLLBACK_KEPT,
    ),
}

# ann.outcome is the one notice whose content depends on what happened in the window.
_OUTCOMES: dict[ReleaseState, _Notice] = {
    ReleaseState.COMPLETED: _Notice(
        header="Change complete: {name}",
        lead="The change finished successfully; no further changes are planned in this window.",
        stage=_POST,
        how="The outage window ({window}) is over and {workload} is back in service on the new platform.",
        todo=(("After", _CHECK_AFTER),),
        rollback=_ROLLBACK_KEPT,
    ),
    ReleaseState.ROLLED_BACK: _Notice(
        header="Change rolled back: {name}",
        lead="The change was rolled back: {workload} is back on its original system. A new plan will be announced.",
        stage=_POST,
        how="The outage window ({window}) is over and the service runs on its original system.",
        todo=(("After", _CHECK_AFTER),),
        rollback="The rollback is complete; the new plan and dates will be posted in {channel} and announced here.",
    ),
}
_OUTCOMES[ReleaseState.CLOSED] = _OUTCOMES[ReleaseState.COMPLETED]

_DECOM_KEYS = frozenset({"ann.decom_notice", "ann.decom_done"})


def _generic(purpose: str, stage: str) -> _Notice:
    # `purpose` is template text: escaped here, and braces doubled so format() leaves them alone.
    lead = clip(one_line(purpose), PURPOSE_MAX).replace("{", "{{").replace("}", "}}")
    how = _UNAVAILABLE if stage == _PRE else "The outage window is {window}."
    todo: tuple[tuple[str, str], ...] = (
        (("Before", "Save your work and sign out of {workload} before {start}."), ("After", _CHECK_AFTER))
        if stage == _PRE
        else (("After", _CHECK_AFTER),)
    )
    return _Notice(
        header="Announcement: {name}",
        lead=lead,
        stage=stage,
        how=how,
        todo=todo,
        rollback=_ROLLBACK_PLAN if stage != _POST else _ROLLBACK_KEPT,
    )


def _notice(release: ReleaseView, key: str, purpose: str, now: datetime) -> _Notice:
    if key == "ann.outcome" and release.state in _OUTCOMES:
        return _OUTCOMES[release.state]
    return _NOTICES.get(key) or _generic(purpose, _stage_by_time(release, now))


def _who(audiences: Sequence[str], workload: str) -> str:
    if not audiences:
        return "Everyone in this channel"
    known = [a for a in AUDIENCES if a in audiences]
    extra = sorted(set(audiences) - set(known))
    lines = [_AUDIENCE_WHO[a].format(workload=workload) for a in known]
    lines += [f"Members of the `{_code(a, 40)}` audience" for a in extra]
    if len(lines) == 1:
        return lines[0] + "."
    return "\n".join(f"• {line}" for line in lines)


def _field(label: str, body: str) -> str:
    return f"*{label}*\n{body}"


def announcement_message(
    release: ReleaseView,
    key: str,
    purpose: str,
    audiences: tuple[str, ...],
    text: str | None,
    now: datetime,
    *,
    rehearsal: bool = False,
    window: tuple[datetime, datetime] | None = None,
    rehearsal_channels: Sequence[str] | None = None,
) -> Rendered:
    """The message posted to a stakeholder channel.

    ``text`` None: a template announcement (``key``, ``purpose``) in CAF's fields. Otherwise an ad-hoc
    announcement: ``text`` is the user's mrkdwn. ``window`` is the window the notice is about when it is
    not the cutover (the decommission window, when the caller knows it).
    """
    name = _name(release)
    workload = _workload(release)
    cutover = slack_window(release.cutover_start, release.cutover_end)
    prefix = REHEARSAL_PREFIX if rehearsal else ""
    foot: list[str] = [_context_line(release, key)]
    if rehearsal:
        foot.insert(0, _REHEARSAL_NOTE + _rehearsal_targets(audiences, rehearsal_channels))

    if text is not None:
        title = f"{prefix}Update: {name}"
        body = cut_markup(sanitize_announcement_text(text.strip()), SECTION_TEXT_MAX) or "…"
        stage = _stage_by_time(release, now)
        tense = "was" if stage == _POST else "is"
        blocks: list[Block] = [
            header(title),
            section(body),
            section(_field("When?", f"The cutover window {tense} {cutover}. Times show in your own time zone.")),
            section(_field("Whom to contact?", _contacts(release, stage))),
            context(*foot),
        ]
        return rendered(f"{title}: {one_line(body)}", blocks)

    notice = _notice(release, key, purpose, now)
    values = {
        "name": name,
        "workload": workload,
        "start": slack_date(release.cutover_start),
        "end": slack_date(release.cutover_end),
        "window": cutover,
        "channel": channel_mention(release.channel_id),
    }

    def fill(template: str) -> str:
        return template.format(**values)

    title = prefix + fill(notice.header)
    if key in _DECOM_KEYS:
        when = (
            f"The decommission window is {slack_window(*window)}."
            if window
            else f"After the cutover ({cutover}); the release team posts the exact decommission window in "
            f"{values['channel']}."
        )
    elif notice.stage == _POST:
        when = f"The cutover window was {cutover}."
    else:
        when = f"{cutover}"
    what = f"{workload} is migrating to the cloud ({name})." if release.workload.strip() else f"{name}."
    if key in _DECOM_KEYS:
        what = f"The old systems behind {workload} are being retired after its migration ({name})."
    todo = "\n".join(f"*{label}:* {fill(line)}" for label, line in notice.todo)

    sections = [
        fill(notice.lead),
        _field("What is changing?", what),
        _field("When?", when + "\nTimes show in your own time zone."),
        _field("Who is affected?", _who(audiences, workload)),
        _field("How will you be affected?", fill(notice.how)),
        _field("What do I need to do?", todo),
        _field("Whom to contact?", _contacts(release, notice.stage)),
    ]
    if _IT_AUDIENCES & set(audiences):
        sections.append(_field("Rollback and contingency", fill(notice.rollback)))
    blocks = [header(title), *(section(s) for s in sections if s), context(*foot)]
    return rendered(f"{title} — {cutover}", blocks)


# --- /release schedule -----------------------------------------------------------------------------


_STATE_WORDS: dict[DeliveryState, str] = {
    DeliveryState.PENDING: "scheduled",
    DeliveryState.SENDING: "scheduled",
    DeliveryState.SENT: "sent",
    DeliveryState.FAILED: "failed",
    DeliveryState.MISSED: "missed",
    DeliveryState.SKIPPED: "skipped",
    DeliveryState.CANCELLED: "cancelled",
}


_PROBLEM_STATES = frozenset({DeliveryState.FAILED, DeliveryState.MISSED})


def _delivery_state(d: DeliveryView) -> str:
    if d.state in OPEN_DELIVERY_STATES:
        return "⏳ scheduled"
    if d.state is DeliveryState.SENT:
        when = f" {slack_date(d.sent_at)}" if d.sent_at else ""
        if d.permalink and _SAFE_URL.fullmatch(d.permalink):
            return f"✅ <{d.permalink}|sent>{when}"
        return f"✅ sent{when}"
    if d.state is DeliveryState.FAILED:
        error = d.error or "unknown error"
        return f"⛔ failed: `{_code(error)}` — {fix_hint(error)}"
    if d.state is DeliveryState.MISSED:
        return "⚠️ missed: Cutover was down when it was due; re-send with `/release announce`"
    if d.state is DeliveryState.SKIPPED:
        return "⏭️ skipped: its time had passed when the release was planned"
    if d.state is DeliveryState.CANCELLED:
        return "✖️ cancelled"
    return escape(str(d.state))


def _targets(ann: AnnouncementView) -> str:
    if ann.audiences:
        return "to " + ", ".join(audience_label(a) for a in ann.audiences)
    if len(ann.deliveries) == 1:
        return "to " + channel_mention(ann.deliveries[0].channel_id)
    return "to one channel"


def _missing_audiences(ann: AnnouncementView, channels: Sequence[StakeholderChannel]) -> list[str]:
    return [a for a in ann.audiences if not channels_for([a], channels)]


def _announcement_entry(ann: AnnouncementView, channels: Sequence[StakeholderChannel], now: datetime) -> str:
    label = ADHOC_LABEL if ann.kind is AnnouncementKind.ADHOC else ann.key
    line = f"*{slack_date(ann.send_at)}* · `{_code(label, 60)}` · {_targets(ann)}"
    if ann.kind is AnnouncementKind.ADHOC and ann.created_by and re.fullmatch(r"[UW][A-Z0-9]+", ann.created_by):
        line += f" · by <@{ann.created_by}>"
    if ann.cancelled:
        return f"{line} — ✖️ cancelled"
    lines = [line]
    indent = "      "
    # Problems first, so the cap below never hides a channel that needs the release manager.
    deliveries = sorted(ann.deliveries, key=lambda d: d.state not in _PROBLEM_STATES)
    shown = deliveries[:DELIVERIES_SHOWN]
    lines += [f"{indent}{channel_mention(d.channel_id)} — {_delivery_state(d)}" for d in shown]
    rest = deliveries[DELIVERIES_SHOWN:]
    if rest:
        counts: dict[str, int] = {}
        for d in rest:
            word = _STATE_WORDS.get(d.state, str(d.state))
            counts[word] = counts.get(word, 0) + 1
        summary = ", ".join(f"{n} {word}" for word, n in counts.items())
        lines.append(f"{indent}+{plural(len(rest), 'more channel')}: {summary}")
    still_open = ann.send_at > now or any(d.state in OPEN_DELIVERY_STATES for d in ann.deliveries)
    for audience in _missing_audiences(ann, channels):
        a = escape(audience)
        if still_open:
            lines.append(f"{indent}:warning: no channel for {a} yet — `/release channel {a} #channel`")
        else:
            lines.append(f"{indent}no channel for {a}: not sent to that audience")
    return "\n".join(lines)


def _channel_line(audience: str, chans: Sequence[StakeholderChannel]) -> str:
    a = escape(audience)
    label = f"*{audience_label(audience)}* (`{a}`)"
    if not chans:
        return f"• {label}: _none yet_ — `/release channel {a} #channel`"
    parts = []
    for c in chans[:CHANNELS_SHOWN]:
        part = channel_mention(c.channel_id)
        if c.problem:
            part += f" :warning: can't post: `{_code(c.problem)}`"
        parts.append(part)
    if len(chans) > CHANNELS_SHOWN:
        parts.append(f"+{len(chans) - CHANNELS_SHOWN} more")
    return f"• {label}: " + " · ".join(parts)


def _channel_lines(channels: Sequence[StakeholderChannel]) -> list[str]:
    extra = sorted({c.audience for c in channels} - set(AUDIENCES))
    lines = [_channel_line(a, [c for c in channels if c.audience == a]) for a in (*AUDIENCES, *extra)]
    # One fix per kind of problem, not per channel: the same cause usually hits several channels.
    problems = dict.fromkeys(c.problem for c in channels if c.problem)
    lines += [f":wrench: `{_code(p)}` — {fix_hint(p)}" for p in problems]
    return lines


def _state_counts(announcements: Iterable[AnnouncementView]) -> str:
    counts: dict[str, int] = {}
    for ann in announcements:
        counts[ann.state] = counts.get(ann.state, 0) + 1
    return " · ".join(f"{n} {state}" for state, n in counts.items())


def schedule_message(
    release: ReleaseView,
    announcements: Sequence[AnnouncementView],
    channels: Sequence[StakeholderChannel],
    now: datetime,
) -> Rendered:
    """The announcement plan in send-time order, each (announcement, channel) with its delivery state,
    then the stakeholder channels per audience. Long plans end in "+N more"."""
    ordered = sorted(announcements, key=lambda a: (a.send_at, a.id))
    summary = f"*Cutover window:* {slack_window(release.cutover_start, release.cutover_end)}\n"
    if ordered:
        summary += f"*{plural(len(ordered), 'announcement')}:* {_state_counts(ordered)}"
    else:
        summary += "_No announcements planned._"
    top: list[Block] = [header(f"Announcement plan · {release_title(release)}"), section(summary)]
    foot = context(
        f"As of {slack_date(now)} · times show in your time zone · extra announcement: "
        "`/release announce &lt;audience|#channel&gt; at &lt;datetime&gt; &lt;text&gt;`"
    )
    used = text_length([*top, foot])

    channel_blocks = [
        section(t)
        for t in pack_lines(
            _channel_lines(channels),
            heading="*Stakeholder channels*",
            max_sections=3,
            budget=min(4000, (TEXT_BUDGET - used) // 2),
            more=lambda n: f"_+{n} more_",
        )
    ]
    used += text_length(channel_blocks)
    fixed = len(top) + 2 + len(channel_blocks) + 1  # the divider before the channels and the footer

    ann_blocks = [
        section(t)
        for t in pack_lines(
            [_announcement_entry(a, channels, now) for a in ordered],
            max_sections=MAX_BLOCKS - fixed,
            budget=TEXT_BUDGET - used,
            max_lines=ANNOUNCEMENTS_SHOWN,
            more=lambda n: f"_+{plural(n, 'more announcement')}_",
        )
    ]
    middle: list[Block] = [DividerBlock(), *ann_blocks] if ann_blocks else []
    blocks: list[Block] = [*top, *middle, DividerBlock(), *channel_blocks, foot]
    failed = sum(d.state is DeliveryState.FAILED for a in ordered for d in a.deliveries)
    text = f"Announcement plan for {release_title(release)}: {plural(len(ordered), 'announcement')}"
    if failed:
        text += f", {plural(failed, 'failed delivery', 'failed deliveries')}"
    return rendered(text, blocks)


# --- notices to the release channel ----------------------------------------------------------------


def _problem_text(error: str) -> str:
    return f"Slack said `{_code(error or 'unknown error')}`.\n*Fix:* {fix_hint(error)}."


def preflight_problem_message(release: ReleaseView, channel_id: str, error: str) -> Rendered:
    """Cutover cannot post to a stakeholder channel: which one, what Slack said, and the fix."""
    where = channel_mention(channel_id)
    body = (
        f":warning: *Cutover can't post in {where}*, a stakeholder channel of {release_title(release)}. "
        f"Announcements to it will fail until this is fixed.\n{_problem_text(error)}"
    )
    foot = context("Check again with `/release schedule` once it is fixed.")
    return rendered(f"Cutover can't post in {where}: {_code(error)}", [section(body), foot])


def delivery_failed_message(release: ReleaseView, key: str, channel_id: str, error: str) -> Rendered:
    """An announcement could not be delivered to a stakeholder channel."""
    where = channel_mention(channel_id)
    label = key or ADHOC_LABEL
    body = (
        f":warning: *The announcement `{_code(label, 60)}` of {release_title(release)} was not delivered to "
        f"{where}.*\n{_problem_text(error)}\n"
        "Later announcements to that channel go out once it is fixed; to repeat this one, use "
        "`/release announce`."
    )
    return rendered(f"Announcement {_code(label, 60)} not delivered to {where}: {_code(error)}", [section(body)])


def missed_message(release: ReleaseView, items: Sequence[tuple[str, str, datetime]]) -> Rendered:
    """Deliveries due while Cutover was down for longer than the grace period: reported, not sent."""
    ordered = sorted(items, key=lambda item: (item[2], item[0], item[1]))
    heading = (
        f":warning: *{plural(len(ordered), 'announcement delivery', 'announcement deliveries')} of "
        f"{release_title(release)} {'was' if len(ordered) == 1 else 'were'} not sent.* "
        "They fell due while Cutover was not running, too long ago to send late."
    )
    lines = [
        f"• `{_code(key, 60)}` to {channel_mention(channel)} — was due {slack_date(due)}"
        for key, channel, due in ordered
    ]
    foot = context(
        "Re-send any that still matter with "
        "`/release announce &lt;audience|#channel&gt; at &lt;datetime&gt; &lt;text&gt;`."
    )
    texts = pack_lines(
        lines,
        heading=heading,
        max_sections=MAX_BLOCKS - 1,
        budget=TEXT_BUDGET - text_length([foot]),
        max_lines=MISSED_SHOWN,
        more=lambda n: f"_+{n} more_",
    )
    return rendered(
        f"{plural(len(ordered), 'announcement delivery', 'announcement deliveries')} not sent "
        f"for {release_title(release)}",
        [*(section(t) for t in texts), foot],
    )


def _reapproval_line(release: ReleaseView, item: ItemView) -> str:
    who = "; ".join(
        f"{role_names([role])}: {holders_text(release.holders(role), CONTACTS_SHOWN)}" for role in item.approver_roles
    )
    return f"• *{clip(one_line(item.title), TITLE_MAX)}* — {who or '_no approver role_'}"


def moved_message(
    release: ReleaseView,
    old_start: datetime,
    old_end: datetime,
    new_start: datetime,
    new_end: datetime,
    moved: int,
    reapproval: Sequence[ItemView],
) -> Rendered:
    """After ``/release move``: old and new window, announcements moved, sign-offs to give again."""
    moved_text = (
        f"{plural(moved, 'pending announcement')} moved with the window."
        if moved
        else "No pending announcements needed moving."
    )
    top = section(
        f":calendar: *Cutover window moved* · {release_title(release)}\n"
        f"*Was:* {slack_window(old_start, old_end)}\n"
        f"*Now:* {slack_window(new_start, new_end)}\n{moved_text}"
    )
    if reapproval:
        heading = (
            f"*{plural(len(reapproval), 'sign-off')} about the window need{'s' if len(reapproval) == 1 else ''} "
            "approval again:*"
        )
    else:
        heading = "No sign-off needs approval again."
    texts = pack_lines(
        [_reapproval_line(release, i) for i in reapproval],
        heading=heading,
        max_sections=MAX_BLOCKS - 1,
        budget=TEXT_BUDGET - text_length([top]),
        max_lines=REAPPROVAL_SHOWN,
        more=lambda n: f"_+{plural(n, 'more sign-off')}: see the checklist thread_",
    )
    text = f"Cutover window of {release_title(release)} moved to {slack_date(new_start)}"
    return rendered(text, [top, *(section(t) for t in texts)])


def channel_added_message(
    release: ReleaseView, audience: str, channel_id: str, problem: str | None, pending: int
) -> Rendered:
    """Ephemeral answer to ``/release channel``."""
    where = channel_mention(channel_id)
    who = audience_label(audience)
    added = f"{where} is now a stakeholder channel for *{who}* (`{escape(audience)}`) of {release_title(release)}."
    if release.rehearsal_factor:
        going = "This is a rehearsal: its announcements stay in the release channel and name this channel instead."
    elif pending:
        going = f"{plural(pending, 'pending announcement')} will also go there."
    else:
        going = "No pending announcement is addressed to it yet."
    if problem:
        body = f":warning: {added} {going}\n*But Cutover can't post there yet.* {_problem_text(problem)}"
    else:
        body = f":white_check_mark: {added} {going}"
    foot = context("See the whole plan with `/release schedule`.")
    return rendered(
        f"{where} added for {who}" + (f" — can't post: {_code(problem)}" if problem else ""), [section(body), foot]
    )
