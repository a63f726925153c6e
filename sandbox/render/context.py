"""What every renderer needs: the viewer's context, HTML-safe helpers and the placeholder.

Renderers take Block Kit as untrusted JSON: any value may have the wrong type, so they read it
through ``as_map``/``as_list``/``as_str`` instead of indexing, and anything they cannot draw
becomes a visible placeholder rather than an exception or a silent gap.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PLACEHOLDER_CLASS = "bk-unsupported"

# Links a browser may follow from an app's message; anything else (javascript:, data:) is text.
_SAFE_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
_IMAGE_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True)
class RenderContext:
    viewer: str  # user id of the person looking at the page
    viewer_tz: str  # IANA zone name of that person, e.g. "Europe/Berlin"
    users: Mapping[str, str]  # user id -> display name
    channels: Mapping[str, str]  # channel id -> channel name (without '#')
    usergroups: Mapping[str, str]  # subteam id -> handle
    now: datetime  # timezone-aware; for relative date formats

    @property
    def zone(self) -> tzinfo:
        return zone(self.viewer_tz)

    @property
    def zone_known(self) -> bool:
        """False when ``zone`` is only the UTC stand-in for a zone this machine does not know."""
        return zone_known(self.viewer_tz)

    @property
    def local_now(self) -> datetime:
        now = self.now if self.now.tzinfo is not None else self.now.replace(tzinfo=UTC)
        return now.astimezone(self.zone)


@lru_cache(maxsize=64)
def _lookup(name: str) -> tzinfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return None


def zone(name: str) -> tzinfo:
    """The named zone, or UTC when the name is unknown: a bad profile must not break the page.

    Display only, and never silent: whatever shows a time of day in this stand-in zone says so
    (see ``zone_known``). Times a person types are never read in it (``forms.epoch_seconds`` refuses).
    """
    return _lookup(name) or UTC


def zone_known(name: str) -> bool:
    return _lookup(name) is not None


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def attrs(values: Mapping[str, object | None]) -> str:
    """`` name="value"`` pairs; None leaves the attribute out, True writes it bare."""
    out: list[str] = []
    for name, value in values.items():
        if value is None or value is False:
            continue
        out.append(f" {name}" if value is True else f' {name}="{esc(value)}"')
    return "".join(out)


def placeholder(kind: str, type_name: object, *, inline: bool = False) -> str:
    """The visible stand-in for something the renderer cannot draw."""
    tag = "span" if inline else "div"
    label = type_name if isinstance(type_name, str) and type_name else "unknown"
    return f'<{tag} class="{PLACEHOLDER_CLASS}" data-kind="{esc(kind)}">Unsupported: {esc(label)}</{tag}>'


def as_map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> Sequence[Any]:
    return value if isinstance(value, list | tuple) else ()


def as_str(value: Any, default: str = "") -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return default


def safe_url(url: str, *, image: bool = False) -> str | None:
    """``url`` when a browser may safely follow or load it, else None."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in (_IMAGE_SCHEMES if image else _SAFE_SCHEMES) else None
