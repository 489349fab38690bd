"""marketplace: own edits and post captions on submissions, claim-expiry warnings,
generation jobs made for a claim, a source's shared analysis

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("video_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("caption", sa.String(length=2200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("hashtags", sa.String(length=500), nullable=False, server_default="")
        )
        batch_op.create_foreign_key(
            op.f("fk_submissions_video_id_videos"), "videos", ["video_id"], ["id"]
        )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.alter_column("caption", server_default=None)
        batch_op.alter_column("hashtags", server_default=None)

    with op.batch_alter_table("market_jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expiry_warned_at", sa.DateTime(timezone=True), nullable=True)
        )

    with op.batch_alter_table("processing_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("market_job_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            op.f("ix_processing_jobs_market_job_id"), ["market_job_id"], unique=False
        )
        batch_op.create_foreign_key(
            op.f("fk_processing_jobs_market_job_id_market_jobs"),
            "market_jobs",
            ["market_job_id"],
            ["id"],
        )

    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("analysis_state", sa.String(length=16), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("analysis_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.alter_column("analysis_state", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("videos", schema=None) as batch_op:
        batch_op.drop_column("analysis_at")
        batch_op.drop_column("analysis_state")
    with op.batch_alter_table("processing_jobs", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("fk_processing_jobs_market_job_id_market_jobs"), type_="foreignkey"
        )
        batch_op.drop_index(op.f("ix_processing_jobs_market_job_id"))
        batch_op.drop_column("market_job_id")
    with op.batch_alter_table("market_jobs", schema=None) as batch_op:
        batch_op.drop_column("expiry_warned_at")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_submissions_video_id_videos"), type_="foreignkey")
        batch_op.drop_column("hashtags")
        batch_op.drop_column("caption")
        batch_op.drop_column("video_id")
