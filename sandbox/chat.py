"""chat.* methods: posting, editing and deleting messages, ephemerals, permalinks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.arguments import optional_str
from sandbox.blockkit import validate_message_blocks, with_generated_ids
from sandbox.replies import Reply, fail, invalid_blocks, ok
from sandbox.workspace import Channel, Ephemeral, Message, Workspace

MAX_TEXT = 40_000
MAX_ATTACHMENTS = 100


@dataclass
class Content:
    """Validated message content; None means the caller did not send that field."""

    text: str | None
    blocks: list[dict[str, Any]] | None
    attachments: list[Any] | None


def message_content(args: dict[str, Any], *, require: bool = True) -> Content | Reply:
    blocks = args.get("blocks")
    if blocks is not None and not isinstance(blocks, list):
        return fail("invalid_blocks_format")
    attachments = args.get("attachments")
    if attachments is not None and not isinstance(attachments, list):
        return fail("invalid_attachments")
    text = args.get("text")
    if text is not None and not isinstance(text, str):
        text = str(text)
    if require and not text and not blocks and not attachments:
        return fail("no_text")
    if text is not None and len(text) > MAX_TEXT:
        # Real Slack truncates with a warning; failing loudly surfaces the bug in tests instead.
        return fail("msg_too_long")
    if attachments is not None and len(attachments) > MAX_ATTACHMENTS:
        return fail("too_many_attachments")
    if blocks is not None:
        errors = validate_message_blocks(blocks)
        if errors:
            return invalid_blocks(errors)
        blocks = with_generated_ids(blocks)
    return Content(text=text, blocks=blocks, attachments=attachments)


def _postable_channel(ws: Workspace, args: dict[str, Any]) -> Channel | Reply:
    channel_id = args.get("channel")
    if isinstance(channel_id, str) and channel_id in ws.users and channel_id not in ws.channels:
        # Posting to a user id lands in a DM; the response names the D… channel like Slack's.
        return ws.dm_channel(channel_id)
    channel = ws.channels.get(channel_id) if isinstance(channel_id, str) else None
    if channel is None:
        return fail("channel_not_found")
    # Public channels are postable without joining (chat:write.public); private ones are not.
    if channel.is_private and ws.bot_user_id not in channel.members:
        return fail("not_in_channel")
    return channel


def _metadata(args: dict[str, Any]) -> dict[str, Any] | Reply | None:
    metadata = args.get("metadata")
    if metadata is None or metadata == "":
        return None
    if (
        not isinstance(metadata, dict)
        or not isinstance(metadata.get("event_type"), str)
        or not isinstance(metadata.get("event_payload"), dict)
    ):
        return fail("invalid_metadata_format")
    return metadata


def _thread_root(ws: Workspace, channel: Channel, args: dict[str, Any]) -> str | Reply | None:
    thread_ts = optional_str(args, "thread_ts")
    if thread_ts is None:
        return None
    parent = ws.message(channel.id, thread_ts)
    if parent is None:
        return fail("thread_not_found")
    # Replying to a reply joins the same thread.
    return parent.thread_ts or parent.ts


def post_message(ws: Workspace, args: dict[str, Any]) -> Reply:
    channel = _postable_channel(ws, args)
    if isinstance(channel, Reply):
        return channel
    thread_ts = _thread_root(ws, channel, args)
    if isinstance(thread_ts, Reply):
        return thread_ts
    content = message_content(args)
    if isinstance(content, Reply):
        return content
    metadata = _metadata(args)
    if isinstance(metadata, Reply):
        return metadata
    message = Message(
        channel=channel.id,
        ts=ws.next_ts(),
        user=ws.bot_user_id,
        text=content.text or "",
        blocks=content.blocks or [],
        thread_ts=thread_ts,
        metadata=metadata,
        attachments=content.attachments,
    )
    ws.store_message(message)
    return ok(channel=channel.id, ts=message.ts, message=ws.message_to_api(message))


def _existing_message(ws: Workspace, args: dict[str, Any], ts_key: str) -> Message | Reply:
    channel_id = args.get("channel")
    if not isinstance(channel_id, str) or channel_id not in ws.channels:
        return fail("channel_not_found")
    message = ws.message(channel_id, args.get(ts_key))
    if message is None:
        return fail("message_not_found")
    return message


def update_message(ws: Workspace, args: dict[str, Any]) -> Reply:
    message = _existing_message(ws, args, "ts")
    if isinstance(message, Reply):
        return message
    if message.user != ws.bot_user_id:
        return fail("cant_update_message")
    content = message_content(args)
    if isinstance(content, Reply):
        return content
    metadata = _metadata(args)
    if isinstance(metadata, Reply):
        return metadata
    message.replace(text=content.text, blocks=content.blocks, edited_ts=ws.next_ts())
    if content.attachments is not None:
        message.attachments = content.attachments
    if metadata is not None:
        message.metadata = metadata
    return ok(channel=message.channel, ts=message.ts, text=message.text, message=ws.message_to_api(message))


def delete_message(ws: Workspace, args: dict[str, Any]) -> Reply:
    message = _existing_message(ws, args, "ts")
    if isinstance(message, Reply):
        return message
    del ws.messages[message.channel][message.ts]
    return ok(channel=message.channel, ts=message.ts)


def post_ephemeral(ws: Workspace, args: dict[str, Any]) -> Reply:
    channel = _postable_channel(ws, args)
    if isinstance(channel, Reply):
        return channel
    user = args.get("user")
    if not isinstance(user, str) or user not in ws.users:
        return fail("user_not_found")
    if user not in channel.members:
        return fail("user_not_in_channel")
    content = message_content(args)
    if isinstance(content, Reply):
        return content
    ephemeral = Ephemeral(
        channel=channel.id,
        user=user,
        ts=ws.next_ts(),
        text=content.text or "",
        blocks=content.blocks or [],
        thread_ts=optional_str(args, "thread_ts"),
        source="chat.postEphemeral",
    )
    ws.ephemerals.append(ephemeral)
    return ok(message_ts=ephemeral.ts)


def get_permalink(ws: Workspace, args: dict[str, Any]) -> Reply:
    message = _existing_message(ws, args, "message_ts")
    if isinstance(message, Reply):
        return message
    permalink = f"{ws.root_url}archives/{message.channel}/p{message.ts.replace('.', '')}"
    if message.thread_ts:
        permalink += f"?thread_ts={message.thread_ts}&cid={message.channel}"
    return ok(channel=message.channel, permalink=permalink)


HANDLERS: dict[str, Callable[[Workspace, dict[str, Any]], Reply]] = {
    "chat.postMessage": post_message,
    "chat.update": update_message,
    "chat.delete": delete_message,
    "chat.postEphemeral": post_ephemeral,
    "chat.getPermalink": get_permalink,
}
