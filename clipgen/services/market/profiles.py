"""A clipper's public profile and portfolio: approved clips, rating, tier and totals.

Anyone may see it, signed in or not: approved clips are made to be published. The
clipper's money stays private; the totals shown are clips, views and ratings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from clipgen.models import (
    Campaign,
    Clip,
    MarketJob,
    Publication,
    PublicationStatus,
    Rating,
    Submission,
    SubmissionStatus,
    User,
    Verification,
)
from clipgen.services.access import as_id
from clipgen.services.errors import NotFound
from clipgen.services.market.reviews import ratings_of, submission_video_url
from clipgen.services.money.tiers import TierStanding, clipper_standing
from clipgen.storage import get_storage

PORTFOLIO_SIZE = 24
RECENT_RATINGS = 10


@dataclass(frozen=True)
class PortfolioClip:
    submission_id: int
    campaign_title: str
    title: str
    video_url: str
    thumbnail_url: str
    views: int
    approved_at: datetime | None


@dataclass(frozen=True)
class RatingLine:
    stars: int
    feedback: str
    campaign_title: str
    created_at: datetime


@dataclass(frozen=True)
class Profile:
    id: int
    display_name: str
    member_since: datetime
    standing: TierStanding
    rating_average: float
    rating_count: int
    campaigns_worked: int
    clips: tuple[PortfolioClip, ...]
    ratings: tuple[RatingLine, ...]


def public_profile(*, session: Session, clipper_id: int) -> Profile:
    """The public page of a clipper (not found for anyone who is not a clipper)."""
    checked = as_id(clipper_id)
    user = session.get(User, checked) if checked is not None else None
    if user is None or not user.is_clipper or not user.is_active:
        raise NotFound("That clipper was not found.")
    average, count = ratings_of(session, user.id)
    rows = session.exec(
        select(Submission, Campaign.title)
        .join(MarketJob, col(MarketJob.id) == Submission.job_id)
        .join(Campaign, col(Campaign.id) == MarketJob.campaign_id)
        .where(MarketJob.clipper_id == user.id, Submission.status == SubmissionStatus.APPROVED)
        .order_by(col(Submission.reviewed_at).desc(), col(Submission.id).desc())
        .limit(PORTFOLIO_SIZE)
    ).all()
    views = (
        dict(
            session.exec(
                select(Publication.submission_id, func.coalesce(func.sum(Publication.views), 0))
                .where(
                    col(Publication.submission_id).in_([s.id for s, _ in rows]),
                    Publication.status != PublicationStatus.DISQUALIFIED,
                    Publication.verification == Verification.VERIFIED,
                )
                .group_by(Publication.submission_id)
            ).all()
        )
        if rows
        else {}
    )
    storage = get_storage()
    clips = []
    for submission, title in rows:
        clip = session.get(Clip, submission.clip_id) if submission.clip_id else None
        thumbnail = (
            storage.presigned_url(clip.thumbnail_key, expires_s=3600)
            if clip and clip.thumbnail_key
            else ""
        )
        clips.append(
            PortfolioClip(
                submission_id=submission.id,
                campaign_title=title,
                title=clip.title if clip else (submission.caption[:80] or "Own edit"),
                video_url=submission_video_url(session, submission),
                thumbnail_url=thumbnail,
                views=int(views.get(submission.id, 0)),
                approved_at=submission.reviewed_at,
            )
        )
    rating_rows = session.exec(
        select(Rating, Campaign.title)
        .join(MarketJob, col(MarketJob.id) == Rating.job_id)
        .join(Campaign, col(Campaign.id) == MarketJob.campaign_id)
        .where(Rating.clipper_id == user.id)
        .order_by(col(Rating.created_at).desc())
        .limit(RECENT_RATINGS)
    ).all()
    worked = session.exec(
        select(func.count(func.distinct(MarketJob.campaign_id))).where(
            MarketJob.clipper_id == user.id
        )
    ).one()
    return Profile(
        id=user.id,
        display_name=user.display_name,
        member_since=user.created_at,
        standing=clipper_standing(session, user.id),
        rating_average=average,
        rating_count=count,
        campaigns_worked=int(worked),
        clips=tuple(clips),
        ratings=tuple(RatingLine(r.stars, r.feedback, t, r.created_at) for r, t in rating_rows),
    )
