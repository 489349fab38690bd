"""Money through Stripe: card payments and their disputes, clippers' connected accounts,
the webhook events Stripe sent, admin money settings, and the daily reconciliation.

The ledger stays the one truth of balances; these rows say what Stripe said, so that
every booking can name the Stripe object it came from (and be booked once)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from clipgen.models.types import UTCDateTime, utcnow


class CardPaymentStatus(StrEnum):
    OPEN = "open"  # Checkout Session created, the client has not paid (yet)
    PROCESSING = "processing"  # paid by a delayed method, not confirmed by Stripe yet
    PAID = "paid"  # booked into the client's balance
    EXPIRED = "expired"  # the session expired or failed unpaid


class CardPayment(SQLModel, table=True):
    """One Add funds by card: a Checkout Session, booked only from Stripe's webhook."""

    __tablename__ = "card_payments"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="card_payment_positive"),
        UniqueConstraint("client_id", "request_key", name="uq_card_payments_request"),
        Index("ix_card_payments_client_created", "client_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="users.id")
    amount_cents: int
    # One per form shown: a double click is one Checkout Session.
    request_key: str = Field(max_length=64)
    status: str = Field(default=CardPaymentStatus.OPEN, max_length=16)
    checkout_session_id: str | None = Field(default=None, max_length=255, unique=True)
    checkout_url: str = Field(default="", max_length=2000)
    payment_intent_id: str | None = Field(default=None, max_length=255, index=True)
    charge_id: str | None = Field(default=None, max_length=255, index=True)
    # Stripe's fee on the charge (from its balance transaction), carried by the platform.
    fee_cents: int = 0
    refunded_cents: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class DisputeStatus(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class CardDispute(SQLModel, table=True):
    """A cardholder's dispute of a card payment: its amount is held from the client's
    available balance (never from escrow) until Stripe closes it."""

    __tablename__ = "card_disputes"

    id: int | None = Field(default=None, primary_key=True)
    stripe_dispute_id: str = Field(max_length=255, unique=True)
    card_payment_id: int = Field(foreign_key="card_payments.id", index=True)
    client_id: int = Field(foreign_key="users.id", index=True)
    amount_cents: int
    # What could be held from the client's available balance; the rest the platform carries.
    held_cents: int = 0
    reason: str = Field(default="", max_length=64)
    status: str = Field(default=DisputeStatus.OPEN, max_length=16)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PayoutAccount(SQLModel, table=True):
    """A clipper's Stripe Connect Express account, as Stripe last described it."""

    __tablename__ = "payout_accounts"

    id: int | None = Field(default=None, primary_key=True)
    clipper_id: int = Field(foreign_key="users.id", unique=True)
    stripe_account_id: str = Field(max_length=255, unique=True)
    details_submitted: bool = False
    payouts_enabled: bool = False
    transfers_active: bool = False
    # Stripe's `requirements`: currently_due, past_due, disabled_reason, ...
    requirements: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class StripeEvent(SQLModel, table=True):
    """An event Stripe delivered to the webhook, stored once by its id, worked once."""

    __tablename__ = "stripe_events"
    __table_args__ = (Index("ix_stripe_events_unprocessed", "processed_at", "received_at"),)

    id: str = Field(primary_key=True, max_length=255)
    type: str = Field(max_length=100, index=True)
    # The connected account it happened on ("" for the platform's own).
    account: str = Field(default="", max_length=255)
    livemode: bool = False
    created: datetime | None = Field(default=None, sa_type=UTCDateTime)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    outcome: str = Field(default="", max_length=500)


class MoneySetting(SQLModel, table=True):
    """A money setting an admin changes in the app (e.g. the automatic approval limit)."""

    __tablename__ = "money_settings"

    name: str = Field(primary_key=True, max_length=64)
    value: int = 0
    updated_by: int | None = Field(default=None, foreign_key="users.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReconciliationRun(SQLModel, table=True):
    """One comparison of a day of the ledger's Stripe bookings with Stripe's balance
    transactions."""

    __tablename__ = "reconciliation_runs"

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    stripe_transactions: int = 0
    ledger_bookings: int = 0
    matched: int = 0
    mismatches: int = 0
    error: str = Field(default="", max_length=500)


class ReconciliationMismatch(SQLModel, table=True):
    """One thing Stripe and the ledger disagree on."""

    __tablename__ = "reconciliation_mismatches"

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="reconciliation_runs.id", index=True)
    # missing_in_ledger, missing_at_stripe, amount_differs, fee_differs
    kind: str = Field(max_length=32)
    category: str = Field(default="", max_length=32)  # charge, refund, transfer, ...
    source: str = Field(default="", max_length=255)  # the Stripe object (ch_, re_, tr_ ...)
    stripe_cents: int | None = None
    ledger_cents: int | None = None
    note: str = Field(default="", max_length=500)
