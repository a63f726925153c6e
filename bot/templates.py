"""The templates this deployment offers: the built-in ones plus TEMPLATES_DIR, checked before start."""

from __future__ import annotations

import sys

from bot.settings import TemplateSettings
from domain.template import TemplateError, available_templates, check_dir, use_templates_dir


def template_problems(settings: TemplateSettings) -> list[str]:
    """Every problem with TEMPLATES_DIR and DEFAULT_TEMPLATE (empty when the app may start)."""
    problems = check_dir(settings.templates_dir) if settings.templates_dir is not None else []
    if problems:
        return problems
    use_templates_dir(settings.templates_dir)
    if settings.default_template not in available_templates():
        names = ", ".join(available_templates())
        return [f"DEFAULT_TEMPLATE is {settings.default_template}, which is not a template; templates: {names}"]
    return []


def prepare_templates(settings: TemplateSettings) -> None:
    """Offer TEMPLATES_DIR's templates; raise `TemplateError` with every problem when one is invalid."""
    problems = template_problems(settings)
    if problems:
        raise TemplateError(problems)


def exit_on_template_problems(settings: TemplateSettings, command: str, *, starting: bool = True) -> None:
    """Print every problem and exit with status 2 (the commands that run the app refuse to start)."""
    problems = template_problems(settings)
    if not problems:
        return
    where = f" in TEMPLATES_DIR {settings.templates_dir}" if settings.templates_dir is not None else ""
    verdict = "refusing to start: " if starting else ""
    print(f"cutover {command}: {verdict}{len(problems)} template problem(s){where}", file=sys.stderr)
    for line in problems:
        print(line, file=sys.stderr)
    raise SystemExit(2)
