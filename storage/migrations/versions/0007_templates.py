"""templates: a release keeps its template's version and snapshot; items get short keys and soft removal

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 15:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("template_version", sa.String(length=40), server_default="", nullable=False))
        batch_op.add_column(sa.Column("template_snapshot", sa.Text(), nullable=True))
    with op.batch_alter_table("checklist_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("number", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("removed_at", storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("scope_bound", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("description", sa.Text(), nullable=True))
    # Existing items are numbered in checklist order, per release: the keys people type (#1, #2, …).
    items = sa.table(
        "checklist_items",
        sa.column("id", sa.Integer()),
        sa.column("release_id", sa.Integer()),
        sa.column("phase_position", sa.Integer()),
        sa.column("position", sa.Integer()),
        sa.column("number", sa.Integer()),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(items.c.id, items.c.release_id).order_by(
            items.c.release_id, items.c.phase_position, items.c.position, items.c.id
        )
    ).all()
    counters: dict[int, int] = {}
    for item_id, release_id in rows:
        counters[release_id] = counters.get(release_id, 0) + 1
        bind.execute(sa.update(items).where(items.c.id == item_id).values(number=counters[release_id]))
    with op.batch_alter_table("checklist_items", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_checklist_items_release_number", ["release_id", "number"])


def downgrade() -> None:
    with op.batch_alter_table("checklist_items", schema=None) as batch_op:
        batch_op.drop_constraint("uq_checklist_items_release_number", type_="unique")
        batch_op.drop_column("description")
        batch_op.drop_column("scope_bound")
        batch_op.drop_column("removed_at")
        batch_op.drop_column("number")
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_column("template_snapshot")
        batch_op.drop_column("template_version")
