"""Every table, importable from one place so that metadata is complete."""

from clipgen.models.activity import AuditLog, Notification
from clipgen.models.ledger import (
    UNPROTECTED_KINDS,
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payout,
    PayoutStatus,
    TransactionKind,
)
from clipgen.models.marketplace import (
    Campaign,
    CampaignStatus,
    MarketJob,
    MarketJobStatus,
    Rating,
    Submission,
    SubmissionStatus,
)
from clipgen.models.media import Clip, ClipStatus, JobStatus, ProcessingJob, Video, VideoStatus
from clipgen.models.publishing import (
    FlagStatus,
    FraudFlag,
    Platform,
    PlatformConnection,
    Publication,
    ViewSnapshot,
    ViewSource,
)
from clipgen.models.types import UTCDateTime, utcnow
from clipgen.models.users import AuthSession, LoginFailure, Role, Tier, User

__all__ = [
    "AccountKind",
    "AuditLog",
    "AuthSession",
    "Campaign",
    "CampaignStatus",
    "Clip",
    "ClipStatus",
    "FlagStatus",
    "FraudFlag",
    "JobStatus",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "LoginFailure",
    "MarketJob",
    "MarketJobStatus",
    "Notification",
    "Payout",
    "PayoutStatus",
    "Platform",
    "PlatformConnection",
    "ProcessingJob",
    "Publication",
    "Rating",
    "Role",
    "Submission",
    "SubmissionStatus",
    "Tier",
    "TransactionKind",
    "UNPROTECTED_KINDS",
    "UTCDateTime",
    "User",
    "Video",
    "VideoStatus",
    "ViewSnapshot",
    "ViewSource",
    "utcnow",
]
