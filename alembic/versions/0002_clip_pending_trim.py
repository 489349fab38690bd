"""a clip keeps its pending trim, so the re-render message carries ids only

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pending_start_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("pending_end_s", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("pending_words", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.drop_column("pending_words")
        batch_op.drop_column("pending_end_s")
        batch_op.drop_column("pending_start_s")
