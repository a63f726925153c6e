"""cutover attempts: a rolled-back release can be re-planned

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 12:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt", sa.Integer(), server_default="1", nullable=False))
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempt", sa.Integer(), server_default="1", nullable=False))
        batch_op.drop_constraint("uq_announcements_release_key", type_="unique")
        batch_op.create_unique_constraint("uq_announcements_release_attempt_key", ["release_id", "attempt", "key"])


def downgrade() -> None:
    with op.batch_alter_table("announcements", schema=None) as batch_op:
        batch_op.drop_constraint("uq_announcements_release_attempt_key", type_="unique")
        batch_op.create_unique_constraint("uq_announcements_release_key", ["release_id", "key"])
        batch_op.drop_column("attempt")
    with op.batch_alter_table("releases", schema=None) as batch_op:
        batch_op.drop_column("attempt")
