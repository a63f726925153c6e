"""What a person does on the page, sent to the app through the driver exactly as Slack sends it.

Each method is synchronous (the driver is) and validates everything before anything is sent, so a
bad request changes nothing. The page's HTTP layer runs them off its event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import httpx

from sandbox import forms
from sandbox.composer import Directory, escape_like_slack
from sandbox.driver import DriverResponse, SlackDriver
from sandbox.page_view import BadRequest, ClientState, PageView
from sandbox.team import Team
from sandbox.webapi import SlackStandIn

MAX_TEXT = 4000


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"{key!r} must be a non-empty string")
    return value


def _optional_text(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{key!r} must be a string")
    return value


def _app_failure(r: DriverResponse) -> str | None:
    if r.status == 200:
        return None
    return f"the app answered HTTP {r.status}"


class PageActions:
    def __init__(
        self, standin: SlackStandIn, driver: SlackDriver, team: Team, *, slash_command: str = "/release"
    ) -> None:
        self.standin = standin
        self.driver = driver
        self.client = ClientState()
        self.view = PageView(standin, team, self.client)
        self.slash_command = slash_command
        self._lock = threading.Lock()

    # the composer

    def compose(self, body: Mapping[str, Any]) -> dict[str, Any]:
        user = self.view.person(body.get("user"))
        channel = self.view.conversation(user["id"], body.get("channel"))["id"]
        text = _text(body, "text").strip()
        if not text:
            raise BadRequest("'text' must not be blank")
        if len(text) > MAX_TEXT:
            raise BadRequest(f"'text' is longer than {MAX_TEXT} characters")
        if not text.startswith("/"):
            ts = self.standin.post_as_user(channel, user["id"], escape_like_slack(text, self._directory()))
            return {"ok": True, "posted": ts}
        command, *rest = text.split(None, 1)
        if command != self.slash_command:
            self.standin.add_ephemeral(
                channel,
                user["id"],
                text=f"`{command}` is not a valid command. In Slack, messages starting with “/” are "
                f"commands; this workspace has `{self.slash_command}` (try `{self.slash_command} help`).",
            )
            return {"ok": True, "command": command, "known": False}
        return self._slash(user, channel, command, rest[0].strip() if rest else "")

    def _slash(self, user: Mapping[str, Any], channel: str, command: str, rest: str) -> dict[str, Any]:
        try:
            r = self.driver.slash(
                text=escape_like_slack(rest, self._directory()), user=user["id"], channel=channel, command=command
            )
        except httpx.HTTPError as e:
            return self._command_failed(user["id"], channel, command, f"the app did not answer ({type(e).__name__})")
        failure = _app_failure(r)
        if failure is not None:
            return self._command_failed(user["id"], channel, command, failure)
        ack = r.json
        if ack is None and r.text.strip():
            ack = {"text": r.text}  # a plain-text ack body is shown as is
        if ack and (ack.get("text") or ack.get("blocks")):
            text = str(ack.get("text") or "")
            blocks = ack.get("blocks") if isinstance(ack.get("blocks"), list) else None
            if ack.get("response_type") == "in_channel":
                self.standin.post_as_user(channel, self.standin.bot_user_id, text, blocks=blocks)
            else:
                self.standin.add_ephemeral(channel, user["id"], text=text, blocks=blocks, source="ack")
        return {"ok": True, "command": command, "known": True}

    def _command_failed(self, user: str, channel: str, command: str, reason: str) -> dict[str, Any]:
        # What Slack shows when the app's endpoint fails: the command failed, and why.
        self.standin.add_ephemeral(channel, user, text=f"`{command}` failed: {reason}.", source="client")
        return {"ok": False, "error": reason}

    def _directory(self) -> Directory:
        users = self.standin.users()
        return Directory(
            users={u["name"].lower(): u["id"] for u in users},
            channels={c["name"].lower(): c["id"] for c in self.standin.channels() if not c["is_im"]},
            groups={g["handle"].lower(): g["id"] for g in self.standin.usergroups()},
        )

    # clicks

    def action(self, body: Mapping[str, Any]) -> dict[str, Any]:
        user = self.view.person(body.get("user"))
        action_id = _text(body, "action_id")
        block_id = _optional_text(body, "block_id") or None  # the renderer writes "" for a block without id
        selected = body.get("selected")
        if selected is not None and not (isinstance(selected, str) or forms.is_str_list(selected)):
            raise BadRequest("'selected' must be a string or a list of strings")
        view_id = body.get("view_id")
        if view_id is not None:
            return self._view_action(user, str(view_id), action_id, block_id, selected)
        channel = self.view.conversation(user["id"], body.get("channel"))["id"]
        ts = _text(body, "ts")
        blocks, thread_ts = self._clickable(user["id"], channel, ts)
        element = self._element(blocks, action_id, block_id)
        typed = self._typed(element, selected, user["tz"])
        r = self.driver.click(
            user=user["id"], action_id=action_id, channel=channel, message_ts=ts, block_id=block_id, action=typed
        )
        if r.response_url is not None:
            with self._lock:
                self.client.hook_clicks[r.response_url] = ts
                if thread_ts is not None:
                    self.client.hook_threads[r.response_url] = thread_ts
        failure = _app_failure(r)
        return {"ok": failure is None, **({"error": failure} if failure else {})}

    def _clickable(self, user: str, channel: str, ts: str) -> tuple[list[dict[str, Any]], str | None]:
        """The blocks the click was in and, for a reply, its thread (where Slack shows the answer)."""
        try:
            message = self.standin.message(channel, ts)
        except KeyError:
            mine = [e for e in self.standin.ephemerals(channel=channel, user=user) if e["ts"] == ts]
            if not mine:
                raise BadRequest(f"no message {ts!r} in {channel} that {user} can see") from None
            return list(mine[0]["blocks"]), self.view.thread_of(mine[0])
        thread_ts = message["thread_ts"]
        return list(message["blocks"]), thread_ts if thread_ts and thread_ts != ts else None

    def _element(self, blocks: list[dict[str, Any]], action_id: str, block_id: str | None) -> dict[str, Any]:
        for found_block, element in forms.interactive_elements({"blocks": blocks}):
            if element["action_id"] == action_id and block_id in (None, found_block):
                return element
        raise BadRequest(f"no element {action_id!r}" + (f" in block {block_id!r}" if block_id else ""))

    def _typed(self, element: Mapping[str, Any], selected: Any, tz: str) -> dict[str, Any] | None:
        """The selection part of a block_actions action (None for buttons, which carry their value)."""
        if element.get("type") == "button":
            return None
        try:
            return forms.element_state(element, selected, tz=tz)
        except forms.FormError as e:
            raise BadRequest(f"cannot use that selection: {e}") from None

    def _view_action(
        self, user: Mapping[str, Any], view_id: str, action_id: str, block_id: str | None, selected: Any
    ) -> dict[str, Any]:
        home = self.standin.home_view(user["id"])
        view = home if home is not None and home["id"] == view_id else self._top_view(user["id"], view_id)
        element = self._element(view.get("blocks") or [], action_id, block_id)
        typed = self._typed(element, selected, user["tz"])
        r = self.driver.click(user=user["id"], action_id=action_id, view=view, block_id=block_id, action=typed)
        failure = _app_failure(r)
        return {"ok": failure is None, **({"error": failure} if failure else {})}

    # the App Home tab

    def open_home(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The person opens the app's Home tab: Slack sends app_home_opened (the app publishes the view)."""
        user = self.view.person(body.get("user"))
        r = self.driver.app_home_opened(user=user["id"])
        failure = _app_failure(r)
        return {"ok": failure is None, **({"error": failure} if failure else {})}

    # modals

    def _top_view(self, user: str, view_id: str) -> dict[str, Any]:
        stack = self.standin.view_stack(user)
        if not stack or stack[-1]["id"] != view_id:
            raise BadRequest(f"{view_id!r} is not the modal {user} has open")
        return stack[-1]

    def submit(self, body: Mapping[str, Any]) -> dict[str, Any]:
        user = self.view.person(body.get("user"))
        view = self._top_view(user["id"], _text(body, "view_id"))
        try:
            values = forms.state_values(view, body.get("values") or {}, tz=user["tz"])
        except forms.FormError as e:
            raise BadRequest(f"the form does not fit the modal: {e}") from None
        r = self.driver.submit_view(user=user["id"], view=view, values=values)
        failure = _app_failure(r)
        if failure is not None:
            return {"ok": False, "error": failure}
        ack = r.json or {}
        errors: dict[str, str] = {}
        if ack.get("response_action") == "errors" and isinstance(ack.get("errors"), dict):
            errors = {str(k): str(v) for k, v in ack["errors"].items()}
            with self._lock:
                self.client.modal_errors[view["id"]] = (view["hash"], errors)
        else:
            with self._lock:
                self.client.modal_errors.pop(view["id"], None)
        return {"ok": not r.view_errors, "errors": errors, "problems": r.view_errors}

    def close(self, body: Mapping[str, Any]) -> dict[str, Any]:
        user = self.view.person(body.get("user"))
        view = self._top_view(user["id"], _text(body, "view_id"))
        closed = self.standin.close_top_view(user["id"], view["id"])
        with self._lock:
            self.client.modal_errors.pop(view["id"], None)
        if not closed.get("notify_on_close"):
            return {"ok": True, "notified": False}
        r = self.driver.close_view(user=user["id"], view=closed)
        failure = _app_failure(r)
        return {"ok": failure is None, "notified": True, **({"error": failure} if failure else {})}

    def dismiss(self, body: Mapping[str, Any]) -> dict[str, Any]:
        user = self.view.person(body.get("user"))
        channel = self.view.conversation(user["id"], body.get("channel"))["id"]
        ts = _text(body, "ts")
        if not any(e["ts"] == ts for e in self.standin.ephemerals(channel=channel, user=user["id"])):
            raise BadRequest(f"no ephemeral message {ts!r} for {user['id']} in {channel}")
        with self._lock:
            self.client.dismissed.add((user["id"], ts))
            self.client.revision += 1
        return {"ok": True}

    def activity(self) -> int:
        return self.view.activity()
