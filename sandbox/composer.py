"""What Slack's client does to typed text before an app sees it (commands with should_escape: true).

``&``, ``<`` and ``>`` become entities, and ``@handle`` / ``#channel`` / ``@group`` / ``@here``
become markup (``<@U…|handle>``, ``<#C…|name>``, ``<!subteam^S…|@handle>``, ``<!here>``), so the
app's parser meets the same text it meets in a real workspace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# A mention starts a word; Slack handles may hold letters, digits, dots, dashes and underscores.
_MENTION = re.compile(r"(?<![\w&/])([@#])([\w][\w.\-]*)")
_SPECIAL = {"here", "channel", "everyone"}


@dataclass(frozen=True)
class Directory:
    users: Mapping[str, str]  # handle -> user id
    channels: Mapping[str, str]  # name -> channel id
    groups: Mapping[str, str]  # handle -> group id


def escape_entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_like_slack(text: str, directory: Directory) -> str:
    """Typed text as Slack delivers it; unknown @names and #names stay as typed."""
    escaped = escape_entities(text)

    def markup(m: re.Match[str]) -> str:
        sigil, name = m.group(1), m.group(2)
        # A trailing dot ends the sentence rather than the handle ("thanks @pat.").
        trail = ""
        while name.endswith((".", "-")) and name.rstrip(".-"):
            trail = name[-1] + trail
            name = name[:-1]
        if sigil == "#":
            found = directory.channels.get(name.lower())
            return f"<#{found}|{name}>{trail}" if found else m.group(0)
        lowered = name.lower()
        if lowered in _SPECIAL:
            return f"<!{lowered}>{trail}"
        if lowered in directory.users:
            return f"<@{directory.users[lowered]}|{name}>{trail}"
        if lowered in directory.groups:
            return f"<!subteam^{directory.groups[lowered]}|@{name}>{trail}"
        return m.group(0)

    return _MENTION.sub(markup, escaped)
