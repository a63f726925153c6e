"""The announcement plan, as ``/release schedule`` shows it: each announcement in send-time order with
the state of its delivery to every channel, then the stakeholder channels per audience, with the fix for
each problem and what to type for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
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
from domain.model import ReleaseView
from domain.template import AUDIENCES

from .checklist import release_title
from .common import (
    MAX_BLOCKS,
    TEXT_BUDGET,
    Rendered,
    channel_mention,
    code_text,
    command_text,
    context,
    escape,
    header,
    pack_lines,
    plural,
    rendered,
    section,
    text_length,
)
from .dates import slack_date, slack_window
from .stakeholder_notices import announcement_name, audience_label
from .team_notices import fix_hint

DELIVERIES_SHOWN = 4  # per announcement; the rest are counted by state
CHANNELS_SHOWN = 10  # per audience
ANNOUNCEMENTS_SHOWN = 40

_SAFE_URL = re.compile(r"https://[^\s<>|`]+")


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


def _delivery_state(d: DeliveryView, command: str) -> str:
    if d.state in OPEN_DELIVERY_STATES:
        return "⏳ scheduled"
    if d.state is DeliveryState.SENT:
        when = f" {slack_date(d.sent_at)}" if d.sent_at else ""
        if d.permalink and _SAFE_URL.fullmatch(d.permalink):
            return f"✅ <{d.permalink}|sent>{when}"
        return f"✅ sent{when}"
    if d.state is DeliveryState.FAILED:
        error = d.error or "unknown error"
        return f"⛔ failed: `{code_text(error)}` — {fix_hint(error, command=command)}"
    if d.state is DeliveryState.MISSED:
        return f"⚠️ missed: Cutover was down when it was due; re-send with `{command_text(command)} announce`"
    if d.state is DeliveryState.SKIPPED:
        # The reason is stored with the skip (e.g. the cutover started before it was due); the oldest
        # reason of all, a time already past when the release was planned, is the default.
        return f"⏭️ skipped: {escape(d.error) if d.error else 'its time had passed when the release was planned'}"
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


def _announcement_entry(
    ann: AnnouncementView, channels: Sequence[StakeholderChannel], now: datetime, command: str
) -> str:
    adhoc = ann.id if ann.kind is AnnouncementKind.ADHOC else None
    label = announcement_name(ann.key, purpose=ann.purpose, adhoc_id=adhoc)
    line = f"*{slack_date(ann.send_at)}* · {label} · {_targets(ann)}"
    if ann.kind is AnnouncementKind.ADHOC and ann.created_by and re.fullmatch(r"[UW][A-Z0-9]+", ann.created_by):
        line += f" · by <@{ann.created_by}>"
    if ann.cancelled:
        return f"{line} — ✖️ cancelled"
    lines = [line]
    indent = "      "
    # Problems first, so the cap below never hides a channel that needs the release manager.
    deliveries = sorted(ann.deliveries, key=lambda d: d.state not in _PROBLEM_STATES)
    shown = deliveries[:DELIVERIES_SHOWN]
    lines += [f"{indent}{channel_mention(d.channel_id)} — {_delivery_state(d, command)}" for d in shown]
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
            lines.append(f"{indent}:warning: no channel for {a} yet — `{command_text(command)} channel {a} #channel`")
        else:
            lines.append(f"{indent}no channel for {a}: not sent to that audience")
    return "\n".join(lines)


def _channel_line(audience: str, chans: Sequence[StakeholderChannel], command: str) -> str:
    a = escape(audience)
    label = f"*{audience_label(audience)}* (`{a}`)"
    if not chans:
        return f"• {label}: _none yet_ — `{command_text(command)} channel {a} #channel`"
    parts = []
    for c in chans[:CHANNELS_SHOWN]:
        part = channel_mention(c.channel_id)
        if c.problem:
            part += f" :warning: can't post: `{code_text(c.problem)}`"
        parts.append(part)
    if len(chans) > CHANNELS_SHOWN:
        parts.append(f"+{len(chans) - CHANNELS_SHOWN} more")
    return f"• {label}: " + " · ".join(parts)


def _channel_lines(channels: Sequence[StakeholderChannel], command: str) -> list[str]:
    extra = sorted({c.audience for c in channels} - set(AUDIENCES))
    lines = [_channel_line(a, [c for c in channels if c.audience == a], command) for a in (*AUDIENCES, *extra)]
    # One fix per kind of problem, not per channel: the same cause usually hits several channels.
    problems = dict.fromkeys(c.problem for c in channels if c.problem)
    lines += [f":wrench: `{code_text(p)}` — {fix_hint(p, command=command)}" for p in problems]
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
    *,
    command: str,
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
        f"`{command_text(command)} announce &lt;audience|#channel&gt; at &lt;datetime&gt; &lt;text&gt;`"
    )
    used = text_length([*top, foot])

    channel_blocks = [
        section(t)
        for t in pack_lines(
            _channel_lines(channels, command),
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
            [_announcement_entry(a, channels, now, command) for a in ordered],
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
