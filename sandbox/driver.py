"""SlackDriver: plays Slack's side towards the app, sending signed requests over real HTTP.

Payloads have the shapes Slack sends (slash commands, block_actions, view_submission, events).
trigger_ids and response_urls come from the stand-in, so the app's follow-up calls (views.open,
respond()) are checked exactly as Slack would check them.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

import httpx
from slack_sdk.signature import SignatureVerifier

from sandbox.webapi import SlackStandIn

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"

T = TypeVar("T")


def wait_until(predicate: Callable[[], T | None], timeout: float = 5.0, interval: float = 0.02, message: str = "") -> T:
    """Polls until ``predicate()`` is truthy and returns that value; raises TimeoutError otherwise.

    For eventual assertions on work the app does after acking (Bolt acks first, acts later).
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(message or f"condition not met within {timeout} s (last value: {value!r})")
        time.sleep(interval)


@dataclass
class DriverResponse:
    status: int
    text: str
    json: dict[str, Any] | None
    headers: dict[str, str]
    response_url: str | None = None
    trigger_id: str | None = None
    # Problems Slack's client would show after a view_submission ack (invalid pushed view, …).
    view_errors: list[str] = field(default_factory=list)


def _find_element(
    blocks: list[dict[str, Any]], action_id: str, block_id: str | None
) -> tuple[str | None, dict[str, Any] | None]:
    for block in blocks:
        if block_id is not None and block.get("block_id") != block_id:
            continue
        candidates: list[Any] = list(block.get("elements", [])) if block.get("type") == "actions" else []
        candidates += [block[key] for key in ("accessory", "element") if isinstance(block.get(key), dict)]
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return block.get("block_id"), element
    return block_id, None


class SlackDriver:
    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        standin: SlackStandIn,
        *,
        team_id: str = "T0CUTOVER",
        team_domain: str = "cutover",
        api_app_id: str = "A0CUTOVER",
        timeout: float = 10.0,
        verification_token: str = "deprecated-verification-token",
    ) -> None:
        self.app_url = app_url
        self.standin = standin
        self.team_id = team_id
        self.team_domain = team_domain
        self.api_app_id = api_app_id
        self.verification_token = verification_token
        self._verifier = SignatureVerifier(signing_secret)
        self._http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SlackDriver:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # transport

    def signed_headers(self, body: str, timestamp: int | None = None, content_type: str = FORM) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        signature = self._verifier.generate_signature(timestamp=stamp, body=body)
        if signature is None:  # slack_sdk returns None only for a missing timestamp
            raise RuntimeError("could not sign the request")
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
        }

    def post_raw(self, body: str, headers: Mapping[str, str]) -> DriverResponse:
        response = self._http.post(self.app_url, content=body.encode(), headers=dict(headers))
        parsed: dict[str, Any] | None = None
        if response.text.strip():
            try:
                loaded = response.json()
            except ValueError:
                loaded = None
            parsed = loaded if isinstance(loaded, dict) else None
        return DriverResponse(
            status=response.status_code, text=response.text, json=parsed, headers=dict(response.headers)
        )

    def _send(
        self,
        body: str,
        content_type: str,
        *,
        response_url: str | None = None,
        trigger_id: str | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> DriverResponse:
        headers = {**self.signed_headers(body, content_type=content_type), **(extra_headers or {})}
        result = self.post_raw(body, headers)
        result.response_url = response_url
        result.trigger_id = trigger_id
        return result

    def _send_payload(
        self, payload: dict[str, Any], *, response_url: str | None = None, trigger_id: str | None = None
    ) -> DriverResponse:
        # Interactivity arrives as a form with a single "payload" field holding JSON.
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        return self._send(body, FORM, response_url=response_url, trigger_id=trigger_id)

    # payload pieces

    def _user(self, user: str) -> dict[str, Any]:
        name = self.standin.user_name(user) or user
        return {"id": user, "username": name, "name": name, "team_id": self.team_id}

    def _team(self) -> dict[str, Any]:
        return {"id": self.team_id, "domain": self.team_domain}

    def _interaction(self, kind: str, user: str, trigger_id: str | None) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "type": kind,
            "team": self._team(),
            "user": self._user(user),
            "api_app_id": self.api_app_id,
            "token": self.verification_token,
            "is_enterprise_install": False,
            "enterprise": None,
        }
        if trigger_id is not None:
            payload["trigger_id"] = trigger_id
        return payload

    # what users do

    def slash(self, *, text: str, user: str, channel: str, command: str = "/release") -> DriverResponse:
        response_url = self.standin.new_response_url(channel=channel, user=user)
        trigger_id = self.standin.new_trigger_id(user)
        fields = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "team_domain": self.team_domain,
            "channel_id": channel,
            "channel_name": self.standin.channel_name(channel) or "directmessage",
            "user_id": user,
            "user_name": self.standin.user_name(user) or user,
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
        return self._send(urllib.parse.urlencode(fields), FORM, response_url=response_url, trigger_id=trigger_id)

    def click(
        self,
        *,
        user: str,
        action_id: str,
        channel: str | None = None,
        message_ts: str | None = None,
        value: str | None = None,
        block_id: str | None = None,
        view: Mapping[str, Any] | None = None,
        action: Mapping[str, Any] | None = None,
    ) -> DriverResponse:
        """A block_actions payload for a click in a message (channel + message_ts) or a view.

        The element is looked up by action_id so type/text/value match what the app rendered;
        explicit ``value``/``block_id``/``action`` override it, which is how tests forge clicks.
        """
        trigger_id = self.standin.new_trigger_id(user)
        payload = self._interaction("block_actions", user, trigger_id)
        response_url: str | None = None
        if view is not None:
            current = self._current_view(view)
            blocks = current.get("blocks", [])
            payload["container"] = {"type": "view", "view_id": current.get("id")}
            payload["view"] = current
            payload["state"] = current.get("state", {"values": {}})
        elif channel is not None and message_ts is not None:
            blocks = self._message_source(payload, user, channel, message_ts)
            response_url = self.standin.new_response_url(channel=channel, message_ts=message_ts, user=user)
            payload["response_url"] = response_url
        else:
            raise ValueError("click needs channel and message_ts, or view")
        found_block_id, element = _find_element(blocks, action_id, block_id)
        element = element or {"type": "button", "text": {"type": "plain_text", "text": action_id}}
        clicked: dict[str, Any] = {
            "type": element.get("type", "button"),
            "action_id": action_id,
            "block_id": found_block_id if found_block_id is not None else "",
            "action_ts": f"{time.time():.6f}",
        }
        for key in ("text", "value", "style"):
            if key in element:
                clicked[key] = element[key]
        if value is not None:
            clicked["value"] = value
        clicked.update(action or {})
        payload["actions"] = [clicked]
        return self._send_payload(payload, response_url=response_url, trigger_id=trigger_id)

    def _current_view(self, view: Mapping[str, Any]) -> dict[str, Any]:
        try:
            return self.standin.view(str(view.get("id")))
        except KeyError:
            return dict(view)

    def _message_source(self, payload: dict[str, Any], user: str, channel: str, ts: str) -> list[dict[str, Any]]:
        container: dict[str, Any] = {"type": "message", "message_ts": ts, "channel_id": channel}
        payload["channel"] = {"id": channel, "name": self.standin.channel_name(channel) or channel}
        payload["state"] = {"values": {}}
        try:
            message = self.standin.message(channel, ts)
        except KeyError:
            mine = [e for e in self.standin.ephemerals(channel=channel, user=user) if e["ts"] == ts]
            if not mine:
                raise LookupError(f"no message or ephemeral {ts} in {channel} for {user}") from None
            # Slack sends no "message" object for clicks in ephemeral messages.
            payload["container"] = {**container, "is_ephemeral": True}
            blocks: list[dict[str, Any]] = mine[0]["blocks"]
            return blocks
        if message["thread_ts"]:
            container["thread_ts"] = message["thread_ts"]
        payload["container"] = {**container, "is_ephemeral": False}
        source = {
            "type": "message",
            "user": message["user"],
            "ts": ts,
            "text": message["text"],
            "blocks": message["blocks"],
            "team": self.team_id,
        }
        if message["thread_ts"]:
            source["thread_ts"] = message["thread_ts"]
        payload["message"] = source
        return list(message["blocks"])

    def submit_view(
        self, *, user: str, view: Mapping[str, Any], values: Mapping[str, Mapping[str, Any]]
    ) -> DriverResponse:
        """A view_submission; afterwards the stand-in's modal stack follows the app's ack."""
        trigger_id = self.standin.new_trigger_id(user)
        payload = self._interaction("view_submission", user, trigger_id)
        submitted = {**self._current_view(view), "state": {"values": json.loads(json.dumps(values))}}
        payload["view"] = submitted
        payload["response_urls"] = []
        result = self._send_payload(payload, trigger_id=trigger_id)
        if result.status != 200:
            result.view_errors = [f"app answered HTTP {result.status}; Slack shows the user an error"]
        elif result.text.strip() and result.json is None:
            result.view_errors = ["ack body must be empty or a JSON object"]
        else:
            result.view_errors = self.standin.apply_view_response(user, str(submitted.get("id")), result.json)
        return result

    def close_view(self, *, user: str, view: Mapping[str, Any], is_cleared: bool = False) -> DriverResponse:
        """A view_closed payload (Slack sends it only for views with notify_on_close)."""
        payload = self._interaction("view_closed", user, None)
        payload["view"] = self._current_view(view)
        payload["is_cleared"] = is_cleared
        return self._send_payload(payload)

    def event(
        self,
        event: Mapping[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> DriverResponse:
        """An Events API delivery; pass the same event_id with retry_num to imitate Slack's retries."""
        envelope = {
            "token": self.verification_token,
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": dict(event),
            "type": "event_callback",
            "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.standin.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "context_team_id": self.team_id,
            "context_enterprise_id": None,
        }
        extra = {}
        if retry_num is not None:
            extra = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return self._send(json.dumps(envelope), JSON, extra_headers=extra)

    def app_home_opened(self, *, user: str, tab: str = "home") -> DriverResponse:
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": self.standin.dm_channel(user),
            "tab": tab,
            "event_ts": f"{time.time():.6f}",
        }
        home = self.standin.home_view(user)
        if home is not None:
            event["view"] = home
        return self.event(event)

    # what the app sent back through response_url

    def responses(self, r: DriverResponse) -> list[dict[str, Any]]:
        if r.response_url is None:
            raise ValueError("this request carried no response_url")
        return self.standin.responses(r.response_url)

    def wait_responses(self, r: DriverResponse, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        try:
            return wait_until(lambda: found if len(found := self.responses(r)) >= count else None, timeout)
        except TimeoutError:
            got = self.responses(r)
            raise TimeoutError(f"expected {count} response_url post(s) within {timeout} s, got {got!r}") from None
