"""What users are told (notifications) and what was done (audit log)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index
from sqlmodel import Field, SQLModel

from clipgen.models.types import UTCDateTime, utcnow


class Notification(SQLModel, table=True):
    """A message shown to one user until read."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    kind: str = Field(max_length=32)
    message: str = Field(max_length=500)
    link: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuditLog(SQLModel, table=True):
    """An append-only record of a security- or money-relevant action."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_target", "target_type", "target_id"),
        Index("ix_audit_log_actor_created", "actor_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    actor_id: int | None = Field(default=None, foreign_key="users.id")
    action: str = Field(max_length=64)
    target_type: str = Field(default="", max_length=32)
    target_id: int | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    client_ip: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
