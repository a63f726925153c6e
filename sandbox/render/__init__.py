"""Block Kit to HTML for the sandbox's Slack-like page: pure functions, data in and HTML out.

Everything the functions emit is escaped; nothing they are given can make them raise. What they
cannot draw shows as ``<div class="bk-unsupported" data-kind="…">Unsupported: TYPE</div>`` (a
``<span>`` inline), so a gap in the renderer is visible instead of silently dropping content.
"""

from __future__ import annotations

from .blocks import render_blocks, render_message
from .context import PLACEHOLDER_CLASS, RenderContext
from .mrkdwn import render_mrkdwn, render_plain
from .views import render_view

__all__ = [
    "PLACEHOLDER_CLASS",
    "RenderContext",
    "render_blocks",
    "render_message",
    "render_mrkdwn",
    "render_plain",
    "render_view",
]
