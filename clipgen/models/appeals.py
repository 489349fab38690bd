"""A clipper's one appeal against a rejection, a confirmed fraud flag or a suspension."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from clipgen.models.types import UTCDateTime, utcnow


class AppealKind(StrEnum):
    REJECTION = "rejection"  # decided by the campaign's client
    FLAG = "flag"  # a confirmed fraud flag: decided by admins
    SUSPENSION = "suspension"  # decided by admins


class AppealStatus(StrEnum):
    OPEN = "open"
    UPHELD = "upheld"  # the decision stands
    OVERTURNED = "overturned"  # the decision was undone


class Appeal(SQLModel, table=True):
    """One appeal; `subject_key` ("rejection:<submission id>", "flag:<flag id>",
    "suspension:<user id>:<suspended at>") is unique, so each decision is appealed once."""

    __tablename__ = "appeals"
    __table_args__ = (Index("ix_appeals_kind_status_created", "kind", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    appellant_id: int = Field(foreign_key="users.id", index=True)
    kind: str = Field(max_length=16)
    subject_key: str = Field(max_length=64, unique=True)
    submission_id: int | None = Field(default=None, foreign_key="submissions.id")
    flag_id: int | None = Field(default=None, foreign_key="fraud_flags.id")
    # Suspension appeals: the suspended account (the appellant itself).
    user_id: int | None = Field(default=None, foreign_key="users.id")
    # Rejection appeals: the campaign's client, who decides it.
    decider_client_id: int | None = Field(default=None, foreign_key="users.id", index=True)
    message: str = Field(max_length=2000)
    status: str = Field(default=AppealStatus.OPEN, max_length=16)
    decided_by_id: int | None = Field(default=None, foreign_key="users.id")
    decision_reason: str = Field(default="", max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
