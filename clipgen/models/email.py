"""Email notifications: the outbox of emails to send, and the emails people turned off."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from clipgen.models.types import UTCDateTime, utcnow


class DeliveryStatus(StrEnum):
    QUEUED = "queued"  # waiting for a worker (again, after a refused attempt)
    SENDING = "sending"  # a worker took it and is talking to the SMTP server
    SENT = "sent"
    FAILED = "failed"  # given up: refused for good, or out of attempts


class EmailDelivery(SQLModel, table=True):
    """One email of one notification, written in the notification's unit of work and
    sent by a worker. `idempotency_key` (one per event) makes it exist at most once."""

    __tablename__ = "email_deliveries"
    __table_args__ = (Index("ix_email_deliveries_status_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=128, unique=True)
    notification_id: int | None = Field(default=None, foreign_key="notifications.id", index=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    kind: str = Field(max_length=32)
    to_address: str = Field(max_length=254)
    subject: str = Field(max_length=200)
    body: str = Field(sa_type=Text)
    status: str = Field(default=DeliveryStatus.QUEUED, max_length=16)
    attempts: int = 0
    last_error: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When a queued email may be tried (later than now while backing off after a refusal).
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # When a worker took it; a 'sending' row this old had its worker die.
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class EmailOptOut(SQLModel, table=True):
    """A kind of email (a group of notification kinds) one user does not want. Every
    email is on until its row exists."""

    __tablename__ = "email_opt_outs"
    __table_args__ = (UniqueConstraint("user_id", "email_group"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    email_group: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
