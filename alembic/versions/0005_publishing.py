"""publishing: YouTube connections in progress, uploads, view-sync runs, post status and
comments, a campaign's minimum views per post, flag evidence, flag-held and reversed
earnings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "oauth_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("code_verifier_encrypted", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_oauth_requests_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_requests")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_oauth_requests_state_hash")),
    )
    with op.batch_alter_table("oauth_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauth_requests_user_id"), ["user_id"], unique=False)

    op.create_table(
        "view_sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("triggered_by", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("publications", sa.Integer(), nullable=False),
        sa.Column("snapshots", sa.Integer(), nullable=False),
        sa.Column("unavailable", sa.Integer(), nullable=False),
        sa.Column("unread", sa.Integer(), nullable=False),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("quota_units", sa.Integer(), nullable=False),
        sa.Column("stats_calls", sa.Integer(), nullable=False),
        sa.Column("flags_raised", sa.Integer(), nullable=False),
        sa.Column("bookings", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["triggered_by"], ["users.id"], name=op.f("fk_view_sync_runs_triggered_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_view_sync_runs")),
    )
    with op.batch_alter_table("view_sync_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_view_sync_runs_started_at"), ["started_at"], unique=False
        )

    op.create_table(
        "youtube_uploads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("clipper_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=5000), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("privacy", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress_percent", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("publication_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clipper_id"], ["users.id"], name=op.f("fk_youtube_uploads_clipper_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["publication_id"],
            ["publications.id"],
            name=op.f("fk_youtube_uploads_publication_id_publications"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_youtube_uploads_submission_id_submissions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_youtube_uploads")),
    )
    with op.batch_alter_table("youtube_uploads", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_youtube_uploads_clipper_id"), ["clipper_id"], unique=False
        )
        batch_op.create_index(
            "ix_youtube_uploads_status_updated", ["status", "updated_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_youtube_uploads_submission_id"), ["submission_id"], unique=False
        )

    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("min_views_per_post", sa.Integer(), nullable=False, server_default="0")
        )

    with op.batch_alter_table("fraud_flags", schema=None) as batch_op:
        batch_op.add_column(sa.Column("evidence", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("snapshot_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_fraud_flags_snapshot_id_view_snapshots"),
            "view_snapshots",
            ["snapshot_id"],
            ["id"],
        )

    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("held_by_flag_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reversal_of", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_ledger_transactions_held_by_flag_id"), ["held_by_flag_id"], unique=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_ledger_transactions_reversal_of"), ["reversal_of"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_ledger_transactions_held_by_flag_id_fraud_flags"),
            "fraud_flags",
            ["held_by_flag_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_ledger_transactions_reversal_of_ledger_transactions"),
            "ledger_transactions",
            ["reversal_of"],
            ["id"],
        )

    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comments", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), nullable=False, server_default="live")
        )
        batch_op.add_column(
            sa.Column("status_note", sa.String(length=300), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("added_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_publications_added_by_users"), "users", ["added_by"], ["id"]
        )

    with op.batch_alter_table("view_snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("comments", sa.Integer(), nullable=False, server_default="0"))

    # The defaults above only filled existing rows; the models supply values from now on.
    for table, columns in (
        ("campaigns", ("min_views_per_post",)),
        ("fraud_flags", ("evidence",)),
        ("publications", ("comments", "status", "status_note")),
        ("view_snapshots", ("comments",)),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.alter_column(column, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("view_snapshots", schema=None) as batch_op:
        batch_op.drop_column("comments")

    with op.batch_alter_table("publications", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_publications_added_by_users"), type_="foreignkey")
        batch_op.drop_column("added_by")
        batch_op.drop_column("status_note")
        batch_op.drop_column("status")
        batch_op.drop_column("comments")

    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_ledger_transactions_reversal_of_ledger_transactions"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_ledger_transactions_held_by_flag_id_fraud_flags"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_ledger_transactions_reversal_of"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_ledger_transactions_held_by_flag_id"))
        batch_op.drop_column("reversal_of")
        batch_op.drop_column("held_by_flag_id")

    with op.batch_alter_table("fraud_flags", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_fraud_flags_snapshot_id_view_snapshots"), type_="foreignkey"
        )
        batch_op.drop_column("snapshot_id")
        batch_op.drop_column("evidence")

    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("min_views_per_post")

    with op.batch_alter_table("youtube_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_youtube_uploads_submission_id"))
        batch_op.drop_index("ix_youtube_uploads_status_updated")
        batch_op.drop_index(batch_op.f("ix_youtube_uploads_clipper_id"))

    op.drop_table("youtube_uploads")
    with op.batch_alter_table("view_sync_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_view_sync_runs_started_at"))

    op.drop_table("view_sync_runs")
    with op.batch_alter_table("oauth_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_requests_user_id"))

    op.drop_table("oauth_requests")
