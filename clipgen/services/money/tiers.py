"""Clipper tiers: the revenue split earned by approved clips and total views (DESIGN §4)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, col, select

from clipgen.models import (
    MarketJob,
    Publication,
    PublicationStatus,
    Submission,
    SubmissionStatus,
    Tier,
    User,
    Verification,
)


@dataclass(frozen=True)
class TierRule:
    tier: Tier
    clipper_percent: int
    min_approved_clips: int
    min_views: int


# Highest first: the first rule a clipper meets is their tier.
TIERS: tuple[TierRule, ...] = (
    TierRule(Tier.PLATINUM, 85, 100, 1_000_000),
    TierRule(Tier.GOLD, 80, 50, 500_000),
    TierRule(Tier.SILVER, 75, 10, 100_000),
    TierRule(Tier.BRONZE, 70, 0, 0),
)


@dataclass(frozen=True)
class TierStanding:
    """A clipper's tier, split, and what the next tier needs."""

    tier: str
    clipper_percent: int
    platform_percent: int
    approved_clips: int
    total_views: int
    next_tier: str | None
    next_needs_clips: int | None
    next_needs_views: int | None

    @property
    def progress_percent(self) -> int:
        """How far to the next tier, by whichever of clips or views is closer (0-100)."""
        if self.next_tier is None:
            return 100
        by_clips = self.approved_clips / self.next_needs_clips if self.next_needs_clips else 0
        by_views = self.total_views / self.next_needs_views if self.next_needs_views else 0
        return min(100, int(100 * max(by_clips, by_views)))


def tier_for(approved_clips: int, total_views: int) -> TierRule:
    """The tier whose needs are met: clips OR views (the Bronze default always is)."""
    for rule in TIERS:
        if approved_clips >= rule.min_approved_clips or total_views >= rule.min_views:
            return rule
    return TIERS[-1]


def standing(approved_clips: int, total_views: int) -> TierStanding:
    """A tier with its split and the next tier's needs."""
    rule = tier_for(approved_clips, total_views)
    index = TIERS.index(rule)
    following = TIERS[index - 1] if index > 0 else None
    return TierStanding(
        tier=str(rule.tier),
        clipper_percent=rule.clipper_percent,
        platform_percent=100 - rule.clipper_percent,
        approved_clips=approved_clips,
        total_views=total_views,
        next_tier=str(following.tier) if following else None,
        next_needs_clips=following.min_approved_clips if following else None,
        next_needs_views=following.min_views if following else None,
    )


def clipper_standing(session: Session, clipper_id: int) -> TierStanding:
    """A clipper's tier now, from their approved submissions and their posts' views."""
    approved = session.exec(
        select(func.count())
        .select_from(Submission)
        .join(MarketJob, col(MarketJob.id) == Submission.job_id)
        .where(MarketJob.clipper_id == clipper_id, Submission.status == SubmissionStatus.APPROVED)
    ).one()
    views = session.exec(
        select(func.coalesce(func.sum(Publication.views), 0)).where(
            Publication.clipper_id == clipper_id,
            Publication.status != PublicationStatus.DISQUALIFIED,  # confirmed fraud
            Publication.verification == Verification.VERIFIED,  # only proven posts count
        )
    ).one()
    return standing(int(approved), int(views))


def split(gross_cents: int, clipper_percent: int) -> tuple[int, int]:
    """(clipper, platform) shares of `gross_cents`: the clipper's rounded down to the cent."""
    clipper = gross_cents * clipper_percent // 100
    return clipper, gross_cents - clipper


def refresh_cached_tier(session: Session, clipper_id: int) -> TierStanding:
    """Bring the tier kept on the user row (shown with their account) up to date after an
    approval or new views; the standing itself is always computed from the records."""
    now = clipper_standing(session, clipper_id)
    user = session.get(User, clipper_id)
    if user is not None and user.tier != now.tier:
        user.tier = now.tier
        session.add(user)
    return now
