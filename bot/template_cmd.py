"""`cutover template list | show KEY | validate FILE… | schema`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta
from pathlib import Path

from bot.settings import TemplateSettings
from bot.templates import exit_on_template_problems
from domain.template import Template, TemplateError, available_templates, is_builtin, load_template, parse_file
from domain.template_schema import json_schema


def _offset(delta: timedelta) -> str:
    """An offset as templates write it: -21d, +0h, +2d12h."""
    sign = "-" if delta < timedelta(0) else "+"
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    text = (f"{days}d" if days else "") + (f"{hours}h" if hours else "") + (f"{mins}m" if mins else "")
    return sign + (text or "0h")


def describe(t: Template) -> str:
    """A template as a person reads it before choosing it."""
    lines = [f"{t.key} v{t.version}: {t.name}", t.description, f"Source: {t.source}", ""]
    lines.append(
        f"Window: {_offset(t.default_duration)[1:]} by default; sign-off reminders {_offset(t.nudge_lead)[1:]} ahead"
    )
    lines.append("Roles:")
    lines += [f"  {r.key} ({', '.join(r.aliases) or 'no alias'}): {r.name}" for r in t.roles]
    for phase in t.phases:
        lines.append(f"Phase {phase.position}: {phase.title} [{phase.key}]")
        for i in phase.items:
            kind = f"gate, approvers {', '.join(i.approver_roles)}" if i.is_gate else "task"
            flags = [
                f
                for f, on in (
                    ("blocks cutover", i.blocks_cutover),
                    ("window-bound", i.window_bound),
                    ("scope-bound", i.scope_bound),
                )
                if on
            ]
            extra = f"; {', '.join(flags)}" if flags else ""
            lines.append(f"  {_offset(i.due_offset):>8}  {i.key}: {i.title} ({kind}{extra})")
    if t.announcements:
        lines.append("Announcements:")
        for a in t.announcements:
            lines.append(f"  {_offset(a.offset):>8}  {a.key} to {', '.join(a.audiences)}: {a.purpose}")
    if t.survey:
        lines.append(f"Retrospective survey: {len(t.survey)} questions")
    return "\n".join(lines)


def cmd_list(_args: argparse.Namespace) -> None:
    settings = TemplateSettings()
    exit_on_template_problems(settings, "template list", starting=False)
    for key in available_templates():
        t = load_template(key)
        origin = "built-in" if is_builtin(key) else "TEMPLATES_DIR"
        default = ", default" if key == settings.default_template else ""
        print(f"{key}  v{t.version}  ({origin}{default})  {t.summary}")


def cmd_show(args: argparse.Namespace) -> None:
    exit_on_template_problems(TemplateSettings(), "template show", starting=False)
    key: str = args.key
    if key not in available_templates():
        print(f"{key} is not a template; templates: {', '.join(available_templates())}", file=sys.stderr)
        raise SystemExit(2)
    print(describe(load_template(key)))


def cmd_validate(args: argparse.Namespace) -> None:
    failed = 0
    for name in args.files:
        path = Path(name)
        if not path.is_file():
            print(f"{name}: no such file", file=sys.stderr)
            failed += 1
            continue
        try:
            t = parse_file(path)
        except TemplateError as e:
            failed += 1
            for line in e.errors:
                print(line.replace(path.name, str(path), 1) if line.startswith(path.name) else line, file=sys.stderr)
            continue
        gates = sum(i.is_gate for i in t.items)
        print(f"{name}: valid ({t.key} v{t.version}: {len(t.items)} items, {gates} gates, {len(t.roles)} roles)")
    if failed:
        raise SystemExit(1)


def cmd_schema(_args: argparse.Namespace) -> None:
    print(json.dumps(json_schema(), indent=2))


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("template", help="list, show, validate checklist templates; print their JSON Schema")
    tsub = p.add_subparsers(dest="template_command", required=True, metavar="TEMPLATE_COMMAND")
    tsub.add_parser("list", help="the built-in templates and TEMPLATES_DIR's, one line each").set_defaults(
        func=cmd_list
    )
    show = tsub.add_parser("show", help="a template's roles, phases, items and announcements")
    show.add_argument("key")
    show.set_defaults(func=cmd_show)
    val = tsub.add_parser("validate", help="check template files; every problem as file:line:column path: message")
    val.add_argument("files", nargs="+", metavar="FILE")
    val.set_defaults(func=cmd_validate)
    tsub.add_parser("schema", help="print the JSON Schema of a template file").set_defaults(func=cmd_schema)
