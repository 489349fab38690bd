"""money moves through Stripe: card payments (Checkout) and their disputes, clippers'
Connect accounts, webhook events stored once, the admins' money settings, the daily
reconciliation, Stripe's ids on payouts, and an account for the card fees the platform
carries (which, like revenue, may go below zero)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stripe_transactions", sa.Integer(), nullable=False),
        sa.Column("ledger_bookings", sa.Integer(), nullable=False),
        sa.Column("matched", sa.Integer(), nullable=False),
        sa.Column("mismatches", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_runs")),
    )
    with op.batch_alter_table("reconciliation_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reconciliation_runs_day"), ["day"], unique=False)

    op.create_table(
        "stripe_events",
        sa.Column("id", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("account", sa.String(length=255), nullable=False),
        sa.Column("livemode", sa.Boolean(), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stripe_events")),
    )
    with op.batch_alter_table("stripe_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stripe_events_type"), ["type"], unique=False)
        batch_op.create_index(
            "ix_stripe_events_unprocessed", ["processed_at", "received_at"], unique=False
        )

    op.create_table(
        "card_payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("checkout_session_id", sa.String(length=255), nullable=True),
        sa.Column("checkout_url", sa.String(length=2000), nullable=False),
        sa.Column("payment_intent_id", sa.String(length=255), nullable=True),
        sa.Column("charge_id", sa.String(length=255), nullable=True),
        sa.Column("fee_cents", sa.Integer(), nullable=False),
        sa.Column("refunded_cents", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_card_payments_card_payment_positive")),
        sa.ForeignKeyConstraint(
            ["client_id"], ["users.id"], name=op.f("fk_card_payments_client_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_payments")),
        sa.UniqueConstraint(
            "checkout_session_id", name=op.f("uq_card_payments_checkout_session_id")
        ),
        sa.UniqueConstraint("client_id", "request_key", name="uq_card_payments_request"),
    )
    with op.batch_alter_table("card_payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_payments_charge_id"), ["charge_id"], unique=False)
        batch_op.create_index(
            "ix_card_payments_client_created", ["client_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_card_payments_payment_intent_id"), ["payment_intent_id"], unique=False
        )

    op.create_table(
        "money_settings",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name=op.f("fk_money_settings_updated_by_users")
        ),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_money_settings")),
    )
    op.create_table(
        "payout_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clipper_id", sa.Integer(), nullable=False),
        sa.Column("stripe_account_id", sa.String(length=255), nullable=False),
        sa.Column("details_submitted", sa.Boolean(), nullable=False),
        sa.Column("payouts_enabled", sa.Boolean(), nullable=False),
        sa.Column("transfers_active", sa.Boolean(), nullable=False),
        sa.Column("requirements", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clipper_id"], ["users.id"], name=op.f("fk_payout_accounts_clipper_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_accounts")),
        sa.UniqueConstraint("clipper_id", name=op.f("uq_payout_accounts_clipper_id")),
        sa.UniqueConstraint("stripe_account_id", name=op.f("uq_payout_accounts_stripe_account_id")),
    )
    op.create_table(
        "reconciliation_mismatches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("stripe_cents", sa.Integer(), nullable=True),
        sa.Column("ledger_cents", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["reconciliation_runs.id"],
            name=op.f("fk_reconciliation_mismatches_run_id_reconciliation_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_mismatches")),
    )
    with op.batch_alter_table("reconciliation_mismatches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reconciliation_mismatches_run_id"), ["run_id"], unique=False
        )

    op.create_table(
        "card_disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stripe_dispute_id", sa.String(length=255), nullable=False),
        sa.Column("card_payment_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("held_cents", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["card_payment_id"],
            ["card_payments.id"],
            name=op.f("fk_card_disputes_card_payment_id_card_payments"),
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["users.id"], name=op.f("fk_card_disputes_client_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_card_disputes")),
        sa.UniqueConstraint("stripe_dispute_id", name=op.f("uq_card_disputes_stripe_dispute_id")),
    )
    with op.batch_alter_table("card_disputes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_card_disputes_card_payment_id"), ["card_payment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_card_disputes_client_id"), ["client_id"], unique=False)

    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("transfer_id", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("stripe_payout_id", sa.String(length=255), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column("failure_reason", sa.String(length=500), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_payouts_stripe_payout_id"), ["stripe_payout_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payouts_transfer_id"), ["transfer_id"], unique=False)
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        for column in ("transfer_id", "stripe_payout_id", "failure_reason"):
            batch_op.alter_column(column, server_default=None)
    _protect("('platform_revenue', 'external_deposits', 'external_payouts', 'payment_fees')")


def _protect(unprotected: str) -> None:
    """Replace the check that keeps every account but the unprotected ones >= 0."""
    with op.batch_alter_table("ledger_accounts", schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f("ck_ledger_accounts_protected_balance_not_negative"), type_="check"
        )
        batch_op.create_check_constraint(
            op.f("ck_ledger_accounts_protected_balance_not_negative"),
            f"balance_cents >= 0 OR kind IN {unprotected}",
        )


def downgrade() -> None:
    _protect("('platform_revenue', 'external_deposits', 'external_payouts')")
    with op.batch_alter_table("payouts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payouts_transfer_id"))
        batch_op.drop_index(batch_op.f("ix_payouts_stripe_payout_id"))
        batch_op.drop_column("paid_at")
        batch_op.drop_column("failure_reason")
        batch_op.drop_column("stripe_payout_id")
        batch_op.drop_column("transfer_id")

    with op.batch_alter_table("card_disputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_disputes_client_id"))
        batch_op.drop_index(batch_op.f("ix_card_disputes_card_payment_id"))

    op.drop_table("card_disputes")
    with op.batch_alter_table("reconciliation_mismatches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reconciliation_mismatches_run_id"))

    op.drop_table("reconciliation_mismatches")
    op.drop_table("payout_accounts")
    op.drop_table("money_settings")
    with op.batch_alter_table("card_payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_card_payments_payment_intent_id"))
        batch_op.drop_index("ix_card_payments_client_created")
        batch_op.drop_index(batch_op.f("ix_card_payments_charge_id"))

    op.drop_table("card_payments")
    with op.batch_alter_table("stripe_events", schema=None) as batch_op:
        batch_op.drop_index("ix_stripe_events_unprocessed")
        batch_op.drop_index(batch_op.f("ix_stripe_events_type"))

    op.drop_table("stripe_events")
    with op.batch_alter_table("reconciliation_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reconciliation_runs_day"))

    op.drop_table("reconciliation_runs")
