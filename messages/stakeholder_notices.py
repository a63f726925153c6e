"""What stakeholders receive: the announcement posted in a stakeholder channel.

A template announcement answers CAF's change-communication questions (what is changing, when, who is
affected, how, what to do before and after, whom to contact) from the release's own data, so the
template only decides *which* notice goes out *when*; every key it may name has wording here
(``NoticeKey``), and a key without wording is an error, never a vague generic text. Every time is a
Slack date token: stakeholders read them in their own zones. Release names and workloads are user text
and always escaped; an ad-hoc announcement's text is mrkdwn the user wrote and keeps its mentions and
links, but never a broadcast.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.models.blocks import Block

from domain.announcements import NoticeKey
from domain.model import ReleaseState, ReleaseView
from domain.roles import PROJECT_MANAGER, role_name
from domain.template import AUDIENCES

from .common import (
    SECTION_TEXT_MAX,
    Rendered,
    channel_mention,
    clip,
    code_text,
    command_text,
    context,
    cut_markup,
    escape,
    header,
    one_line,
    rendered,
    section,
)
from .dates import slack_date, slack_window
from .status import holders_text

CLOUD_OPS_MANAGER = "cloud-ops-manager"
NAME_SHOWN = 100
WORKLOAD_SHOWN = 200
CONTACTS_SHOWN = 5
TARGETS_SHOWN = 10  # channels a rehearsal names as where the real release would post
REHEARSAL_PREFIX = "REHEARSAL — "
ADHOC_LABEL = "extra announcement"
NAME_MAX = 80  # a purpose shown as a name

# What people call each template announcement; the stored keys (`ann.initial`) are for the app only.
ANNOUNCEMENT_NAMES: dict[NoticeKey, str] = {
    NoticeKey.INITIAL: "First notice",
    NoticeKey.IT_OPS: "Operational plan",
    NoticeKey.FREEZE: "Change freeze",
    NoticeKey.REMINDER: "Reminder",
    NoticeKey.STARTED: "Change starting",
    NoticeKey.WINDOW_END: "Window end",
    NoticeKey.POST_CHECK: "After the change",
    NoticeKey.HYPERCARE_END: "Hypercare ends",
    NoticeKey.DECOM_NOTICE: "Decommission planned",
    NoticeKey.DECOM_DONE: "Decommission complete",
    NoticeKey.RESULTS_SUMMARY: "Migration outcome",
    NoticeKey.ROLLBACK: "Rollback notice",
}
# How storage keys an ad-hoc announcement: `adhoc-<its id>`.
_ADHOC_KEY = re.compile(r"adhoc-([0-9]{1,12})")


def _template_name(key: str) -> str | None:
    try:
        return ANNOUNCEMENT_NAMES[NoticeKey(key)]
    except ValueError:
        return None


def announcement_name(key: str, *, purpose: str = "", adhoc_id: int | None = None) -> str:
    """An announcement as people call it, escaped: "First notice", "extra announcement #12".

    The template's wording names template announcements; an ad-hoc one is numbered (``adhoc_id``, or
    the number in its stored key). A key with neither falls back to the purpose, and only then to the
    key itself, in a code span.
    """
    name = _template_name(key)
    if name is not None:
        return name
    m = _ADHOC_KEY.fullmatch(key)
    number = adhoc_id if adhoc_id is not None else (int(m.group(1)) if m else None)
    if number is not None:
        return f"{ADHOC_LABEL} #{number}"
    if purpose.strip():
        return clip(one_line(purpose), NAME_MAX)
    if key.startswith("adhoc") or not key.strip():
        return ADHOC_LABEL
    return f"`{code_text(key, 60)}`"


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

# What an ad-hoc text may keep as markup: people, groups, channels and links. Broadcasts
# (``<!channel>``, ``<!here>``, ``<!everyone>``), date tokens and anything else are shown, not acted on.
_USER_MARKUP = re.compile(
    r"<(?:@[UW][A-Z0-9]+(?:\|[^<>|]*)?"
    r"|#[CG][A-Z0-9]+(?:\|[^<>|]*)?"
    r"|!subteam\^S[A-Z0-9]+(?:\|[^<>|]*)?"
    r"|(?:https?://|mailto:)[^<>|\s]+(?:\|[^<>|]*)?)>"
)
_LONE_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt);)")


class NoWordingError(LookupError):
    """A template announcement whose key has no wording here: it cannot be sent as it stands."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"no wording for the template announcement `{key}`: add it to messages/stakeholder_notices.py "
            "(and NoticeKey), or send the text as an ad-hoc announcement"
        )


def has_wording(key: str) -> bool:
    """Whether a template announcement with this key can be worded (for checking a template up front)."""
    return key in _NOTICES


def missing_wording(keys: Iterable[str]) -> tuple[str, ...]:
    """The keys among ``keys`` that ``announcement_message`` would refuse, in their order."""
    return tuple(k for k in keys if not has_wording(k))


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
    return clip(one_line(release.name), NAME_SHOWN) or escape(release.key)


def _workload(release: ReleaseView) -> str:
    """The workload, or the release name when none was given: sentences need a subject."""
    if release.workload.strip():
        return clip(one_line(release.workload), WORKLOAD_SHOWN)
    return _name(release)


def _contacts(release: ReleaseView, stage: str) -> str:
    """Whom stakeholders should contact: the project before the change, operations after it."""
    roles = (PROJECT_MANAGER,) if stage != _POST else (CLOUD_OPS_MANAGER, PROJECT_MANAGER)
    team = f"the release team in {channel_mention(release.channel_id)}"
    for role in roles:
        holders = release.holders(role)
        if holders:
            return f"{holders_text(holders, CONTACTS_SHOWN)} ({escape(role_name(role, release.roles))}), or {team}"
    return team[0].upper() + team[1:]


def _stage_by_time(release: ReleaseView, now: datetime) -> str:
    if now < release.cutover_start:
        return _PRE
    if now < release.cutover_end:
        return _DURING
    return _POST


def _context_line(release: ReleaseView, key: str) -> str:
    # Stakeholders see an update's name, never the app's key for it.
    return f"{escape(release.key)} · sent by Cutover · {_template_name(key) or 'update'}"


_REHEARSAL_NOTE = (
    ":test_tube: *Rehearsal:* no change will happen and nothing will be unavailable; "
    "this shows what stakeholders will receive."
)


def _rehearsal_targets(audiences: Sequence[str], channels: Sequence[str] | None, command: str) -> str:
    """Where the real release would send this, so a rehearsal also shows gaps in the channel set-up."""
    if channels is None or not audiences:
        return ""
    if not channels:
        return (
            f" No stakeholder channel is set for it yet (`{command_text(command)} channel &lt;audience&gt; #channel`)."
        )
    shown = ", ".join(channel_mention(c) for c in channels[:TARGETS_SHOWN])
    more = f" and {len(channels) - TARGETS_SHOWN} more" if len(channels) > TARGETS_SHOWN else ""
    return f" In the release it goes to {shown}{more}."


# --- the wording of each template announcement ----------------------------------------------------


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
_ROLLBACK_DONE = "The rollback is complete; the new plan and dates will be posted in {channel} and announced here."
_ROLLBACK_KEPT = (
    "The original system is kept until it is decommissioned, so the change can still be reversed if "
    "needed; the release team decides in {channel}."
)

# Keyed by NoticeKey, whose names say what each notice is; lookups with the stored key string work too.
_NOTICES: dict[NoticeKey, _Notice] = {
    NoticeKey.INITIAL: _Notice(
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
    NoticeKey.IT_OPS: _Notice(
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
    NoticeKey.FREEZE: _Notice(
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
    NoticeKey.REMINDER: _Notice(
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
    NoticeKey.STARTED: _Notice(
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
    # Until the release says how the window went; _WINDOW_END_BY_STATE words each outcome.
    NoticeKey.WINDOW_END: _Notice(
        header="Change window ended: {name}",
        lead="The planned window has ended; the release team will confirm the outcome here.",
        stage=_POST,
        how="The outage was planned for {window}. Until the outcome is confirmed, {workload} may still be unavailable.",
        todo=(("After", "Wait for the confirmation here before you resume work in {workload}."),),
        rollback=_ROLLBACK_PLAN,
    ),
    NoticeKey.POST_CHECK: _Notice(
        header="After the change: {name}",
        lead="The change is done; please confirm that your work functions.",
        stage=_POST,
        how="The outage window ({window}) is over and {workload} runs on the new platform. During hypercare "
        "the project team watches closely for problems.",
        todo=(("After", _CHECK_AFTER + " Name {name} in the subject of any report."),),
        rollback=_ROLLBACK_KEPT,
    ),
    NoticeKey.HYPERCARE_END: _Notice(
        header="Hypercare ends: {name}",
        lead="The hypercare period after the change has ended.",
        stage=_POST,
        how="No outage. Normal service levels and support routes apply again.",
        todo=(("From now on", "Raise problems with {workload} through the normal support routes."),),
        rollback=_ROLLBACK_KEPT,
    ),
    NoticeKey.DECOM_NOTICE: _Notice(
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
    NoticeKey.DECOM_DONE: _Notice(
        header="Decommission complete: {name}",
        lead="The decommission window has ended.",
        stage=_POST,
        how="The old systems are retired; the new platform was not affected.",
        todo=(("After", "Report anything that stopped working to the contacts below."),),
        rollback="If a problem traces back to the retired systems, they can be re-enabled; the release team "
        "decides in {channel}.",
    ),
    # Not the window-end notice: this one comes weeks later and reports results.
    NoticeKey.RESULTS_SUMMARY: _Notice(
        header="Migration outcome: {name}",
        lead="A summary of how the migration went (cost against the baseline, performance, incidents) is "
        "available from the release team in {channel}.",
        stage=_POST,
        how="No outage.",
        todo=(("After", "Nothing to do; questions go to the contacts below."),),
        rollback=_ROLLBACK_KEPT,
    ),
    NoticeKey.ROLLBACK: _Notice(
        header="Rollback notice: {name}",
        lead="The change was reversed: {workload} is back on its original system. A new plan will be announced.",
        stage=_POST,
        how="{workload} runs on its original system again. The planned outage window was {window}.",
        todo=(("After", _CHECK_AFTER),),
        rollback=_ROLLBACK_DONE,
    ),
}

# The window-end notice is the one whose content depends on what happened in the window.
_WINDOW_END_BY_STATE: dict[ReleaseState, _Notice] = {
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
        rollback=_ROLLBACK_DONE,
    ),
}
_WINDOW_END_BY_STATE[ReleaseState.CLOSED] = _WINDOW_END_BY_STATE[ReleaseState.COMPLETED]


_DECOM_KEYS = frozenset({NoticeKey.DECOM_NOTICE, NoticeKey.DECOM_DONE})


def _notice(release: ReleaseView, key: str) -> _Notice:
    try:
        notice_key = NoticeKey(key)
    except ValueError:
        raise NoWordingError(key) from None
    if notice_key is NoticeKey.WINDOW_END and release.state in _WINDOW_END_BY_STATE:
        return _WINDOW_END_BY_STATE[release.state]
    return _NOTICES[notice_key]


def _who(audiences: Sequence[str], workload: str) -> str:
    if not audiences:
        return "Everyone in this channel"
    known = [a for a in AUDIENCES if a in audiences]
    extra = sorted(set(audiences) - set(known))
    lines = [_AUDIENCE_WHO[a].format(workload=workload) for a in known]
    lines += [f"Members of the `{code_text(a, 40)}` audience" for a in extra]
    if len(lines) == 1:
        return lines[0] + "."
    return "\n".join(f"• {line}" for line in lines)


def _field(label: str, body: str) -> str:
    return f"*{label}*\n{body}"


def _window_as_it_happened(release: ReleaseView) -> tuple[datetime, datetime]:
    if release.actual_start is None:
        return release.cutover_start, release.cutover_end
    start = release.actual_start
    if release.actual_end is not None:
        return start, max(start, release.actual_end)
    # Running: the planned length from the real start.
    return start, start + (release.cutover_end - release.cutover_start)


def _template_wording(
    release: ReleaseView,
    wording: str,
    purpose: str,
    audiences: tuple[str, ...],
    cutover: str,
    start: datetime,
    end: datetime,
    prefix: str,
    foot: list[str],
) -> Rendered:
    """A notice in the template's own words: its named placeholders filled from the release."""
    stage = _PRE  # the contact before the change; a template names who to contact after it in its words
    values = {
        "release": _name(release),
        "workload": _workload(release),
        "window": cutover,
        "start": slack_date(start),
        "end": slack_date(end),
        "channel": channel_mention(release.channel_id),
        "contacts": _contacts(release, stage),
    }
    # The template was validated: it names no other placeholder. Its text is the team's own mrkdwn,
    # defused like an ad-hoc announcement's (no broadcasts).
    body = sanitize_announcement_text(wording).format_map(values)
    title = f"{prefix}{clip(one_line(purpose), 120)}: {_name(release)}"
    blocks: list[Block] = [
        header(title),
        section(cut_markup(body, SECTION_TEXT_MAX) or "…"),
        section(_field("Who is affected?", _who(audiences, _workload(release)))),
        context(*foot),
    ]
    return rendered(f"{title} — {cutover}", blocks)


def announcement_message(
    release: ReleaseView,
    key: str,
    audiences: tuple[str, ...],
    text: str | None,
    now: datetime,
    *,
    command: str,
    rehearsal: bool = False,
    window: tuple[datetime, datetime] | None = None,
    rehearsal_channels: Sequence[str] | None = None,
) -> Rendered:
    """The message posted to a stakeholder channel.

    ``text`` None: the template announcement ``key``: in the template's own wording when it has some,
    else in CAF's fields; raises ``NoWordingError`` when the key has neither. Otherwise an ad-hoc
    announcement: ``text`` is the user's mrkdwn. ``window`` is the window the notice is about when it is
    not the cutover (the decommission window, when the caller knows it). ``command`` is only shown in a
    rehearsal, to the release team.
    """
    name = _name(release)
    workload = _workload(release)
    # Once the cutover has started, notices speak of the window as it really is (or was), not the plan.
    start, end = _window_as_it_happened(release)
    cutover = slack_window(start, end)
    prefix = REHEARSAL_PREFIX if rehearsal else ""
    foot: list[str] = [_context_line(release, key)]
    if rehearsal:
        foot.insert(0, _REHEARSAL_NOTE + _rehearsal_targets(audiences, rehearsal_channels, command))

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

    spec = next((a for a in release.template.announcements if a.key == key), None)
    if spec is not None and spec.wording:
        return _template_wording(release, spec.wording, spec.purpose, audiences, cutover, start, end, prefix, foot)
    notice = _notice(release, key)
    values = {
        "name": name,
        "workload": workload,
        "start": slack_date(start),
        "end": slack_date(end),
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
