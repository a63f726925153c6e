"""the approver's day: quorum and separation of duties per gate, deputies, decisions for someone

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 15:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("checklist_items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decided_for", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("approvals_needed", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("not_by", sa.JSON(), server_default="[]", nullable=False))
        batch_op.add_column(sa.Column("approved_by", sa.JSON(), server_default="[]", nullable=False))
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("for_user", sa.String(length=32), nullable=True))
    op.create_table(
        "deputies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("role_key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("for_user", sa.String(length=32), nullable=True),
        sa.Column("until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("set_by", sa.String(length=32), nullable=False),
        sa.Column("set_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], name=op.f("fk_deputies_release_id_releases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deputies")),
        sa.UniqueConstraint("release_id", "role_key", "user_id", name="uq_deputies_slot"),
    )
    with op.batch_alter_table("deputies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deputies_release_id"), ["release_id"], unique=False)
    op.create_table(
        "nudges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=False),
        sa.Column("sent_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["item_id"], ["checklist_items.id"], name=op.f("fk_nudges_item_id_checklist_items"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["release_id"], ["releases.id"], name=op.f("fk_nudges_release_id_releases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nudges")),
        sa.UniqueConstraint("item_id", "user_id", "kind", "day", name="uq_nudges_slot"),
    )
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nudges_release_id"), ["release_id"], unique=False)
    op.create_table(
        "nudge_snoozes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("until", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["checklist_items.id"],
            name=op.f("fk_nudge_snoozes_item_id_checklist_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nudge_snoozes")),
        sa.UniqueConstraint("item_id", "user_id", name="uq_nudge_snoozes_item_user"),
    )
    with op.batch_alter_table("nudge_snoozes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nudge_snoozes_item_id"), ["item_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("nudge_snoozes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nudge_snoozes_item_id"))
    op.drop_table("nudge_snoozes")
    with op.batch_alter_table("nudges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nudges_release_id"))
    op.drop_table("nudges")
    with op.batch_alter_table("deputies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deputies_release_id"))
    op.drop_table("deputies")
    with op.batch_alter_table("decisions", schema=None) as batch_op:
        batch_op.drop_column("for_user")
    with op.batch_alter_table("checklist_items", schema=None) as batch_op:
        batch_op.drop_column("approved_by")
        batch_op.drop_column("not_by")
        batch_op.drop_column("approvals_needed")
        batch_op.drop_column("decided_for")
