"""Read-mostly directory methods: auth.test, users.*, conversations.*, usergroups.*."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from sandbox.arguments import flag, id_list
from sandbox.replies import Reply, fail, ok
from sandbox.workspace import Workspace

DEFAULT_PAGE = 100
MAX_PAGE = 1000
MAX_GROUP_DM_USERS = 8


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _page(items: list[Any], args: dict[str, Any]) -> tuple[list[Any], str] | Reply:
    """Cursor pagination: an opaque cursor, and next_cursor "" on the last page (Slack's convention)."""
    raw_limit = args.get("limit")
    try:
        limit = DEFAULT_PAGE if raw_limit in (None, "") else int(raw_limit)
    except (TypeError, ValueError):
        return fail("invalid_limit")
    if not 1 <= limit <= MAX_PAGE:
        return fail("invalid_limit")
    start = 0
    cursor = args.get("cursor")
    if cursor:
        try:
            prefix, _, number = base64.b64decode(str(cursor), validate=True).decode().partition(":")
            start = int(number)
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return fail("invalid_cursor")
        if prefix != "offset" or not 0 <= start <= len(items):
            return fail("invalid_cursor")
    end = start + limit
    return items[start:end], _cursor(end) if end < len(items) else ""


def auth_test(ws: Workspace, args: dict[str, Any]) -> Reply:
    reply = ok(
        url=ws.root_url,
        team=ws.team_domain,
        user=ws.users[ws.bot_user_id].name,
        team_id=ws.team_id,
        user_id=ws.bot_user_id,
        bot_id=ws.bot_id,
        app_id=ws.app_id,
        is_enterprise_install=False,
    )
    # Bolt reads the granted scopes from this header, not from the body.
    reply.headers["x-oauth-scopes"] = ",".join(ws.scopes)
    return reply


def users_info(ws: Workspace, args: dict[str, Any]) -> Reply:
    user_id = args.get("user")
    user = ws.users.get(user_id) if isinstance(user_id, str) else None
    if user is None:
        return fail("user_not_found")
    return ok(user=user.to_api(ws.team_id))


def users_list(ws: Workspace, args: dict[str, Any]) -> Reply:
    page = _page([u.to_api(ws.team_id) for u in ws.users.values()], args)
    if isinstance(page, Reply):
        return page
    members, next_cursor = page
    return ok(members=members, response_metadata={"next_cursor": next_cursor})


def conversations_info(ws: Workspace, args: dict[str, Any]) -> Reply:
    channel = ws.visible_channel(args.get("channel"))
    if channel is None:
        return fail("channel_not_found")
    return ok(channel=channel.to_api(ws.bot_user_id))


def conversations_members(ws: Workspace, args: dict[str, Any]) -> Reply:
    channel = ws.visible_channel(args.get("channel"))
    if channel is None:
        return fail("channel_not_found")
    page = _page(list(channel.members), args)
    if isinstance(page, Reply):
        return page
    members, next_cursor = page
    return ok(members=members, response_metadata={"next_cursor": next_cursor})


def conversations_history(ws: Workspace, args: dict[str, Any]) -> Reply:
    """Top-level messages, newest first; metadata only when asked for, as Slack does."""
    channel = ws.visible_channel(args.get("channel"))
    if channel is None:
        return fail("channel_not_found")
    if channel.is_private and ws.bot_user_id not in channel.members:
        return fail("not_in_channel")
    try:
        oldest = float(args.get("oldest") or 0)
        latest = float(args.get("latest") or "inf")
    except (TypeError, ValueError):
        return fail("invalid_ts_oldest")
    with_metadata = flag(args, "include_all_metadata")
    found = []
    for m in sorted(ws.messages.get(channel.id, {}).values(), key=lambda m: m.ts, reverse=True):
        if m.thread_ts not in (None, m.ts) or not oldest < float(m.ts) <= latest:
            continue
        item: dict[str, Any] = {"type": "message", "user": m.user, "text": m.text, "ts": m.ts}
        if with_metadata and m.metadata:
            item["metadata"] = m.metadata
        found.append(item)
    page = _page(found, args)
    if isinstance(page, Reply):
        return page
    messages, next_cursor = page
    return ok(messages=messages, has_more=bool(next_cursor), response_metadata={"next_cursor": next_cursor})


def conversations_join(ws: Workspace, args: dict[str, Any]) -> Reply:
    channel_id = args.get("channel")
    channel = ws.channels.get(channel_id) if isinstance(channel_id, str) else None
    if channel is None:
        return fail("channel_not_found")
    if channel.is_private:
        return fail("method_not_supported_for_channel_type")
    if ws.bot_user_id in channel.members:
        return ok(channel=channel.to_api(ws.bot_user_id), warning="already_in_channel")
    channel.members.append(ws.bot_user_id)
    return ok(channel=channel.to_api(ws.bot_user_id))


def conversations_open(ws: Workspace, args: dict[str, Any]) -> Reply:
    channel_id = args.get("channel")
    if channel_id:
        existing = ws.visible_channel(channel_id)
        if existing is None or not (existing.is_im or existing.is_mpim):
            return fail("channel_not_found")
        return ok(no_op=True, already_open=True, channel=existing.to_api(ws.bot_user_id))
    users = id_list(args.get("users"))
    if not users:
        return fail("users_list_not_supplied")
    for user in users:
        if user not in ws.users:
            return fail("user_not_found")
    if len(users) > MAX_GROUP_DM_USERS:
        return fail("too_many_users")
    before = set(ws.channels)
    channel = ws.dm_channel(users[0]) if len(users) == 1 else ws.group_dm_channel(users)
    existed = channel.id in before
    body = channel.to_api(ws.bot_user_id) if flag(args, "return_im") else {"id": channel.id}
    if existed:
        return ok(no_op=True, already_open=True, channel=body)
    return ok(channel=body)


def usergroups_list(ws: Workspace, args: dict[str, Any]) -> Reply:
    include_users = flag(args, "include_users")
    include_disabled = flag(args, "include_disabled")
    groups = [
        g.to_api(ws.team_id, include_users=include_users)
        for g in ws.usergroups.values()
        if include_disabled or not g.disabled
    ]
    return ok(usergroups=groups)


def usergroups_users_list(ws: Workspace, args: dict[str, Any]) -> Reply:
    group_id = args.get("usergroup")
    if not group_id:
        return fail("invalid_arguments")
    group = ws.usergroups.get(group_id) if isinstance(group_id, str) else None
    if group is None:
        return fail("no_such_subteam")
    return ok(users=list(group.users))


HANDLERS: dict[str, Callable[[Workspace, dict[str, Any]], Reply]] = {
    "auth.test": auth_test,
    "users.info": users_info,
    "users.list": users_list,
    "conversations.info": conversations_info,
    "conversations.members": conversations_members,
    "conversations.join": conversations_join,
    "conversations.history": conversations_history,
    "conversations.open": conversations_open,
    "usergroups.list": usergroups_list,
    "usergroups.users.list": usergroups_users_list,
}
