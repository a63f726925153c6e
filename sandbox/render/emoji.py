"""Emoji shortcodes Slack would draw as pictures: every one the app writes, plus common ones.

Unknown shortcodes stay as typed, which is also what Slack shows for an emoji it does not know.
`text_labels` is what the page writes instead where the browser has no colour-emoji font.
"""

from __future__ import annotations

import re

EMOJI: dict[str, str] = {
    # written by messages/ and domain/
    "alarm_clock": "⏰",
    "bust_in_silhouette": "👤",
    "calendar": "📆",
    "checkered_flag": "🏁",
    "hourglass_flowing_sand": "⏳",
    "leftwards_arrow_with_hook": "↩️",
    "lock": "🔒",
    "no_entry": "⛔",
    "rocket": "🚀",
    "speech_balloon": "💬",
    "test_tube": "🧪",
    "warning": "⚠️",
    "wave": "👋",
    "white_check_mark": "✅",
    "wrench": "🔧",
    # common in release chatter
    "+1": "👍",
    "-1": "👎",
    "100": "💯",
    "arrow_right": "➡️",
    "arrows_counterclockwise": "🔄",
    "ballot_box_with_check": "☑️",
    "bar_chart": "📊",
    "bell": "🔔",
    "bulb": "💡",
    "busts_in_silhouette": "👥",
    "chart_with_downwards_trend": "📉",
    "chart_with_upwards_trend": "📈",
    "clipboard": "📋",
    "cloud": "☁️",
    "construction": "🚧",
    "date": "📅",
    "envelope": "✉️",
    "exclamation": "❗",
    "eyes": "👀",
    "fire": "🔥",
    "gear": "⚙️",
    "hammer_and_wrench": "🛠️",
    "heart": "❤️",
    "heavy_check_mark": "✔️",
    "heavy_multiplication_x": "✖️",
    "heavy_plus_sign": "➕",
    "hourglass": "⌛",
    "information_source": "ℹ️",
    "key": "🔑",
    "large_blue_circle": "🔵",
    "large_green_circle": "🟢",
    "large_orange_circle": "🟠",
    "large_yellow_circle": "🟡",
    "link": "🔗",
    "mag": "🔍",
    "mega": "📣",
    "memo": "📝",
    "no_entry_sign": "🚫",
    "package": "📦",
    "point_right": "👉",
    "pray": "🙏",
    "pushpin": "📌",
    "question": "❓",
    "raised_hands": "🙌",
    "red_circle": "🔴",
    "repeat": "🔁",
    "rotating_light": "🚨",
    "shield": "🛡️",
    "slightly_smiling_face": "🙂",
    "smile": "😄",
    "sparkles": "✨",
    "spiral_calendar_pad": "🗓️",
    "star": "⭐",
    "stop_sign": "🛑",
    "stopwatch": "⏱️",
    "tada": "🎉",
    "thinking_face": "🤔",
    "thumbsdown": "👎",
    "thumbsup": "👍",
    "trophy": "🏆",
    "unlock": "🔓",
    "vertical_traffic_light": "🚦",
    "white_circle": "⚪",
    "x": "❌",
}

_SHORTCODE = re.compile(r":([a-z0-9_+\-]+):")


def emojify(text: str) -> str:
    """Replace known ``:shortcode:``s with their characters (safe on escaped HTML: no markup added)."""
    return _SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def emoji_char(name: str, unicode_hex: str = "") -> str | None:
    """A rich-text emoji element's character: from its code points when given, else by name."""
    if unicode_hex:
        try:
            return "".join(chr(int(part, 16)) for part in unicode_hex.split("-"))
        except (ValueError, OverflowError):
            pass
    return EMOJI.get(name)


# Where the browser cannot draw colour emoji, these would all be the same empty box: the states in words.
STATE_WORDS: dict[str, str] = {
    "⏳": "[pending]",
    "✅": "[approved]",
    "⛔": "[rejected]",
    "☑️": "[done]",
}

_VS16 = "\ufe0f"  # asks for the emoji (colour) presentation of a character that also has a text one


def text_labels() -> dict[str, str]:
    """Each emoji character (with and without VS16) → a short ASCII label: the states in words,
    every other emoji by its Slack name (the first listed, when several share a character)."""
    labels: dict[str, str] = {}
    for name, char in EMOJI.items():
        labels.setdefault(char, f":{name}:")
    labels.update(STATE_WORDS)
    for char, label in list(labels.items()):
        bare = char.removesuffix(_VS16)
        if bare != char:
            labels.setdefault(bare, label)
    return labels
