"""Campaigns clients fund, the jobs clippers claim, submissions and ratings."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, Index, text
from sqlmodel import Field, SQLModel

from clipgen.models.types import UTCDateTime, utcnow


class CampaignStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class MarketJobStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    REVISION_REQUESTED = "revision_requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    ABANDONED = "abandoned"


OPEN_JOB_STATUSES = (
    MarketJobStatus.IN_PROGRESS,
    MarketJobStatus.SUBMITTED,
    MarketJobStatus.REVISION_REQUESTED,
)


class SubmissionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    REVISION_REQUESTED = "revision_requested"


class Campaign(SQLModel, table=True):
    """A paid brief: a client's source video and what clips of it should be."""

    __tablename__ = "campaigns"
    __table_args__ = (
        Index("ix_campaigns_status_created", "status", "created_at"),
        CheckConstraint("price_per_clip_cents >= 0", name="price_not_negative"),
        CheckConstraint("budget_cents >= 0", name="budget_not_negative"),
        CheckConstraint("max_clips >= 1", name="at_least_one_slot"),
    )

    id: int | None = Field(default=None, primary_key=True)
    client_id: int = Field(foreign_key="users.id", index=True)
    title: str = Field(max_length=120)
    brief: str = ""
    source_video_id: int | None = Field(default=None, foreign_key="videos.id")
    source_url: str = Field(default="", max_length=1000)
    platforms: list[str] = Field(default_factory=list, sa_type=JSON)
    min_length_s: int = 15
    max_length_s: int = 60
    aspect: str = Field(default="9:16", max_length=8)
    captions: str = Field(default="animated", max_length=16)
    hashtags: str = Field(default="", max_length=500)
    donts: str = ""
    price_per_clip_cents: int = 0
    cpm_cents: int = 0
    cpm_cap_cents: int = 0
    # A post's views count for CPM once that post alone reached this many.
    min_views_per_post: int = 0
    budget_cents: int = 0
    max_clips: int = 1
    claim_ttl_hours: int = 48
    deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default=CampaignStatus.DRAFT, max_length=16)
    is_exhausted: bool = False
    # Paused because its client was suspended; lifting the suspension resumes it.
    paused_by_suspension: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MarketJob(SQLModel, table=True):
    """A clipper's claim on one slot of a campaign."""

    __tablename__ = "market_jobs"
    __table_args__ = (
        Index("ix_market_jobs_campaign_status", "campaign_id", "status"),
        Index("ix_market_jobs_clipper_status", "clipper_id", "status"),
        Index("ix_market_jobs_status_expires", "status", "expires_at"),
        # One open claim per clipper per campaign, enforced by the database.
        Index(
            "uq_market_jobs_open_claim",
            "campaign_id",
            "clipper_id",
            unique=True,
            sqlite_where=text("status IN ('in_progress', 'submitted', 'revision_requested')"),
            postgresql_where=text("status IN ('in_progress', 'submitted', 'revision_requested')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaigns.id")
    clipper_id: int = Field(foreign_key="users.id")
    status: str = Field(default=MarketJobStatus.IN_PROGRESS, max_length=20)
    revision_count: int = 0
    claimed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the clipper was told the claim is about to expire (told once per deadline).
    expiry_warned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Submission(SQLModel, table=True):
    """A clip handed in for a market job, and the client's review of it."""

    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_status_created", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="market_jobs.id", index=True)
    clip_id: int | None = Field(default=None, foreign_key="clips.id")
    # The clipper's own edit, uploaded instead of a generated clip.
    video_id: int | None = Field(default=None, foreign_key="videos.id")
    caption: str = Field(default="", max_length=2200)
    hashtags: str = Field(default="", max_length=500)
    post_url: str = Field(default="", max_length=1000)
    note: str = ""
    status: str = Field(default=SubmissionStatus.PENDING, max_length=20)
    feedback: str = ""
    reviewer_id: int | None = Field(default=None, foreign_key="users.id")
    auto_approved: bool = False
    # An admin's fraud hold: its pending earnings stay pending until released.
    earnings_held: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Rating(SQLModel, table=True):
    """A client's 1-5 rating of a clipper for one finished job."""

    __tablename__ = "ratings"
    __table_args__ = (CheckConstraint("stars BETWEEN 1 AND 5", name="stars_1_to_5"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="market_jobs.id", unique=True)
    client_id: int = Field(foreign_key="users.id")
    clipper_id: int = Field(foreign_key="users.id", index=True)
    stars: int
    feedback: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
