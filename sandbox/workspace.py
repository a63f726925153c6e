"""The stand-in's workspace state: directory (users, channels, groups) and what the app did in it.

Everything lives behind one re-entrant lock: the aiohttp thread mutates it while test code reads it.
Method handlers run with the lock held; the public inspection API takes it itself.
"""

from __future__ import annotations

import copy
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sandbox.limits import FaultBook, PostRate

if TYPE_CHECKING:
    from sandbox.files import UploadedFile

DEFAULT_SCOPES = (
    "chat:write",
    "chat:write.public",
    "commands",
    "users:read",
    "usergroups:read",
    "channels:read",
    "groups:read",
    "im:write",
    "files:write",
)


@dataclass
class User:
    id: str
    name: str
    real_name: str
    tz: str
    tz_label: str | None = None
    display_name: str = ""
    is_bot: bool = False
    # Slack's own offset for a zone this machine may not know (Slack's zone database is not the
    # app's); None: computed here from `tz`, which must then be a zone this machine knows.
    tz_offset: int | None = None

    def to_api(self, team_id: str) -> dict[str, Any]:
        if self.tz_offset is not None:
            label, offset_seconds = self.tz_label or self.tz, self.tz_offset
        else:
            # The offset is computed for "now" so DST-dependent code sees what Slack would send today.
            now = datetime.now(ZoneInfo(self.tz))
            offset = now.utcoffset()
            label = self.tz_label or now.tzname() or self.tz
            offset_seconds = int(offset.total_seconds()) if offset is not None else 0
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "deleted": False,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": label,
            "tz_offset": offset_seconds,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": {
                "real_name": self.real_name,
                "real_name_normalized": self.real_name,
                "display_name": self.display_name,
                "display_name_normalized": self.display_name,
                "team": team_id,
            },
        }


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool
    members: list[str]
    is_im: bool = False
    is_mpim: bool = False
    im_user: str | None = None
    created: int = field(default_factory=lambda: int(time.time()))

    def to_api(self, bot_user_id: str) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "created": self.created,
            "is_channel": not (self.is_private or self.is_im or self.is_mpim),
            "is_group": self.is_private and not (self.is_im or self.is_mpim),
            "is_im": self.is_im,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private,
            "is_archived": False,
            "is_general": False,
            "is_member": bot_user_id in self.members,
            "num_members": len(self.members),
        }
        if self.is_im:
            data["user"] = self.im_user
        return data


@dataclass
class Usergroup:
    id: str
    handle: str
    name: str
    description: str
    users: list[str]
    disabled: bool = False
    created: int = field(default_factory=lambda: int(time.time()))

    def to_api(self, team_id: str, *, include_users: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "team_id": team_id,
            "is_usergroup": True,
            "is_subteam": True,
            "name": self.name,
            "description": self.description,
            "handle": self.handle,
            "is_external": False,
            "date_create": self.created,
            "date_update": self.created,
            "date_delete": self.created if self.disabled else 0,
            "auto_type": None,
            "user_count": len(self.users),
        }
        if include_users:
            data["users"] = list(self.users)
        return data


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    attachments: list[Any] | None = None
    edits: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    edited_ts: str | None = None
    files: list[dict[str, Any]] | None = None  # shared by files.completeUploadExternal

    def snapshot(self) -> dict[str, Any]:
        return copy.deepcopy(
            {
                "channel": self.channel,
                "ts": self.ts,
                "thread_ts": self.thread_ts,
                "user": self.user,
                "text": self.text,
                "blocks": self.blocks,
                "metadata": self.metadata,
                "attachments": self.attachments,
                "edits": self.edits,
                "history": self.history,
                "files": self.files,
            }
        )

    def replace(self, *, text: str | None, blocks: list[dict[str, Any]] | None, edited_ts: str) -> None:
        """Applies an edit; absent fields keep their value, as chat.update documents."""
        self.history.append(copy.deepcopy({"text": self.text, "blocks": self.blocks}))
        if text is not None:
            self.text = text
        if blocks is not None:
            self.blocks = blocks
        self.edits += 1
        self.edited_ts = edited_ts


@dataclass
class Ephemeral:
    channel: str
    user: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None
    source: str
    hook_url: str | None = None
    deleted: bool = False

    def snapshot(self) -> dict[str, Any]:
        return copy.deepcopy(
            {
                "channel": self.channel,
                "user": self.user,
                "ts": self.ts,
                "thread_ts": self.thread_ts,
                "text": self.text,
                "blocks": self.blocks,
                "source": self.source,
                "response_url": self.hook_url,
                "deleted": self.deleted,
            }
        )


@dataclass
class Trigger:
    user: str | None
    issued_at: float
    used: bool = False


@dataclass
class HookUrl:
    token: str
    url: str
    created_at: float
    channel: str | None = None
    message_ts: str | None = None
    user: str | None = None
    uses: int = 0


@dataclass(frozen=True)
class Call:
    method: str
    args: dict[str, Any]
    status: int
    response: dict[str, Any]
    at: float
    http_method: str = "POST"


class Workspace:
    def __init__(
        self,
        *,
        bot_token: str,
        team_id: str,
        team_domain: str,
        bot_user_id: str,
        bot_id: str,
        app_id: str,
        scopes: tuple[str, ...],
        trigger_ttl: float,
        response_url_ttl: float,
    ) -> None:
        self.lock = threading.RLock()
        self.bot_token = bot_token
        self.revoked_tokens: set[str] = set()  # earlier bot tokens, after a rotation
        self.team_id = team_id
        self.team_domain = team_domain
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        self.scopes = scopes
        self.trigger_ttl = trigger_ttl
        self.response_url_ttl = response_url_ttl
        self.root_url = ""  # set once the server has a port

        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.usergroups: dict[str, Usergroup] = {}
        self._dm_count = 0
        self._last_ts_us = 0

        self.faults = FaultBook()
        self.post_rate = PostRate()
        self.messages: dict[str, dict[str, Message]] = {}
        self.ephemerals: list[Ephemeral] = []
        self.calls: list[Call] = []
        self.triggers: dict[str, Trigger] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.view_owner: dict[str, str | None] = {}
        self.stacks: dict[str | None, list[str]] = {}
        self.home: dict[str, str] = {}
        self.opened: list[tuple[str | None, dict[str, Any]]] = []
        self.hooks: dict[str, HookUrl] = {}
        self.responses: list[tuple[str, dict[str, Any]]] = []
        self.files: dict[str, UploadedFile] = {}  # files.getUploadURLExternal … completeUploadExternal
        # Bumped by changes that leave no Web API call or response_url post behind (a person's own
        # message, a command's ack shown as an ephemeral, a modal closed or answered in the client),
        # so watchers of activity() see them too.
        self.revision = 0
        self.add_user(User(bot_user_id, name="cutover", real_name="Cutover", tz="UTC", is_bot=True))

    def reset(self) -> None:
        """Forgets activity but keeps the directory (users, channels, groups)."""
        self.faults.clear()
        self.post_rate.reset()
        self.messages.clear()
        self.ephemerals.clear()
        self.calls.clear()
        self.triggers.clear()
        self.views.clear()
        self.view_owner.clear()
        self.stacks.clear()
        self.home.clear()
        self.opened.clear()
        self.hooks.clear()
        self.files.clear()
        self.responses.clear()

    # directory

    def add_user(self, user: User) -> None:
        if user.tz_offset is None:
            ZoneInfo(user.tz)  # fail at seeding time on a misspelt zone, not inside a request
        self.users[user.id] = user

    def visible_channel(self, channel_id: Any) -> Channel | None:
        """The channel as the bot can see it: private conversations it isn't in are invisible."""
        channel = self.channels.get(channel_id) if isinstance(channel_id, str) else None
        if channel is None or (channel.is_private and self.bot_user_id not in channel.members):
            return None
        return channel

    def dm_channel(self, user_id: str) -> Channel:
        for channel in self.channels.values():
            if channel.is_im and channel.im_user == user_id:
                return channel
        self._dm_count += 1
        channel = Channel(
            id=f"D0{self._dm_count:08d}",
            name=user_id,
            is_private=True,
            members=[user_id, self.bot_user_id],
            is_im=True,
            im_user=user_id,
        )
        self.channels[channel.id] = channel
        return channel

    def group_dm_channel(self, user_ids: list[str]) -> Channel:
        members = sorted({*user_ids, self.bot_user_id})
        for channel in self.channels.values():
            if channel.is_mpim and sorted(channel.members) == members:
                return channel
        self._dm_count += 1
        channel = Channel(
            id=f"G0{self._dm_count:08d}",
            name="mpdm-" + "--".join(members),
            is_private=True,
            members=members,
            is_mpim=True,
        )
        self.channels[channel.id] = channel
        return channel

    # activity

    def next_ts(self) -> str:
        # Wall-clock based like Slack's, but bumped so two posts in one microsecond still order.
        now_us = max(time.time_ns() // 1000, self._last_ts_us + 1)
        self._last_ts_us = now_us
        return f"{now_us // 1_000_000:010d}.{now_us % 1_000_000:06d}"

    def message(self, channel: str, ts: Any) -> Message | None:
        return self.messages.get(channel, {}).get(ts) if isinstance(ts, str) else None

    def store_message(self, message: Message) -> None:
        self.messages.setdefault(message.channel, {})[message.ts] = message

    def message_to_api(self, message: Message) -> dict[str, Any]:
        data: dict[str, Any] = {
            "type": "message",
            "user": message.user,
            "text": message.text,
            "ts": message.ts,
            "team": self.team_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
        }
        if message.blocks:
            data["blocks"] = copy.deepcopy(message.blocks)
        if message.attachments:
            data["attachments"] = copy.deepcopy(message.attachments)
        if message.thread_ts:
            data["thread_ts"] = message.thread_ts
            parent = self.message(message.channel, message.thread_ts)
            data["parent_user_id"] = parent.user if parent else message.user
        if message.metadata is not None:
            data["metadata"] = copy.deepcopy(message.metadata)
        if message.edited_ts:
            data["edited"] = {"user": self.bot_user_id, "ts": message.edited_ts}
        if message.files:
            data["files"] = copy.deepcopy(message.files)
        return data

    def issue_trigger(self, user: str | None) -> str:
        trigger_id = f"{secrets.randbelow(10**11):011d}.{secrets.randbelow(10**12):012d}.{secrets.token_hex(16)}"
        self.triggers[trigger_id] = Trigger(user=user, issued_at=time.monotonic())
        return trigger_id

    def trigger_problem(self, trigger_id: Any) -> str | None:
        """Slack's error for an unusable trigger_id, or None when it may be exchanged now."""
        trigger = self.triggers.get(trigger_id) if isinstance(trigger_id, str) else None
        if trigger is None:
            return "invalid_trigger_id"
        if trigger.used:
            return "exchanged_trigger_id"
        if time.monotonic() - trigger.issued_at > self.trigger_ttl:
            return "expired_trigger_id"
        return None

    def new_hook(self, *, channel: str | None, message_ts: str | None, user: str | None) -> str:
        if not self.root_url:
            raise RuntimeError("start() the stand-in before asking for response_urls")
        token = secrets.token_urlsafe(18)
        url = f"{self.root_url}hooks/{token}"
        self.hooks[token] = HookUrl(
            token=token, url=url, created_at=time.monotonic(), channel=channel, message_ts=message_ts, user=user
        )
        return url
