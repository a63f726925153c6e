from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from bot.commands import parser, usage
from bot.commands.types import (
    Announce,
    Assign,
    Cancel,
    Command,
    CutoverCommand,
    Export,
    Help,
    ItemAdd,
    ItemEdit,
    ItemRemove,
    ListReleases,
    ListTemplates,
    Move,
    NewModal,
    NewRelease,
    Retro,
    RetroStatus,
    Roles,
    Schedule,
    SetChannel,
    SetDeputy,
    Status,
    Unassign,
    UsageError,
)
from bot.commands.usage import VERBS, ExampleDates
from domain.model import Subject, SubjectKind
from domain.timeparse import UnknownZoneError, parse_datetime, to_utc

# Examples in answers are dated from the day they are shown; these tests show them on this day.
TODAY = date(2026, 11, 7)
SOON = ExampleDates.after(TODAY)  # cutover 2026-12-05 22:00, moved 2026-12-12 22:00, notice 2026-12-04 09:00


def parse(text: str, command: str = "/release") -> Command:
    return parser.parse(text, command, today=TODAY)


def usage_for(verb: str, command: str = "/release") -> str:
    return usage.usage_for(verb, command, today=TODAY)


def help_overview(command: str = "/release") -> str:
    return usage.help_overview(command, today=TODAY)


CUT = "--cutover 2026-12-05T22:00"
ALICE = Subject(SubjectKind.USER, "U012ABC")
BOB = Subject(SubjectKind.USER, "W0BOB99")
TEAM = Subject(SubjectKind.GROUP, "S012AB")

# --- malformed input -----------------------------------------------------------------------------

# (text, distinctive message fragment, verb whose usage must be attached; None = none, the message says enough)
BAD: list[tuple[str, str, str | None]] = [
    # verbs: a typo gets the likely verb's usage, not the whole overview
    ("stauts", "`stauts` is not a `/release` command. Did you mean `status`?", "status"),
    ("asign pm <@U012ABC>", "Did you mean `assign`?", "assign"),
    ("asign wbo @wanda", "`asign` is not a `/release` command. Did you mean `assign`?", "assign"),
    ("lst", "Did you mean `list`?", "list"),
    ("frobnicate", "`frobnicate` is not a `/release` command. `/release help` lists every command.", None),
    ("REL-5", "To see a release, use `/release status REL-5`", "status"),
    ("help frobnicate", "There is no help on `frobnicate`", "help"),
    ("help stauts", "Did you mean `status`?", "help"),
    ("help new assign", "Unexpected `assign`", "help"),
    # roles
    # which roles exist is the release's template's business (the flow answers; test_e2e_templates)
    ("assign c.i.s.o <@U012ABC>", "`c.i.s.o` is not a role: roles are words such as `pm` or `dba`", "assign"),
    ("assign 9 <@U012ABC>", "`/release roles` lists the release's roles", "assign"),
    ("assign <@U012ABC> pm", "Name the role first", "assign"),
    ("assign", "`assign` needs a role and at least one person or user group", "assign"),
    ("assign pm", "`assign pm` needs at least one person or user group", "assign"),
    ("assign pm REL-3", "`assign pm` needs at least one person or user group", "assign"),
    # subjects
    (
        "assign pm @alice",
        "`@alice` is plain text, not a mention. Pick the person or group from Slack's autocomplete",
        "assign",
    ),
    ("assign pm alice", "`alice` is not a person or user group", "assign"),
    ("assign pm <@u012abc>", "is not a valid Slack user mention", "assign"),
    ("assign pm <@C012ABC>", "is not a valid Slack user mention", "assign"),
    ("assign pm <!subteam^X1>", "is not a valid Slack user group mention", "assign"),
    ("assign pm <!channel>", "stands for everyone in a channel", "assign"),
    ("assign pm <!here|here>", "stands for everyone in a channel", "assign"),
    ("assign pm <#C0123|general>", "is a channel; assign people or user groups instead", "assign"),
    ("assign pm <@U012ABC> REL-1 REL-2", "Two release keys, `REL-1` and `REL-2`", "assign"),
    # release references
    ("status REL-", "`REL-` is not a release key: keys look like `REL-12`", "status"),
    ("status REL-x", "`REL-x` is not a release key", "status"),
    ("status REL-0", "`REL-0` is not a release key: release numbers start at 1", "status"),
    ("roles rel5", "`rel5` is not a release key", "roles"),
    ("cancel REL-10000000000", "the number is too large", "cancel"),
    ("cancel REL-1000000001", "the number is too large", "cancel"),
    ("status payroll", "Unexpected `payroll`: `status` takes only a release key", "status"),
    ("status REL-3 now", "Unexpected `now` after `REL-3`", "status"),
    # scope changes
    ("item", "`item` needs `add`, `edit` or `remove`.", "item"),
    ("item ad 3 x", "`item ad` is not a scope change. Did you mean `item add`? Use add, edit or remove.", "item"),
    ("item add 3", '`item add` needs a phase and a title, e.g. `item add 3 "Run the smoke tests"`.', "item"),
    ("item add 3 Smoke --gate", "A gate needs `--approvers <role>…`: the roles that sign it off.", "item"),
    ("item add 3 Smoke --gate yes", "`--gate` takes no value; `yes` is not one.", "item"),
    ("item add 3 Smoke --due", "`--due` needs a value, e.g. `--due +2h`.", "item"),
    (
        "item add 3 Smoke --due soon",
        "`--due soon` is neither an offset from the cutover start (`-2d`, `+1h`) nor a date",
        "item",
    ),
    ("item add 3 Smoke --due +2x", "`+2x` is not an offset", "item"),
    ("item add 3 Smoke --respons me", "Did you mean `--responsible`?", "item"),
    ("item add 3 Smoke --approvers c.i.s.o", "`c.i.s.o` is not a role: roles are words such as `pm` or `dba`", "item"),
    ("item add 3 Smoke --due +1h --due +2h", "`--due` is given twice; give it once.", "item"),
    ('item add 3 "<!channel> now"', "The title can't contain `&lt;!channel&gt;`: no mentions or links.", "item"),
    ('item add 3 "  "', "The item's title is empty.", "item"),
    ("item add 3 " + "x" * 151, "The title is 151 characters long; the limit is 150.", "item"),
    ("item add #3 Smoke", "`#3` is not a phase: give its number or key from the checklist.", "item"),
    ("item edit", "`item edit` needs the item: its number from the checklist, e.g. `#7`.", "item"),
    ("item edit #7", "`item edit` needs what to change: `--title`, `--due` or `--approvers`.", "item"),
    ("item edit #7 --gate", "`--gate` is not an option of `item edit`.", "item"),
    ("item edit #0 --title x", "`#0` is not an item: give its number from the checklist, e.g. `#7`.", "item"),
    ("item edit #7 #8 --title x", "Unexpected `#8` after the item `#7`.", "item"),
    ("item remove", "`item remove` needs the item: its number from the checklist, e.g. `#7`.", "item"),
    ("item remove #7 --due +1h", "`--due` is not an option of `item remove`. Options: none.", "item"),
    ("item remove #7 REL-", "`REL-` is not a release key", "item"),
    ("list REL-3", "Unexpected `REL-3`: `list` takes no arguments", "list"),
    ("assign pm <@U012ABC> REL-x", "`REL-x` is not a release key", "assign"),
    # deputy
    ("deputy", "`deputy` needs a role and one person, picked with @", "deputy"),
    ("deputy <@U012ABC> wbo", "Name the role first, then the person", "deputy"),
    ("deputy <!here> <@U012ABC>", "Name the role first, then the person", "deputy"),
    ("deputy wbo", "`deputy wbo` needs the person who stands in, picked with @", "deputy"),
    ("deputy wbo REL-3", "`deputy wbo` needs the person who stands in", "deputy"),
    ("deputy wbo <!subteam^S012AB>", "A deputy is one person, not a user group", "deputy"),
    ("deputy wbo <@U012ABC> <@W0BOB99>", "One deputy at a time: <@W0BOB99> is a second person", "deputy"),
    ("deputy wbo @dana", "`@dana` is plain text, not a mention", "deputy"),
    ("deputy wbo <@U012ABC> until", "`until` needs a date and time, e.g. `until 2026-12-12 22:00`", "deputy"),
    ("deputy wbo <@U012ABC> until REL-3", "`until` needs a date and time", "deputy"),
    ("deputy wbo <@U012ABC> until friday", "`friday`", "deputy"),
    ("deputy wbo <@U012ABC> until 2026-12-12 until 2026-12-13", "Give `until` once", "deputy"),
    ("deputy wbo <@U012ABC> REL-1 REL-2", "Two release keys, `REL-1` and `REL-2`", "deputy"),
    ("deputy wbo <#C0123|general>", "is a channel", "deputy"),
    # new: structure
    ("new Payroll", "`new` needs `--cutover <datetime>`", "new"),
    (f"new {CUT}", "`new` needs the release name first", "new"),
    ("new Payroll --cutover", "`--cutover` needs a value", "new"),
    (f"new Payroll {CUT} --duration", "`--duration` needs a value", "new"),
    ("new Payroll --cutover --duration 4h", "`--cutover` needs a value", "new"),
    (
        f"new Payroll {CUT} --cutoff 2026-12-06T22:00",
        "`--cutoff` is not an option of `new`. Did you mean `--cutover`?",
        "new",
    ),
    (f"new Payroll {CUT} --owner me", "`--owner` is not an option of `new`.", "new"),
    (f"new Payroll {CUT} {CUT}", "`--cutover` is given twice", "new"),
    (f"new Payroll {CUT} extra", "Unexpected `extra` after `--cutover 2026-12-05T22:00`", "new"),
    (f"new Payroll {CUT} --template nope", "`nope` is not a template. Templates: `caf-migration-release`", "new"),
    # new: dates
    (
        "new Payroll --cutover 2026-02-30 22:00",
        "`2026-02-30 22:00` is not a real date: February 2026 has 28 days",
        "new",
    ),
    (
        "new Payroll --cutover 12/05/2026 22:00",
        "`12/05/2026 22:00` is not a date and time. Use `2026-12-05T22:00`",
        "new",
    ),
    ("new Payroll --cutover tomorrow", "`tomorrow` is not a date and time", "new"),
    ("new Payroll --cutover 2026-12-05", "`2026-12-05` has no time of day", "new"),
    ("new Payroll --cutover 2026-12-05 10pm", "`2026-12-05 10pm` is not a date and time", "new"),
    ("new Payroll --cutover 1999-12-05 22:00", "the year must be between 2000 and 2100", "new"),
    ("new Payroll --cutover 2026-12-05T22:00+19:00", "impossible UTC offset", "new"),
    # new: durations
    (f"new Payroll {CUT} --duration 0h", "`0h` is not a duration: it must be longer than zero", "new"),
    (f"new Payroll {CUT} --duration 5x", "`5x` is not a duration. Use e.g. 90m, 4h, 1d", "new"),
    (f"new Payroll {CUT} --duration 30d", "`30d` is too long", "new"),
    # new: names
    (f"new <!channel> rollout {CUT}", "can't contain `&lt;!channel&gt;`: Slack mentions and channel links", "new"),
    (f"new Ping <@U012ABC> {CUT}", "can't contain `&lt;@U012ABC&gt;`", "new"),
    (f"new See <#C0123|general> {CUT}", "can't contain `&lt;#C0123|general&gt;`", "new"),
    (f"new &lt;!here&gt; typed {CUT}", "can't contain `&lt;!here&gt;`", "new"),
    (f"new Payroll\nmigration {CUT}", "The release name contains a line break", "new"),
    (f"new Pay\x07roll {CUT}", "invisible control character (U+0007)", "new"),
    (f"new Pay\u202eroll {CUT}", "invisible control character (U+202E)", "new"),
    (f'new "" {CUT}', "The release name is empty", "new"),
    (f"new {'x' * 81} {CUT}", "The release name is 81 characters long; the limit is 80", "new"),
    (
        "new Payroll --cutover <!channel>",
        "`&lt;!channel&gt;` is not a date and time",
        "new",
    ),
    # channel
    ("channel", "`channel` needs an audience (`business`, `it`, `support`, `all`)", "channel"),
    ("channel business", "`channel business` needs a channel: type # and pick it", "channel"),
    ("channel <#C012AB|news>", "`channel` needs an audience", "channel"),
    ("channel bussiness <#C012AB>", "`bussiness` is not an audience. Did you mean `business`?", "channel"),
    ("channel helpdesk <#C012AB>", "`helpdesk` is not an audience. Audiences: `business`, `it`", "channel"),
    ("channel business #payroll-news", "`#payroll-news` is plain text, not a channel link", "channel"),
    ("channel it &lt;#news&gt;", "is plain text, not a channel link", "channel"),
    ("channel it <#c012ab|news>", "`&lt;#c012ab|news&gt;` is not a valid Slack channel link", "channel"),
    ("channel it <#D012AB>", "is not a valid Slack channel link", "channel"),
    ("channel it <@U012ABC>", "is a person or user group, not a channel", "channel"),
    ("channel it <!channel>", "`&lt;!channel&gt;` notifies everyone", "channel"),
    ("channel it <#C012AB> <#C034CD>", "give one channel per audience", "channel"),
    ("channel it support <#C012AB>", "Unexpected `support` after `it`: give one audience", "channel"),
    # a channel name typed without #: Slack sends plain text, so say that, and what to type
    (
        "channel support business-users",
        "`business-users` is not a channel link: type # and pick it from Slack's autocomplete list, "
        "as in `/release channel support #business-users`.",
        "channel",
    ),
    ("channel Business-Users support REL-3", "as in `/release channel support #business-users`", "channel"),
    (
        "channel it ops-runbook <#C012AB>",
        "Unexpected `ops-runbook`: `channel` takes an audience, a #channel",
        "channel",
    ),
    ("channel it news! ", "Unexpected `news!`", "channel"),
    ("channel news", "`news` is not an audience. Audiences:", "channel"),
    ("channel it <#C012AB> REL-1 REL-2", "Two release keys, `REL-1` and `REL-2`", "channel"),
    ("channel it <#C012AB> REL-0", "release numbers start at 1", "channel"),
    # schedule
    ("schedule now", "Unexpected `now`: `schedule` takes only a release key", "schedule"),
    ("schedule REL-3 REL-4", "Unexpected `REL-4` after `REL-3`", "schedule"),
    # export
    ("export md", "Unexpected `md`: `export` takes only a release key like `REL-12`.", "export"),
    ("export REL-3 --format json", "Unexpected `--format` after `REL-3`", "export"),
    # move
    ("move", "`move` needs `--cutover <datetime>`, the new start of the window", "move"),
    ("move REL-3", "`move` needs `--cutover <datetime>`", "move"),
    ("move --duration 4h", "`move` needs `--cutover <datetime>`", "move"),
    ("move --cutover", "`--cutover` needs a value", "move"),
    ("move --cutover whenever", "`whenever` is not a date and time", "move"),
    ("move --cutover 2026-12-12", "`2026-12-12` has no time of day", "move"),
    ("move --cutover 2026-02-30 22:00", "February 2026 has 28 days", "move"),
    (f"move {CUT} --duration 0m", "`0m` is not a duration: it must be longer than zero", "move"),
    (f"move {CUT} --template caf-migration-release", "`--template` is not an option of `move`.", "move"),
    (f"move {CUT} --duratoin 4h", "Did you mean `--duration`?", "move"),
    (f"move {CUT} {CUT}", "`--cutover` is given twice", "move"),
    (f"move {CUT} tomorrow", "Unexpected `tomorrow` after `--cutover 2026-12-05T22:00`", "move"),
    ("move payroll --cutover 2026-12-05T22:00", "Unexpected `payroll`: `move` takes `--cutover`", "move"),
    (f"move {CUT} REL-1 REL-2", "Two release keys, `REL-1` and `REL-2`", "move"),
    # announce
    ("announce", "`announce` needs an audience (`business`, `it`, `support`, `all`) or a #channel", "announce"),
    ("announce it", "Put `at` and the time after `it`", "announce"),
    ("announce it 2026-12-04 09:00 Runbook", "Put `at` and the time after `it`", "announce"),
    ("announce business it at 2026-12-04 09:00 Hi", "Unexpected `it` before `at`", "announce"),
    ("announce REL-3 it at 2026-12-04 09:00 Hi", "Name the audience or #channel first", "announce"),
    ("announce ops at 2026-12-04 09:00 Hi", "`ops` is not an audience", "announce"),
    (
        "announce payroll-news at 2026-12-04 09:00 Hi",
        "`payroll-news` is not an audience (`business`, `it`, `support`, `all`) nor a channel link: for a "
        "channel, type # and pick it from Slack's autocomplete list, as in `#payroll-news`.",
        "announce",
    ),
    ("announce #ops at 2026-12-04 09:00 Hi", "`#ops` is plain text, not a channel link", "announce"),
    ("announce it at", "`at` needs a date and time", "announce"),
    ("announce it at tomorrow 9am Runbook", "`tomorrow 9am` is not a date and time", "announce"),
    ("announce it at 2026-12-04 Runbook", "`2026-12-04` has no time of day", "announce"),
    ("announce it at 2026-12-04 25:00 Runbook", "not a real time of day", "announce"),
    ("announce it at 2026-12-04 09:00", "The announcement has no text", "announce"),
    ("announce it at 2026-12-04 09:00 Heads up <!channel>", "can't contain `&lt;!channel&gt;`", "announce"),
    ("announce all at 2026-12-04 09:00 Hi <!here|here> all", "can't contain `&lt;!here|here&gt;`", "announce"),
    ("announce all at 2026-12-04 09:00 <!everyone> read this", "can't contain `&lt;!everyone&gt;`", "announce"),
    ("announce it at 2026-12-04 09:00 Bell\x07 ring", "invisible control character (U+0007)", "announce"),
    ("announce it at 2026-12-04 09:00 Hi REL-0", "release numbers start at 1", "announce"),
    # length
    ("status " + "x" * 2000, "The text is 2,007 characters long; the limit is 2,000", "status"),
    ("x" * 2001, "The text is 2,001 characters long; the limit is 2,000. `/release help` lists every command.", None),
]


OVERVIEW_USAGE = "Usage: `/release <command> …`\nCommands: " + ", ".join(VERBS) + "\nExample: `/release help <command>`"


@pytest.mark.parametrize(("text", "fragment", "verb"), BAD, ids=[b[0][:40] for b in BAD])
def test_malformed_input(text: str, fragment: str, verb: str | None) -> None:
    with pytest.raises(UsageError) as info:
        parse(text)
    error = info.value
    assert fragment in error.message
    assert str(error) == error.message
    assert error.usage == (usage_for(verb) if verb else OVERVIEW_USAGE)
    # One or two sentences, one line: it goes in front of the usage block.
    assert "\n" not in error.message
    assert error.message.count(". ") <= 2


def test_table_is_big_enough() -> None:
    assert len(BAD) >= 40


def test_echoed_text_is_defused_and_truncated() -> None:
    with pytest.raises(UsageError) as info:
        parse("status `<!channel>`" + "y" * 100)
    message = info.value.message
    assert "<!channel>" not in message
    assert "&lt;!channel&gt;" in message
    assert "…" in message
    assert message.count("`") % 2 == 0


def test_unknown_role_echo_is_defused() -> None:
    with pytest.raises(UsageError) as info:
        parse("assign x<!here> <@U012ABC>")
    assert "<!here>" not in info.value.message
    assert "is not a role" in info.value.message


def test_usage_uses_configured_command() -> None:
    with pytest.raises(UsageError) as info:
        parse("stauts", command="/cutover")
    assert "`/cutover` command" in info.value.message
    assert "/cutover status" in info.value.usage
    with pytest.raises(UsageError) as info:
        parse("assign pm", command="/cutover")
    assert info.value.usage.startswith("Usage: `/cutover assign <role>")


# --- what a mistyped verb answers -------------------------------------------------------------------

# (text, what the person reads, whether a usage block follows: the likely verb's, never the whole help)
TYPOS: list[tuple[str, list[str], str | None]] = [
    ("asign wbo @wanda", [":warning: *`asign` is not a `/release` command. Did you mean `assign`?*"], "assign"),
    ("stauts REL-3", ["Did you mean `status`?"], "status"),
    ("schedul", ["Did you mean `schedule`?"], "schedule"),
    ("REL-5", ["To see a release, use `/release status REL-5`"], "status"),
    ("frobnicate", ["`frobnicate` is not a `/release` command. `/release help` lists every command."], None),
    ("x" * 2001, ["The text is 2,001 characters long; the limit is 2,000. `/release help` lists every command."], None),
]


@pytest.mark.parametrize(("text", "shown", "verb"), TYPOS, ids=[t[0][:20] for t in TYPOS])
def test_a_typo_answers_the_suggestion_and_that_verbs_usage_only(text: str, shown: list[str], verb: str | None) -> None:
    from messages.help import usage_error_message

    with pytest.raises(UsageError) as info:
        parse(text)
    out = usage_error_message(info.value.message, info.value.usage).payload()
    sections = [b["text"]["text"] for b in out["blocks"]]
    for fragment in shown:
        assert fragment in sections[0]
    if verb is None:
        # Not the whole help: the command's shape and the verbs' names, in three lines.
        (usage_block,) = sections[1:]
        code = usage_block.split("```")[1]
        assert code.startswith("Usage: /release &lt;command&gt;") and len(code.splitlines()) == 3
        assert all(v in code for v in VERBS)
        return
    (usage_block,) = sections[1:]
    assert usage_block.startswith(f"*Usage*\n```Usage: /release {verb}")
    code = usage_block.split("```")[1]
    assert "*" not in code  # no bold markers shown literally inside the code block
    assert len(code.splitlines()) <= 5
    assert [v for v in VERBS if f"/release {v} " in code and not v.startswith(verb)] == []


# --- examples are dated from today -------------------------------------------------------------------

# (the day the example is shown, the example `new` shows, the example `move` shows, the example `announce` shows)
EXAMPLE_DAYS: list[tuple[date, str, str, str]] = [
    (TODAY, "--cutover 2026-12-05 22:00", "--cutover 2026-12-12 22:00", "at 2026-12-04 09:00"),
    (date(2027, 3, 1), "--cutover 2027-03-29 22:00", "--cutover 2027-04-05 22:00", "at 2027-03-28 09:00"),
    (date(2028, 2, 1), "--cutover 2028-02-29 22:00", "--cutover 2028-03-07 22:00", "at 2028-02-28 09:00"),
    # The callers pass utcnow(): only its date counts.
    (
        datetime(2030, 12, 20, 23, 59, tzinfo=UTC),
        "--cutover 2031-01-17 22:00",
        "--cutover 2031-01-24 22:00",
        "at 2031-01-16 09:00",
    ),
]


@pytest.mark.parametrize(("today", "new", "move", "announce"), EXAMPLE_DAYS, ids=[str(d[0])[:10] for d in EXAMPLE_DAYS])
def test_examples_are_dated_from_today(today: date, new: str, move: str, announce: str) -> None:
    overview = usage.help_overview("/release", today=today)
    for verb, example in (("new", new), ("move", move), ("announce", announce)):
        shown = usage.usage_for(verb, "/release", today=today)
        assert f"Example: `/release {verb} " in shown and example in shown
        assert example in overview
    assert f"Dates: `{new.removeprefix('--cutover ')}` (your Slack time zone)" in overview


@pytest.mark.parametrize("today", [date(2026, 1, 1), date(2027, 6, 30), date(2029, 12, 31)])
def test_no_example_or_hint_is_ever_in_the_past(today: date) -> None:
    """Every date an answer suggests typing is weeks after the day it is shown, in any time zone."""
    shown = [
        usage.help_overview("/release", today=today),
        *(usage.usage_for(v, "/release", today=today) for v in VERBS),
    ]
    for text in ("new Payroll", "move", "announce it", "announce it at", "new Payroll --cutover"):
        with pytest.raises(UsageError) as info:
            parser.parse(text, today=today)
        shown.append(info.value.message)
    found = [date.fromisoformat(d) for text in shown for d in re.findall(r"\d{4}-\d{2}-\d{2}", text)]
    assert len(found) >= 8
    assert all(timedelta(weeks=3) < d - today < timedelta(days=730) for d in found), found


# --- injection-like names --------------------------------------------------------------------------


# Names are stored with bound parameters and rendered as escaped text, so these are harmless as data;
# only Slack markup, which would notify or link people in the channel, is refused.
@pytest.mark.parametrize(
    "name",
    ["'; DROP TABLE releases; --", "{{7*7}}", "$(rm -rf /)", "${jndi:ldap://x}", "Robert'); --", "<script>"],
)
def test_injection_like_names_are_plain_names(name: str) -> None:
    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    command = parse(f"new {escaped} {CUT}")
    assert isinstance(command, NewRelease)
    assert command.name == name


# --- valid input ---------------------------------------------------------------------------------


def test_empty_and_help() -> None:
    assert parse("") == Help(None)
    assert parse("   \n ") == Help(None)
    assert parse("help") == Help(None)
    assert parse("HELP") == Help(None)
    assert parse("help Assign") == Help("assign")
    assert parse("help channel") == Help("channel")
    assert parse("assign --help") == Help("assign")
    assert parse("new -h") == Help("new")


def test_simple_verbs() -> None:
    assert parse("new") == NewModal()
    assert parse(" NEW ") == NewModal()
    assert parse("list") == ListReleases()
    assert parse("status") == Status(None)
    assert parse("Status rel-3") == Status("REL-3")
    assert parse("status REL-007") == Status("REL-7")
    assert parse("status REL-1000000000") == Status("REL-1000000000")
    assert parse("roles REL-12") == Roles("REL-12")
    assert parse("roles") == Roles(None)
    assert parse("cancel") == Cancel(None)
    assert parse("cancel REL-4") == Cancel("REL-4")


def test_cutover_and_retro_are_implemented() -> None:
    assert parse("cutover start") == CutoverCommand("start", None, None, None)
    assert parse("RETRO open") == Retro("open", None)


def test_new_release_forms() -> None:
    base = datetime(2026, 12, 5, 22, 0)
    cmd = parse("new Payroll to Azure --cutover 2026-12-05T22:00")
    assert cmd == NewRelease("Payroll to Azure", cmd.cutover, None, None)  # type: ignore[union-attr]
    assert isinstance(cmd, NewRelease)
    assert cmd.cutover.value == base and not cmd.cutover.has_offset

    cmd = parse(
        'new "Payroll  to   Azure" --cutover 2026-12-05 22:00 --duration 1h30m --template CAF-Migration-Release'
    )
    assert isinstance(cmd, NewRelease)
    assert cmd.name == "Payroll to Azure"
    assert cmd.cutover.value == base
    assert cmd.duration == timedelta(hours=1, minutes=30)
    assert cmd.template == "caf-migration-release"

    cmd = parse("new “ERP wave 2” --duration 8h --cutover 2026-12-05 22:00 +01:00")
    assert isinstance(cmd, NewRelease)
    assert cmd.name == "ERP wave 2"
    assert cmd.cutover.has_offset
    assert cmd.cutover.value == base.replace(tzinfo=timezone(timedelta(hours=1)))

    cmd = parse("new CRM —cutover 2026-12-05T22:00 Z —duration 4h")  # Slack turned -- into an em dash
    assert isinstance(cmd, NewRelease)
    assert cmd.cutover.has_offset and cmd.duration == timedelta(hours=4)

    cmd = parse("new CRM --cutover=2026-12-05 22:00 --duration=2d")
    assert isinstance(cmd, NewRelease)
    assert cmd.cutover.value == base and cmd.duration == timedelta(days=2)

    cmd = parse("new Payroll & HR --cutover 2026-12-05T22:00-0500".replace("&", "&amp;"))
    assert isinstance(cmd, NewRelease)
    assert cmd.name == "Payroll & HR"
    assert cmd.cutover.value.utcoffset() == timedelta(hours=-5)


def test_new_name_edge_cases() -> None:
    cmd = parse(f"new {'é' * 80} {CUT}")
    assert isinstance(cmd, NewRelease) and len(cmd.name) == 80
    cmd = parse(f"new 'a' and 'b' {CUT}")
    assert isinstance(cmd, NewRelease) and cmd.name == "'a' and 'b'"
    cmd = parse(f"new Payroll -- phase 2 {CUT}")
    assert isinstance(cmd, NewRelease) and cmd.name == "Payroll -- phase 2"
    cmd = parse(f"new 👩‍💻 rollout {CUT}")  # emoji joined with U+200D stay allowed
    assert isinstance(cmd, NewRelease) and cmd.name == "👩‍💻 rollout"


def test_item_commands() -> None:
    assert parse('item add 3 "Run the smoke tests" --responsible me,wa --due +2h') == ItemAdd(
        "3", "Run the smoke tests", False, ("me", "wa"), (), timedelta(hours=2), None
    )
    assert parse("item add cutover Check DNS --gate --approvers wbo sponsor --due 2026-12-05 21:00 rel-3") == ItemAdd(
        "cutover", "Check DNS", True, (), ("wbo", "sponsor"), parse_datetime("2026-12-05 21:00"), "REL-3"
    )
    assert parse("item add 2 Smoke --approvers dba") == ItemAdd("2", "Smoke", True, (), ("dba",), None, None)
    assert parse('item edit #007 --title "New name" --due -1d') == ItemEdit(
        "#7", "New name", timedelta(days=-1), None, None
    )
    assert parse("item edit 7 --approvers dba data-owner REL-2") == ItemEdit(
        "#7", None, None, ("dba", "data-owner"), "REL-2"
    )
    assert parse("item remove #12") == ItemRemove("#12", None)
    assert parse("item remove cc.window_appr REL-4") == ItemRemove("cc.window_appr", "REL-4")


def test_templates_verb() -> None:
    assert parse("templates") == ListTemplates()
    with pytest.raises(UsageError, match="`templates` takes no arguments"):
        parse("templates caf")


def test_assign_subjects() -> None:
    cmd = parse("assign wbo <@U012ABC|alice> <!subteam^S012AB|@finance> <@U012ABC> <@W0BOB99> rel-3")
    assert cmd == Assign("wbo", (ALICE, TEAM, BOB), "REL-3")

    cmd = parse("ASSIGN Migration-Eng <@U012ABC>")
    assert cmd == Assign("migration-eng", (ALICE,), None)

    cmd = parse("assign sec REL-9 <@U012ABC|alice smith>")
    assert cmd == Assign("sec", (ALICE,), "REL-9")

    cmd = parse("assign uat <@U012ABC> , <!subteam^S012AB>, <@W0BOB99>")
    assert cmd == Assign("uat", (ALICE, TEAM, BOB), None)

    cmd = parse("unassign uat <!subteam^S012AB> <!subteam^S012AB|@testers>")
    assert cmd == Unassign("uat", (TEAM,), None)


def test_assign_glued_tokens_fail_specifically() -> None:
    with pytest.raises(UsageError, match="is not a role"):
        parse("assign pm<@U012ABC>")


# --- usage text ----------------------------------------------------------------------------------


def test_usage_covers_every_verb_with_example() -> None:
    for verb in VERBS:
        text = usage_for(verb)
        assert text.startswith(f"Usage: `/release {verb}")
        assert f"Example: `/release {verb}" in text
        assert usage_for(verb, "/x").startswith(f"Usage: `/x {verb}")


def test_help_overview_lists_every_verb() -> None:
    for verb in VERBS:
        assert f"`/release {verb}" in help_overview()
    assert "Coming in a later version" not in help_overview()  # every verb is implemented
    assert "/release" not in help_overview("/cut")
    assert "`/cut new" in help_overview("/cut")


def test_examples_in_usage_parse() -> None:
    # Examples use plain @names for readability; with real mentions they must parse.
    for verb in VERBS:
        example = usage_for(verb).split("Example: `/release ", 1)[1].rstrip("`")
        example = example.replace("@dana", "<@U0DANA1>").replace("@lee", "<@U0LEE11>")
        example = example.replace("#payroll-news", "<#C0PAYNEWS|payroll-news>")
        parse(example)


# --- stakeholder channels, schedule, move, announce ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("channel business <#C012AB|payroll-news>", SetChannel("business", "C012AB", None)),
        ("channel IT <#C012AB> rel-3", SetChannel("it", "C012AB", "REL-3")),
        ("channel support <#G0PRIV1|>", SetChannel("support", "G0PRIV1", None)),
        ("Channel All <#C012AB|all staff>", SetChannel("all", "C012AB", None)),
        ("channel <#C012AB|news> business REL-12", SetChannel("business", "C012AB", "REL-12")),
        ("channel REL-4 it <#C0OPS12>", SetChannel("it", "C0OPS12", "REL-4")),
    ],
)
def test_set_channel(text: str, expected: SetChannel) -> None:
    assert parse(text) == expected


def test_schedule() -> None:
    assert parse("schedule") == Schedule(None)
    assert parse("SCHEDULE rel-08") == Schedule("REL-8")
    assert parse("schedule --help") == Help("schedule")


def test_export() -> None:
    assert parse("export") == Export(None)
    assert parse("Export rel-08") == Export("REL-8")
    assert parse("export --help") == Help("export")


def test_move_forms() -> None:
    base = datetime(2026, 12, 12, 22, 0)
    cmd = parse("move --cutover 2026-12-12 22:00")
    assert cmd == Move(cmd.cutover, None, None)  # type: ignore[union-attr]
    assert isinstance(cmd, Move) and cmd.cutover.value == base and not cmd.cutover.has_offset

    cmd = parse("move --cutover 2026-12-12T22:00 --duration 6h REL-3")
    assert isinstance(cmd, Move)
    assert (cmd.cutover.value, cmd.duration, cmd.release) == (base, timedelta(hours=6), "REL-3")

    cmd = parse("move REL-3 --duration=90m --cutover 2026-12-12 22:00 -05:00")
    assert isinstance(cmd, Move) and cmd.release == "REL-3" and cmd.duration == timedelta(minutes=90)
    assert cmd.cutover.has_offset and cmd.cutover.value.utcoffset() == timedelta(hours=-5)

    cmd = parse("move —cutover 2026-12-12T22:00Z")  # Slack turned -- into an em dash
    assert isinstance(cmd, Move) and cmd.cutover.value.tzinfo is not None and cmd.release is None


def test_announce_to_audience() -> None:
    cmd = parse("announce IT at 2026-12-04 09:00 Final runbook is in <#C0OPS12|ops>; ask <@U012ABC>. REL-3")
    assert isinstance(cmd, Announce)
    assert (cmd.audience, cmd.channel_id, cmd.release) == ("it", None, "REL-3")
    assert cmd.at.value == datetime(2026, 12, 4, 9, 0) and not cmd.at.has_offset
    # Slack markup stays as it arrived: the text is posted as mrkdwn.
    assert cmd.text == "Final runbook is in <#C0OPS12|ops>; ask <@U012ABC>."


def test_announce_to_channel_keeps_text_as_typed() -> None:
    cmd = parse(
        "announce <#C012AB|news> AT 2026-12-04T09:00 +01:00 Line one &amp; more\n\n*Line*   two <!subteam^S012AB>"
    )
    assert isinstance(cmd, Announce)
    assert (cmd.audience, cmd.channel_id, cmd.release) == (None, "C012AB", None)
    assert cmd.at.value == datetime(2026, 12, 4, 9, 0, tzinfo=timezone(timedelta(hours=1)))
    assert cmd.text == "Line one &amp; more\n\n*Line*   two <!subteam^S012AB>"


@pytest.mark.parametrize(
    ("text", "body", "release"),
    [
        # A lone key after the time is the text, not a release: an announcement needs words.
        ("announce all at 2026-12-04 09:00 REL-3", "REL-3", None),
        ("announce all at 2026-12-04 09:00 See REL-3 notes", "See REL-3 notes", None),
        ("announce all at 2026-12-04 09:00 See the notes REL-3", "See the notes", "REL-3"),
        ("announce all at 2026-12-04T09:00 10:30 stand-up moved", "10:30 stand-up moved", None),
        ("announce all at 2026-12-04 09:00 UTC Systems back", "Systems back", None),
        ("announce support at 2026-12-04 09:00:30 Hi", "Hi", None),
        ("announce business at 2026-12-04T09:00Z Release notes rel-1", "Release notes", "REL-1"),
    ],
)
def test_announce_text_and_release(text: str, body: str, release: str | None) -> None:
    cmd = parse(text)
    assert isinstance(cmd, Announce)
    assert (cmd.text, cmd.release) == (body, release)


def test_announce_at_offset_word() -> None:
    cmd = parse("announce all at 2026-12-04 09:00 UTC Systems back")
    assert isinstance(cmd, Announce) and cmd.at.has_offset and cmd.at.value.utcoffset() == timedelta(0)


def test_new_verbs_are_in_the_main_help_list() -> None:
    assert "*Coming in a later version*" not in help_overview()
    for verb in ("channel", "schedule", "move", "announce", "cutover", "retro"):
        assert f"• `/release {verb}" in help_overview()
    assert "[REL-n]" in usage_for("announce")


# --- cutover and retro -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cutover start", CutoverCommand("start", None, None, None)),
        ("Cutover START rel-3", CutoverCommand("start", None, None, "REL-3")),
        ("cutover complete", CutoverCommand("complete", None, None, None)),
        ("cutover complete REL-007", CutoverCommand("complete", None, None, "REL-7")),
        (
            "cutover start --override CAB approved by phone, minutes follow",
            CutoverCommand("start", None, "CAB approved by phone, minutes follow", None),
        ),
        ("cutover start --override CAB said yes REL-3", CutoverCommand("start", None, "CAB said yes", "REL-3")),
        ("cutover start REL-3 --override CAB said yes", CutoverCommand("start", None, "CAB said yes", "REL-3")),
        ("cutover start —override=CAB said yes", CutoverCommand("start", None, "CAB said yes", None)),
        ("cutover start --override=CAB REL-4", CutoverCommand("start", None, "CAB", "REL-4")),
        (
            "cutover rollback Payments fail after the switch",
            CutoverCommand("rollback", "Payments fail after the switch", None, None),
        ),
        (
            "cutover rollback DNS  not\tpropagated REL-12",
            CutoverCommand("rollback", "DNS not propagated", None, "REL-12"),
        ),
        # Slack's entity escaping is undone: reasons are plain text, escaped again wherever shown.
        ("cutover rollback DB &amp; app &lt;down&gt;", CutoverCommand("rollback", "DB & app <down>", None, None)),
        ("cutover rollback --reason disk full", CutoverCommand("rollback", "disk full", None, None)),
        ("cutover rollback --reason=disk full REL-2", CutoverCommand("rollback", "disk full", None, "REL-2")),
        (
            "cutover rollback ask <@U012ABC> about REL-3 notes",
            CutoverCommand("rollback", "ask <@U012ABC> about REL-3 notes", None, None),
        ),
        ("retro open", Retro("open", None)),
        ("retro close REL-4", Retro("close", "REL-4")),
        ("Retro STATUS rel-9", RetroStatus("REL-9")),
        ("cutover --help", Help("cutover")),
        ("retro -h", Help("retro")),
    ],
)
def test_cutover_and_retro(text: str, expected: object) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("cutover", "`cutover` needs an action: `start`, `complete`, `rollback`."),
        ("cutover begin", "`begin` is not an action of `cutover`. Actions: `start`, `complete`, `rollback`."),
        ("cutover strat", "Did you mean `start`?"),
        ("cutover REL-3", "Name the action first, then the release key: `cutover start REL-3`"),
        ("cutover rollback", "`cutover rollback` needs a reason"),
        ("cutover rollback REL-3", "`cutover rollback` needs a reason"),
        ("cutover rollback REL-3 the database broke", "Give the reason first; a release key may go at the very end."),
        ("cutover rollback ok", "The rollback reason is too short: write at least 3 characters"),
        ("cutover rollback " + "x" * 501, "The rollback reason is 501 characters long; the limit is 500."),
        ("cutover rollback <!channel> payments are down", "can't contain `&lt;!channel&gt;`"),
        ("cutover rollback we are down <!here|here>", "can't contain `&lt;!here|here&gt;`"),
        ("cutover rollback --override nope", "`--override` is not an option here"),
        ("cutover start --override", "`--override` needs the reason"),
        ("cutover start --override REL-3", "`--override` needs the reason"),
        ("cutover start --override <!everyone> go", "The override reason can't contain `&lt;!everyone&gt;`"),
        ("cutover start --override no", "The override reason is too short"),
        ("cutover start --overide CAB ok", "`--overide` is not an option of `cutover start`. Did you mean"),
        ("cutover start --force", "`--force` is not an option of `cutover start`. Options: `--override`."),
        ("cutover start now", "Unexpected `now`: `cutover start` takes `--override <reason>`"),
        ("cutover start REL-3 REL-4", "Unexpected `REL-4` after `REL-3`."),
        ("cutover start REL-3 --override CAB ok REL-4", "Two release keys, `REL-3` and `REL-4`; give one."),
        ("cutover start rel-x", "`rel-x` is not a release key"),
        ("cutover complete now", "Unexpected `now`: `cutover` takes only a release key"),
        ("cutover complete REL-0", "release numbers start at 1"),
        ("retro", "`retro` needs an action: `open`, `close`, `status`."),
        ("retro start", "`start` is not an action of `retro`."),
        ("retro opne", "Did you mean `open`?"),
        ("retro open REL-3 now", "Unexpected `now` after `REL-3`."),
    ],
)
def test_cutover_and_retro_errors(text: str, fragment: str) -> None:
    with pytest.raises(UsageError) as info:
        parse(text)
    assert fragment in info.value.message
    verb = text.split()[0].lower()
    assert info.value.usage == usage_for(verb)


def test_reasons_refuse_invisible_control_characters() -> None:
    with pytest.raises(UsageError, match="U\\+200B"):
        parse("cutover rollback broken\u200bbadly")


def test_cutover_usage_lists_every_form() -> None:
    usage = usage_for("cutover", "/cut")
    assert usage.startswith("Usage: `/cut cutover start [--override <reason>] [REL-n]`")
    assert "`/cut cutover complete [REL-n]`" in usage
    assert "`/cut cutover rollback <reason> [REL-n]`" in usage
    assert "Only a Project Manager may start despite missing sign-offs" in usage
    assert "Example: `/cut cutover start REL-3`" in usage
    assert usage_for("retro").startswith("Usage: `/release retro open|close|status [REL-n]`")


@pytest.mark.parametrize("verb", ["new Payroll --cutover", "move --cutover", "announce business at"])
def test_the_forms_an_unknown_zone_suggests_are_accepted(verb: str) -> None:
    """A person whose zone the app cannot read is told to type the offset; both suggested forms must work."""
    with pytest.raises(UnknownZoneError) as info:
        to_utc(parse_datetime("2026-12-18 22:00"), "Mars/Olympus")
    for example in ("2026-12-18 22:00-05:00", "2026-12-18T22:00Z"):
        assert f"`{example}`" in info.value.message
        text = f"{verb} {example}" + (" Maintenance tonight" if verb.startswith("announce") else "")
        cmd = parse(text)
        typed = getattr(cmd, "at", None) or getattr(cmd, "cutover", None)
        assert typed is not None and typed.has_offset, cmd
        assert typed.value.replace(tzinfo=None) == datetime(2026, 12, 18, 22, 0)


def test_deputy_forms() -> None:
    wbo = "wbo"  # the grammar keeps the word; the release's template resolves it
    assert parse("deputy wbo <@U012ABC|dana>") == SetDeputy(wbo, "U012ABC", None, None)
    assert parse("deputy wbo <@U012ABC> until 2026-12-12 22:00 REL-3") == SetDeputy(
        wbo, "U012ABC", parse_datetime("2026-12-12 22:00"), "REL-3"
    )
    assert parse("deputy wbo until 2026-12-12T22:00Z <@U012ABC> rel-3") == SetDeputy(
        wbo, "U012ABC", parse_datetime("2026-12-12T22:00Z"), "REL-3"
    )
    assert parse("deputy wbo REL-3 <@U012ABC> <@U012ABC>") == SetDeputy(wbo, "U012ABC", None, "REL-3")
