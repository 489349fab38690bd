"""Double-entry ledger of every cent, and clippers' payouts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index
from sqlmodel import Field, SQLModel

from clipgen.models.types import UTCDateTime, utcnow


class AccountKind(StrEnum):
    CLIENT_AVAILABLE = "client_available"
    CAMPAIGN_ESCROW = "campaign_escrow"
    CLIPPER_PENDING = "clipper_pending"
    CLIPPER_AVAILABLE = "clipper_available"
    CLIPPER_PAYOUT_PENDING = "clipper_payout_pending"
    PLATFORM_REVENUE = "platform_revenue"
    EXTERNAL_DEPOSITS = "external_deposits"
    EXTERNAL_PAYOUTS = "external_payouts"
    # Card processing fees the platform carries (Stripe's fee on each card payment).
    PAYMENT_FEES = "payment_fees"


# Accounts that may go below zero: the platform's and the outside world's. Every other
# balance is money someone holds, and the database refuses to let it go negative.
UNPROTECTED_KINDS = (
    AccountKind.PLATFORM_REVENUE,
    AccountKind.EXTERNAL_DEPOSITS,
    AccountKind.EXTERNAL_PAYOUTS,
    AccountKind.PAYMENT_FEES,
)


class TransactionKind(StrEnum):
    DEPOSIT = "deposit"
    CAMPAIGN_RESERVE = "campaign_reserve"
    CAMPAIGN_RELEASE = "campaign_release"
    APPROVAL = "approval"
    CPM = "cpm"
    BONUS = "bonus"
    EARNINGS_RELEASE = "earnings_release"
    PAYOUT_REQUEST = "payout_request"
    PAYOUT_PAID = "payout_paid"
    PAYOUT_REJECTED = "payout_rejected"
    FRAUD_REVERSAL = "fraud_reversal"
    PAYMENT_FEE = "payment_fee"
    CARD_REFUND = "card_refund"
    DISPUTE_HOLD = "dispute_hold"
    DISPUTE_WON = "dispute_won"
    DISPUTE_LOST = "dispute_lost"
    PAYOUT_RETURNED = "payout_returned"


class PayoutStatus(StrEnum):
    REQUESTED = "requested"
    # Sent to the clipper's Stripe account; Stripe is paying it out to their bank.
    PROCESSING = "processing"
    PAID = "paid"
    # Stripe could not pay it: the money went back to the clipper's available balance.
    FAILED = "failed"
    REJECTED = "rejected"


class LedgerAccount(SQLModel, table=True):
    """A balance holder: a user's, a campaign's, or the platform's.

    `code` names it uniquely, e.g. `clipper_pending:42` or `platform_revenue`.
    """

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint(
            "balance_cents >= 0 OR kind IN "
            "('platform_revenue', 'external_deposits', 'external_payouts', 'payment_fees')",
            name="protected_balance_not_negative",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=32)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id", index=True)
    # The sum of the account's entries, kept in step by the one posting function.
    balance_cents: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LedgerTransaction(SQLModel, table=True):
    """One movement of money; its entries sum to zero."""

    __tablename__ = "ledger_transactions"

    __table_args__ = (
        Index("ix_ledger_transactions_submission", "submission_id", "kind"),
        Index("ix_ledger_transactions_release_at", "release_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=128, unique=True)
    kind: str = Field(max_length=32, index=True)
    memo: str = Field(default="", max_length=500)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    # What the money was for, so every statement line can say it.
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id", index=True)
    submission_id: int | None = Field(default=None, foreign_key="submissions.id")
    payout_id: int | None = Field(default=None, foreign_key="payouts.id", index=True)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # Earnings: when their pending part may become available; the release that did it.
    release_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    release_of: int | None = Field(default=None, foreign_key="ledger_transactions.id", unique=True)
    # View earnings booked while their clip was flagged: kept pending until the flag is
    # cleared; a confirmed flag reverses them (the reversal names what it reversed).
    held_by_flag_id: int | None = Field(default=None, foreign_key="fraud_flags.id", index=True)
    reversal_of: int | None = Field(default=None, foreign_key="ledger_transactions.id", unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LedgerEntry(SQLModel, table=True):
    """One side of a transaction: a signed amount on one account."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("amount_cents <> 0", name="entry_not_zero"),
        Index("ix_ledger_entries_account_created", "account_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    transaction_id: int = Field(foreign_key="ledger_transactions.id", index=True)
    account_id: int = Field(foreign_key="ledger_accounts.id")
    amount_cents: int
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Payout(SQLModel, table=True):
    """A clipper's request to be paid their available balance."""

    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="payout_positive"),
        Index("ix_payouts_status_requested", "status", "requested_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    clipper_id: int = Field(foreign_key="users.id", index=True)
    amount_cents: int
    status: str = Field(default=PayoutStatus.REQUESTED, max_length=16)
    provider: str = Field(default="manual", max_length=32)
    reference: str = Field(default="", max_length=200)
    rejection_reason: str = Field(default="", max_length=500)
    # Stripe Connect: the transfer to the clipper's account and its payout to their bank.
    transfer_id: str = Field(default="", max_length=255, index=True)
    stripe_payout_id: str = Field(default="", max_length=255, index=True)
    failure_reason: str = Field(default="", max_length=500)
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
