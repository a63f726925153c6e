"""audit trail: a hash chain per release, backfilled from releases, decisions and release events

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 15:50:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import storage.types
from domain.audit import GENESIS, AuditRow, chain_hash, iso

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DT = storage.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=48), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=True),
        sa.Column("at", UTC_DT, nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], name=op.f("fk_audit_events_release_id_releases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
        sa.UniqueConstraint("release_id", "seq", name="uq_audit_events_release_seq"),
    )
    op.create_table(
        "audit_heads",
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], name=op.f("fk_audit_heads_release_id_releases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("release_id", name=op.f("pk_audit_heads")),
    )
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    """One chain per existing release: its creation, then its decisions and events by time (events first on a
    tie), then id. The rows are what storage/audit.py would have written at the time."""
    releases = sa.table(
        "releases",
        sa.column("id", sa.Integer),
        sa.column("name", sa.String),
        sa.column("template_key", sa.String),
        sa.column("channel_id", sa.String),
        sa.column("cutover_start", UTC_DT),
        sa.column("cutover_end", UTC_DT),
        sa.column("timezone", sa.String),
        sa.column("created_by", sa.String),
        sa.column("created_at", UTC_DT),
    )
    decisions = sa.table(
        "decisions",
        *(sa.column(c, sa.Integer) for c in ("id", "release_id", "item_id", "item_version")),
        *(sa.column(c, sa.String) for c in ("kind", "user_id", "role_key", "reason")),
        *(sa.column(c, UTC_DT) for c in ("at", "window_start", "window_end")),
    )
    items = sa.table("checklist_items", sa.column("id", sa.Integer), sa.column("key", sa.String))
    events = sa.table(
        "release_events",
        sa.column("id", sa.Integer),
        sa.column("release_id", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("user_id", sa.String),
        sa.column("reason", sa.String),
        sa.column("at", UTC_DT),
    )
    audit = sa.table(
        "audit_events",
        sa.column("release_id", sa.Integer),
        sa.column("seq", sa.Integer),
        sa.column("kind", sa.String),
        sa.column("actor", sa.String),
        sa.column("at", UTC_DT),
        sa.column("data", sa.JSON),
        sa.column("prev_hash", sa.String),
        sa.column("hash", sa.String),
    )
    heads = sa.table("audit_heads", sa.column("release_id"), sa.column("seq"), sa.column("hash"))

    # (release id, at, tie order, id, kind, actor, data)
    entries: dict[int, list[tuple[Any, ...]]] = {}
    for r in conn.execute(sa.select(releases)).mappings():
        data = {
            "name": r["name"],
            "template": r["template_key"],
            "channel": r["channel_id"],
            "window_start": iso(r["cutover_start"]),
            "window_end": iso(r["cutover_end"]),
            "timezone": r["timezone"],
            "backfilled": True,
        }
        entries[r["id"]] = [(r["created_at"], 0, 0, "release_created", r["created_by"], data)]
    for e in conn.execute(sa.select(events)).mappings():
        data = {"event_id": e["id"], "reason": e["reason"], "source": "release_event"}
        entries.setdefault(e["release_id"], []).append((e["at"], 1, e["id"], e["kind"], e["user_id"], data))
    joined = sa.select(decisions, items.c.key).select_from(
        decisions.outerjoin(items, items.c.id == decisions.c.item_id)
    )
    for d in conn.execute(joined).mappings():
        data = {
            "decision_id": d["id"],
            "item_id": d["item_id"],
            "item_version": d["item_version"],
            "role": d["role_key"],
            "reason": d["reason"],
            "window_start": iso(d["window_start"]),
            "window_end": iso(d["window_end"]),
            "item_key": d["key"],
            "source": "decision",
        }
        entries.setdefault(d["release_id"], []).append(
            (d["at"], 2, d["id"], f"decision_{d['kind']}", d["user_id"], data)
        )
    for release_id, rows in sorted(entries.items()):
        # The creation stays first even if a clock put an event before it.
        rows.sort(key=lambda t: (t[1] != 0, t[0], t[1], t[2]))
        prev = GENESIS
        values = []
        for seq, (at, _tie, _id, kind, actor, data) in enumerate(rows, start=1):
            row = AuditRow(release_id=release_id, seq=seq, kind=kind, actor=actor, at=at, data=data)
            digest = chain_hash(prev, row)
            values.append(
                {
                    "release_id": release_id,
                    "seq": seq,
                    "kind": kind,
                    "actor": actor,
                    "at": at,
                    "data": data,
                    "prev_hash": prev,
                    "hash": digest,
                }
            )
            prev = digest
        conn.execute(sa.insert(audit), values)
        conn.execute(sa.insert(heads).values(release_id=release_id, seq=len(values), hash=prev))


def downgrade() -> None:
    op.drop_table("audit_heads")
    op.drop_table("audit_events")
