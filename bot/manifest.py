"""The Slack app manifest (HTTP mode), rendered for a public base URL."""

from __future__ import annotations

from typing import Any

import yaml

PLACEHOLDER_URL = "https://cutover.example.com"

BOT_SCOPES = [
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "usergroups:read",
    "channels:read",
    "groups:read",
    "channels:join",
    "channels:history",
    "groups:history",
    "im:write",
    "files:write",  # /release export: the record as files in a DM
]


def manifest(url: str = PLACEHOLDER_URL, command: str = "/release") -> dict[str, Any]:
    events = url.rstrip("/") + "/slack/events"
    return {
        "display_information": {
            "name": "Cutover",
            "description": "Run cloud-migration releases: checklists, sign-offs, announcements, retrospectives.",
            "long_description": (
                "Cutover runs a cloud-migration release from a Slack channel, following the release phase of "
                "Microsoft's Cloud Adoption Framework: plan change communication, conduct business testing, "
                "complete the migration, optimize costs and hold a retrospective. It posts the release checklist, "
                "lets role holders sign off gates with buttons, keeps an audit trail of every decision and "
                f"answers `{command} status` for anyone on the release."
            ),
            "background_color": "#1d3557",
        },
        "features": {
            # The Home tab shows what waits for each person; the Messages tab carries nudges and replies.
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": "Cutover", "always_online": True},
            "slash_commands": [
                {
                    "command": command,
                    "url": events,
                    "description": "Run a migration release: new, status, assign, help",
                    "usage_hint": "help | new | status [REL-n] | assign <role> @person",
                    "should_escape": True,
                }
            ],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": {"request_url": events, "bot_events": ["app_home_opened"]},
            "interactivity": {"is_enabled": True, "request_url": events},
            "org_deploy_enabled": False,
            "socket_mode_enabled": False,
            "token_rotation_enabled": False,
        },
    }


def render(url: str = PLACEHOLDER_URL, command: str = "/release") -> str:
    header = (
        "# Slack app manifest for Cutover (HTTP mode).\n"
        "# Print it with your public URL filled in: cutover manifest --url https://your-host\n"
    )
    return header + yaml.safe_dump(manifest(url, command), sort_keys=False, allow_unicode=True, width=100)
