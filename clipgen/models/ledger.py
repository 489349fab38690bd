"""Double-entry ledger of every cent, and clippers' payouts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index
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


class PayoutStatus(StrEnum):
    REQUESTED = "requested"
    PAID = "paid"
    REJECTED = "rejected"


class LedgerAccount(SQLModel, table=True):
    """A balance holder: a user's, a campaign's, or the platform's.

    `code` names it uniquely, e.g. `clipper_pending:42` or `platform_revenue`.
    """

    __tablename__ = "ledger_accounts"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True)
    kind: str = Field(max_length=32)
    user_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    campaign_id: int | None = Field(default=None, foreign_key="campaigns.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class LedgerTransaction(SQLModel, table=True):
    """One movement of money; its entries sum to zero."""

    __tablename__ = "ledger_transactions"

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=128, unique=True)
    kind: str = Field(max_length=32, index=True)
    memo: str = Field(default="", max_length=500)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
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
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    requested_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
