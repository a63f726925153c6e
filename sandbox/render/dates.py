"""Slack date tokens (``<!date^EPOCH^FORMAT[^LINK]|fallback>``) in the viewer's own time zone.

Wording follows Slack's formatting reference: ``{date}`` "February 18th, 2014", ``{date_short}``
"Feb 18, 2014", ``{date_long}`` "Tuesday, February 18th, 2014", the ``_pretty`` forms say
Today/Yesterday/Tomorrow instead when they apply. Times use the 24-hour clock. A format with a
token Slack does not know shows the fallback, as Slack's clients do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from .context import RenderContext, attrs, esc, safe_url

_TOKEN = re.compile(r"\{([a-z_]+)\}")
_TIME_OF_DAY = re.compile(r"\{time(?:_secs)?\}")


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _date(d: datetime) -> str:
    return f"{d:%B} {_ordinal(d.day)}, {d.year}"


def _date_short(d: datetime) -> str:
    return f"{d:%b} {d.day}, {d.year}"


def _date_long(d: datetime) -> str:
    return f"{d:%A}, {_date(d)}"


def _relative_day(d: datetime, ctx: RenderContext) -> str | None:
    days = (d.date() - ctx.local_now.date()).days
    return {-1: "Yesterday", 0: "Today", 1: "Tomorrow"}.get(days)


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def ago(d: datetime, ctx: RenderContext) -> str:
    """``5 minutes ago`` / ``in 3 hours``, against ``ctx.now``."""
    seconds = int((d - ctx.local_now).total_seconds())
    size = abs(seconds)
    if size < 60:
        return "just now"
    for limit, unit, length in (
        (3600, "minute", 60),
        (86400, "hour", 3600),
        (86400 * 30, "day", 86400),
        (86400 * 365, "month", 86400 * 30),
    ):
        if size < limit:
            span = _plural(size // length, unit)
            break
    else:
        span = _plural(size // (86400 * 365), "year")
    return f"in {span}" if seconds > 0 else f"{span} ago"


def _pretty(base: Callable[[datetime], str]) -> Callable[[datetime, RenderContext], str]:
    return lambda d, ctx: _relative_day(d, ctx) or base(d)


_FORMATS: dict[str, Callable[[datetime, RenderContext], str]] = {
    "date_num": lambda d, _: f"{d:%Y-%m-%d}",
    "date_slash": lambda d, _: f"{d:%d/%m/%Y}",
    "date": lambda d, _: _date(d),
    "date_short": lambda d, _: _date_short(d),
    "date_long": lambda d, _: _date_long(d),
    "date_long_full": lambda d, _: f"{d:%B} {d.day}, {d.year}",
    "date_pretty": _pretty(_date),
    "date_short_pretty": _pretty(_date_short),
    "date_long_pretty": _pretty(_date_long),
    "day_divider_pretty": lambda d, ctx: (
        _relative_day(d, ctx)
        or (f"{d:%A}, {d:%B} {_ordinal(d.day)}" if d.year == ctx.local_now.year else _date_long(d))
    ),
    "time": lambda d, _: f"{d:%H:%M}",
    "time_secs": lambda d, _: f"{d:%H:%M:%S}",
    "ago": ago,
}


def format_date(epoch: int, fmt: str, ctx: RenderContext) -> str | None:
    """The formatted text (not escaped), or None when the format has a token Slack does not know."""
    try:
        local = datetime.fromtimestamp(epoch, UTC).astimezone(ctx.zone)
    except (OverflowError, OSError, ValueError):
        return None
    unknown = False

    def fill(m: re.Match[str]) -> str:
        nonlocal unknown
        formatter = _FORMATS.get(m.group(1))
        if formatter is None:
            unknown = True
            return m.group(0)
        return formatter(local, ctx)

    text = _TOKEN.sub(fill, fmt)
    if unknown:
        return None
    if not ctx.zone_known and _TIME_OF_DAY.search(fmt):
        text += " UTC"  # the viewer's zone is unknown here: say which clock the time is on
    return text


def date_html(epoch: int | None, fmt: str, fallback: str, link: str, ctx: RenderContext) -> str:
    """``<time class="bk-date" datetime=…>`` (in a link when given), or the fallback when unusable.

    ``fmt`` and ``fallback`` are plain text (already unescaped); the result is HTML.
    """
    text = None if epoch is None else format_date(epoch, fmt, ctx)
    if text is None or epoch is None:
        return f'<span class="bk-date bk-date-fallback">{esc(fallback)}</span>'
    iso = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    out = f'<time class="bk-date"{attrs({"datetime": iso})}>{esc(text)}</time>'
    href = safe_url(link) if link else None
    if href:
        out = f'<a class="bk-link"{attrs({"href": href, "target": "_blank", "rel": "noopener noreferrer"})}>{out}</a>'
    return out


def parse_epoch(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,12}", value.strip()):
        return int(value.strip())
    return None
