"""What the page shows one person: the workspace, a channel, a thread, their modal, as JSON + HTML.

Everything is read from the stand-in through its public inspection API and rendered for the
viewer (their zone, their ephemerals), so switching person in the page switches all of that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sandbox.render import RenderContext, render_message, render_view
from sandbox.render.blocks import render_blocks
from sandbox.render.context import zone, zone_known
from sandbox.team import Team
from sandbox.webapi import SlackStandIn


class BadRequest(ValueError):
    """The page asked for something that does not exist or is not theirs; nothing changed."""


@dataclass
class ClientState:
    """What lives only in people's Slack clients: dismissed ephemerals, errors shown in modals, and
    which thread and message an ephemeral answer to a click belongs to (Slack shows it next to the click)."""

    dismissed: set[tuple[str, str]] = field(default_factory=set)  # (user, ts)
    modal_errors: dict[str, tuple[str, dict[str, str]]] = field(default_factory=dict)  # view_id -> (hash, errors)
    hook_threads: dict[str, str] = field(default_factory=dict)  # response_url -> thread ts
    hook_clicks: dict[str, str] = field(default_factory=dict)  # response_url -> ts of the message clicked
    revision: int = 0  # bumped by changes the stand-in does not see (a dismissed ephemeral)


def _local_time(ts: str, tz: str) -> datetime:
    return datetime.fromtimestamp(float(ts), zone(tz))


class PageView:
    def __init__(self, standin: SlackStandIn, team: Team, client: ClientState) -> None:
        self.standin = standin
        self.team = team
        self.client = client

    def activity(self) -> int:
        """Moves whenever something any person could see may have changed."""
        return self.standin.activity() + self.client.revision

    # who and where

    def person(self, user: Any) -> dict[str, Any]:
        found = next((u for u in self.standin.users() if u["id"] == user and not u["is_bot"]), None)
        if found is None:
            raise BadRequest(f"unknown user {user!r}; pick one of the workspace's people")
        return found

    def conversation(self, user: str, channel: Any) -> dict[str, Any]:
        found = next((c for c in self.standin.channels() if c["id"] == channel), None)
        if found is None:
            raise BadRequest(f"unknown channel {channel!r}")
        if user not in found["members"] or (found["is_im"] and found.get("user") != user):
            raise BadRequest(f"{user} is not a member of {channel}")
        return found

    def context(self, user: str) -> RenderContext:
        people = self.standin.users()
        me = next(u for u in people if u["id"] == user)
        return RenderContext(
            viewer=user,
            viewer_tz=me["tz"],
            users={u["id"]: u["real_name"] or u["name"] for u in people},
            channels={c["id"]: c["name"] for c in self.standin.channels() if not c["is_im"]},
            usergroups={g["id"]: g["handle"] for g in self.standin.usergroups()},
            now=datetime.now(UTC),
        )

    def state(self, user: Any) -> dict[str, Any]:
        """The workspace for ``user``; without one, for the first seeded person (the page's first visit)."""
        me = self.person(user or self.team.people[0].id)
        conversations = [c for c in self.standin.channels() if me["id"] in c["members"]]
        channels = [
            {"id": c["id"], "name": c["name"], "kind": "channel", "private": c["is_private"]}
            for c in conversations
            if not c["is_im"] and not c["is_mpim"]
        ]
        app_name = next((u["real_name"] for u in self.standin.users() if u["id"] == self.standin.bot_user_id), "App")
        dms = [
            {"id": c["id"], "name": app_name, "kind": "dm", "private": True}
            for c in conversations
            if c["is_im"] and c.get("user") == me["id"]
        ]
        return {
            "workspace": self.team.workspace_name,
            "me": self._person_json(me),
            "people": [self._person_json(u) for u in self.standin.users() if not u["is_bot"]],
            "channels": sorted(channels, key=lambda c: str(c["name"])),
            "dms": dms,
            "default_channel": self.team.release_channel,
            "revision": self.activity(),
        }

    def _person_json(self, user: Mapping[str, Any]) -> dict[str, Any]:
        person = self.team.person(str(user["id"]))
        now = datetime.now(zone(user["tz"]))
        known = zone_known(user["tz"])
        # A zone this machine does not know shows as UTC, and says so (display only).
        abbr = (now.tzname() or user["tz"]) if known else "UTC: zone unknown here"
        offset = now.utcoffset()
        return {
            "id": user["id"],
            "name": user["name"],
            "real_name": user["real_name"],
            "role": person.role_title if person else "",
            "tz": user["tz"],
            "tz_abbr": abbr,
            "local_time": now.strftime("%H:%M"),
            # The page's ticking clock: the zone its dates are shown in, and that zone's offset now
            # (for a browser that does not know the zone).
            "clock_tz": user["tz"] if known else "UTC",
            "utc_offset": int(offset.total_seconds()) if offset is not None else 0,
        }

    # conversations

    def channel(self, user: Any, channel: Any) -> dict[str, Any]:
        me = self.person(user)["id"]
        conv = self.conversation(me, channel)
        messages = self.standin.messages(conv["id"])
        top = [m for m in messages if not m["thread_ts"] or m["thread_ts"] == m["ts"]]
        replies: dict[str, list[dict[str, Any]]] = {}
        for m in messages:
            if m["thread_ts"] and m["thread_ts"] != m["ts"]:
                replies.setdefault(m["thread_ts"], []).append(m)
        mine = [e for e in self._ephemerals(me, conv["id"]) if self.thread_of(e) is None]
        ctx = self.context(me)
        shown = [self._message_json(m, ctx, replies.get(m["ts"], [])) for m in top]
        shown += [self._ephemeral_json(e, ctx) for e in mine]
        return {
            "channel": {"id": conv["id"], "name": conv["name"], "kind": "dm" if conv["is_im"] else "channel"},
            "messages": sorted(shown, key=lambda m: float(m["ts"])),
        }

    def thread(self, user: Any, channel: Any, ts: Any) -> dict[str, Any]:
        me = self.person(user)["id"]
        conv = self.conversation(me, channel)
        try:
            parent = self.standin.message(conv["id"], str(ts))
        except KeyError:
            raise BadRequest(f"no message {ts!r} in {channel}") from None
        ctx = self.context(me)
        replies = [m for m in self.standin.thread(conv["id"], parent["ts"]) if m["ts"] != parent["ts"]]
        shown = [self._message_json(m, ctx, []) for m in replies]
        shown += [
            self._ephemeral_json(e, ctx) for e in self._ephemerals(me, conv["id"]) if self.thread_of(e) == parent["ts"]
        ]
        return {
            "channel": {"id": conv["id"], "name": conv["name"]},
            "parent": self._message_json(parent, ctx, replies),
            "replies": sorted(shown, key=lambda m: float(m["ts"])),
        }

    def _ephemerals(self, user: str, channel: str) -> list[dict[str, Any]]:
        return [
            e
            for e in self.standin.ephemerals(channel=channel, user=user)
            if (user, e["ts"]) not in self.client.dismissed
        ]

    def thread_of(self, ephemeral: Mapping[str, Any]) -> str | None:
        """The thread an ephemeral shows in (None: the channel itself)."""
        if ephemeral.get("thread_ts"):
            return str(ephemeral["thread_ts"])
        return self.client.hook_threads.get(str(ephemeral.get("response_url")))

    def _stamp(self, ts: str, ctx: RenderContext) -> dict[str, Any]:
        local = _local_time(ts, ctx.viewer_tz)
        return {"ts": ts, "time": local.strftime("%H:%M"), "date": local.date().isoformat(), "iso": local.isoformat()}

    def _message_json(
        self, m: Mapping[str, Any], ctx: RenderContext, replies: Iterable[Mapping[str, Any]]
    ) -> dict[str, Any]:
        user = str(m["user"])
        replies = list(replies)
        return {
            **self._stamp(str(m["ts"]), ctx),
            "thread_ts": m["thread_ts"],
            "user": user,
            "author": ctx.users.get(user, user),
            "is_bot": user == self.standin.bot_user_id,
            "ephemeral": False,
            "edited": bool(m.get("edits")),
            "reply_count": len(replies),
            "answers": None,
            "html": render_message({"text": m["text"], "blocks": m["blocks"]}, ctx),
        }

    def _ephemeral_json(self, e: Mapping[str, Any], ctx: RenderContext) -> dict[str, Any]:
        # What Slack's client says by itself comes from Slackbot; everything else from the app.
        bot = self.standin.bot_user_id
        author = "Slackbot" if e.get("source") == "client" else ctx.users.get(bot, bot)
        return {
            **self._stamp(str(e["ts"]), ctx),
            "thread_ts": self.thread_of(e),
            "user": bot,
            "author": author,
            "is_bot": True,
            "ephemeral": True,
            "edited": False,
            "reply_count": 0,
            # The message whose button this answers (the page brings such an answer into view).
            "answers": self.client.hook_clicks.get(str(e.get("response_url"))),
            "html": render_message({"text": e["text"], "blocks": e["blocks"]}, ctx),
        }

    # modals

    def modal(self, user: Any) -> dict[str, Any] | None:
        me = self.person(user)["id"]
        stack = self.standin.view_stack(me)
        if not stack:
            return None
        view = stack[-1]
        errors = self.modal_errors(view)
        return {
            "view_id": view["id"],
            "hash": view["hash"],
            "callback_id": view.get("callback_id", ""),
            "depth": len(stack),
            "errors": errors,
            "html": render_view(view, self.context(me), errors or None),
        }

    # the App Home tab

    def home(self, user: Any) -> dict[str, Any] | None:
        """The Home view the app published for this person, rendered; None before it published one."""
        me = self.person(user)["id"]
        view = self.standin.home_view(me)
        if view is None:
            return None
        return {
            "view_id": view["id"],
            "hash": view["hash"],
            "html": render_blocks(view.get("blocks") or [], self.context(me), surface="home"),
        }

    def modal_errors(self, view: Mapping[str, Any]) -> dict[str, str]:
        # Errors belong to the view they answered; an update (new hash) starts clean, as in Slack.
        kept = self.client.modal_errors.get(str(view["id"]))
        return dict(kept[1]) if kept and kept[0] == view["hash"] else {}
