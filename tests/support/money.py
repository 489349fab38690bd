"""People, campaigns and approved submissions for money tests, made the way the
marketplace will make them (rows here; the money moves through the real services)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from sqlmodel import Session

from clipgen.models import (
    Campaign,
    CampaignStatus,
    MarketJob,
    MarketJobStatus,
    Publication,
    Role,
    Submission,
    SubmissionStatus,
    Verification,
    utcnow,
)
from clipgen.services.auth import service as auth
from clipgen.services.auth.service import UserView
from clipgen.services.money import earnings, funds, holds

PASSWORD = "a sturdy passphrase"
_numbers = itertools.count(1)
_references = itertools.count(1)


def person(session: Session, role: str, name: str = "") -> UserView:
    """A clipper, client or admin account."""
    number = next(_numbers)
    email = f"{name or role}{number}@example.com"
    if role == Role.ADMIN:
        return auth.create_admin(session=session, email=email, password=PASSWORD)
    return auth.register(
        session=session,
        email=email,
        display_name=(name or role).title(),
        password=PASSWORD,
        role=role,
    )


def campaign(
    session: Session,
    client: UserView,
    *,
    price_cents: int = 1000,
    budget_cents: int = 10_000,
    cpm_cents: int = 0,
    cpm_cap_cents: int = 0,
    max_clips: int = 10,
    title: str = "Launch week",
) -> Campaign:
    """A draft campaign of `client` (activate it with `funds.reserve_campaign_budget`)."""
    row = Campaign(
        client_id=client.id,
        title=title,
        price_per_clip_cents=price_cents,
        budget_cents=budget_cents,
        cpm_cents=cpm_cents,
        cpm_cap_cents=cpm_cap_cents,
        max_clips=max_clips,
        status=CampaignStatus.DRAFT,
    )
    session.add(row)
    session.flush()
    return row


def approved_submission(
    session: Session, campaign_row: Campaign, clipper: UserView, *, views: int = 0
) -> Submission:
    """A clipper's claim on the campaign with an approved submission (and a post with views)."""
    job = MarketJob(
        campaign_id=campaign_row.id,
        clipper_id=clipper.id,
        status=MarketJobStatus.APPROVED,
        expires_at=utcnow() + timedelta(hours=48),
    )
    session.add(job)
    session.flush()
    submission = Submission(
        job_id=job.id,
        status=SubmissionStatus.APPROVED,
        post_url=f"https://youtube.com/shorts/x{job.id}",
        reviewed_at=utcnow(),
    )
    session.add(submission)
    session.flush()
    if views:
        session.add(
            Publication(
                submission_id=submission.id,
                clipper_id=clipper.id,
                platform="youtube",
                url=submission.post_url,
                external_id=f"x{job.id}",
                views=views,
                verification=Verification.VERIFIED,
                verified_by="youtube",
            )
        )
        session.flush()
    return submission


def verified(session: Session, post: Publication, by: str = "youtube") -> Publication:
    """`post` as its platform verified it (tests about money after verification)."""
    post.verification, post.verified_by = Verification.VERIFIED, by
    session.add(post)
    session.flush()
    return post


def funded_campaign(
    session: Session, admin: UserView, client: UserView, *, price_cents: int, budget_cents: int
) -> Campaign:
    """An active campaign of `client`, its budget deposited (by hand) and in escrow."""
    funds.record_deposit(
        session=session,
        actor=admin,
        client_id=client.id,
        amount_cents=budget_cents,
        reference=f"wire-{next(_references)}",
    )
    row = campaign(session, client, price_cents=price_cents, budget_cents=budget_cents)
    funds.reserve_campaign_budget(session=session, campaign_id=row.id)
    return row


def clipper_with_available(
    session: Session, admin: UserView, client: UserView, cents: int
) -> UserView:
    """A new clipper with exactly `cents` available, earned the real way: an approved clip
    (Bronze: 70%) whose hold has ended."""
    price = -(-cents * 100 // 70)  # the smallest price whose 70% share is `cents`
    clipper = person(session, Role.CLIPPER, "ada")
    row = funded_campaign(session, admin, client, price_cents=price, budget_cents=price)
    submission = approved_submission(session, row, clipper)
    earnings.book_approval(session=session, submission_id=submission.id)
    holds.release_matured_earnings(session=session, now=utcnow() + timedelta(days=30))
    return clipper
