"""response_url endpoints: 5 uses within 30 minutes, answered like Slack's webhook hosts.

They answer plain text ("ok" or an error code), never JSON, because that is what Bolt's
``respond()`` (slack_sdk WebhookClient) receives from Slack.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from sandbox.arguments import decode_json_fields, flag, optional_str
from sandbox.chat import Content, message_content
from sandbox.replies import Reply
from sandbox.workspace import Ephemeral, HookUrl, Message, Workspace

MAX_USES = 5


def _target(ws: Workspace, hook: HookUrl) -> Message | Ephemeral | None:
    """What replace_original/delete_original act on: the source message, else our last ephemeral."""
    if hook.channel and hook.message_ts:
        message = ws.message(hook.channel, hook.message_ts)
        if message is not None:
            return message
        for ephemeral in ws.ephemerals:
            if ephemeral.channel == hook.channel and ephemeral.ts == hook.message_ts:
                return ephemeral
        return None
    sent_here = [e for e in ws.ephemerals if e.hook_url == hook.url and not e.deleted]
    return sent_here[-1] if sent_here else None


def _delete(ws: Workspace, hook: HookUrl) -> None:
    target = _target(ws, hook)
    if isinstance(target, Message):
        del ws.messages[target.channel][target.ts]
    elif isinstance(target, Ephemeral):
        target.deleted = True


def _deliver(ws: Workspace, hook: HookUrl, body: dict[str, Any], content: Content) -> None:
    target = _target(ws, hook)
    if flag(body, "replace_original") and target is not None:
        if isinstance(target, Message):
            target.replace(text=content.text, blocks=content.blocks, edited_ts=ws.next_ts())
        else:
            target.text = content.text or ""
            target.blocks = content.blocks or []
        return
    if hook.channel is None:
        return
    if body.get("response_type") == "in_channel":
        thread_ts = optional_str(body, "thread_ts")
        ws.store_message(
            Message(
                channel=hook.channel,
                ts=ws.next_ts(),
                user=ws.bot_user_id,
                text=content.text or "",
                blocks=content.blocks or [],
                thread_ts=thread_ts,
            )
        )
    elif hook.user is not None:
        ws.ephemerals.append(
            Ephemeral(
                channel=hook.channel,
                user=hook.user,
                ts=ws.next_ts(),
                text=content.text or "",
                blocks=content.blocks or [],
                thread_ts=optional_str(body, "thread_ts"),
                source="response_url",
                hook_url=hook.url,
            )
        )


def post_to_hook(ws: Workspace, token: str, body: Any) -> tuple[int, str]:
    """Returns (HTTP status, plain-text body)."""
    hook = ws.hooks.get(token)
    if hook is None:
        return 404, "no_service"
    if time.monotonic() - hook.created_at > ws.response_url_ttl:
        return 404, "expired_url"
    if hook.uses >= MAX_USES:
        return 404, "used_url"
    if not isinstance(body, dict):
        return 400, "invalid_payload"
    body = decode_json_fields(body)
    if flag(body, "delete_original"):
        _delete(ws, hook)
    else:
        content = message_content(body)
        if isinstance(content, Reply):
            return 400, str(content.body["error"])
        _deliver(ws, hook, body, content)
    hook.uses += 1
    ws.responses.append((hook.url, copy.deepcopy(body)))
    return 200, "ok"
