"""Checklist templates: typed, validated views of the YAML files in `domain/templates/`.

A template is data the project ships, so it is validated strictly when loaded: a typo in a role slug
or an offset must fail loudly at start-up, not leave a gate nobody can approve.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from domain.roles import Role
from domain.template_schema import (
    AUDIENCES,
    MAX_DESCRIPTION,
    MAX_TITLE,
    SURVEY_KINDS,
    Problem,
    SurveyKind,
    TemplateModel,
    path_text,
    validate,
)

__all__ = [
    "AUDIENCES",
    "DEFAULT_TEMPLATE",
    "MAX_DESCRIPTION",
    "MAX_TITLE",
    "SURVEY_KINDS",
    "AnnouncementSpec",
    "ItemSpec",
    "PhaseSpec",
    "SurveyKind",
    "SurveyQuestion",
    "Template",
    "TemplateError",
    "UnknownTemplate",
]

DEFAULT_TEMPLATE = "caf-migration-release"
# The built-in CAF template's phases, in the order its pages chain them (other templates name their own).
PHASE_KEYS: tuple[str, ...] = (
    "change_comm",
    "business_test",
    "complete_migration",
    "optimize_cost",
    "retrospective",
)
SUFFIX = ".yaml"


class TemplateError(ValueError):
    """A template that does not describe a valid checklist: ``errors`` holds every problem, one per line."""

    def __init__(self, errors: list[str] | str) -> None:
        self.errors = tuple([errors] if isinstance(errors, str) else errors)
        super().__init__("\n".join(self.errors))


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
    source: str  # the page this item comes from
    approvals: int = 1  # how many distinct people must approve a gate
    not_by: tuple[str, ...] = ()  # who may not approve it: "creator", "responsible"
    scope_bound: bool = False  # a sign-off about the release's scope: reopens when the scope changes

    @property
    def is_gate(self) -> bool:
        return bool(self.approver_roles)


@dataclass(frozen=True)
class PhaseSpec:
    key: str
    title: str
    position: int  # 1-based, the phase's place in the template
    roles: tuple[str, ...]
    items: tuple[ItemSpec, ...]


@dataclass(frozen=True)
class AnnouncementSpec:
    key: str
    offset: timedelta  # same regime as item offsets: see offset_at()
    audiences: tuple[str, ...]
    purpose: str
    wording: str | None = None  # the template's own text with named placeholders; None: the built-in wording


@dataclass(frozen=True)
class SurveyQuestion:
    key: str
    text: str
    kind: SurveyKind  # rating = 1..5
    options: tuple[str, ...]  # only for kind "choice"
    optional: bool


@dataclass(frozen=True)
class CutoverRoles:
    """The roles a template names for each cutover step; None where it names none (the default applies)."""

    start: tuple[str, ...] | None = None
    complete: tuple[str, ...] | None = None
    rollback: tuple[str, ...] | None = None


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
    roles: tuple[Role, ...] = ()
    nudge_lead: timedelta = timedelta(hours=24)
    survey_opens_after: timedelta = timedelta(days=1)
    survey_open_for: timedelta = timedelta(days=7)
    survey_reminder: timedelta = timedelta(days=1)
    cutover: CutoverRoles = CutoverRoles()
    # The validated document as JSON: what a release keeps as its snapshot.
    document: str = field(default="", compare=False, repr=False)

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

    @cached_property
    def roles_by_key(self) -> dict[str, Role]:
        return {r.key: r for r in self.roles}

    @property
    def summary(self) -> str:
        """One line about the template, for lists."""
        line = self.description.split(". ")[0].strip().rstrip(".")
        return line if len(line) <= 150 else line[:149] + "…"


# --- from a document -----------------------------------------------------------------------------


def parse_template(data: Mapping[str, Any]) -> Template:
    """A validated `Template` from its mapping; `TemplateError` lists every problem (path: message)."""
    model, problems = validate(data)
    if model is None:
        raise TemplateError([f"{path_text(p.path)}: {p.message}" for p in problems])
    return _convert(model, json.dumps(data, sort_keys=True))


def _convert(m: TemplateModel, document: str) -> Template:
    phases = tuple(
        PhaseSpec(
            key=p.key,
            title=p.title,
            position=n,
            roles=tuple(p.roles),
            items=tuple(
                ItemSpec(
                    key=i.key,
                    title=i.title,
                    description=i.description,
                    responsible_roles=tuple(i.responsible),
                    approver_roles=tuple(i.approvers),
                    due_offset=i.due,
                    window_bound=i.window_bound,
                    blocks_cutover=i.blocks_cutover,
                    source=i.source,
                    approvals=i.approvals,
                    not_by=tuple(i.not_by),
                    scope_bound=i.scope_bound,
                )
                for i in p.items
            ),
        )
        for n, p in enumerate(m.phases, start=1)
    )
    return Template(
        key=m.key,
        name=m.name,
        version=m.version,
        source=m.source,
        description=m.description,
        default_duration=m.default_duration,
        phases=phases,
        announcements=tuple(
            AnnouncementSpec(
                key=a.key, offset=a.offset, audiences=tuple(a.audiences), purpose=a.purpose, wording=a.wording
            )
            for a in m.announcements
        ),
        survey=tuple(
            SurveyQuestion(key=q.key, text=q.text, kind=q.kind, options=tuple(q.options), optional=q.optional)
            for q in m.retro_survey
        ),
        roles=tuple(Role(r.key, r.name, tuple(r.aliases), r.description) for r in m.roles),
        nudge_lead=m.nudge_lead,
        survey_opens_after=m.retro.open_delay,
        survey_open_for=m.retro.open_for,
        survey_reminder=m.retro.reminder,
        cutover=CutoverRoles(
            start=_maybe_tuple(m.cutover.start),
            complete=_maybe_tuple(m.cutover.complete),
            rollback=_maybe_tuple(m.cutover.rollback),
        ),
        document=document,
    )


def _maybe_tuple(values: list[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


@lru_cache(maxsize=64)
def from_snapshot(document: str) -> Template:
    """The template a release kept when it was created (its JSON snapshot)."""
    return parse_template(json.loads(document))


# --- from a file ---------------------------------------------------------------------------------


def _marks(
    node: yaml.Node, path: tuple[str | int, ...], out: dict[tuple[str | int, ...], tuple[int, int, int, int]]
) -> None:
    """Where each path's value (and, for mapping entries, its key) starts: (line, column) pairs, 1-based."""
    mark = node.start_mark
    line, col = mark.line + 1, mark.column + 1
    out.setdefault(path, (line, col, line, col))
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            sub = (*path, str(k.value))
            vm = v.start_mark
            out[sub] = (vm.line + 1, vm.column + 1, k.start_mark.line + 1, k.start_mark.column + 1)
            _marks(v, sub, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _marks(v, (*path, i), out)


def _locate(problem: Problem, marks: Mapping[tuple[str | int, ...], tuple[int, int, int, int]]) -> tuple[int, int]:
    path = problem.path
    while path and path not in marks:
        path = path[:-1]  # a missing field: point at the mapping that lacks it
    line, col, key_line, key_col = marks.get(path, (1, 1, 1, 1))
    return (key_line, key_col) if problem.at_key and path == problem.path else (line, col)


def parse_text(text: str, filename: str) -> Template:
    """A template from YAML text; `TemplateError` lists every problem as `file:line:column path: message`."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"{filename}:{mark.line + 1}:{mark.column + 1}" if mark is not None else filename
        problem = getattr(e, "problem", None) or str(e)
        raise TemplateError(f"{where} not valid YAML: {problem}") from None
    if node is None:
        raise TemplateError(f"{filename}:1:1 the file is empty; a template is a mapping with key, name, roles, phases…")
    model, problems = validate(data)
    if model is None:
        marks: dict[tuple[str | int, ...], tuple[int, int, int, int]] = {}
        _marks(node, (), marks)
        lines = []
        for p in problems:
            line, col = _locate(p, marks)
            lines.append(f"{filename}:{line}:{col} {path_text(p.path)}: {p.message}")
        raise TemplateError(lines)
    return _convert(model, json.dumps(data, sort_keys=True))


def parse_file(path: Path) -> Template:
    """A template file; its key must match its file name."""
    template = parse_text(path.read_text(encoding="utf-8"), path.name)
    if path.name != template.key + SUFFIX:
        raise TemplateError(
            f'{path.name}:1:1 key: the template\'s key is "{template.key}" but the file is {path.name}; '
            f"name the file {template.key}{SUFFIX}"
        )
    return template


# --- the catalog: built-in templates plus TEMPLATES_DIR ------------------------------------------

_extra_dir: Path | None = None


def builtin_dir() -> Path:
    return Path(str(resources.files("domain").joinpath("templates")))


def use_templates_dir(path: Path | None) -> None:
    """Add every *.yaml in ``path`` to the templates (the TEMPLATES_DIR setting); check with `check_dir` first."""
    global _extra_dir
    _extra_dir = path
    _catalog.cache_clear()
    available_templates.cache_clear()
    load_template.cache_clear()


def template_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.name.endswith(SUFFIX))


def check_dir(directory: Path) -> list[str]:
    """Every problem with the templates in ``directory`` (empty when they are all valid)."""
    if not directory.is_dir():
        return [f"{directory}: TEMPLATES_DIR is not a directory"]
    errors: list[str] = []
    builtin = {p.name for p in template_files(builtin_dir())}
    for path in template_files(directory):
        if path.name in builtin:
            errors.append(f"{path.name}:1:1 key: a built-in template is already called {path.name[: -len(SUFFIX)]}")
            continue
        try:
            parse_file(path)
        except TemplateError as e:
            errors.extend(e.errors)
    return errors


@lru_cache(maxsize=1)
def _catalog() -> dict[str, Path]:
    files = {p.name[: -len(SUFFIX)]: p for p in template_files(builtin_dir())}
    if _extra_dir is not None and _extra_dir.is_dir():
        for p in template_files(_extra_dir):
            files.setdefault(p.name[: -len(SUFFIX)], p)
    return files


@lru_cache(maxsize=1)
def available_templates() -> tuple[str, ...]:
    """Keys of the templates: the built-in ones and TEMPLATES_DIR's, sorted."""
    return tuple(sorted(_catalog()))


@lru_cache(maxsize=64)
def load_template(key: str) -> Template:
    """The current version of template `key`, parsed and validated once per process."""
    catalog = _catalog()
    # Checking against the listing also keeps `key` from naming any path outside the directories.
    if key not in catalog:
        raise UnknownTemplate(key, available_templates())
    return parse_file(catalog[key])


def template_of(key: str, snapshot: str | None) -> Template:
    """A release's template: its snapshot, or (for a release from before snapshots) the current version."""
    return from_snapshot(snapshot) if snapshot else load_template(key)


def is_builtin(key: str) -> bool:
    return (builtin_dir() / f"{key}{SUFFIX}").is_file()


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
