"""ledger: cached balances the database keeps non-negative, what each transaction was for,
earnings holds

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PROTECTED = (
    "balance_cents >= 0 OR kind IN ('platform_revenue', 'external_deposits', 'external_payouts')"
)


def upgrade() -> None:
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("balance_cents", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_check_constraint(
            op.f("ck_ledger_accounts_protected_balance_not_negative"), PROTECTED
        )
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.alter_column("balance_cents", server_default=None)

    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("submission_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("payout_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("release_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("release_of", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_ledger_transactions_campaign_id_campaigns"),
            "campaigns",
            ["campaign_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            op.f("fk_ledger_transactions_submission_id_submissions"),
            "submissions",
            ["submission_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            op.f("fk_ledger_transactions_payout_id_payouts"), "payouts", ["payout_id"], ["id"]
        )
        batch_op.create_foreign_key(
            op.f("fk_ledger_transactions_release_of_ledger_transactions"),
            "ledger_transactions",
            ["release_of"],
            ["id"],
        )
        batch_op.create_unique_constraint(op.f("uq_ledger_transactions_release_of"), ["release_of"])
        batch_op.create_index(
            batch_op.f("ix_ledger_transactions_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_ledger_transactions_payout_id"), ["payout_id"], unique=False
        )
        batch_op.create_index(
            "ix_ledger_transactions_submission", ["submission_id", "kind"], unique=False
        )
        batch_op.create_index("ix_ledger_transactions_release_at", ["release_at"], unique=False)
    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.alter_column("details", server_default=None)

    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("earnings_held", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.alter_column("earnings_held", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("earnings_held")
    with op.batch_alter_table("ledger_transactions", schema=None) as batch_op:
        batch_op.drop_index("ix_ledger_transactions_release_at")
        batch_op.drop_index("ix_ledger_transactions_submission")
        batch_op.drop_index(batch_op.f("ix_ledger_transactions_payout_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_transactions_campaign_id"))
        batch_op.drop_constraint(op.f("uq_ledger_transactions_release_of"), type_="unique")
        batch_op.drop_constraint(
            op.f("fk_ledger_transactions_release_of_ledger_transactions"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            op.f("fk_ledger_transactions_payout_id_payouts"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            op.f("fk_ledger_transactions_submission_id_submissions"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            op.f("fk_ledger_transactions_campaign_id_campaigns"), type_="foreignkey"
        )
        batch_op.drop_column("release_of")
        batch_op.drop_column("release_at")
        batch_op.drop_column("details")
        batch_op.drop_column("payout_id")
        batch_op.drop_column("submission_id")
        batch_op.drop_column("campaign_id")
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_ledger_accounts_protected_balance_not_negative"), type_="check"
        )
        batch_op.drop_column("balance_cents")
