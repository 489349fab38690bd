"""appeals: a clipper's one appeal against a rejection, a confirmed fraud flag or a
suspension, and who decided it and why

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("appellant_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_key", sa.String(length=64), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("flag_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("decider_client_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["appellant_id"], ["users.id"], name=op.f("fk_appeals_appellant_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submissions.id"], name=op.f("fk_appeals_submission_id_submissions")
        ),
        sa.ForeignKeyConstraint(
            ["flag_id"], ["fraud_flags.id"], name=op.f("fk_appeals_flag_id_fraud_flags")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_appeals_user_id_users")),
        sa.ForeignKeyConstraint(
            ["decider_client_id"], ["users.id"], name=op.f("fk_appeals_decider_client_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["users.id"], name=op.f("fk_appeals_decided_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appeals")),
        sa.UniqueConstraint("subject_key", name=op.f("uq_appeals_subject_key")),
    )
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appeals_appellant_id"), ["appellant_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_appeals_decider_client_id"), ["decider_client_id"], unique=False
        )
        batch_op.create_index(
            "ix_appeals_kind_status_created", ["kind", "status", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("appeals", schema=None) as batch_op:
        batch_op.drop_index("ix_appeals_kind_status_created")
        batch_op.drop_index(batch_op.f("ix_appeals_decider_client_id"))
        batch_op.drop_index(batch_op.f("ix_appeals_appellant_id"))
    op.drop_table("appeals")
