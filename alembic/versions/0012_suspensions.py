"""account suspensions: when an admin suspended an account, why and who, and which
campaigns the suspension paused (so lifting it can resume exactly those)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("suspended_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("suspension_reason", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("suspended_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_users_suspended_by_id_users"), "users", ["suspended_by_id"], ["id"]
        )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "paused_by_suspension", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.alter_column("paused_by_suspension", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("paused_by_suspension")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_suspended_by_id_users"), type_="foreignkey")
        batch_op.drop_column("suspended_by_id")
        batch_op.drop_column("suspension_reason")
        batch_op.drop_column("suspended_at")
