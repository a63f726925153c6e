"""Normalising Web API arguments: form posts carry JSON and booleans as strings."""

from __future__ import annotations

import json
from typing import Any

# Fields Slack accepts as JSON; in form bodies (and query strings) they arrive as JSON text.
JSON_FIELDS = ("blocks", "attachments", "view", "metadata")


def decode_json_fields(args: dict[str, Any]) -> dict[str, Any]:
    """Decodes JSON-valued fields that arrived as strings; undecodable ones stay strings.

    Handlers then reject a string where they need a list/object, which is how Slack reports
    malformed JSON (``invalid_blocks_format`` and friends).
    """
    decoded = dict(args)
    for key in JSON_FIELDS:
        value = decoded.get(key)
        if isinstance(value, str):
            try:
                decoded[key] = json.loads(value)
            except ValueError:
                pass
    return decoded


def flag(args: dict[str, Any], key: str) -> bool:
    value = args.get(key)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def id_list(value: Any) -> list[str]:
    """Slack takes lists of ids as comma-separated strings; JSON callers may send arrays."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list):
        return [str(part) for part in value]
    return []


def optional_str(args: dict[str, Any], key: str) -> str | None:
    """A string argument, treating "" like absent (clients send empty fields for unset ones)."""
    value = args.get(key)
    if value is None or value == "":
        return None
    return str(value)
