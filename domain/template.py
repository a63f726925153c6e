"""Checklist templates: typed, validated views of the YAML files in `domain/templates/`.

A template is data the project ships, so it is validated strictly when loaded: a typo in a role slug
or an offset must fail loudly at start-up, not leave a gate nobody can approve.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, Literal, cast

import yaml

from domain.roles import ROLES, ROLES_BY_KEY
from domain.timeparse import TimeParseError, parse_duration, parse_offset

DEFAULT_TEMPLATE = "caf-migration-release"

# CAF's release activities, in the order its pages chain them; templates may omit phases but not
# invent or reorder them, because messages and the retro rely on this order.
PHASE_KEYS: tuple[str, ...] = (
    "change_comm",
    "business_test",
    "complete_migration",
    "optimize_cost",
    "retrospective",
)
AUDIENCES: tuple[str, ...] = ("business", "it", "support", "all")
SurveyKind = Literal["text", "rating", "yes_no", "choice"]
SURVEY_KINDS: tuple[SurveyKind, ...] = ("text", "rating", "yes_no", "choice")

MAX_TITLE = 150
MAX_DESCRIPTION = 500
# Item keys travel in button values and audit rows; keep them short and unambiguous.
_KEY = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*", re.ASCII)
_TEMPLATE_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,62}", re.ASCII)
_MAX_KEY = 64
# The in-window regime stops short of a day so that "+1d" always means "a day after cutover start".
_POST_WINDOW = timedelta(days=1)


class TemplateError(ValueError):
    """A template file or mapping that does not describe a valid checklist."""


class UnknownTemplate(LookupError):
    def __init__(self, key: str, available: tuple[str, ...]) -> None:
        self.key = key
        self.available = available
        names = ", ".join(f"`{k}`" for k in available) or "none"
        self.message = f"`{key}` is not a template. Templates: {names}."
        super().__init__(self.message)


@dataclass(frozen=True)
class ItemSpec:
    key: str
    title: str
    description: str
    responsible_roles: tuple[str, ...]
    approver_roles: tuple[str, ...]
    due_offset: timedelta  # relative to cutover start (T0); negative = before
    window_bound: bool  # a sign-off about the window itself: void once the window moves
    blocks_cutover: bool  # must be approved before the cutover may start
    source: str  # the CAF page this item comes from
    approvals: int = 1  # how many different approvers a gate needs
    not_by: tuple[str, ...] = ()  # who may not approve it: "creator" (of the release), "responsible" (its roles)

    @property
    def is_gate(self) -> bool:
        return bool(self.approver_roles)


@dataclass(frozen=True)
class PhaseSpec:
    key: str
    title: str
    position: int  # 1-based, CAF activity number within the template
    roles: tuple[str, ...]
    items: tuple[ItemSpec, ...]


@dataclass(frozen=True)
class AnnouncementSpec:
    key: str
    offset: timedelta  # same regime as item offsets: see offset_at()
    audiences: tuple[str, ...]
    purpose: str


@dataclass(frozen=True)
class SurveyQuestion:
    key: str
    text: str
    kind: SurveyKind  # rating = 1..5
    options: tuple[str, ...]  # only for kind "choice"
    optional: bool


@dataclass(frozen=True)
class Template:
    key: str
    name: str
    version: str
    source: str
    description: str
    default_duration: timedelta  # the window length the in-window offsets were written for
    phases: tuple[PhaseSpec, ...]
    announcements: tuple[AnnouncementSpec, ...]
    survey: tuple[SurveyQuestion, ...]
    nudge_lead: timedelta = timedelta(hours=24)  # a gate due within this gets its approvers nudged

    @property
    def items(self) -> tuple[ItemSpec, ...]:
        return tuple(i for p in self.phases for i in p.items)

    @cached_property
    def _items_by_key(self) -> dict[str, ItemSpec]:
        return {i.key: i for i in self.items}

    def item(self, key: str) -> ItemSpec:
        try:
            return self._items_by_key[key]
        except KeyError:
            raise KeyError(f"template `{self.key}` has no item `{key}`") from None


# --- loading -------------------------------------------------------------------------------------


def _templates_dir() -> Traversable:
    return resources.files("domain").joinpath("templates")


@lru_cache(maxsize=1)
def available_templates() -> tuple[str, ...]:
    """Keys of the packaged templates, sorted."""
    suffix = ".yaml"
    return tuple(
        sorted(
            entry.name[: -len(suffix)]
            for entry in _templates_dir().iterdir()
            if entry.is_file() and entry.name.endswith(suffix)
        )
    )


@lru_cache(maxsize=32)
def load_template(key: str) -> Template:
    """The packaged template `key`, parsed and validated once per process."""
    available = available_templates()
    # Checking against the listing also keeps `key` from naming any path outside the package.
    if key not in available:
        raise UnknownTemplate(key, available)
    filename = f"{key}.yaml"
    text = _templates_dir().joinpath(filename).read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise TemplateError(f"{filename}: not valid YAML: {e}") from e
    if not isinstance(data, Mapping):
        raise TemplateError(f"{filename}: the top level must be a mapping")
    try:
        template = parse_template(data)
    except TemplateError as e:
        raise TemplateError(f"{filename}: {e}") from e
    if template.key != key:
        raise TemplateError(f"{filename}: declares key `{template.key}`; the file name and key must match")
    return template


# --- validation ----------------------------------------------------------------------------------


class _Fields:
    """Typed access to one YAML mapping, with error messages that say where in the file we are."""

    def __init__(self, data: object, where: str, allowed: Sequence[str]) -> None:
        if not isinstance(data, Mapping):
            raise TemplateError(f"{where}: must be a mapping, not {_kind(data)}")
        self.where = where
        self.data = cast(Mapping[str, Any], data)
        unknown = [str(k) for k in self.data if k not in allowed]
        if unknown:
            names = ", ".join(f"`{k}`" for k in sorted(unknown))
            known = ", ".join(f"`{k}`" for k in allowed)
            raise TemplateError(f"{where}: unknown field(s) {names}; allowed: {known}")

    def err(self, field: str, problem: str) -> TemplateError:
        return TemplateError(f"{self.where}: `{field}` {problem}")

    def text(self, field: str, *, required: bool = True, max_len: int | None = None, line: bool = True) -> str:
        value = self.data.get(field)
        if value is None:
            if required:
                raise self.err(field, "is missing")
            return ""
        if not isinstance(value, str):
            raise self.err(field, f"must be text, not {_kind(value)}")
        value = value.strip()
        if required and not value:
            raise self.err(field, "is empty")
        if line and ("\n" in value or "\r" in value):
            raise self.err(field, "must be a single line")
        if max_len is not None and len(value) > max_len:
            raise self.err(field, f"is {len(value)} characters long; the limit is {max_len}")
        return value

    def key(self, field: str, pattern: re.Pattern[str] = _KEY, form: str = "lowercase words joined by `.`") -> str:
        value = self.text(field)
        if len(value) > _MAX_KEY or not pattern.fullmatch(value):
            raise self.err(field, f"is `{value}`, which is not a valid key: use {form}")
        return value

    def flag(self, field: str) -> bool:
        value = self.data.get(field, False)
        if not isinstance(value, bool):
            raise self.err(field, f"must be true or false, not {_kind(value)}")
        return value

    def seq(self, field: str, *, required: bool = True) -> Sequence[Any]:
        value = self.data.get(field)
        if value is None:
            if required:
                raise self.err(field, "is missing")
            return ()
        if isinstance(value, str) or not isinstance(value, Sequence):
            raise self.err(field, f"must be a list, not {_kind(value)}")
        return value

    def words(self, field: str, *, required: bool = True, allowed: Sequence[str] | None = None) -> tuple[str, ...]:
        values = self.seq(field, required=required)
        if required and not values:
            raise self.err(field, "must name at least one entry")
        out: list[str] = []
        for v in values:
            if not isinstance(v, str) or not v.strip():
                raise self.err(field, f"entries must be text, not {_kind(v)}")
            v = v.strip()
            if v in out:
                raise self.err(field, f"lists `{v}` twice")
            if allowed is not None and v not in allowed:
                raise self.err(field, f"names `{v}`, which is not one of " + ", ".join(f"`{a}`" for a in allowed))
            out.append(v)
        return tuple(out)

    def roles(self, field: str, *, required: bool = True) -> tuple[str, ...]:
        values = self.words(field, required=required)
        for v in values:
            if v not in ROLES_BY_KEY:
                slugs = ", ".join(f"`{r.key}`" for r in ROLES)
                raise self.err(field, f"names `{v}`, which is not a role slug. Roles: {slugs}")
        return values

    def offset(self, field: str) -> timedelta:
        value = self.data.get(field)
        if value is None:
            raise self.err(field, "is missing")
        if not isinstance(value, str):
            # YAML reads an unsigned `0` or `-3` as a number; say what to write instead.
            raise self.err(field, f"must be a signed offset such as -21d or +4h, not {_kind(value)}")
        try:
            return parse_offset(value)
        except TimeParseError as e:
            raise self.err(field, f"is invalid: {e.message}") from None


def _kind(value: object) -> str:
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


_TOP_FIELDS = (
    "key",
    "name",
    "version",
    "source",
    "description",
    "default_duration",
    "phases",
    "announcements",
    "retro_survey",
    "nudge_lead",
)
_PHASE_FIELDS = ("key", "title", "roles", "items")
_ITEM_FIELDS = (
    "key",
    "title",
    "description",
    "responsible",
    "approvers",
    "gate",
    "due",
    "window_bound",
    "blocks_cutover",
    "source",
    "approvals",
    "not_by",
)
NOT_BY: tuple[str, ...] = ("creator", "responsible")
MAX_APPROVALS = 5
_ANNOUNCEMENT_FIELDS = ("key", "offset", "audiences", "purpose")
_QUESTION_FIELDS = ("key", "text", "kind", "options", "optional")


def parse_template(data: Mapping[str, Any]) -> Template:
    """A validated `Template` from its YAML mapping; `TemplateError` names the first problem found."""
    top = _Fields(data, "template", _TOP_FIELDS)
    key = top.key("key", _TEMPLATE_KEY, "lowercase letters, digits and `-`")
    where = f"template `{key}`"
    top.where = where
    name = top.text("name", max_len=MAX_TITLE)
    version_raw = top.data.get("version")
    # YAML turns `version: 1.0` into a float; accept numbers but keep the text form.
    if isinstance(version_raw, int | float) and not isinstance(version_raw, bool):
        version = str(version_raw)
    else:
        version = top.text("version", max_len=40)
    source = top.text("source", line=False)
    description = top.text("description", required=False, line=False)

    try:
        default_duration = parse_duration(top.text("default_duration"))
    except TimeParseError as e:
        raise top.err("default_duration", f"is invalid: {e.message}") from None
    if default_duration >= _POST_WINDOW:
        raise top.err(
            "default_duration",
            "must be shorter than 1d: offsets of +1d and more are read as days after cutover",
        )

    nudge_lead = timedelta(hours=24)
    if "nudge_lead" in top.data:
        try:
            nudge_lead = parse_duration(top.text("nudge_lead"))
        except TimeParseError as e:
            raise top.err("nudge_lead", f"is invalid: {e.message}") from None
        if not timedelta(0) < nudge_lead <= timedelta(days=14):
            raise top.err("nudge_lead", "must be more than 0 and at most 14d")
    phases = _parse_phases(top, default_duration)
    announcements = _parse_announcements(top, default_duration)
    survey = _parse_survey(top)
    return Template(
        key=key,
        name=name,
        version=version,
        source=source,
        description=description,
        default_duration=default_duration,
        phases=phases,
        announcements=announcements,
        survey=survey,
        nudge_lead=nudge_lead,
    )


def _parse_phases(top: _Fields, default_duration: timedelta) -> tuple[PhaseSpec, ...]:
    raw = top.seq("phases")
    if not raw:
        raise top.err("phases", "must list at least one phase")
    phases: list[PhaseSpec] = []
    seen_items: dict[str, str] = {}
    last_rank = -1
    for index, raw_phase in enumerate(raw):
        f = _Fields(raw_phase, f"{top.where}, phase #{index + 1}", _PHASE_FIELDS)
        key = f.key("key")
        f.where = f"{top.where}, phase `{key}`"
        if key not in PHASE_KEYS:
            known = ", ".join(f"`{k}`" for k in PHASE_KEYS)
            raise TemplateError(f"{f.where}: unknown phase; phases are {known}")
        rank = PHASE_KEYS.index(key)
        if any(p.key == key for p in phases):
            raise TemplateError(f"{f.where}: the phase appears twice")
        if rank < last_rank:
            raise TemplateError(f"{f.where}: phases must follow CAF order: " + " → ".join(PHASE_KEYS))
        last_rank = rank
        title = f.text("title", max_len=MAX_TITLE)
        roles = f.roles("roles")
        raw_items = f.seq("items")
        if not raw_items:
            raise f.err("items", "must list at least one item")
        items: list[ItemSpec] = []
        for item_index, raw_item in enumerate(raw_items):
            item = _parse_item(raw_item, f.where, item_index, default_duration)
            if item.key in seen_items:
                first = seen_items[item.key]
                dup = item.key
                raise TemplateError(f"{f.where}: item key `{dup}` appears twice (first in phase `{first}`)")
            seen_items[item.key] = key
            items.append(item)
        phases.append(PhaseSpec(key=key, title=title, position=len(phases) + 1, roles=roles, items=tuple(items)))
    return tuple(phases)


def _parse_item(raw: object, phase_where: str, index: int, default_duration: timedelta) -> ItemSpec:
    f = _Fields(raw, f"{phase_where}, item #{index + 1}", _ITEM_FIELDS)
    key = f.key("key")
    f.where = f"{phase_where}, item `{key}`"
    title = f.text("title", max_len=MAX_TITLE)
    description = f.text("description", required=False, max_len=MAX_DESCRIPTION, line=False)
    responsible = f.roles("responsible")
    approvers = f.roles("approvers", required=False)
    due = f.offset("due")
    source = f.text("source")

    # `gate` is optional redundancy for readers of the YAML; when present it must agree with approvers.
    if "gate" in f.data:
        gate = f.flag("gate")
        if gate and not approvers:
            raise f.err("approvers", "is empty, but the item is a gate: name the roles that approve it")
        if not gate and approvers:
            raise f.err("approvers", "is set, but `gate` is false: only gates have approvers")
    window_bound = f.flag("window_bound")
    blocks_cutover = f.flag("blocks_cutover")
    if window_bound and not approvers:
        raise f.err("window_bound", "is only for gates: the item has no approvers")
    if blocks_cutover and not approvers:
        raise f.err("blocks_cutover", "is only for gates: the item has no approvers")
    if blocks_cutover and due >= timedelta(0):
        raise f.err("blocks_cutover", "needs a due offset before cutover start (negative), since it blocks the start")
    _check_regime(f, "due", due, default_duration)
    approvals, not_by = _parse_quorum(f, approvers)
    return ItemSpec(
        key=key,
        title=title,
        description=description,
        responsible_roles=responsible,
        approver_roles=approvers,
        due_offset=due,
        window_bound=window_bound,
        blocks_cutover=blocks_cutover,
        source=source,
        approvals=approvals,
        not_by=not_by,
    )


def _parse_quorum(f: _Fields, approvers: tuple[str, ...]) -> tuple[int, tuple[str, ...]]:
    """A gate's `approvals` (how many different people) and `not_by` (who may not approve it)."""
    approvals = f.data.get("approvals", 1)
    if isinstance(approvals, bool) or not isinstance(approvals, int):
        raise f.err("approvals", f"must be a whole number from 1 to {MAX_APPROVALS}, not {_kind(approvals)}")
    if not 1 <= approvals <= MAX_APPROVALS:
        raise f.err("approvals", f"is {approvals}; it must be from 1 to {MAX_APPROVALS}")
    not_by = f.words("not_by", required=False, allowed=NOT_BY)
    if (approvals != 1 or not_by) and not approvers:
        field = "approvals" if approvals != 1 else "not_by"
        raise f.err(field, "is only for gates: the item has no approvers")
    return approvals, not_by


def _check_regime(f: _Fields, field: str, offset: timedelta, default_duration: timedelta) -> None:
    # Between the window's nominal end and +1d neither reading (scaled or calendar) is clearly meant.
    if default_duration < offset < _POST_WINDOW:
        raise f.err(
            field,
            f"falls between the end of the {_fmt(default_duration)} window and +1d, which is ambiguous; "
            f"use +0h to +{_fmt(default_duration)} (scaled to the real window) or +1d or later",
        )


def _parse_announcements(top: _Fields, default_duration: timedelta) -> tuple[AnnouncementSpec, ...]:
    out: list[AnnouncementSpec] = []
    for index, raw in enumerate(top.seq("announcements", required=False)):
        f = _Fields(raw, f"{top.where}, announcement #{index + 1}", _ANNOUNCEMENT_FIELDS)
        key = f.key("key")
        f.where = f"{top.where}, announcement `{key}`"
        if any(a.key == key for a in out):
            raise TemplateError(f"{f.where}: the key is used twice")
        offset = f.offset("offset")
        _check_regime(f, "offset", offset, default_duration)
        audiences = f.words("audiences", allowed=AUDIENCES)
        purpose = f.text("purpose", max_len=300)
        out.append(AnnouncementSpec(key=key, offset=offset, audiences=audiences, purpose=purpose))
    return tuple(out)


# Role names and slugs, as a survey option could spell them.
_ROLE_WORDS = frozenset(w.casefold() for r in ROLES for w in (r.name, r.key, r.alias) if len(w) > 3)


def _parse_survey(top: _Fields) -> tuple[SurveyQuestion, ...]:
    out: list[SurveyQuestion] = []
    for index, raw in enumerate(top.seq("retro_survey", required=False)):
        f = _Fields(raw, f"{top.where}, survey question #{index + 1}", _QUESTION_FIELDS)
        key = f.key("key")
        f.where = f"{top.where}, survey question `{key}`"
        if any(q.key == key for q in out):
            raise TemplateError(f"{f.where}: the key is used twice")
        text = f.text("text", max_len=MAX_TITLE)
        kind_text = f.text("kind")
        if kind_text not in SURVEY_KINDS:
            raise f.err("kind", f"is `{kind_text}`, which is not one of " + ", ".join(f"`{k}`" for k in SURVEY_KINDS))
        kind = cast(SurveyKind, kind_text)
        options = f.words("options", required=False)
        if kind == "choice" and len(options) < 2:
            raise f.err("options", "must list at least two choices for a `choice` question")
        if kind != "choice" and options:
            raise f.err("options", f"is only for `choice` questions, not `{kind}`")
        named = [o for o in options if o.casefold() in _ROLE_WORDS]
        if len(named) >= 2:
            raise f.err(
                "options",
                f"name roles ({', '.join(named[:3])}): a survey never asks for the respondent's role, because "
                "most roles have one holder and the answer would name the person",
            )
        out.append(SurveyQuestion(key=key, text=text, kind=kind, options=options, optional=f.flag("optional")))
    return tuple(out)


def _fmt(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, mins = divmod(minutes, 60)
    return f"{hours}h{mins:02d}m" if mins else f"{hours}h"


# --- scheduling ----------------------------------------------------------------------------------


def _as_utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value.isoformat()}")
    return value.astimezone(UTC)


def offset_at(
    offset: timedelta, template: Template, cutover_start: datetime, cutover_end: datetime, factor: int = 1
) -> datetime:
    """When a template offset falls for a real window; shared by items and announcements.

    Offsets from 0 to the template's default duration describe steps inside the window, so they are
    stretched or squeezed to the real window (the last step lands on the real end). Offsets before the
    window or a day or more after it are calendar lead times and stay as written, divided by
    ``factor`` for a rehearsal whose clock runs that many times faster.
    """
    start = _as_utc(cutover_start, "cutover_start")
    end = _as_utc(cutover_end, "cutover_end")
    if end <= start:
        raise ValueError("cutover_end must be after cutover_start")
    if timedelta(0) <= offset <= template.default_duration:
        return start + (end - start) * (offset / template.default_duration)
    return start + offset / max(1, factor)


def due_at(
    spec: ItemSpec, template: Template, cutover_start: datetime, cutover_end: datetime, factor: int = 1
) -> datetime:
    """The due time (aware UTC) of a template item for a release with this cutover window."""
    return offset_at(spec.due_offset, template, cutover_start, cutover_end, factor)
