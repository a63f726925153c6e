"""views.* methods, trigger_id exchange, the per-user modal stack and Home tabs."""

from __future__ import annotations

import copy
import secrets
import string
import time
from collections.abc import Callable
from typing import Any

from sandbox.blockkit import BlockError, validate_view, view_too_large, with_generated_ids
from sandbox.replies import Reply, fail, invalid_view, ok
from sandbox.workspace import Workspace

MAX_STACK = 3
_VIEW_ID_ALPHABET = string.ascii_uppercase + string.digits


def _new_view_id() -> str:
    return "V" + "".join(secrets.choice(_VIEW_ID_ALPHABET) for _ in range(10))


def _new_hash() -> str:
    return f"{int(time.time())}.{secrets.token_hex(4)}"


def _checked_view(args: dict[str, Any], kind: str) -> dict[str, Any] | Reply:
    view = args.get("view")
    if view is None:
        return invalid_view([BlockError("missing required field: view", "/view")])
    if view_too_large(view):
        return fail("view_too_large")
    errors = validate_view(view)
    if not errors and view.get("type") != kind:
        errors = [BlockError(f"must be {kind} for this method", "/view/type")]
    if errors:
        return invalid_view(errors)
    return view


def _external_id_taken(ws: Workspace, view: dict[str, Any], *, except_id: str | None = None) -> bool:
    external_id = view.get("external_id")
    return bool(external_id) and any(
        stored.get("external_id") == external_id and view_id != except_id for view_id, stored in ws.views.items()
    )


def _stored_view(
    ws: Workspace, view: dict[str, Any], *, view_id: str, root_view_id: str, previous_view_id: str | None
) -> dict[str, Any]:
    stored: dict[str, Any] = {
        "id": view_id,
        "team_id": ws.team_id,
        "type": view["type"],
        "blocks": with_generated_ids(view["blocks"]),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "external_id": view.get("external_id", ""),
        "state": {"values": {}},
        "hash": _new_hash(),
        "clear_on_close": bool(view.get("clear_on_close", False)),
        "notify_on_close": bool(view.get("notify_on_close", False)),
        "submit_disabled": bool(view.get("submit_disabled", False)),
        "root_view_id": root_view_id,
        "previous_view_id": previous_view_id,
        "app_id": ws.app_id,
        "app_installed_team_id": ws.team_id,
        "bot_id": ws.bot_id,
    }
    for key in ("title", "submit", "close"):
        if key in view:
            stored[key] = copy.deepcopy(view[key])
    ws.views[view_id] = stored
    return stored


def _place_modal(ws: Workspace, user: str | None, view: dict[str, Any], *, push: bool) -> dict[str, Any]:
    stack = ws.stacks.setdefault(user, []) if push else []
    view_id = _new_view_id()
    stored = _stored_view(
        ws,
        view,
        view_id=view_id,
        root_view_id=stack[0] if stack else view_id,
        previous_view_id=stack[-1] if stack else None,
    )
    stack.append(view_id)
    ws.stacks[user] = stack
    ws.view_owner[view_id] = user
    ws.opened.append((user, copy.deepcopy(stored)))
    return stored


def _exchange(ws: Workspace, args: dict[str, Any], *, push: bool) -> Reply:
    trigger_id = args.get("trigger_id")
    problem = ws.trigger_problem(trigger_id)
    if problem or not isinstance(trigger_id, str):
        return fail(problem or "invalid_trigger_id")
    view = _checked_view(args, "modal")
    if isinstance(view, Reply):
        return view
    if _external_id_taken(ws, view):
        return fail("duplicate_external_id")
    trigger = ws.triggers[trigger_id]
    if push and len(ws.stacks.get(trigger.user, [])) >= MAX_STACK:
        return fail("push_limit_reached")
    # Only a successful exchange spends the trigger, so an app can fix its view and retry in time.
    trigger.used = True
    return ok(view=copy.deepcopy(_place_modal(ws, trigger.user, view, push=push)))


def open_view(ws: Workspace, args: dict[str, Any]) -> Reply:
    return _exchange(ws, args, push=False)


def push_view(ws: Workspace, args: dict[str, Any]) -> Reply:
    return _exchange(ws, args, push=True)


def update_view(ws: Workspace, args: dict[str, Any]) -> Reply:
    view_id = args.get("view_id")
    external_id = args.get("external_id")
    if not view_id and not external_id:
        return invalid_view([BlockError("missing required field: view_id or external_id", "/view_id")])
    if view_id:
        current = ws.views.get(view_id) if isinstance(view_id, str) else None
    else:
        current = next((v for v in ws.views.values() if v.get("external_id") == external_id), None)
    if current is None:
        return fail("not_found")
    expected = args.get("hash")
    if expected and expected != current["hash"]:
        return fail("hash_conflict")
    view = _checked_view(args, current["type"])
    if isinstance(view, Reply):
        return view
    if _external_id_taken(ws, view, except_id=current["id"]):
        return fail("duplicate_external_id")
    stored = _stored_view(
        ws,
        view,
        view_id=current["id"],
        root_view_id=current["root_view_id"],
        previous_view_id=current["previous_view_id"],
    )
    return ok(view=copy.deepcopy(stored))


def publish_view(ws: Workspace, args: dict[str, Any]) -> Reply:
    user_id = args.get("user_id")
    if not isinstance(user_id, str) or user_id not in ws.users:
        return fail("user_not_found")
    view = _checked_view(args, "home")
    if isinstance(view, Reply):
        return view
    existing_id = ws.home.get(user_id)
    expected = args.get("hash")
    if expected and (existing_id is None or ws.views[existing_id]["hash"] != expected):
        return fail("hash_conflict")
    view_id = existing_id or _new_view_id()
    stored = _stored_view(ws, view, view_id=view_id, root_view_id=view_id, previous_view_id=None)
    ws.home[user_id] = view_id
    ws.view_owner[view_id] = user_id
    return ok(view=copy.deepcopy(stored))


def apply_view_response(ws: Workspace, user: str | None, view_id: str, body: Any) -> list[str]:
    """Plays the client's part after a view_submission ack; returns problems Slack would show.

    An empty ack closes the submitted view; ``response_action`` update/push/clear/errors act
    on the stack as Slack's client does, so tests see the modal state a user would.
    """
    stack = ws.stacks.setdefault(user, [])
    if not body:
        if view_id in stack:
            del stack[stack.index(view_id) :]
        return []
    if not isinstance(body, dict):
        return ["ack body must be empty or a JSON object"]
    action = body.get("response_action")
    if action == "clear":
        stack.clear()
        return []
    if action == "errors":
        return _check_error_keys(ws.views.get(view_id), body.get("errors"))
    if action in ("update", "push"):
        view = body.get("view")
        errors = validate_view(view)
        if errors:
            return [f"[ERROR] {e}" for e in errors]
        if not isinstance(view, dict) or view.get("type") != "modal":
            return [f"[ERROR] {BlockError('must be modal', '/view/type')}"]
        if action == "push":
            if len(stack) >= MAX_STACK:
                return ["push_limit_reached"]
            _place_modal(ws, user, view, push=True)
            return []
        current = ws.views.get(view_id)
        if current is None:
            return ["not_found"]
        _stored_view(
            ws,
            view,
            view_id=view_id,
            root_view_id=current["root_view_id"],
            previous_view_id=current["previous_view_id"],
        )
        return []
    return [f"unknown response_action: {action!r}"]


def _check_error_keys(view: dict[str, Any] | None, errors: Any) -> list[str]:
    if not isinstance(errors, dict) or not errors:
        return ["response_action errors needs a non-empty errors object"]
    input_ids = {
        b.get("block_id") for b in (view or {}).get("blocks", []) if isinstance(b, dict) and b.get("type") == "input"
    }
    # Slack only shows errors keyed by an input block's block_id; any other key is an app bug.
    return [f"errors key {key!r} is not the block_id of an input block" for key in errors if key not in input_ids]


HANDLERS: dict[str, Callable[[Workspace, dict[str, Any]], Reply]] = {
    "views.open": open_view,
    "views.push": push_view,
    "views.update": update_view,
    "views.publish": publish_view,
}
