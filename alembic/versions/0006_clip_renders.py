"""a job's clips are planned as rows, so each is rendered once by whichever worker
claims it and shown as soon as it is stored; a clip keeps its layout for trims

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "clip_renders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["job_id"], ["processing_jobs.id"], name=op.f("fk_clip_renders_job_id_processing_jobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clip_renders")),
    )
    with op.batch_alter_table("clip_renders", schema=None) as batch_op:
        batch_op.create_index("ix_clip_renders_job_rank", ["job_id", "rank"], unique=True)
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("layout", sa.String(length=16), nullable=False, server_default="auto")
        )
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.alter_column("layout", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.drop_column("layout")
    with op.batch_alter_table("clip_renders", schema=None) as batch_op:
        batch_op.drop_index("ix_clip_renders_job_rank")
    op.drop_table("clip_renders")
