"""counts a clipper types are reports that wait for the campaign's client (or an admin);
money follows only once one is confirmed

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "count_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=False),
        sa.Column("views", sa.Integer(), nullable=False),
        sa.Column("likes", sa.Integer(), nullable=False),
        sa.Column("comments", sa.Integer(), nullable=False),
        sa.Column("engagement_known", sa.Boolean(), nullable=False),
        sa.Column("reported_by", sa.Integer(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=500), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["publication_id"], ["publications.id"]),
        sa.ForeignKeyConstraint(["reported_by"], ["users.id"]),
        sa.ForeignKeyConstraint(["snapshot_id"], ["view_snapshots.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("count_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_count_reports_publication_status", ["publication_id", "status"], unique=False
        )
        batch_op.create_index(
            "uq_count_reports_one_waiting",
            ["publication_id"],
            unique=True,
            sqlite_where=sa.text("status = 'waiting'"),
            postgresql_where=sa.text("status = 'waiting'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("count_reports", schema=None) as batch_op:
        batch_op.drop_index("uq_count_reports_one_waiting")
        batch_op.drop_index("ix_count_reports_publication_status")
    op.drop_table("count_reports")
