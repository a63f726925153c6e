"""The `/release` command language: text in, a typed command or a `UsageError` out.

Pure: no Slack, no database, no clock. The dispatcher calls
`parse(text, command=settings.slash_command, today=utcnow())` and either runs the command or shows
`UsageError.message` plus `UsageError.usage` ephemerally. `today` only dates the examples in answers.

Text arrives as Slack sends it with `should_escape: true`: mentions are markup (`<@U…>`,
`<!subteam^S…>`), and literal `&`, `<`, `>` typed by the user are entities (`&amp;`, `&lt;`, `&gt;`).
Error messages are Slack mrkdwn; user text echoed in them is defused so that it cannot mention anyone.
"""

from __future__ import annotations

import difflib
import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar, cast

from bot.commands.types import (
    CUTOVER_ACTIONS,
    RETRO_ACTIONS,
    Announce,
    Assign,
    Cancel,
    Command,
    CutoverAction,
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
    RetroAction,
    RetroStatus,
    Roles,
    Schedule,
    SetChannel,
    SetDeputy,
    Status,
    Unassign,
    UsageError,
)
from bot.commands.usage import DEFAULT_COMMAND, VERBS, ExampleDates, usage_for
from domain.limits import (
    ANNOUNCEMENT_TEXT_MAX,
    COMMAND_TEXT_MAX,
    CUTOVER_REASON_MAX,
    CUTOVER_REASON_MIN,
    RELEASE_NAME_MAX,
)
from domain.model import Subject, SubjectKind
from domain.rehearsal import factor_problem
from domain.template import AUDIENCES, available_templates
from domain.timeparse import ParsedDateTime, TimeParseError, parse_datetime, parse_duration, parse_offset

MAX_RELEASE_NUMBER = 10**9

_T = TypeVar("_T")


# --- tokens --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int


# Slack markup (`<@U1|alice smith>`) may contain spaces, so it is one token; everything else splits on
# whitespace.
_TOKEN = re.compile(r"<[^<>\s][^<>]*>|\S+")


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(text)]


def _show(text: str, limit: int = 60) -> str:
    """User text made safe to echo inside a mrkdwn code span."""
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    # Escaping the angle brackets turns markup into visible text, so an echoed `<!channel>` pings nobody;
    # a backtick would end the code span early.
    return text.replace("<", "&lt;").replace(">", "&gt;").replace("`", "'").replace("\n", " ")


_REF = re.compile(r"rel-([0-9]+)", re.IGNORECASE)
_REF_LIKE = re.compile(r"rel(?:[-_#0-9]|$)", re.IGNORECASE)
_OPTION = re.compile(r"(?:--|[—–])([A-Za-z][A-Za-z0-9_-]*)(?:=(.*))?", re.DOTALL)
_DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}")
# Whatever the date looks like, a following time-ish word belongs to it, so the error names both.
_TIME_LIKE = re.compile(r"[0-9]{1,2}(?:[:.h][0-9]{2}\S*|[ap]\.?m\.?)", re.IGNORECASE)
_OFFSET_WORD = re.compile(r"z|utc|[+-][0-9]{2}(?::?[0-9]{2})?", re.IGNORECASE)

_USER = re.compile(r"<@([^|>]*)(?:\|[^>]*)?>")
_ROLE_WORD = re.compile(r"[a-z][a-z0-9-]{0,63}", re.ASCII)
_GROUP = re.compile(r"<!subteam\^([^|>]*)(?:\|[^>]*)?>")
_BROADCAST = re.compile(r"<!(channel|here|everyone)(?:\|[^>]*)?>")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
_GROUP_ID = re.compile(r"S[A-Z0-9]{2,}")
_SLACK_SEQUENCE = re.compile(r"<[@!#][^>]*>?")
_CHANNEL = re.compile(r"<#([^|>]*)(?:\|[^>]*)?>")
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{2,}")
# What a Slack channel name can be (lower-case letters, digits, `-`, `_`, up to 80), typed in any case.
_CHANNEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")

_QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’", "„": "“", "«": "»"}
# Zero-width (non-)joiners are format characters that emoji sequences and some scripts need.
_ALLOWED_FORMAT = frozenset({"\u200c", "\u200d"})

_NEW_OPTIONS = ("cutover", "duration", "template", "rehearsal")
_ITEM_NUMBER = re.compile(r"#?0*[1-9][0-9]{0,5}", re.ASCII)
_ITEM_KEY = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*", re.ASCII)
_ITEM_EXAMPLES = {"responsible": "me", "approvers": "wbo sponsor", "due": "+2h", "title": '"Run the smoke tests"'}
ITEM_TITLE_MAX = 150  # domain.template_schema.MAX_TITLE


def _option(text: str) -> tuple[str, str | None] | None:
    """(name, inline value) for `--name` or `--name=value`; Slack clients may turn `--` into a dash."""
    m = _OPTION.fullmatch(text)
    if m is None:
        return None
    return m.group(1).lower(), m.group(2)


def _bad_char(text: str) -> str | None:
    for ch in text:
        category = unicodedata.category(ch)
        if category in ("Cc", "Zl", "Zp", "Cs") or (category == "Cf" and ch not in _ALLOWED_FORMAT):
            return ch
    return None


# --- the parser ----------------------------------------------------------------------------------


def parse(text: str, command: str = DEFAULT_COMMAND, *, today: date) -> Command:
    """The command that `text` (what follows the slash command) asks for; examples in errors follow `today`."""
    return _Parser(command, today).parse(text)


class _Parser:
    def __init__(self, command: str, today: date) -> None:
        self.command = command
        self.today = today
        self.dates = ExampleDates.after(today)

    def fail(self, verb: str | None, message: str) -> UsageError:
        """An error about `verb` carries its usage; one about no verb in particular carries the command's
        shape and the verbs' names, not the whole overview (too much to read past a typo)."""
        if verb:
            return UsageError(message, usage_for(verb, self.command, today=self.today))
        return UsageError(
            message,
            f"Usage: `{self.command} <command> …`\nCommands: {', '.join(VERBS)}\n"
            f"Example: `{self.command} help <command>`",
        )

    def parse(self, text: str) -> Command:
        tokens = _tokens(text)
        if len(text) > COMMAND_TEXT_MAX:
            word = tokens[0].text.lower() if tokens else ""
            message = f"The text is {len(text):,} characters long; the limit is {COMMAND_TEXT_MAX:,}."
            if word in VERBS:
                raise self.fail(word, message)
            raise self.fail(None, f"{message} `{self.command} help` lists every command.")
        if not tokens:
            return Help(None)
        verb = tokens[0].text.lower()
        args = tokens[1:]
        if verb not in VERBS:
            raise self.unknown_verb(tokens[0].text)
        if len(args) == 1 and args[0].text.lower() in ("--help", "-h"):
            return Help(verb)
        if verb == "help":
            return self.help(args)
        if verb == "new":
            return self.new(args, text)
        if verb == "channel":
            return self.channel(args)
        if verb == "move":
            return self.move(args)
        if verb == "announce":
            return self.announce(args, text)
        if verb == "cutover":
            return self.cutover(args, text)
        if verb == "retro":
            return self.retro(args)
        if verb == "item":
            return self.item(args, text)
        if verb == "list":
            self.no_more(verb, args)
            return ListReleases()
        if verb == "templates":
            self.no_more(verb, args)
            return ListTemplates()
        if verb in ("assign", "unassign"):
            return self.assign(verb, args)
        if verb == "deputy":
            return self.deputy(args)
        release = self.only_release(verb, args)
        if verb == "status":
            return Status(release)
        if verb == "roles":
            return Roles(release)
        if verb == "schedule":
            return Schedule(release)
        if verb == "export":
            return Export(release)
        return Cancel(release)

    def unknown_verb(self, word: str) -> UsageError:
        message = f"`{_show(word)}` is not a `{self.command}` command."
        if _REF.fullmatch(word):
            message += f" To see a release, use `{self.command} status {_show(word.upper())}`."
            return self.fail("status", message)
        close = difflib.get_close_matches(word.lower(), VERBS, n=1, cutoff=0.6)
        if close:
            # The likely verb's usage, not every verb's: the person knows what they wanted.
            return self.fail(close[0], message + f" Did you mean `{close[0]}`?")
        return self.fail(None, message + f" `{self.command} help` lists every command.")

    def no_more(self, verb: str, args: Sequence[_Token]) -> None:
        if args:
            raise self.fail(verb, f"Unexpected `{_show(args[0].text)}`: `{verb}` takes no arguments.")

    def release_ref(self, verb: str, token: _Token) -> str | None:
        """`REL-<n>` normalised, None if the token is not meant as a release key."""
        m = _REF.fullmatch(token.text)
        if m is not None:
            digits = m.group(1).lstrip("0")
            if not digits:
                raise self.fail(verb, f"`{_show(token.text)}` is not a release key: release numbers start at 1.")
            if len(digits) > 10 or int(digits) > MAX_RELEASE_NUMBER:
                raise self.fail(verb, f"`{_show(token.text)}` is not a release key: the number is too large.")
            return f"REL-{int(digits)}"
        if _REF_LIKE.match(token.text):
            raise self.fail(verb, f"`{_show(token.text)}` is not a release key: keys look like `REL-12`.")
        return None

    def only_release(self, verb: str, args: Sequence[_Token]) -> str | None:
        if not args:
            return None
        release = self.release_ref(verb, args[0])
        if release is None:
            raise self.fail(
                verb, f"Unexpected `{_show(args[0].text)}`: `{verb}` takes only a release key like `REL-12`."
            )
        if len(args) > 1:
            raise self.fail(verb, f"Unexpected `{_show(args[1].text)}` after `{release}`.")
        return release

    # help ---------------------------------------------------------------------------------------

    def help(self, args: Sequence[_Token]) -> Help:
        if not args:
            return Help(None)
        topic = args[0].text.lower()
        if topic not in VERBS:
            close = difflib.get_close_matches(topic, VERBS, n=1, cutoff=0.6)
            hint = f" Did you mean `{close[0]}`?" if close else " Commands: " + ", ".join(VERBS) + "."
            raise self.fail("help", f"There is no help on `{_show(args[0].text)}`: it is not a command.{hint}")
        if len(args) > 1:
            raise self.fail("help", f"Unexpected `{_show(args[1].text)}`: `help` takes one command name.")
        return Help(topic)

    # new ----------------------------------------------------------------------------------------

    def new(self, args: Sequence[_Token], text: str) -> NewModal | NewRelease:
        if not args:
            return NewModal()
        first_option = next((i for i, t in enumerate(args) if _option(t.text) is not None), len(args))
        name_tokens = args[:first_option]
        if not name_tokens:
            raise self.fail("new", "`new` needs the release name first, before the options.")
        name = self.release_name(text[name_tokens[0].start : name_tokens[-1].end])

        def stray(rest: Sequence[_Token], i: int) -> None:
            # Only reachable after an option's value: name words were all taken before the options.
            previous = " ".join(t.text for t in rest[:i])
            raise self.fail(
                "new",
                f"Unexpected `{_show(rest[i].text)}` after `{_show(previous)}`. "
                "The release name goes before the options.",
            )

        values = self.options("new", args[first_option:], _NEW_OPTIONS, stray)

        rehearsal = self.rehearsal(values["rehearsal"]) if "rehearsal" in values else None
        if "cutover" not in values and rehearsal is None:
            raise self.fail(
                "new",
                f"`new` needs `--cutover <datetime>`, when the cutover window starts, e.g. `{self.dates.cutover}`.",
            )
        cutover = self.timed("new", parse_datetime, values["cutover"]) if "cutover" in values else None
        duration = self.timed("new", parse_duration, values["duration"]) if "duration" in values else None
        template = None
        if "template" in values:
            template = values["template"].lower()
            available = available_templates()
            if template not in available:
                names = ", ".join(f"`{k}`" for k in available)
                raise self.fail("new", f"`{_show(values['template'])}` is not a template. Templates: {names}.")
        return NewRelease(name=name, cutover=cutover, duration=duration, template=template, rehearsal=rehearsal)

    def rehearsal(self, value: str) -> int:
        text = value.strip().lower().removeprefix("x").removeprefix("×").removesuffix("x").removesuffix("×")
        if not text.isascii() or not text.isdigit() or len(text) > 9:
            raise self.fail(
                "new", f"`--rehearsal {_show(value)}` needs a whole number, e.g. `--rehearsal 60` (1 hour in 1 min)."
            )
        problem = factor_problem(int(text))
        if problem:
            raise self.fail("new", problem)
        return int(text)

    def options(
        self,
        verb: str,
        rest: Sequence[_Token],
        known: tuple[str, ...],
        stray: Callable[[Sequence[_Token], int], None],
    ) -> dict[str, str]:
        """Option name → value text for `--name value` / `--name=value`. `stray(rest, i)` gets each token that
        is neither an option nor an option's value: it raises, or takes the token as something else."""
        values: dict[str, str] = {}
        i = 0
        while i < len(rest):
            option = _option(rest[i].text)
            if option is None:
                stray(rest, i)
                i += 1
                continue
            key, inline = option
            shown = f"--{key}"
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = f" Did you mean `--{close[0]}`?" if close else ""
                names = ", ".join(f"`--{o}`" for o in known)
                raise self.fail(verb, f"`{_show(rest[i].text)}` is not an option of `{verb}`.{hint} Options: {names}.")
            if key in values:
                raise self.fail(verb, f"`{shown}` is given twice; give it once.")
            i += 1
            words: list[str] = []
            if inline:
                words.append(inline)
            elif i < len(rest) and _option(rest[i].text) is None:
                words.append(rest[i].text)
                i += 1
            if not words:
                example = self.dates.cutover if key == "cutover" else _EXAMPLE_VALUES[key]
                raise self.fail(verb, f"`{shown}` needs a value, e.g. `{shown} {example}`.")
            if key == "cutover":
                # A date and a time typed as two words, then possibly an offset typed as a third.
                if (
                    i < len(rest)
                    and _option(rest[i].text) is None
                    and (_DATE_ONLY.fullmatch(words[0]) or _TIME_LIKE.fullmatch(rest[i].text))
                ):
                    words.append(rest[i].text)
                    i += 1
                if i < len(rest) and _OFFSET_WORD.fullmatch(rest[i].text):
                    words.append(rest[i].text)
                    i += 1
            values[key] = " ".join(words)
        return values

    def timed(self, verb: str, parser: Callable[[str], _T], value: str) -> _T:
        try:
            return parser(value)
        except TimeParseError as e:
            # timeparse echoes the text verbatim; defuse it like every other echo.
            shown = value.strip()
            raise self.fail(verb, e.message.replace(f"`{shown}`", f"`{_show(shown)}`")) from None

    def release_name(self, raw: str) -> str:
        bad = _bad_char(raw)
        if bad is not None:
            what = "a line break" if bad in "\n\r\u2028\u2029" else f"an invisible control character (U+{ord(bad):04X})"
            raise self.fail("new", f"The release name contains {what}; write it as one line of plain text.")
        return self.plain_text(
            "new",
            raw,
            subject="The release name",
            empty="The release name is empty.",
            why="Slack mentions and channel links in a name would notify or link people wherever the release is shown.",
            limit=RELEASE_NAME_MAX,
        )

    def plain_text(self, verb: str, raw: str, *, subject: str, empty: str, why: str, limit: int) -> str:
        """A name or title typed in the command, kept as one line of plain text like a form's input."""
        # Slack escaped the user's literal &, < and >.
        text = html.unescape(raw) if "&" in raw else raw
        text = " ".join(text.split())
        # Only a quote pair around the whole text: `'a' and 'b'` keeps its quotes.
        if len(text) >= 2 and _QUOTES.get(text[0]) == text[-1] and text[-1] not in text[1:-1]:
            text = text[1:-1].strip()
        if not text:
            raise self.fail(verb, empty)
        sequence = _SLACK_SEQUENCE.search(text)
        if sequence is not None:
            raise self.fail(verb, f"{subject} can't contain `{_show(sequence.group())}`: {why}")
        bad = _bad_char(text)  # entities can encode control characters too
        if bad is not None:
            raise self.fail(verb, f"{subject} contains an invisible control character (U+{ord(bad):04X}).")
        if len(text) > limit:
            raise self.fail(verb, f"{subject} is {len(text)} characters long; the limit is {limit}.")
        return text

    # item add / edit / remove -------------------------------------------------------------------

    def item(self, args: Sequence[_Token], text: str) -> ItemAdd | ItemEdit | ItemRemove:
        actions = ("add", "edit", "remove")
        if not args:
            raise self.fail("item", "`item` needs `add`, `edit` or `remove`.")
        action = args[0].text.lower()
        if action not in actions:
            close = difflib.get_close_matches(action, actions, n=1, cutoff=0.6)
            hint = f" Did you mean `item {close[0]}`?" if close else ""
            raise self.fail(
                "item", f"`item {_show(args[0].text)}` is not a scope change.{hint} Use add, edit or remove."
            )
        rest = list(args[1:])
        release = self.release_ref("item", rest[-1]) if rest else None
        if release is not None:
            rest.pop()
        first_option = next((i for i, t in enumerate(rest) if _option(t.text) is not None), len(rest))
        words, options = rest[:first_option], self.item_options(action, rest[first_option:], text)
        if action == "add":
            if len(words) < 2:
                raise self.fail(
                    "item", '`item add` needs a phase and a title, e.g. `item add 3 "Run the smoke tests"`.'
                )
            title = self.item_title(text[words[1].start : words[-1].end])
            approvers = options.get("approvers", ())
            gate = "gate" in options or bool(approvers)
            if gate and not approvers:
                raise self.fail("item", "A gate needs `--approvers <role>…`: the roles that sign it off.")
            assert not isinstance(approvers, str | bool) and not isinstance(options.get("responsible"), str | bool)
            return ItemAdd(
                phase=self.item_word("phase", words[0].text),
                title=title,
                gate=gate,
                responsible=tuple(options.get("responsible", ())),  # type: ignore[arg-type]
                approvers=tuple(approvers),  # type: ignore[arg-type]
                due=options.get("due"),  # type: ignore[arg-type]
                release=release,
            )
        if not words:
            raise self.fail("item", f"`item {action}` needs the item: its number from the checklist, e.g. `#7`.")
        if len(words) > 1:
            raise self.fail("item", f"Unexpected `{_show(words[1].text)}` after the item `{_show(words[0].text)}`.")
        ref = self.item_ref(words[0].text)
        if action == "remove":
            if options:
                raise self.fail("item", "`item remove` takes no options.")
            return ItemRemove(ref, release)
        if not options:
            raise self.fail("item", "`item edit` needs what to change: `--title`, `--due` or `--approvers`.")
        if "gate" in options or "responsible" in options:
            raise self.fail("item", "`item edit` changes `--title`, `--due` or `--approvers`.")
        approvers_edit = options.get("approvers")
        return ItemEdit(
            item=ref,
            title=options.get("title"),  # type: ignore[arg-type]
            due=options.get("due"),  # type: ignore[arg-type]
            approvers=tuple(approvers_edit) if approvers_edit is not None else None,  # type: ignore[arg-type]
            release=release,
        )

    def item_options(self, action: str, rest: Sequence[_Token], text: str) -> dict[str, object]:
        """`--gate`, `--responsible <role>…`, `--approvers <role>…`, `--due <offset|datetime>`, `--title …`."""
        known: tuple[str, ...] = ("gate", "responsible", "approvers", "due")
        if action != "add":
            known = ("title", "due", "approvers")
        if action == "remove":
            known = ()
        values: dict[str, object] = {}
        i = 0
        while i < len(rest):
            option = _option(rest[i].text)
            if option is None:
                raise self.fail("item", f"Unexpected `{_show(rest[i].text)}`: the title goes before the options.")
            key, inline = option
            if key not in known:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
                hint = f" Did you mean `--{close[0]}`?" if close else ""
                names = ", ".join(f"`--{o}`" for o in known) or "none"
                raise self.fail(
                    "item", f"`{_show(rest[i].text)}` is not an option of `item {action}`.{hint} Options: {names}."
                )
            if key in values:
                raise self.fail("item", f"`--{key}` is given twice; give it once.")
            i += 1
            taken: list[_Token] = []
            while i < len(rest) and _option(rest[i].text) is None:
                taken.append(rest[i])
                i += 1
            words = ([inline] if inline else []) + [t.text for t in taken]
            if key == "gate":
                if words:
                    raise self.fail("item", f"`--gate` takes no value; `{_show(words[0])}` is not one.")
                values[key] = True
            elif not words:
                raise self.fail("item", f"`--{key}` needs a value, e.g. `--{key} {_ITEM_EXAMPLES[key]}`.")
            elif key in ("responsible", "approvers"):
                roles = [w for word in words for w in word.split(",") if w]
                values[key] = tuple(dict.fromkeys(self.item_word("role", w) for w in roles))
            elif key == "due":
                values[key] = self.due(" ".join(words))
            else:  # title
                values[key] = self.item_title(
                    inline if inline and not taken else text[taken[0].start : taken[-1].end] if taken else inline or ""
                )
        return values

    def due(self, value: str) -> timedelta | ParsedDateTime:
        if value.strip().startswith(("+", "-")):
            return self.timed("item", parse_offset, value)
        try:
            return parse_datetime(value)
        except TimeParseError:
            raise self.fail(
                "item",
                f"`--due {_show(value.strip())}` is neither an offset from the cutover start (`-2d`, `+1h`) nor a "
                f"date and time (`{self.dates.notice}`).",
            ) from None

    def item_word(self, what: str, text: str) -> str:
        word = text.strip().lower()
        if not _ROLE_WORD.fullmatch(word) and not (what == "phase" and _ITEM_KEY.fullmatch(word)):
            if what == "role":
                raise self.fail(
                    "item",
                    f"`{_show(text)}` is not a role: roles are words such as `pm` or `dba`; "
                    f"`{self.command} roles` lists the release's roles.",
                )
            if not word.isdigit() or len(word) > 3:
                raise self.fail("item", f"`{_show(text)}` is not a phase: give its number or key from the checklist.")
        return word

    def item_ref(self, text: str) -> str:
        word = text.strip().lower()
        if _ITEM_NUMBER.fullmatch(word):
            return "#" + str(int(word.lstrip("#")))
        if _ITEM_KEY.fullmatch(word) and len(word) <= 64:
            return word
        raise self.fail("item", f"`{_show(text)}` is not an item: give its number from the checklist, e.g. `#7`.")

    def item_title(self, raw: str) -> str:
        return self.plain_text(
            "item",
            raw,
            subject="The title",
            empty="The item's title is empty.",
            why="no mentions or links.",
            limit=ITEM_TITLE_MAX,
        )

    # assign / unassign --------------------------------------------------------------------------

    def assign(self, verb: str, args: Sequence[_Token]) -> Assign | Unassign:
        if not args:
            raise self.fail(verb, f"`{verb}` needs a role and at least one person or user group.")
        role_token = args[0].text
        if role_token.startswith(("<", "@")):
            raise self.fail(verb, f"Name the role first, then the people: `{_show(role_token)}` is not a role.")
        role = self.role(verb, role_token)

        subjects: list[Subject] = []
        release: str | None = None
        for token in args[1:]:
            if not token.text.strip(","):
                continue  # "<@U1>, <@U2>" is a natural way to list people
            ref = self.release_ref(verb, token)
            if ref is not None:
                if release is not None:
                    raise self.fail(verb, f"Two release keys, `{release}` and `{ref}`; give one.")
                release = ref
                continue
            subject = self.subject(verb, token.text)
            if subject not in subjects:
                subjects.append(subject)
        if not subjects:
            raise self.fail(
                verb, f"`{verb} {_show(role_token)}` needs at least one person or user group, picked with @."
            )
        if verb == "assign":
            return Assign(role=role, subjects=tuple(subjects), release=release)
        return Unassign(role=role, subjects=tuple(subjects), release=release)

    # deputy -------------------------------------------------------------------------------------

    def deputy(self, args: Sequence[_Token]) -> SetDeputy:
        verb = "deputy"
        if not args:
            raise self.fail(verb, "`deputy` needs a role and one person, picked with @.")
        role_token = args[0].text
        if role_token.startswith(("<", "@")):
            raise self.fail(verb, f"Name the role first, then the person: `{_show(role_token)}` is not a role.")
        role = self.role(verb, role_token)
        person: str | None = None
        release: str | None = None
        when: list[str] = []
        rest = list(args[1:])
        i = 0
        while i < len(rest):
            token = rest[i]
            i += 1
            ref = self.release_ref(verb, token)
            if ref is not None:
                if release is not None:
                    raise self.fail(verb, f"Two release keys, `{release}` and `{ref}`; give one.")
                release = ref
                continue
            if token.text.lower() == "until":
                if when:
                    raise self.fail(verb, "Give `until` once.")
                while (
                    i < len(rest)
                    and len(when) < 3
                    and not rest[i].text.startswith("<")
                    and rest[i].text.lower() != "until"
                    and self.release_ref(verb, rest[i]) is None
                ):
                    when.append(rest[i].text)
                    i += 1
                if not when:
                    raise self.fail(verb, f"`until` needs a date and time, e.g. `until {self.dates.moved}`.")
                continue
            subject = self.subject(verb, token.text)
            if subject.kind is not SubjectKind.USER:
                raise self.fail(verb, f"A deputy is one person, not a user group: `{_show(token.text)}` is a group.")
            if person is not None and person != subject.id:
                raise self.fail(verb, f"One deputy at a time: <@{subject.id}> is a second person.")
            person = subject.id
        if person is None:
            raise self.fail(verb, f"`deputy {_show(role_token)}` needs the person who stands in, picked with @.")
        until = self.timed(verb, parse_datetime, " ".join(when)) if when else None
        return SetDeputy(role=role, user_id=person, until=until, release=release)

    def role(self, verb: str, text: str) -> str:
        # Which roles exist depends on the release's template: the flow resolves the word, the grammar
        # only checks that it can be a role's name.
        word = text.strip().lower()
        if not _ROLE_WORD.fullmatch(word):
            raise self.fail(
                verb,
                f"`{_show(text)}` is not a role: roles are words such as `pm` or `dba`; "
                f"`{self.command} roles` lists the release's roles.",
            )
        return word

    def subject(self, verb: str, text: str) -> Subject:
        shown = _show(text)
        m = _USER.fullmatch(text)
        if m is not None:
            if not _USER_ID.fullmatch(m.group(1)):
                raise self.fail(verb, f"`{shown}` is not a valid Slack user mention.")
            return Subject(SubjectKind.USER, m.group(1))
        m = _GROUP.fullmatch(text)
        if m is not None:
            if not _GROUP_ID.fullmatch(m.group(1)):
                raise self.fail(verb, f"`{shown}` is not a valid Slack user group mention.")
            return Subject(SubjectKind.GROUP, m.group(1))
        if _BROADCAST.fullmatch(text):
            raise self.fail(verb, f"`{shown}` stands for everyone in a channel; assign people or user groups instead.")
        if text.startswith("<#"):
            raise self.fail(verb, f"`{shown}` is a channel; assign people or user groups instead.")
        if text.startswith("@") or text.startswith("&lt;@"):
            raise self.fail(
                verb,
                f"`{shown}` is plain text, not a mention. Pick the person or group from Slack's autocomplete "
                "list as you type @, so that Slack sends who it is.",
            )
        raise self.fail(
            verb, f"`{shown}` is not a person or user group. Mention them with @ and pick them from the list."
        )

    # channel ------------------------------------------------------------------------------------

    def channel(self, args: Sequence[_Token]) -> SetChannel:
        verb = "channel"
        audience: str | None = None
        channel_id: str | None = None
        release: str | None = None
        words: list[_Token] = []
        # Order is forgiving: a channel is recognisable by its markup, a release key by its form.
        for token in args:
            ref = self.release_ref(verb, token)
            if ref is not None:
                if release is not None:
                    raise self.fail(verb, f"Two release keys, `{release}` and `{ref}`; give one.")
                release = ref
            elif _looks_like_channel(token.text):
                if channel_id is not None:
                    raise self.fail(verb, f"Unexpected `{_show(token.text)}`: give one channel per audience.")
                channel_id = self.channel_ref(verb, token.text)
            else:
                words.append(token)
        audiences = [w for w in words if w.text.lower() in AUDIENCES]
        others = [w for w in words if w.text.lower() not in AUDIENCES]
        if len(audiences) > 1:
            raise self.fail(
                verb, f"Unexpected `{_show(audiences[1].text)}` after `{audiences[0].text.lower()}`: give one audience."
            )
        if not audiences:
            if others:
                self.audience(verb, others[0].text)  # raises: says why it is not an audience
            raise self.fail(verb, f"`channel` needs an audience ({_AUDIENCE_LIST}) and a channel picked with #.")
        audience = audiences[0].text.lower()
        if others:
            word = others[0].text
            if channel_id is None and _CHANNEL_NAME.fullmatch(word):
                # A channel name typed without #: Slack sent plain text, not which channel it is.
                raise self.fail(
                    verb,
                    f"`{_show(word)}` is not a channel link: type # and pick it from Slack's autocomplete list, "
                    f"as in `{self.command} channel {audience} #{_show(word.lower())}`.",
                )
            raise self.fail(
                verb, f"Unexpected `{_show(word)}`: `channel` takes an audience, a #channel and a release key."
            )
        if channel_id is None:
            raise self.fail(
                verb, f"`channel {audience}` needs a channel: type # and pick it from Slack's autocomplete list."
            )
        return SetChannel(audience=audience, channel_id=channel_id, release=release)

    def audience(self, verb: str, text: str) -> str:
        word = text.lower()
        if word in AUDIENCES:
            return word
        close = difflib.get_close_matches(word, AUDIENCES, n=1, cutoff=0.6)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        if not close and verb == "announce" and _CHANNEL_NAME.fullmatch(text):
            # `announce` also takes a channel: a name without # may well be one.
            raise self.fail(
                verb,
                f"`{_show(text)}` is not an audience ({_AUDIENCE_LIST}) nor a channel link: for a channel, type # "
                f"and pick it from Slack's autocomplete list, as in `#{_show(word)}`.",
            )
        raise self.fail(verb, f"`{_show(text)}` is not an audience.{hint} Audiences: {_AUDIENCE_LIST}.")

    def channel_ref(self, verb: str, text: str) -> str:
        shown = _show(text)
        m = _CHANNEL.fullmatch(text)
        if m is not None:
            if not _CHANNEL_ID.fullmatch(m.group(1)):
                raise self.fail(verb, f"`{shown}` is not a valid Slack channel link.")
            return m.group(1)
        if _BROADCAST.fullmatch(text):
            raise self.fail(verb, f"`{shown}` notifies everyone; name a channel by picking it with #.")
        if _USER.fullmatch(text) or _GROUP.fullmatch(text):
            raise self.fail(verb, f"`{shown}` is a person or user group, not a channel. Pick a channel with #.")
        if text.startswith(("#", "&lt;#")):
            raise self.fail(
                verb,
                f"`{shown}` is plain text, not a channel link. Pick the channel from Slack's autocomplete list "
                "as you type #, so that Slack sends which channel it is.",
            )
        raise self.fail(verb, f"`{shown}` is not a channel. Pick one from Slack's autocomplete list as you type #.")

    # move ---------------------------------------------------------------------------------------

    def move(self, args: Sequence[_Token]) -> Move:
        verb = "move"
        releases: list[str] = []

        def stray(rest: Sequence[_Token], i: int) -> None:
            ref = self.release_ref(verb, rest[i])
            if ref is None:
                after = f" after `{_show(' '.join(t.text for t in rest[:i]))}`" if i else ""
                raise self.fail(
                    verb,
                    f"Unexpected `{_show(rest[i].text)}`{after}: `move` takes `--cutover`, `--duration` "
                    "and a release key.",
                )
            if releases:
                raise self.fail(verb, f"Two release keys, `{releases[0]}` and `{ref}`; give one.")
            releases.append(ref)

        values = self.options(verb, args, _MOVE_OPTIONS, stray)
        if "cutover" not in values:
            raise self.fail(
                verb, f"`move` needs `--cutover <datetime>`, the new start of the window, e.g. `{self.dates.moved}`."
            )
        cutover = self.timed(verb, parse_datetime, values["cutover"])
        duration = self.timed(verb, parse_duration, values["duration"]) if "duration" in values else None
        return Move(cutover=cutover, duration=duration, release=releases[0] if releases else None)

    # announce -----------------------------------------------------------------------------------

    def announce(self, args: Sequence[_Token], text: str) -> Announce:
        verb = "announce"
        if not args:
            raise self.fail(
                verb, f"`announce` needs an audience ({_AUDIENCE_LIST}) or a #channel, then `at`, a time and the text."
            )
        target = args[0]
        if _REF.fullmatch(target.text):
            raise self.fail(
                verb, "Name the audience or #channel first; a release key may go at the very end of the text."
            )
        audience: str | None = None
        channel_id: str | None = None
        if _looks_like_channel(target.text):
            channel_id = self.channel_ref(verb, target.text)
        else:
            audience = self.audience(verb, target.text)
        shown_target = audience or _show(target.text)

        if len(args) < 2 or args[1].text.lower() != "at":
            if any(t.text.lower() == "at" for t in args[2:]):
                raise self.fail(verb, f"Unexpected `{_show(args[1].text)}` before `at`: give one audience or channel.")
            raise self.fail(
                verb,
                f"Put `at` and the time after `{shown_target}`, "
                f"e.g. `announce {shown_target} at {self.dates.notice} …`.",
            )
        rest = args[2:]
        if not rest:
            raise self.fail(verb, f"`at` needs a date and time, e.g. `{self.dates.notice}`.")
        words = [rest[0].text]
        i = 1
        # Unlike `new`, words follow the time here, so a word joins the date only when it can be part of it.
        if (
            i < len(rest)
            and not _parses(words[0])
            and (_TIME_LIKE.fullmatch(rest[i].text) or (_DATE_ONLY.fullmatch(words[0]) and rest[i].text[:1].isdigit()))
        ):
            words.append(rest[i].text)
            i += 1
        if i < len(rest) and _OFFSET_WORD.fullmatch(rest[i].text) and not _has_offset(" ".join(words)):
            words.append(rest[i].text)
            i += 1
        at = self.timed(verb, parse_datetime, " ".join(words))

        body = rest[i:]
        release: str | None = None
        if len(body) >= 2 and _REF.fullmatch(body[-1].text):
            release = self.release_ref(verb, body[-1])
            body = body[:-1]
        message = text[body[0].start : body[-1].end].strip() if body else ""
        if not message:
            raise self.fail(verb, "The announcement has no text: write it after the time.")
        self.check_announcement_text(message)
        return Announce(audience=audience, channel_id=channel_id, at=at, text=message, release=release)

    def check_announcement_text(self, message: str) -> None:
        verb = "announce"
        if len(message) > ANNOUNCEMENT_TEXT_MAX:
            raise self.fail(
                verb, f"The text is {len(message):,} characters long; the limit is {ANNOUNCEMENT_TEXT_MAX:,}."
            )
        broadcast = _BROADCAST.search(message)
        if broadcast is not None:
            raise self.fail(
                verb,
                f"The text can't contain `{_show(broadcast.group())}`: announcements never notify a whole "
                "channel. Mention people or user groups instead.",
            )
        bad = next((ch for ch in message if ch not in "\n\t" and _bad_char(ch) is not None), None)
        if bad is not None:
            raise self.fail(verb, f"The text contains an invisible control character (U+{ord(bad):04X}).")

    # cutover / retro ----------------------------------------------------------------------------

    def action(self, verb: str, args: Sequence[_Token], actions: tuple[str, ...]) -> str:
        names = ", ".join(f"`{a}`" for a in actions)
        if not args:
            raise self.fail(verb, f"`{verb}` needs an action: {names}.")
        word = args[0].text.lower()
        if word in actions:
            return word
        if _REF.fullmatch(args[0].text):
            raise self.fail(
                verb,
                f"Name the action first, then the release key: `{verb} {actions[0]} "
                f"{_show(args[0].text.upper())}`. Actions: {names}.",
            )
        close = difflib.get_close_matches(word, actions, n=1, cutoff=0.6)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        raise self.fail(verb, f"`{_show(args[0].text)}` is not an action of `{verb}`.{hint} Actions: {names}.")

    def cutover(self, args: Sequence[_Token], text: str) -> CutoverCommand:
        verb = "cutover"
        action = cast(CutoverAction, self.action(verb, args, CUTOVER_ACTIONS))
        rest = args[1:]
        if action == "complete":
            return CutoverCommand(action, None, None, self.only_release(verb, rest))
        if action == "rollback":
            reason, release = self.reason_and_release(rest, text, what="rollback")
            if reason is None:
                raise self.fail(
                    verb, "`cutover rollback` needs a reason, e.g. `cutover rollback Payments fail after the switch`."
                )
            return CutoverCommand(action, reason, None, release)
        return self.start(rest, text)

    def start(self, rest: Sequence[_Token], text: str) -> CutoverCommand:
        verb = "cutover"
        release: str | None = None
        i = 0
        # A key right after `start` is the release; an override's words follow their flag.
        if i < len(rest) and _option(rest[i].text) is None:
            release = self.release_ref(verb, rest[i])
            if release is None:
                raise self.fail(
                    verb,
                    f"Unexpected `{_show(rest[i].text)}`: `cutover start` takes `--override <reason>` "
                    "and a release key.",
                )
            i += 1
        if i == len(rest):
            return CutoverCommand("start", None, None, release)
        option = _option(rest[i].text)
        if option is None:
            raise self.fail(verb, f"Unexpected `{_show(rest[i].text)}` after `{release}`.")
        name, inline = option
        if name != "override":
            close = difflib.get_close_matches(name, ("override",), n=1, cutoff=0.6)
            hint = " Did you mean `--override`?" if close else ""
            raise self.fail(
                verb, f"`{_show(rest[i].text)}` is not an option of `cutover start`.{hint} Options: `--override`."
            )
        body = list(rest[i + 1 :])
        if inline:
            # `--override=words`: the value is the tail of the option's own token.
            flag = rest[i]
            body.insert(0, _Token(inline, flag.end - len(inline), flag.end))
        override, ref = self.reason_and_release(body, text, what="override")
        if ref is not None and release is not None:
            raise self.fail(verb, f"Two release keys, `{release}` and `{ref}`; give one.")
        if override is None:
            raise self.fail(
                verb,
                "`--override` needs the reason why the cutover may start without every go/no-go sign-off, "
                "e.g. `cutover start --override CAB approved by phone, minutes follow`.",
            )
        return CutoverCommand("start", None, override, release or ref)

    def reason_and_release(self, rest: Sequence[_Token], text: str, what: str) -> tuple[str | None, str | None]:
        verb = "cutover"
        body = list(rest)
        first = _option(body[0].text) if body else None
        if first is not None:
            name, inline = first
            if name != "reason":
                raise self.fail(
                    verb, f"`{_show(body[0].text)}` is not an option here: write the {what} reason as plain words."
                )
            # `--reason` is a natural thing to type; the words after it (or after `=`) are the reason.
            flag = body.pop(0)
            if inline:
                body.insert(0, _Token(inline, flag.end - len(inline), flag.end))
        release: str | None = None
        if body and _REF.fullmatch(body[-1].text):
            release = self.release_ref(verb, body[-1])
            body = body[:-1]
        if body and _REF.fullmatch(body[0].text):
            # Read as the reason's first word it would silently target this channel's release instead.
            raise self.fail(verb, "Give the reason first; a release key may go at the very end.")
        raw = text[body[0].start : body[-1].end] if body else ""
        return self.reason(raw, what=what), release

    def reason(self, raw: str, what: str) -> str | None:
        """A reason as plain text (one line, Slack's escaping undone), None when empty; raises when unusable."""
        verb = "cutover"
        raw = raw.strip()
        if not raw:
            return None
        broadcast = _BROADCAST.search(raw)
        if broadcast is not None:
            raise self.fail(
                verb,
                f"The {what} reason can't contain `{_show(broadcast.group())}`: it is posted in the release "
                "channel and must not notify everyone. Mention people or user groups instead.",
            )
        reason = " ".join((html.unescape(raw) if "&" in raw else raw).split())
        bad = _bad_char(reason)
        if bad is not None:
            raise self.fail(verb, f"The {what} reason contains an invisible control character (U+{ord(bad):04X}).")
        if len(reason) < CUTOVER_REASON_MIN:
            raise self.fail(
                verb,
                f"The {what} reason is too short: write at least {CUTOVER_REASON_MIN} characters "
                "that others can act on.",
            )
        if len(reason) > CUTOVER_REASON_MAX:
            raise self.fail(
                verb, f"The {what} reason is {len(reason):,} characters long; the limit is {CUTOVER_REASON_MAX}."
            )
        return reason

    def retro(self, args: Sequence[_Token]) -> Retro | RetroStatus:
        verb = "retro"
        action = cast(RetroAction, self.action(verb, args, RETRO_ACTIONS))
        release = self.only_release(verb, args[1:])
        return RetroStatus(release) if action == "status" else Retro(action, release)


def _looks_like_channel(text: str) -> bool:
    # Any markup goes to the channel slot, so a user mention there gets a channel-specific error.
    return text.startswith(("<", "#", "&lt;"))


def _parses(text: str) -> bool:
    try:
        parse_datetime(text)
    except TimeParseError:
        return False
    return True


def _has_offset(text: str) -> bool:
    try:
        return parse_datetime(text).has_offset
    except TimeParseError:
        return False


_MOVE_OPTIONS = ("cutover", "duration")
_AUDIENCE_LIST = ", ".join(f"`{a}`" for a in AUDIENCES)

_EXAMPLE_VALUES = {  # `--cutover` takes a date from `ExampleDates`
    "duration": "4h",
    "template": "caf-migration-release",
    "rehearsal": "60",
}
