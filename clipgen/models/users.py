"""Accounts, sign-in sessions and the record of failed sign-ins."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from clipgen.models.types import UTCDateTime, utcnow


class Role(StrEnum):
    CLIPPER = "clipper"
    CLIENT = "client"
    ADMIN = "admin"


class Tier(StrEnum):
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"


class User(SQLModel, table=True):
    """A person. One account may hold the clipper and the client role."""

    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    display_name: str = Field(max_length=80)
    password_hash: str = Field(max_length=255)
    is_clipper: bool = False
    is_client: bool = False
    is_admin: bool = False
    is_active: bool = True
    tier: str = Field(default=Tier.BRONZE, max_length=16)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    password_changed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # Set while an admin has suspended the account (services/admin_users.py).
    suspended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    suspension_reason: str | None = Field(default=None, max_length=500)
    suspended_by_id: int | None = Field(default=None, foreign_key="users.id")

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def roles(self) -> list[Role]:
        flags = [
            (Role.CLIPPER, self.is_clipper),
            (Role.CLIENT, self.is_client),
            (Role.ADMIN, self.is_admin),
        ]
        return [role for role, held in flags if held]


class AuthSession(SQLModel, table=True):
    """A signed-in browser. Only the SHA-256 of its token is stored."""

    __tablename__ = "auth_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_id: int = Field(foreign_key="users.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    client_ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=255)
    # When the password was last typed in this session (sign-in or a re-authentication);
    # money actions need it recent (`SESSION_REAUTH_MINUTES`).
    reauthenticated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginFailure(SQLModel, table=True):
    """One failed sign-in, kept for the lockout window."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_email_at", "email", "attempted_at"),
        Index("ix_login_failures_ip_at", "client_ip", "attempted_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254)
    client_ip: str = Field(default="", max_length=64)
    attempted_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
