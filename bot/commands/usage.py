"""What each `/release` verb looks like: its usage lines, an example, and the help overview.

The parser attaches a verb's usage to every error about it; `help` shows them all. `{command}` is
the configured slash command (SLASH_COMMAND), never a literal `/release`.

Examples are typed as shown, so their dates are computed from the day they are shown (`today`, which
the caller reads from its clock): a fixed date would one day be refused as in the past.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from domain.limits import CUTOVER_REASON_MAX, CUTOVER_REASON_MIN
from domain.template import AUDIENCES

DEFAULT_COMMAND = "/release"


@dataclass(frozen=True)
class _Verb:
    syntax: str  # after the command name
    summary: str
    example: str  # after the command name; `{cutover}`, `{moved}` and `{notice}` are example dates
    note: str = ""  # an extra usage line; `{command}` is replaced
    forms: tuple[str, ...] = ()  # when set, the usage lists these full forms instead of `syntax`


_VERBS: dict[str, _Verb] = {
    "help": _Verb("help [command]", "list the commands, or explain one", "help assign"),
    "new": _Verb(
        "new <name> --cutover <datetime> [--duration <dur>] [--template <key>] [--rehearsal <factor>]",
        "create a release (`new` alone opens a form)",
        "new Payroll to Azure --cutover {cutover} --duration 4h",
        note="`{command} new` alone opens a form. `--rehearsal 60` plays the whole plan 60× faster "
        "(an hour of plan in a minute), announcements marked REHEARSAL and posted here only; "
        "`--cutover` is then optional.",
    ),
    "list": _Verb("list", "active releases in this workspace", "list"),
    "templates": _Verb("templates", "the checklist templates `new --template` may use", "templates"),
    "status": _Verb("status [REL-n]", "checklist progress (default: this channel's release)", "status REL-3"),
    "roles": _Verb("roles [REL-n]", "who holds which role", "roles REL-3"),
    "assign": _Verb(
        "assign <role> <@person|@group>… [REL-n]", "give people or user groups a role", "assign wbo @dana REL-3"
    ),
    "unassign": _Verb("unassign <role> <@person|@group>… [REL-n]", "take a role away", "unassign uat @lee REL-3"),
    "deputy": _Verb(
        "deputy <role> <@person> [until <datetime>] [REL-n]",
        "let someone decide for a role (the role holder or a Project Manager)",
        "deputy wbo @dana until {moved} REL-3",
        note="Without `until` the deputy stands in until set again with a time. Decisions read "
        "“by the deputy for the holder (deputy)”.",
    ),
    "cancel": _Verb("cancel [REL-n]", "cancel a release", "cancel REL-3"),
    "channel": _Verb(
        "channel <audience> <#channel> [REL-n]",
        "set the stakeholder channel for business, it, support or all",
        "channel business #payroll-news REL-3",
        note="Pick the channel from Slack's # autocomplete list. Audiences: " + ", ".join(AUDIENCES) + ".",
    ),
    "schedule": _Verb(
        "schedule [REL-n]", "the announcement plan: when, where, and the state of each", "schedule REL-3"
    ),
    "move": _Verb(
        "move --cutover <datetime> [--duration <dur>] [REL-n]",
        "move the cutover window (planned announcements move with it)",
        "move --cutover {moved} REL-3",
        note="Without `--duration` the window keeps its length.",
    ),
    "announce": _Verb(
        "announce <audience|#channel> at <datetime> <text> [REL-n]",
        "schedule an extra announcement",
        "announce it at {notice} Final runbook is in the channel",
        note="Audiences: " + ", ".join(AUDIENCES) + ", or a channel picked with #. "
        "`@channel`, `@here` and `@everyone` are not allowed in the text.",
    ),
    "cutover": _Verb(
        "cutover start|complete|rollback …",
        "start, complete or roll back the cutover (start checks the go/no-go sign-offs first)",
        "cutover start REL-3",
        note="Only a Project Manager may start despite missing sign-offs, with a reason after `--override`. "
        f"Reasons are {CUTOVER_REASON_MIN}–{CUTOVER_REASON_MAX} characters; "
        "`@channel`, `@here` and `@everyone` are not allowed.",
        forms=(
            "cutover start [--override <reason>] [REL-n]",
            "cutover complete [REL-n]",
            "cutover rollback <reason> [REL-n]",
        ),
    ),
    "retro": _Verb(
        "retro open|close|status [REL-n]",
        "open or close the retrospective survey, or see how many answered",
        "retro open REL-3",
    ),
    "item": _Verb(
        "item add|edit|remove …",
        "change the checklist of a running release (Project Manager)",
        'item add 3 "Run the smoke tests" --responsible me --due +2h',
        note="Items are named by their number (`#7`, shown in the checklist). Sign-offs the template marks as "
        "scope-bound reopen when the scope changes.",
        forms=(
            'item add <phase> "<title>" [--gate] [--responsible <role>…] [--approvers <role>…] '
            "[--due <offset|datetime>] [REL-n]",
            "item edit <item> [--title <title>] [--due <offset|datetime>] [--approvers <role>…] [REL-n]",
            "item remove <item> [REL-n]",
        ),
    ),
    "export": _Verb(
        "export [REL-n]",
        "the release's record (Markdown and JSON) sent to you in a direct message",
        "export REL-3",
        note="For members of the release channel. `cutover export` and `cutover audit verify` do the same "
        "from a terminal.",
    ),
}
VERBS: tuple[str, ...] = tuple(_VERBS)

EXAMPLE_LEAD = timedelta(weeks=4)  # far enough ahead for every example to be in the future


@dataclass(frozen=True)
class ExampleDates:
    """Dates for examples, a few weeks after the day they are shown: a cutover window at 22:00, the
    window moved a week later, and an announcement the morning before the cutover."""

    cutover: str  # `2027-01-02 22:00`
    cutover_utc: str  # the same with an offset: `2027-01-02T22:00Z`
    moved: str
    notice: str

    @classmethod
    def after(cls, today: date) -> ExampleDates:
        """``today`` may be a datetime (``utcnow()``): only its date counts."""
        day = date(today.year, today.month, today.day) + EXAMPLE_LEAD
        return cls(
            cutover=f"{day:%Y-%m-%d} 22:00",
            cutover_utc=f"{day:%Y-%m-%d}T22:00Z",
            moved=f"{day + timedelta(days=7):%Y-%m-%d} 22:00",
            notice=f"{day - timedelta(days=1):%Y-%m-%d} 09:00",
        )


def _example(spec: _Verb, today: date) -> str:
    dates = ExampleDates.after(today)
    return spec.example.format(cutover=dates.cutover, moved=dates.moved, notice=dates.notice)


def usage_for(verb: str, command: str = DEFAULT_COMMAND, *, today: date) -> str:
    """The usage line and an example for `verb` (KeyError if it is not a verb); example dates follow `today`."""
    spec = _VERBS[verb]
    first, *more = spec.forms or (spec.syntax,)
    lines = [f"Usage: `{command} {first}`", *(f"       `{command} {form}`" for form in more)]
    if spec.note:
        lines.append(spec.note.replace("{command}", command))
    lines.append(f"Example: `{command} {_example(spec, today)}`")
    return "\n".join(lines)


def help_overview(command: str = DEFAULT_COMMAND, *, today: date) -> str:
    """The `/release help` answer: every verb with an example, then the shared argument forms."""
    dates = ExampleDates.after(today)

    def line(s: _Verb) -> str:
        return f"• `{command} {s.syntax}` — {s.summary}, e.g. `{command} {_example(s, today)}`"

    return "\n".join(
        [
            f"*`{command}` commands*",
            *(line(s) for s in _VERBS.values()),
            "Release keys look like `REL-3`; inside a release's channel you can leave them out.",
            f"Dates: `{dates.cutover}` (your Slack time zone) or with an offset, e.g. `{dates.cutover_utc}`. "
            "Durations: `90m`, `4h`, `1d`.",
            "Roles: a slug such as `workload-business-owner`, an alias such as `wbo`, or an unambiguous prefix. "
            "Pick people and groups from Slack's @ autocomplete.",
            "Audiences: " + ", ".join(f"`{a}`" for a in AUDIENCES) + ". Pick channels from Slack's # autocomplete.",
            f"`{command} help <command>` explains one command.",
        ]
    )
