"""files.* methods of the external upload flow (what slack_sdk's files_upload_v2 calls), strictly as Slack checks them.

1. files.getUploadURLExternal(filename, length) → a file id and an upload URL on this stand-in (loopback);
2. POST the bytes to that URL (exactly `length` of them, once);
3. files.completeUploadExternal(files=[{"id", "title"}], channel_id, initial_comment, thread_ts) → the files
   are shared as one message in the channel (kept with the bytes, for tests and the page).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.arguments import optional_str
from sandbox.replies import Reply, fail, ok
from sandbox.workspace import Message, Workspace

MAX_FILENAME = 255
MAX_LENGTH = 1024 * 1024 * 1024  # 1 GB: Slack's file size limit
MAX_FILES = 10  # files.completeUploadExternal shares at most 10 at once
SCOPE = "files:write"


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    content: bytes | None = None  # None until the bytes were posted
    title: str | None = None
    channel: str | None = None  # set once shared (completed)
    ts: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.filename,
            "title": self.title or self.filename,
            "size": self.length,
            "mimetype": "text/markdown" if self.filename.endswith(".md") else "application/octet-stream",
        }


def _invalid(detail: str) -> Reply:
    reply = fail("invalid_arguments")
    reply.body["response_metadata"] = {"messages": [f"[ERROR] {detail}"]}
    return reply


def get_upload_url(ws: Workspace, args: dict[str, Any]) -> Reply:
    if SCOPE not in ws.scopes:
        return fail("missing_scope")
    filename = optional_str(args, "filename")
    if filename is None:
        return _invalid("missing required field: filename")
    if len(filename) > MAX_FILENAME:
        return _invalid(f"filename must be at most {MAX_FILENAME} characters")
    raw = args.get("length")
    try:
        length = int(str(raw))
    except (TypeError, ValueError):
        return _invalid("missing required field: length" if raw in (None, "") else "length must be an integer")
    if not 1 <= length <= MAX_LENGTH:
        return _invalid("length must be a positive number of bytes")
    file_id = f"F0{len(ws.files) + 1:08d}"
    ws.files[file_id] = UploadedFile(file_id, filename, length)
    return ok(upload_url=f"{ws.root_url}upload/v1/{file_id}", file_id=file_id)


def receive_bytes(ws: Workspace, file_id: str, body: bytes) -> tuple[int, str]:
    """The upload URL: (HTTP status, text) as Slack's file host answers."""
    f = ws.files.get(file_id)
    if f is None:
        return 404, "file not found"
    if f.content is not None:
        return 400, "already uploaded"
    if len(body) != f.length:
        return 400, f"expected {f.length} bytes, got {len(body)}"
    f.content = body
    return 200, f"OK - {len(body)}"


def complete_upload(ws: Workspace, args: dict[str, Any]) -> Reply:
    if SCOPE not in ws.scopes:
        return fail("missing_scope")
    raw = args.get("files")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return _invalid("files must be a JSON array")
    if not isinstance(raw, list) or not raw:
        return _invalid("files must be a non-empty JSON array of {id, title}")
    if len(raw) > MAX_FILES:
        return _invalid(f"at most {MAX_FILES} files at once")
    chosen: list[UploadedFile] = []
    for entry in raw:
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str):
            return _invalid("each file must be an object with a string id")
        f = ws.files.get(entry["id"])
        if f is None or f.channel is not None or f in chosen:
            return fail("file_not_found")
        if f.content is None:
            return _invalid(f"file {f.id} has no uploaded bytes")
        title = entry.get("title")
        if title is not None and not isinstance(title, str):
            return _invalid("title must be a string")
        chosen.append(f)
    channel_id = optional_str(args, "channel_id")
    if optional_str(args, "channels") is not None:
        return _invalid("use channel_id: this stand-in shares to one channel")
    ts = None
    if channel_id is not None:
        channel = ws.visible_channel(channel_id)
        if channel is None:
            return fail("channel_not_found")
        if ws.bot_user_id not in channel.members and channel.is_private:
            return fail("not_in_channel")
        ts = ws.next_ts()
        for f, entry in zip(chosen, raw, strict=True):
            f.title = entry.get("title") or f.filename
        message = Message(
            channel=channel.id,
            ts=ts,
            user=ws.bot_user_id,
            text=optional_str(args, "initial_comment") or "",
            blocks=[],
            thread_ts=optional_str(args, "thread_ts"),
        )
        message.files = [f.to_api() for f in chosen]
        ws.store_message(message)
    for f in chosen:
        f.channel, f.ts = channel_id or "", ts
    return ok(files=[f.to_api() for f in chosen])


HANDLERS: dict[str, Callable[[Workspace, dict[str, Any]], Reply]] = {
    "files.getUploadURLExternal": get_upload_url,
    "files.completeUploadExternal": complete_upload,
}
