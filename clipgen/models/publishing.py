"""Where clips are published, the views read from there, and fraud flags."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from clipgen.models.types import UTCDateTime, utcnow


class Platform(StrEnum):
    YOUTUBE = "youtube"
    TIKTOK = "tiktok"
    INSTAGRAM = "instagram"


class ViewSource(StrEnum):
    YOUTUBE_API = "youtube_api"
    TIKTOK_API = "tiktok_api"
    INSTAGRAM_API = "instagram_api"
    MANUAL = "manual"


class PublicationStatus(StrEnum):
    LIVE = "live"
    UNAVAILABLE = "unavailable"  # deleted or made private: no longer read
    DISQUALIFIED = "disqualified"  # a confirmed fraud flag: its views earn nothing


class Verification(StrEnum):
    """Whether a post is proven, from the platform's own API, to be the clipper's post of
    the clip (DESIGN §5). Only a verified post's views earn."""

    PENDING = "pending"  # not checked yet (or the clipper asked again)
    VERIFIED = "verified"
    REFUSED = "refused"  # a check failed; the reason is in words
    UNAVAILABLE = "unavailable"  # the platform cannot be asked (not connected, no API)


class UploadStatus(StrEnum):
    QUEUED = "queued"
    UPLOADING = "uploading"
    DONE = "done"
    FAILED = "failed"


class ReportStatus(StrEnum):
    """A count typed by a clipper: it waits for the campaign's client (or an admin)."""

    WAITING = "waiting"
    CONFIRMED = "confirmed"  # it became a reading, and money followed
    DECLINED = "declined"  # with the reason in words
    REPLACED = "replaced"  # a newer count of the same post took its place


class FlagStatus(StrEnum):
    OPEN = "open"
    CLEARED = "cleared"
    CONFIRMED = "confirmed"
    # Confirmed, then overturned on the clipper's appeal: what it reversed was booked back.
    OVERTURNED = "overturned"


class PlatformConnection(SQLModel, table=True):
    """A clipper's OAuth link to a platform; tokens are stored encrypted."""

    __tablename__ = "platform_connections"
    __table_args__ = (UniqueConstraint("user_id", "platform"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id")
    platform: str = Field(max_length=16)
    account_name: str = Field(default="", max_length=200)
    external_account_id: str = Field(default="", max_length=200)
    access_token_encrypted: str = ""
    refresh_token_encrypted: str = ""
    scopes: str = Field(default="", max_length=1000)
    token_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Publication(SQLModel, table=True):
    """A public post of a clip on a platform, uploaded from the app or by URL."""

    __tablename__ = "publications"
    __table_args__ = (
        UniqueConstraint("platform", "external_id"),
        Index("ix_publications_platform_synced", "platform", "last_synced_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    clip_id: int | None = Field(default=None, foreign_key="clips.id", index=True)
    submission_id: int | None = Field(default=None, foreign_key="submissions.id", index=True)
    clipper_id: int = Field(foreign_key="users.id", index=True)
    platform: str = Field(max_length=16)
    url: str = Field(max_length=1000)
    external_id: str = Field(max_length=200)
    views: int = 0
    likes: int = 0
    comments: int = 0
    # True while a fraud flag on this post is open (its clip's new earnings are held).
    earnings_held: bool = False
    status: str = Field(default=PublicationStatus.LIVE, max_length=16)
    status_note: str = Field(default="", max_length=300)
    verification: str = Field(default=Verification.PENDING, max_length=16, index=True)
    verification_note: str = Field(default="", max_length=500)
    # Who or what verified it: "youtube", "tiktok", "instagram", "clipgen" (uploaded from
    # the app), or "client" / "admin" (confirmed a count by hand, having seen the post).
    verified_by: str = Field(default="", max_length=16)
    verification_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The platform's own id for the post where it differs from the address's (Instagram's
    # media id, found when the post is verified).
    platform_ref: str = Field(default="", max_length=200)
    added_by: int | None = Field(default=None, foreign_key="users.id")
    published_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ViewSnapshot(SQLModel, table=True):
    """One append-only reading of a publication's counts."""

    __tablename__ = "view_snapshots"
    # A post's readings in time order with their counts, from the index alone (the
    # sync's history and the dashboards' views over time).
    __table_args__ = (
        Index(
            "ix_view_snapshots_publication_taken_views",
            "publication_id",
            "taken_at",
            "id",
            "views",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="publications.id")
    source: str = Field(max_length=16)
    views: int = Field(ge=0)
    likes: int = Field(default=0, ge=0)
    comments: int = Field(default=0, ge=0)
    recorded_by: int | None = Field(default=None, foreign_key="users.id")
    taken_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class CountReport(SQLModel, table=True):
    """Counts a clipper typed off their own post: a report, not a reading. It moves money
    only once the campaign's client or an admin confirms it, and then it becomes the
    reading (`snapshot_id`), taken when it was typed and naming who typed it."""

    __tablename__ = "count_reports"
    __table_args__ = (
        Index("ix_count_reports_publication_status", "publication_id", "status"),
        # At most one count of a post waits at a time: a newer one replaces it.
        Index(
            "uq_count_reports_one_waiting",
            "publication_id",
            unique=True,
            sqlite_where=text("status = 'waiting'"),
            postgresql_where=text("status = 'waiting'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="publications.id")
    views: int = Field(ge=0)
    likes: int = Field(default=0, ge=0)
    comments: int = Field(default=0, ge=0)
    engagement_known: bool = True
    reported_by: int = Field(foreign_key="users.id")
    reported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status: str = Field(default=ReportStatus.WAITING, max_length=16)
    decided_by: int | None = Field(default=None, foreign_key="users.id")
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decision_note: str = Field(default="", max_length=500)
    snapshot_id: int | None = Field(default=None, foreign_key="view_snapshots.id")
    # A screenshot of the post's counts attached as evidence (a clean PNG in storage).
    evidence_key: str = Field(default="", max_length=300)
    evidence_by: int | None = Field(default=None, foreign_key="users.id")


class FraudFlag(SQLModel, table=True):
    """A publication held for admin review, with why."""

    __tablename__ = "fraud_flags"
    __table_args__ = (Index("ix_fraud_flags_status_created", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(foreign_key="publications.id", index=True)
    reason: str = Field(max_length=500)
    # The figures that raised it: the reading, the trend, the ratios.
    evidence: dict = Field(default_factory=dict, sa_type=JSON)
    snapshot_id: int | None = Field(default=None, foreign_key="view_snapshots.id")
    status: str = Field(default=FlagStatus.OPEN, max_length=16)
    resolved_by: int | None = Field(default=None, foreign_key="users.id")
    resolution_note: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OAuthRequest(SQLModel, table=True):
    """A consent in progress: the `state` sent to the provider (hashed) bound to the user
    who asked, with the PKCE verifier (encrypted); used once, within minutes."""

    __tablename__ = "oauth_requests"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="users.id", index=True)
    platform: str = Field(max_length=16)
    state_hash: str = Field(max_length=64, unique=True)
    code_verifier_encrypted: str = ""
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class YouTubeUpload(SQLModel, table=True):
    """An approved clip on its way to the clipper's YouTube channel."""

    __tablename__ = "youtube_uploads"
    __table_args__ = (Index("ix_youtube_uploads_status_updated", "status", "updated_at"),)

    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submissions.id", index=True)
    clipper_id: int = Field(foreign_key="users.id", index=True)
    title: str = Field(max_length=100)
    description: str = Field(default="", max_length=5000)
    tags: list[str] = Field(default_factory=list, sa_type=JSON)
    privacy: str = Field(default="private", max_length=16)
    status: str = Field(default=UploadStatus.QUEUED, max_length=16)
    progress_percent: int = 0
    error: str = Field(default="", max_length=500)
    retry_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = 0
    publication_id: int | None = Field(default=None, foreign_key="publications.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ViewSyncRun(SQLModel, table=True):
    """One run of the view sync: what it read, what it cost in quota, what it changed."""

    __tablename__ = "view_sync_runs"

    id: int | None = Field(default=None, primary_key=True)
    triggered_by: int | None = Field(default=None, foreign_key="users.id")
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    publications: int = 0
    snapshots: int = 0
    unavailable: int = 0
    # YouTube posts nobody can read (the clipper did not connect, no API key): by hand.
    unread: int = 0
    api_calls: int = 0
    quota_units: int = 0
    stats_calls: int = 0
    flags_raised: int = 0
    bookings: int = 0
    # Posts the run verified or refused (DESIGN §5), and API calls by platform.
    verified: int = 0
    refused: int = 0
    calls_by_platform: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    error: str = Field(default="", max_length=500)
    # When a platform's rate limit or quota lets the stopped run go on.
    retry_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
