"""The audit trail's SQL: appending to a release's hash chain, reading it back, verifying it, purging whole chains.

Every change to a release is an audit row. Two ways in:

- Inserting a `Decision` or a `ReleaseEvent` appends its audit row automatically, in the same flush and
  transaction (the `after_flush` hook below): nothing else to do.
- Anything else calls `await append(session, release_id, kind, actor, data, at)` inside the transaction that
  makes the change.

Appends to one release are serialised by locking the release row (`SELECT … FOR NO KEY UPDATE` on PostgreSQL; SQLite
transactions take the write lock up front), and the chain head (`audit_heads`) moves by a guarded
compare-and-swap, so replicas appending at once cannot fork a chain. The code has no UPDATE or DELETE of
`audit_events`: rows go only with their whole release (`purge`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, event, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from domain.audit import (
    GENESIS,
    AuditRow,
    Head,
    Problem,
    StoredRow,
    Verdict,
    chain_hash,
    iso,
    source_mismatch,
    verify_chain,
)
from storage.models import AuditEvent, AuditHead, ChecklistItem, Decision, Release, ReleaseEvent


class ChainMoved(RuntimeError):
    """The head moved under an append that held the release lock: should never happen; the transaction fails."""


def append_sync(
    conn: Connection, release_id: int, kind: str, actor: str | None, data: Mapping[str, Any], at: datetime
) -> int:
    """Append one row to a release's chain on this connection (inside its transaction); returns its seq."""
    # FOR NO KEY UPDATE: it excludes other appenders, but not the key-share lock a transaction already holds
    # on the release after inserting rows that refer to it (FOR UPDATE would deadlock two such transactions).
    conn.execute(select(Release.id).where(Release.id == release_id).with_for_update(key_share=True))
    # Read the head only once the lock is held: in the locking statement itself, PostgreSQL would re-check
    # the locked row after the wait but keep the head as the statement's snapshot saw it (a fork).
    head = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.release_id == release_id)).one_or_none()
    prev_seq, prev_hash = (head.seq, head.hash) if head is not None else (0, GENESIS)
    row = AuditRow(release_id=release_id, seq=prev_seq + 1, kind=kind, actor=actor, at=at, data=dict(data))
    digest = chain_hash(prev_hash, row)
    conn.execute(
        insert(AuditEvent).values(
            release_id=release_id,
            seq=row.seq,
            kind=kind,
            actor=actor,
            at=at,
            data=dict(data),
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    if head is None:
        conn.execute(insert(AuditHead).values(release_id=release_id, seq=row.seq, hash=digest))
    else:
        moved = conn.execute(
            update(AuditHead)
            .where(AuditHead.release_id == release_id, AuditHead.seq == prev_seq, AuditHead.hash == prev_hash)
            .values(seq=row.seq, hash=digest)
        )
        if moved.rowcount != 1:
            raise ChainMoved(f"audit chain of release {release_id} moved during an append")
    return row.seq


async def append(
    session: AsyncSession, release_id: int, kind: str, actor: str | None, data: Mapping[str, Any], at: datetime
) -> int:
    """Append one audit row for a change made in this session's transaction. `data`: JSON values only
    (put instants through `domain.audit.iso`). Returns the row's seq."""
    await session.flush()  # decisions and events added before this change come first in the chain
    conn = await session.connection()
    return await conn.run_sync(lambda c: append_sync(c, release_id, kind, actor, data, at))


# --- the automatic append of decisions and release events -------------------------------------------


def decision_record(d: Decision) -> dict[str, Any]:
    """What a decision row says, as its audit row records it (compared again by `verify`)."""
    record = {
        "kind": f"decision_{d.kind}",
        "actor": d.user_id,
        "at": iso(d.at),
        "decision_id": d.id,
        "item_id": d.item_id,
        "item_version": d.item_version,
        "role": d.role_key,
        "reason": d.reason,
        "window_start": iso(d.window_start),
        "window_end": iso(d.window_end),
    }
    # Only a deputy's decision names the holder it was for, so rows written before deputies existed
    # (and their backfill) keep the shape they were hashed with.
    if d.for_user:
        record["for_user"] = d.for_user
    return record


def event_record(e: ReleaseEvent) -> dict[str, Any]:
    return {"kind": e.kind, "actor": e.user_id, "at": iso(e.at), "event_id": e.id, "reason": e.reason}


def _split(record: dict[str, Any]) -> tuple[str, str | None, dict[str, Any]]:
    data = {k: v for k, v in record.items() if k not in ("kind", "actor", "at")}
    return record["kind"], record["actor"], data


@event.listens_for(Session, "after_flush")
def _audit_new_rows(session: Session, _context: Any) -> None:
    new = [o for o in session.new if isinstance(o, Decision | ReleaseEvent)]
    if not new:
        return
    conn = session.connection()
    # Within one flush: by time, events before decisions, then by id (the backfill's order too).
    for obj in sorted(new, key=lambda o: (o.at, isinstance(o, Decision), o.id)):
        if isinstance(obj, Decision):
            kind, actor, data = _split(decision_record(obj))
            data["item_key"] = conn.execute(
                select(ChecklistItem.key).where(ChecklistItem.id == obj.item_id)
            ).scalar_one_or_none()
            data["source"] = "decision"
        else:
            kind, actor, data = _split(event_record(obj))
            data["source"] = "release_event"
        append_sync(conn, obj.release_id, kind, actor, data, obj.at)


# --- reading and verifying ------------------------------------------------------------------------


async def chain(session: AsyncSession, release_id: int) -> Sequence[AuditEvent]:
    stmt = select(AuditEvent).where(AuditEvent.release_id == release_id).order_by(AuditEvent.seq, AuditEvent.id)
    return (await session.execute(stmt)).scalars().all()


async def head(session: AsyncSession, release_id: int) -> Head | None:
    row = await session.get(AuditHead, release_id)
    return None if row is None else Head(row.seq, row.hash)


def stored(row: AuditEvent) -> StoredRow:
    return StoredRow(
        AuditRow(release_id=row.release_id, seq=row.seq, kind=row.kind, actor=row.actor, at=row.at, data=row.data),
        row.prev_hash,
        row.hash,
    )


async def verify_release(session: AsyncSession, release_id: int) -> Verdict:
    """The chain re-computed, then every decision and release event still on file compared with its audit row."""
    rows = await chain(session, release_id)
    verdict = verify_chain(release_id, [stored(r) for r in rows], await head(session, release_id))
    if not verdict.ok:
        return verdict
    if not rows:
        return Verdict(release_id, 0, GENESIS, Problem(release_id, 1, "the release has no audit chain"))
    decisions = {
        d.id: decision_record(d)
        for d in (await session.execute(select(Decision).where(Decision.release_id == release_id))).scalars()
    }
    events = {
        e.id: event_record(e)
        for e in (await session.execute(select(ReleaseEvent).where(ReleaseEvent.release_id == release_id))).scalars()
    }
    seen_decisions: set[int] = set()
    seen_events: set[int] = set()
    for r in rows:
        recorded = {"kind": r.kind, "actor": r.actor, "at": iso(r.at), **r.data}
        source: dict[str, Any] | None = None
        if r.data.get("source") == "decision":
            seen_decisions.add(r.data["decision_id"])
            source = decisions.get(r.data["decision_id"])
        elif r.data.get("source") == "release_event":
            seen_events.add(r.data["event_id"])
            source = events.get(r.data["event_id"])
        # A source row gone with its item (a scope change) leaves its audit row as the record.
        if source is not None and (what := source_mismatch(recorded, source)) is not None:
            return Verdict(release_id, verdict.checked, verdict.head, Problem(release_id, r.seq, what))
    for name, ids, seen in (("decision", decisions, seen_decisions), ("release event", events, seen_events)):
        missing = sorted(set(ids) - seen)
        if missing:
            what = f"{name} id {missing[0]} has no audit row"
            return Verdict(release_id, verdict.checked, verdict.head, Problem(release_id, len(rows) + 1, what))
    return verdict


async def release_ids(session: AsyncSession) -> list[int]:
    return list((await session.execute(select(Release.id).order_by(Release.id))).scalars())


# --- retention ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Purged:
    release_id: int
    key: str
    team_id: str
    state: str
    audit_rows: int


async def purgeable(session: AsyncSession, states: Sequence[str], before: datetime) -> list[Purged]:
    """Finished releases last changed before `before`, with the size of their chains."""
    rows = await session.execute(
        select(Release.id, Release.number, Release.team_id, Release.state, AuditHead.seq)
        .outerjoin(AuditHead, AuditHead.release_id == Release.id)
        .where(Release.state.in_(list(states)), Release.updated_at < before)
        .order_by(Release.team_id, Release.number)
    )
    return [Purged(rid, f"REL-{number}", team, state, seq or 0) for rid, number, team, state, seq in rows]


async def purge_releases(session: AsyncSession, ids: Sequence[int], states: Sequence[str], before: datetime) -> int:
    """Delete whole releases (their audit chains, checklist, decisions, announcements and surveys go with them
    by cascade). The state and age guards are checked again in the statement. Returns how many went."""
    if not ids:
        return 0
    guarded = select(Release.id).where(
        Release.id.in_(list(ids)), Release.state.in_(list(states)), Release.updated_at < before
    )
    doomed = list((await session.execute(guarded.with_for_update())).scalars())
    if not doomed:
        return 0
    await session.execute(delete(AuditEvent).where(AuditEvent.release_id.in_(doomed)))
    await session.execute(delete(AuditHead).where(AuditHead.release_id.in_(doomed)))
    result = await session.execute(delete(Release).where(Release.id.in_(doomed)))
    return int(result.rowcount)  # type: ignore[attr-defined]
