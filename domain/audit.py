"""The audit trail's hash chain: canonical JSON, the row hash, and a verification that names the first bad row.

Each release has one chain. A row's hash is SHA-256 of (the previous row's hash + the row's canonical
JSON); the first row's previous hash is GENESIS. Changing, deleting or reordering any row changes every
hash after it, and the head (the last seq and hash, stored apart from the rows) catches a removed tail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64


def iso(at: datetime | None) -> str | None:
    """An instant as it is hashed: UTC, ISO 8601, microseconds (so a round trip through any database agrees)."""
    if at is None:
        return None
    if at.tzinfo is None:
        raise ValueError("naive datetime in an audit row")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class AuditRow:
    """One audit row as hashed. `data` holds JSON values only (str, int, bool, None, lists, objects)."""

    release_id: int
    seq: int
    kind: str
    actor: str | None
    at: datetime
    data: Mapping[str, Any] = field(default_factory=dict)


def canonical(row: AuditRow) -> str:
    """The row's canonical JSON: sorted keys, no spaces, UTF-8 kept as is."""
    body = {
        "release_id": row.release_id,
        "seq": row.seq,
        "kind": row.kind,
        "actor": row.actor,
        "at": iso(row.at),
        "data": row.data,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def chain_hash(prev_hash: str, row: AuditRow) -> str:
    return hashlib.sha256((prev_hash + canonical(row)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class StoredRow:
    row: AuditRow
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


@dataclass(frozen=True)
class Problem:
    release_id: int
    seq: int
    what: str


@dataclass(frozen=True)
class Verdict:
    release_id: int
    checked: int
    head: str
    problem: Problem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_chain(release_id: int, rows: Sequence[StoredRow], head: Head | None) -> Verdict:
    """Re-compute one release's chain (rows in stored seq order) and name the first row that does not match."""
    prev = GENESIS
    checked = 0

    def bad(seq: int, what: str) -> Verdict:
        return Verdict(release_id, checked, prev, Problem(release_id, seq, what))

    for expected_seq, stored in enumerate(rows, start=1):
        r = stored.row
        if r.release_id != release_id:
            return bad(r.seq, f"belongs to release id {r.release_id}, not {release_id}")
        if r.seq != expected_seq:
            return bad(expected_seq, f"row {expected_seq} is missing (found seq {r.seq} in its place)")
        if stored.prev_hash != prev:
            return bad(r.seq, f"previous hash {stored.prev_hash[:12]}… does not match row {r.seq - 1}'s {prev[:12]}…")
        computed = chain_hash(prev, r)
        if computed != stored.hash:
            what = f"content does not match its hash (stored {stored.hash[:12]}…, computed {computed[:12]}…)"
            return bad(r.seq, what)
        prev = computed
        checked += 1
    last = len(rows)
    if head is None:
        if rows:
            return bad(last, "the chain has rows but no head")
    elif head.seq != last or head.hash != prev:
        if head.seq > last:
            return bad(last + 1, f"row {last + 1} is missing: the head says the chain ends at row {head.seq}")
        return bad(head.seq, f"the head (row {head.seq}, {head.hash[:12]}…) does not match the last row ({last})")
    return Verdict(release_id, checked, prev, None)


def source_mismatch(recorded: Mapping[str, Any], source: Mapping[str, Any]) -> str | None:
    """Which field of a decision or event row differs from what the audit row recorded, if any."""
    for key in sorted(source):
        if recorded.get(key) != source[key]:
            return f"{key} is {source[key]!r} in the source row but {recorded.get(key)!r} in the audit row"
    return None
