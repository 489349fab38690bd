"""a post earns only once the platform's own API shows it is the clipper's post of the
clip: every post gets a verification state, and existing posts start pending

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("publications", schema=None) as batch_op:
        # Existing posts were never checked: pending until the verification run settles them.
        batch_op.add_column(
            sa.Column(
                "verification", sa.String(length=16), nullable=False, server_default="pending"
            )
        )
        batch_op.add_column(
            sa.Column("verification_note", sa.String(length=500), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("verified_by", sa.String(length=16), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("platform_ref", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("verification_checked_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_publications_verification", ["verification"], unique=False)
    with op.batch_alter_table("view_sync_runs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("calls_by_platform", sa.JSON(), nullable=False, server_default="{}")
        )
        batch_op.add_column(sa.Column("verified", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("refused", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("count_reports", schema=None) as batch_op:
        # A screenshot of the post's counts, attached as evidence to a typed count.
        batch_op.add_column(
            sa.Column("evidence_key", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("evidence_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_count_reports_evidence_by_users", "users", ["evidence_by"], ["id"]
        )
        batch_op.alter_column("evidence_key", server_default=None)
    with op.batch_alter_table("publications", schema=None) as batch_op:
        for column in ("verification", "verification_note", "verified_by", "platform_ref"):
            batch_op.alter_column(column, server_default=None)
    with op.batch_alter_table("view_sync_runs", schema=None) as batch_op:
        for column in ("calls_by_platform", "verified", "refused"):
            batch_op.alter_column(column, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("count_reports", schema=None) as batch_op:
        batch_op.drop_constraint("fk_count_reports_evidence_by_users", type_="foreignkey")
        batch_op.drop_column("evidence_by")
        batch_op.drop_column("evidence_key")
    with op.batch_alter_table("view_sync_runs", schema=None) as batch_op:
        for column in ("retry_at", "refused", "verified", "calls_by_platform"):
            batch_op.drop_column(column)
    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.drop_index("ix_publications_verification")
        for column in (
            "platform_ref",
            "verification_checked_at",
            "verified_by",
            "verification_note",
            "verification",
        ):
            batch_op.drop_column(column)
