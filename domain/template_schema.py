"""The template file format: pydantic models that validate a template's YAML and convert it to the
frozen types of `domain.template`.

Every problem is reported, not just the first, as a `Problem`: the field path
(`phases[2].items[5].approvers[0]`), what is wrong and what is allowed; `domain.template` adds the
file, line and column from the YAML node the path points to. Checks that need the whole document
(declared roles, the window length, keys used twice) read it through the validation context or run
as a second pass over the plain data, so one wrong field never hides another.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from domain.timeparse import TimeParseError, parse_duration, parse_offset

AUDIENCES: tuple[str, ...] = ("business", "it", "support", "all")
SurveyKind = Literal["text", "rating", "yes_no", "choice"]
SURVEY_KINDS: tuple[SurveyKind, ...] = ("text", "rating", "yes_no", "choice")
NOT_BY: tuple[str, ...] = ("creator", "responsible")
# Announcement keys the app has wording for (domain.announcements.NoticeKey; a test keeps them equal).
BUILTIN_WORDING: tuple[str, ...] = (
    "ann.initial",
    "ann.it_ops",
    "ann.freeze",
    "ann.reminder",
    "ann.started",
    "ann.outcome",
    "ann.post_check",
    "ann.hypercare_end",
    "ann.decom_notice",
    "ann.decom_done",
    "ann.outcomes",
)
MANAGER_ROLE = "project-manager"  # domain.roles.PROJECT_MANAGER: who runs a release, whatever its name
# Named placeholders an announcement's wording may use; anything else in braces is an error.
PLACEHOLDERS: tuple[str, ...] = ("release", "workload", "window", "start", "end", "channel", "contacts")

MAX_TITLE = 150
MAX_DESCRIPTION = 500
MAX_WORDING = 2500
MAX_KEY = 64
# The in-window regime stops short of a day so that "+1d" always means "a day after cutover start".
POST_WINDOW = timedelta(days=1)
_KEY = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*", re.ASCII)
_SLUG = re.compile(r"[a-z][a-z0-9-]{0,62}", re.ASCII)
_TEMPLATE_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,62}", re.ASCII)
_OFFSET_PATTERN = r"^\s*[+-]\s*([0-9]+[dDhHmM])+\s*$"
_DURATION_PATTERN = r"^\s*([0-9]+[dDhHmM])+\s*$"


@dataclass(frozen=True)
class Problem:
    path: tuple[str | int, ...]
    message: str
    at_key: bool = False  # point at the mapping key (an unknown field) rather than its value


def path_text(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top)"


def kind_of(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return "text"
    return f"a {type(value).__name__}"


def _fail(message: str) -> PydanticCustomError:
    return PydanticCustomError("template", message)


# --- field types ---------------------------------------------------------------------------------


def _text(max_len: int, line: bool = True) -> Any:
    """A validator for text of at most ``max_len`` characters (one line unless ``line`` is False)."""

    def check(value: object) -> str:
        if not isinstance(value, str):
            raise _fail(f"must be text, not {kind_of(value)}")
        value = value.strip()
        if not value:
            raise _fail("is empty")
        if line and ("\n" in value or "\r" in value):
            raise _fail("must be a single line")
        if len(value) > max_len:
            raise _fail(f"is {len(value)} characters long; the limit is {max_len}")
        return value

    return BeforeValidator(check)


def _key(pattern: re.Pattern[str], form: str) -> Any:
    def check(value: object) -> str:
        if not isinstance(value, str):
            raise _fail(f"must be text, not {kind_of(value)}")
        value = value.strip()
        if len(value) > MAX_KEY or not pattern.fullmatch(value):
            raise _fail(f'"{value}" is not a valid key: use {form}')
        return value

    return BeforeValidator(check)


def _version(value: object) -> object:
    # YAML turns `version: 1.0` into a float; accept numbers but keep the text form.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


_TEXT_SCHEMA = WithJsonSchema({"type": "string", "minLength": 1})
Title = Annotated[str, _text(MAX_TITLE), _TEXT_SCHEMA]
Purpose = Annotated[str, _text(300), _TEXT_SCHEMA]
Description = Annotated[str, _text(MAX_DESCRIPTION, line=False), WithJsonSchema({"type": "string"})]
LongText = Annotated[str, _text(2000, line=False), _TEXT_SCHEMA]
Version = Annotated[str, _text(40), BeforeValidator(_version), WithJsonSchema({"type": ["string", "number"]})]


def _key_schema(pattern: re.Pattern[str]) -> WithJsonSchema:
    return WithJsonSchema({"type": "string", "pattern": f"^{pattern.pattern}$", "maxLength": MAX_KEY})


ItemKey = Annotated[str, _key(_KEY, "lowercase words joined by `.`, e.g. cc.window_appr"), _key_schema(_KEY)]
RoleSlug = Annotated[
    str, _key(_SLUG, "lowercase letters, digits and `-`, starting with a letter, e.g. dba"), _key_schema(_SLUG)
]
TemplateKey = Annotated[
    str, _key(_TEMPLATE_KEY, "lowercase letters, digits and `-`, e.g. payroll-release"), _key_schema(_TEMPLATE_KEY)
]


def _offset(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        # YAML reads an unsigned `0` or `-3` as a number; say what to write instead.
        raise _fail(f"must be a signed offset such as -21d or +4h, not {kind_of(value)}")
    try:
        return parse_offset(value)
    except TimeParseError as e:
        raise _fail(e.message) from None


def _duration(value: object) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise _fail(f"must be a duration such as 4h or 90m, not {kind_of(value)}")
    try:
        return parse_duration(value)
    except TimeParseError as e:
        raise _fail(e.message) from None


Offset = Annotated[
    timedelta,
    BeforeValidator(_offset),
    WithJsonSchema({"type": "string", "pattern": _OFFSET_PATTERN, "examples": ["-21d", "+0h", "+4h", "+21d4h"]}),
]
Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    WithJsonSchema({"type": "string", "pattern": _DURATION_PATTERN, "examples": ["4h", "90m", "1d"]}),
]


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise _fail(f"must be true or false, not {kind_of(value)}")
    return value


Flag = Annotated[bool, BeforeValidator(_bool), WithJsonSchema({"type": "boolean"})]


def _role_ref(value: str, info: ValidationInfo) -> str:
    declared = cast(Mapping[str, Any], info.context or {}).get("roles")
    if declared is not None and value not in declared:
        raise _fail(f'unknown role "{value}"; declare it under roles:')
    return value


RoleRef = Annotated[RoleSlug, AfterValidator(_role_ref)]


def _unique(what: str) -> Any:
    def check(values: list[Any]) -> list[Any]:
        seen: set[Any] = set()
        for v in values:
            if v in seen:
                raise _fail(f'lists "{v}" twice; name each {what} once')
            seen.add(v)
        return values

    return AfterValidator(check)


def _list(value: object) -> object:
    if value is None or isinstance(value, list):
        return value if value is not None else []
    raise _fail(f"must be a list, not {kind_of(value)}")


def _mapping(value: object) -> object:
    if isinstance(value, Mapping):
        return value
    raise _fail(f"must be a mapping, not {kind_of(value)}")


AsList = BeforeValidator(_list)
AsMapping = BeforeValidator(_mapping)
Roles = Annotated[list[RoleRef], AsList, _unique("role")]


def _placeholders(value: str) -> str:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
    except ValueError as e:
        raise _fail(f"is not valid wording ({e}); write a literal brace as {{{{ or }}}}") from None
    allowed = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
    for f in fields:
        if f not in PLACEHOLDERS:
            raise _fail(f'uses the placeholder "{{{f}}}", which does not exist; placeholders: {allowed}')
    return value


Wording = Annotated[str, _text(MAX_WORDING, line=False), AfterValidator(_placeholders), _TEXT_SCHEMA]


# --- models --------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoleModel(_Model):
    """A role people hold in a release: `key` is what they type in assign."""

    key: RoleSlug
    name: Title
    aliases: Annotated[list[RoleSlug], AsList, _unique("alias")] = []
    description: Description = ""


class ItemModel(_Model):
    key: ItemKey
    title: Title
    description: Description = ""
    responsible: Annotated[Roles, Field(min_length=1)]
    approvers: Roles = []
    gate: Flag | None = None
    due: Offset
    window_bound: Flag = False
    blocks_cutover: Flag = False
    scope_bound: Flag = False
    approvals: Annotated[int, Field(ge=1, le=20, strict=True)] = 1
    not_by: Annotated[list[Literal["creator", "responsible"]], AsList, _unique("rule")] = []
    source: LongText


class PhaseModel(_Model):
    key: ItemKey
    title: Title
    roles: Roles = []
    items: Annotated[list[Annotated[ItemModel, AsMapping]], AsList, Field(min_length=1)]


class AnnouncementModel(_Model):
    key: ItemKey
    offset: Offset
    audiences: Annotated[
        list[Literal["business", "it", "support", "all"]], AsList, Field(min_length=1), _unique("audience")
    ]
    purpose: Purpose
    wording: Wording | None = None


class QuestionModel(_Model):
    key: ItemKey
    text: Title
    kind: SurveyKind
    options: Annotated[list[Title], AsList, _unique("option")] = []
    optional: Flag = False


class RetroModel(_Model):
    open_delay: Duration = timedelta(days=1)
    open_for: Duration = timedelta(days=7)
    reminder: Duration = timedelta(days=1)


class CutoverModel(_Model):
    """Who may take each step of the cutover itself (besides the release's creator and its managers).
    A step left out keeps the default: the CAF roles for it that the template declares."""

    start: Roles | None = None
    complete: Roles | None = None
    rollback: Roles | None = None


class TemplateModel(_Model):
    """A checklist template: who does what when, who signs off, what stakeholders hear."""

    key: TemplateKey
    name: Title
    version: Version
    source: LongText
    description: LongText = ""
    default_duration: Duration
    nudge_lead: Duration = timedelta(hours=24)
    roles: Annotated[list[Annotated[RoleModel, AsMapping]], AsList, Field(min_length=1)]
    phases: Annotated[list[Annotated[PhaseModel, AsMapping]], AsList, Field(min_length=1)]
    announcements: Annotated[list[Annotated[AnnouncementModel, AsMapping]], AsList] = []
    retro_survey: Annotated[list[Annotated[QuestionModel, AsMapping]], AsList] = []
    retro: Annotated[RetroModel, AsMapping] = RetroModel()
    cutover: Annotated[CutoverModel, AsMapping] = CutoverModel()


# --- validation ----------------------------------------------------------------------------------


_MESSAGES: dict[str, str] = {
    "missing": "is missing",
    "too_short": "must list at least one entry",
    "int_type": "must be a whole number",
    "greater_than_equal": "must be at least {ge}",
    "less_than_equal": "must be at most {le}",
}


def _allowed_fields(path: Sequence[str | int]) -> tuple[str, ...]:
    """The fields of the model at `path` (the parent of an unknown field)."""
    model: type[BaseModel] = TemplateModel
    steps = [p for p in path if isinstance(p, str)]
    nested: dict[str, type[BaseModel]] = {
        "roles": RoleModel,
        "phases": PhaseModel,
        "items": ItemModel,
        "announcements": AnnouncementModel,
        "retro_survey": QuestionModel,
        "retro": RetroModel,
        "cutover": CutoverModel,
    }
    for step in steps:
        if step in nested and (model is not PhaseModel or step == "items"):
            model = nested[step]
    return tuple(model.model_fields)


def _problem(err: Mapping[str, Any]) -> Problem:
    path = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith(("function-", "list["))))
    kind = err["type"]
    value = err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "template":
        return Problem(path, str(err["msg"]))
    if kind == "extra_forbidden":
        allowed = ", ".join(_allowed_fields(path[:-1]))
        return Problem(path, f"unknown field; allowed: {allowed}", at_key=True)
    if kind == "literal_error":
        return Problem(path, f'"{value}" is not allowed; use one of {ctx.get("expected", "")}'.replace("'", ""))
    if kind in ("model_type", "dict_type"):
        return Problem(path, f"must be a mapping, not {kind_of(value)}")
    if kind == "too_short" and path and path[-1] == "phases":
        return Problem(path, "must list at least one phase")
    if kind == "too_short" and path and path[-1] == "items":
        return Problem(path, "must list at least one item")
    if kind == "too_short" and path and path[-1] == "roles":
        return Problem(path, "must declare at least one role")
    if kind == "int_type" or kind == "int_parsing":
        return Problem(path, f"must be a whole number, not {kind_of(value)}")
    template = _MESSAGES.get(kind)
    if template:
        return Problem(path, template.format(**ctx))
    return Problem(path, str(err["msg"]))


def validate(data: object) -> tuple[TemplateModel | None, list[Problem]]:
    """The model and every problem found (the model is None when there is any)."""
    if not isinstance(data, Mapping):
        return None, [Problem((), f"the top level must be a mapping, not {kind_of(data)}")]
    context: dict[str, Any] = {}
    raw_roles = data.get("roles")
    if isinstance(raw_roles, list) and raw_roles:  # no roles at all is reported once, at roles:
        context["roles"] = {r.get("key") for r in raw_roles if isinstance(r, Mapping)}
    problems: list[Problem] = []
    model: TemplateModel | None = None
    try:
        model = TemplateModel.model_validate(data, context=context)
    except ValidationError as e:
        problems.extend(_problem(err) for err in e.errors(include_url=False))
    problems.extend(_whole_document(data))
    unique = list(dict.fromkeys(problems))
    order = _document_order(data)

    def rank(p: Problem) -> tuple[int, int]:
        path = p.path
        while path and path not in order:
            path = path[:-1]
        return order.get(path, 0), len(p.path)

    unique.sort(key=rank)
    return (model if not unique else None), unique


def _document_order(data: object) -> dict[tuple[str | int, ...], int]:
    """Each path's place in the document, so problems read top to bottom."""
    out: dict[tuple[str | int, ...], int] = {}

    def walk(value: object, path: tuple[str | int, ...]) -> None:
        out[path] = len(out)
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, (*path, str(k)))
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(v, (*path, i))

    walk(data, ())
    return out


def _items_of(data: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], Mapping[str, Any]]]:
    out: list[tuple[tuple[str | int, ...], Mapping[str, Any]]] = []
    phases = data.get("phases")
    if not isinstance(phases, list):
        return out
    for pi, phase in enumerate(phases):
        if isinstance(phase, Mapping) and isinstance(phase.get("items"), list):
            for ii, item in enumerate(phase["items"]):
                if isinstance(item, Mapping):
                    out.append((("phases", pi, "items", ii), item))
    return out


def _try(parse: Any, value: object) -> timedelta | None:
    try:
        return cast(timedelta, parse(value))
    except (PydanticCustomError, TimeParseError, ValueError):
        return None


def _whole_document(data: Mapping[str, Any]) -> list[Problem]:
    """Checks across fields and entries, each reported where it applies."""
    problems: list[Problem] = []

    def duplicates(section: str, entries: object, what: str) -> None:
        if not isinstance(entries, list):
            return
        first: dict[str, int] = {}
        for i, entry in enumerate(entries):
            key = entry.get("key") if isinstance(entry, Mapping) else None
            if isinstance(key, str):
                if key in first:
                    problems.append(
                        Problem((section, i, "key"), f'{what} "{key}" is used twice (first at {section}[{first[key]}])')
                    )
                first.setdefault(key, i)

    duplicates("roles", data.get("roles"), "role")
    declared = data.get("roles")
    if isinstance(declared, list) and declared:
        if not any(isinstance(r, Mapping) and r.get("key") == MANAGER_ROLE for r in declared):
            problems.append(
                Problem(
                    ("roles",),
                    f"must declare {MANAGER_ROLE}: the role that runs the release (assigns roles, changes the "
                    "scope); give it the name your team uses",
                )
            )
    duplicates("phases", data.get("phases"), "phase")
    duplicates("announcements", data.get("announcements"), "announcement")
    duplicates("retro_survey", data.get("retro_survey"), "question")

    roles = data.get("roles")
    if isinstance(roles, list):
        words: dict[str, str] = {}
        for i, role in enumerate(roles):
            if not isinstance(role, Mapping):
                continue
            aliases = role.get("aliases")
            for j, alias in enumerate(aliases if isinstance(aliases, list) else []):
                if isinstance(alias, str) and alias in words and words[alias] != role.get("key"):
                    problems.append(
                        Problem(("roles", i, "aliases", j), f'"{alias}" already names role "{words[alias]}"')
                    )
                if isinstance(alias, str):
                    words.setdefault(alias, str(role.get("key")))
            if isinstance(role.get("key"), str):
                key = role["key"]
                if key in words and words[key] != key:
                    problems.append(Problem(("roles", i, "key"), f'"{key}" is already an alias of role "{words[key]}"'))
                words.setdefault(key, key)

    window = _try(_duration, data.get("default_duration"))
    if window is not None and window >= POST_WINDOW:
        problems.append(
            Problem(
                ("default_duration",), "must be shorter than 1d: offsets of +1d and more are read as days after cutover"
            )
        )
        window = None

    def regime(path: tuple[str | int, ...], value: object) -> None:
        offset = _try(_offset, value)
        if window is not None and offset is not None and window < offset < POST_WINDOW:
            w = _fmt(window)
            problems.append(
                Problem(
                    path,
                    f"falls between the end of the {w} window and +1d, which is ambiguous; "
                    f"use +0h to +{w} (scaled to the real window) or +1d or later",
                )
            )

    seen_items: dict[str, tuple[str | int, ...]] = {}
    for path, item in _items_of(data):
        key = item.get("key")
        if isinstance(key, str):
            if key in seen_items:
                problems.append(
                    Problem((*path, "key"), f'item key "{key}" is used twice (first at {path_text(seen_items[key])})')
                )
            seen_items.setdefault(key, path)
        regime((*path, "due"), item.get("due"))
        approvers = item.get("approvers") or []
        is_gate = bool(approvers)
        gate = item.get("gate")
        if gate is True and not approvers:
            problems.append(
                Problem((*path, "approvers"), "is empty, but the item is a gate: name the roles that approve it")
            )
        if gate is False and approvers:
            problems.append(Problem((*path, "approvers"), "is set, but gate is false: only gates have approvers"))
        for flag in ("window_bound", "blocks_cutover", "scope_bound"):
            # A declared gate without approvers is reported once, at approvers.
            if item.get(flag) is True and not is_gate and gate is not True:
                problems.append(Problem((*path, flag), "is only for gates: the item has no approvers"))
        for field in ("approvals", "not_by"):
            if field in item and not is_gate and gate is not True:
                problems.append(Problem((*path, field), "is only for gates: the item has no approvers"))
        due = _try(_offset, item.get("due"))
        if item.get("blocks_cutover") is True and due is not None and due >= timedelta(0):
            problems.append(
                Problem(
                    (*path, "blocks_cutover"),
                    "needs a due offset before cutover start (negative), since it blocks the start",
                )
            )

    announcements = data.get("announcements")
    for i, ann in enumerate(announcements if isinstance(announcements, list) else []):
        if isinstance(ann, Mapping):
            regime(("announcements", i, "offset"), ann.get("offset"))
            key = ann.get("key")
            if isinstance(key, str) and key not in BUILTIN_WORDING and ann.get("wording") is None:
                problems.append(
                    Problem(
                        ("announcements", i),
                        f'"{key}" has no wording: write wording: with placeholders such as {{release}} and '
                        f"{{window}}, or use a key with built-in wording ({', '.join(BUILTIN_WORDING)})",
                    )
                )

    retro = data.get("retro")
    if isinstance(retro, Mapping):
        open_for = _try(_duration, retro.get("open_for", "7d"))
        reminder = _try(_duration, retro.get("reminder", "1d"))
        if open_for is not None and reminder is not None and reminder >= open_for:
            problems.append(
                Problem(
                    ("retro", "reminder"),
                    f"must be shorter than open_for ({_fmt_days(open_for)}): it is sent before the survey closes",
                )
            )

    role_words = _role_words(roles)
    questions = data.get("retro_survey")
    for i, q in enumerate(questions if isinstance(questions, list) else []):
        if not isinstance(q, Mapping):
            continue
        options = q.get("options") or []
        kind = q.get("kind")
        if kind == "choice" and isinstance(options, list) and len(options) < 2:
            problems.append(
                Problem(("retro_survey", i, "options"), "must list at least two choices for a choice question")
            )
        if kind in SURVEY_KINDS and kind != "choice" and options:
            problems.append(Problem(("retro_survey", i, "options"), f"is only for choice questions, not {kind}"))
        named = (
            [o for o in options if isinstance(o, str) and o.strip().casefold() in role_words]
            if isinstance(options, list)
            else []
        )
        if len(named) >= 2:
            problems.append(
                Problem(
                    ("retro_survey", i, "options"),
                    f"name roles ({', '.join(named[:3])}): a survey never asks for the respondent's role, because "
                    "most roles have one holder and the answer would name the person",
                )
            )
    return problems


def _role_words(roles: object) -> frozenset[str]:
    words: set[str] = set()
    for role in roles if isinstance(roles, list) else []:
        if isinstance(role, Mapping):
            aliases = role.get("aliases")
            for w in (role.get("key"), role.get("name"), *(aliases if isinstance(aliases, list) else [])):
                if isinstance(w, str) and len(w) > 3:
                    words.add(w.strip().casefold())
    return frozenset(words)


def _fmt_days(delta: timedelta) -> str:
    return f"{delta.days}d" if delta % timedelta(days=1) == timedelta(0) else _fmt(delta)


def _fmt(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, mins = divmod(minutes, 60)
    return f"{hours}h{mins:02d}m" if mins else f"{hours}h"


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a template file (`cutover template schema`)."""
    schema = TemplateModel.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Cutover checklist template"
    return schema
