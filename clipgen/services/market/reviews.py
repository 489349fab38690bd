"""Reviewing submissions: approve (earnings booked), reject with a reason (the slot frees),
or send back for a revision (at most twice); a submission nobody reviewed within 72 hours
is approved automatically (scheduled). Then the client rates the clipper 1-5.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from clipgen import routes
from clipgen.models import (
    Campaign,
    CampaignStatus,
    Clip,
    MarketJob,
    MarketJobStatus,
    Rating,
    Role,
    Submission,
    SubmissionStatus,
    User,
    Video,
    utcnow,
)
from clipgen.services.access import as_id, require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotFound
from clipgen.services.market import campaigns as campaign_rules
from clipgen.services.market.claims import MAX_REVISIONS, S, move
from clipgen.services.money import earnings, tiers
from clipgen.services.money.amounts import format_cents
from clipgen.services.money.tiers import clipper_standing
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify
from clipgen.storage import get_storage

AUTO_APPROVE_AFTER = timedelta(hours=72)
MAX_FEEDBACK = 1000
MIN_REASON = 3
REVIEW_URL_EXPIRY_S = 3600


@dataclass(frozen=True)
class ClipperCard:
    """What a client sees of the clipper beside their clip."""

    id: int
    display_name: str
    tier: str
    approved_clips: int
    rating_average: float
    rating_count: int


@dataclass(frozen=True)
class ReviewItem:
    submission_id: int
    job_id: int
    campaign_id: int
    campaign_title: str
    requirements: str
    clip_title: str
    duration_s: float
    video_url: str
    caption: str
    hashtags: str
    status: str
    feedback: str
    revision_count: int
    submitted_at: datetime
    auto_approve_at: datetime
    reviewed_at: datetime | None
    auto_approved: bool
    clipper: ClipperCard
    rated_stars: int


def ratings_of(session: Session, clipper_id: int) -> tuple[float, int]:
    """(average stars rounded to one decimal, how many ratings)."""
    row = session.exec(
        select(func.avg(Rating.stars), func.count()).where(Rating.clipper_id == clipper_id)
    ).one()
    return (round(float(row[0]), 1) if row[0] is not None else 0.0, int(row[1]))


def clipper_card(session: Session, clipper_id: int) -> ClipperCard:
    user = session.get(User, clipper_id)
    standing = clipper_standing(session, clipper_id)
    average, count = ratings_of(session, clipper_id)
    return ClipperCard(
        id=clipper_id,
        display_name=user.display_name if user else "",
        tier=standing.tier,
        approved_clips=standing.approved_clips,
        rating_average=average,
        rating_count=count,
    )


def submission_file_key(session: Session, submission: Submission) -> str:
    """The stored file of what was handed in (a generated clip or an own edit); "" if gone."""
    if submission.clip_id is not None:
        clip = session.get(Clip, submission.clip_id)
        return clip.video_key if clip else ""
    if submission.video_id is not None:
        video = session.get(Video, submission.video_id)
        return video.storage_key if video else ""
    return ""


def submission_video_url(session: Session, submission: Submission) -> str:
    """A short-lived link that plays the submitted clip (the caller checked who may see it)."""
    key = submission_file_key(session, submission)
    return get_storage().presigned_url(key, expires_s=REVIEW_URL_EXPIRY_S) if key else ""


def requirements_text(campaign: Campaign) -> str:
    parts = [
        f"{campaign.min_length_s}-{campaign.max_length_s} s, {campaign.aspect}, "
        f"captions {campaign.captions}",
        "for "
        + ", ".join(campaign_rules.PLATFORM_LABELS.get(p, p) for p in campaign.platforms or ()),
    ]
    if campaign.hashtags:
        parts.append(f"hashtags {campaign.hashtags}")
    if campaign.donts:
        parts.append(f"don'ts: {campaign.donts}")
    return "; ".join(parts)


def _item(
    session: Session, submission: Submission, job: MarketJob, campaign: Campaign
) -> ReviewItem:
    title, duration = "", 0.0
    if submission.clip_id is not None:
        clip = session.get(Clip, submission.clip_id)
        if clip:
            title, duration = clip.title, round(clip.end_s - clip.start_s, 1)
    elif submission.video_id is not None:
        video = session.get(Video, submission.video_id)
        if video:
            title, duration = video.original_filename, round(video.duration_s or 0.0, 1)
    rating = session.exec(select(Rating.stars).where(Rating.job_id == job.id)).first()
    return ReviewItem(
        submission_id=submission.id,
        job_id=job.id,
        campaign_id=campaign.id,
        campaign_title=campaign.title,
        requirements=requirements_text(campaign),
        clip_title=title,
        duration_s=duration,
        video_url=submission_video_url(session, submission),
        caption=submission.caption,
        hashtags=submission.hashtags,
        status=submission.status,
        feedback=submission.feedback,
        revision_count=job.revision_count,
        submitted_at=submission.created_at,
        auto_approve_at=submission.created_at + AUTO_APPROVE_AFTER,
        reviewed_at=submission.reviewed_at,
        auto_approved=submission.auto_approved,
        clipper=clipper_card(session, job.clipper_id),
        rated_stars=int(rating or 0),
    )


def review_queue(
    *,
    session: Session,
    actor: UserView,
    campaign_id: int | None = None,
    status: str = SubmissionStatus.PENDING,
    limit: int = 50,
) -> list[ReviewItem]:
    """Submissions to the client's campaigns in one state, oldest waiting first."""
    require_role(actor, Role.CLIENT)
    if status not in {s.value for s in SubmissionStatus}:
        raise InvalidInput("Choose one of the listed states.")
    query = (
        select(Submission, MarketJob, Campaign)
        .join(MarketJob, col(MarketJob.id) == Submission.job_id)
        .join(Campaign, col(Campaign.id) == MarketJob.campaign_id)
        .where(Campaign.client_id == actor.id, Submission.status == status)
    )
    if campaign_id is not None:
        checked = as_id(campaign_id)
        if checked is None:
            raise NotFound("That campaign was not found.")
        query = query.where(Campaign.id == checked)
    order = (
        col(Submission.created_at).asc()
        if status == SubmissionStatus.PENDING
        else col(Submission.reviewed_at).desc()
    )
    rows = session.exec(
        query.order_by(order, col(Submission.id))
        .limit(max(1, min(100, int(limit))))
        .execution_options(populate_existing=True)
    ).all()
    return [_item(session, s, j, c) for s, j, c in rows]


def _reviewable(
    session: Session, actor: UserView | None, submission_id: int
) -> tuple[Submission, MarketJob, Campaign]:
    """The submission (locked) if `actor` is its campaign's client (None: the system)."""
    if actor is not None:
        require_role(actor, Role.CLIENT)
    submission_id = as_id(submission_id)
    if submission_id is None:
        raise NotFound("That submission was not found.")
    submission = session.exec(
        select(Submission)
        .where(Submission.id == submission_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    job = session.get(MarketJob, submission.job_id, populate_existing=True) if submission else None
    campaign = session.get(Campaign, job.campaign_id, populate_existing=True) if job else None
    if campaign is None or (actor is not None and campaign.client_id != actor.id):
        raise NotFound("That submission was not found.")
    if submission.status != SubmissionStatus.PENDING:
        raise InvalidInput(f"This submission was already {submission.status.replace('_', ' ')}.")
    return submission, job, campaign


def _reason(text: str, what: str) -> str:
    cleaned = " ".join(str(text or "").split())
    if len(cleaned) < MIN_REASON:
        raise InvalidInput(f"Write {what} so the clipper knows what to change.")
    if len(cleaned) > MAX_FEEDBACK:
        raise InvalidInput(f"Keep {what} to {MAX_FEEDBACK} characters.")
    return cleaned


def _approve(session: Session, actor: UserView | None, submission_id: int) -> ReviewItem:
    submission, job, campaign = _reviewable(session, actor, submission_id)
    return _book_approved(session, actor, submission, job, campaign)


def approve_rejected_on_appeal(
    *, session: Session, actor: UserView, submission_id: int
) -> ReviewItem:
    """Approve a clip the client had rejected (they overturned it on the clipper's appeal):
    earnings are booked exactly as on approval. The caller checked the appeal."""
    require_role(actor, Role.CLIENT)
    checked = as_id(submission_id)
    submission = (
        session.exec(
            select(Submission)
            .where(Submission.id == checked)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if checked is not None
        else None
    )
    job = session.get(MarketJob, submission.job_id, populate_existing=True) if submission else None
    campaign = session.get(Campaign, job.campaign_id, populate_existing=True) if job else None
    if campaign is None or campaign.client_id != actor.id:
        raise NotFound("That submission was not found.")
    if submission.status != SubmissionStatus.REJECTED:
        status = submission.status.replace("_", " ")
        raise InvalidInput(f"This submission is {status}, not rejected.")
    return _book_approved(session, actor, submission, job, campaign, on_appeal=True)


def _book_approved(
    session: Session,
    actor: UserView | None,
    submission: Submission,
    job: MarketJob,
    campaign: Campaign,
    *,
    on_appeal: bool = False,
) -> ReviewItem:
    now = utcnow()
    move(session, job, S.APPROVED, closed_at=now)
    submission.status = SubmissionStatus.APPROVED
    submission.reviewer_id = actor.id if actor else None
    submission.auto_approved = actor is None
    submission.reviewed_at = now
    session.add(submission)
    session.flush()
    was_exhausted = campaign.is_exhausted
    earning = earnings.book_approval(session=session, submission_id=submission.id)
    tiers.refresh_cached_tier(session, job.clipper_id)
    session.refresh(campaign)
    record_audit(
        session=session,
        action="submission.approved",
        actor_id=actor.id if actor else None,
        target_type="submission",
        target_id=submission.id,
        automatic=actor is None,
        on_appeal=on_appeal,
        transaction_id=earning.id if earning else None,
    )
    if earning is not None:
        details = earning.details
        paid = (
            f" {format_cents(details['clipper_cents'])} is pending in your earnings "
            f"({details['clipper_percent']}% of {format_cents(details['gross_cents'])})."
        )
    else:
        paid = " The campaign's budget was already spent, so it paid nothing."
    how = "was approved automatically after 72 hours" if actor is None else "was approved"
    if on_appeal:
        how = "was approved on your appeal"
    notify(
        session,
        job.clipper_id,
        Kind.SUBMISSION_APPROVED,
        f"Your clip for {campaign.title} {how}.{paid}",
        routes.claim(job.id),
    )
    if campaign.is_exhausted and not was_exhausted:
        notify(
            session,
            campaign.client_id,
            Kind.CAMPAIGN_EXHAUSTED,
            f"{campaign.title} has spent its budget; it takes no new claims.",
            routes.campaign(campaign.id),
        )
    campaign_rules.complete_if_done(session, campaign, now=now)
    return _item(session, submission, job, campaign)


def approve_submission(*, session: Session, actor: UserView, submission_id: int) -> ReviewItem:
    """Approve a clip: its price leaves escrow, split by the clipper's tier."""
    if actor is None:
        require_role(actor, Role.CLIENT)
    return _approve(session, actor, submission_id)


def reject_submission(
    *, session: Session, actor: UserView, submission_id: int, reason: str
) -> ReviewItem:
    """Turn a clip down, saying why; the claim closes and its slot is free again."""
    require_role(actor, Role.CLIENT)  # `_reviewable` takes None for the system
    submission, job, campaign = _reviewable(session, actor, submission_id)
    why = _reason(reason, "the reason")
    now = utcnow()
    move(session, job, S.REJECTED, closed_at=now)
    submission.status = SubmissionStatus.REJECTED
    submission.feedback = why
    submission.reviewer_id = actor.id
    submission.reviewed_at = now
    session.add(submission)
    session.flush()
    record_audit(
        session=session,
        action="submission.rejected",
        actor_id=actor.id,
        target_type="submission",
        target_id=submission.id,
    )
    notify(
        session,
        job.clipper_id,
        Kind.SUBMISSION_REJECTED,
        f"Your clip for {campaign.title} was rejected: {why}",
        routes.claim(job.id),
    )
    return _item(session, submission, job, campaign)


def request_revision(
    *, session: Session, actor: UserView, submission_id: int, notes: str
) -> ReviewItem:
    """Send a clip back with notes (at most twice per claim); the clipper gets the claim's
    time-to-live again to resubmit."""
    require_role(actor, Role.CLIENT)  # `_reviewable` takes None for the system
    submission, job, campaign = _reviewable(session, actor, submission_id)
    why = _reason(notes, "the revision notes")
    if job.revision_count >= MAX_REVISIONS:
        raise InvalidInput(
            f"This claim has had {MAX_REVISIONS} revisions already; approve or reject the clip."
        )
    now = utcnow()
    if campaign.status not in (CampaignStatus.ACTIVE, CampaignStatus.PAUSED) or (
        campaign.deadline is not None and campaign.deadline <= now
    ):
        raise InvalidInput(
            "The campaign has ended, so the clip cannot be sent back; approve or reject it."
        )
    expires = now + timedelta(hours=campaign.claim_ttl_hours)
    if campaign.deadline is not None:
        expires = min(expires, campaign.deadline)
    move(
        session,
        job,
        S.REVISION_REQUESTED,
        revision_count=job.revision_count + 1,
        expires_at=expires,
        expiry_warned_at=None,
    )
    submission.status = SubmissionStatus.REVISION_REQUESTED
    submission.feedback = why
    submission.reviewer_id = actor.id
    submission.reviewed_at = now
    session.add(submission)
    session.flush()
    record_audit(
        session=session,
        action="submission.revision_requested",
        actor_id=actor.id,
        target_type="submission",
        target_id=submission.id,
        revision=job.revision_count,
    )
    notify(
        session,
        job.clipper_id,
        Kind.REVISION_REQUESTED,
        f"The client asked for a revision of your clip for {campaign.title}: {why}",
        routes.claim(job.id),
    )
    return _item(session, submission, job, campaign)


def auto_approve_overdue(*, session: Session, now: datetime | None = None) -> int:
    """Approve every submission left unreviewed for 72 hours (scheduled); running it again
    changes nothing. How many were approved."""
    now = now or utcnow()
    due = session.exec(
        select(Submission.id)
        .where(
            Submission.status == SubmissionStatus.PENDING,
            col(Submission.created_at) <= now - AUTO_APPROVE_AFTER,
        )
        .order_by(col(Submission.id))
    ).all()
    approved = 0
    for submission_id in due:
        try:
            with session.begin_nested():
                _approve(session, None, submission_id)
        except InvalidInput:
            continue  # reviewed meanwhile
        approved += 1
    return approved


def rate_clipper(
    *, session: Session, actor: UserView, job_id: int, stars: int, feedback: str = ""
) -> None:
    """Rate the clipper of an approved claim 1-5 with optional feedback; once per claim."""
    require_role(actor, Role.CLIENT)
    checked = as_id(job_id)
    job = session.get(MarketJob, checked) if checked is not None else None
    campaign = session.get(Campaign, job.campaign_id) if job else None
    if campaign is None or campaign.client_id != actor.id:
        raise NotFound("That claim was not found.")
    if job.status != MarketJobStatus.APPROVED:
        raise InvalidInput("You can rate a clipper once their clip is approved.")
    try:
        stars = int(stars)
    except (TypeError, ValueError):
        raise InvalidInput("Choose 1 to 5 stars.") from None
    if not 1 <= stars <= 5:
        raise InvalidInput("Choose 1 to 5 stars.")
    text = " ".join(str(feedback or "").split())
    if len(text) > MAX_FEEDBACK:
        raise InvalidInput(f"Keep the feedback to {MAX_FEEDBACK} characters.")
    if session.exec(select(Rating.id).where(Rating.job_id == job.id)).first() is not None:
        raise InvalidInput("You already rated this clip.")
    try:
        with session.begin_nested():
            session.add(
                Rating(
                    job_id=job.id,
                    client_id=actor.id,
                    clipper_id=job.clipper_id,
                    stars=stars,
                    feedback=text,
                )
            )
            session.flush()
    except IntegrityError:
        raise InvalidInput("You already rated this clip.") from None
    record_audit(
        session=session,
        action="clipper.rated",
        actor_id=actor.id,
        target_type="market_job",
        target_id=job.id,
        stars=stars,
    )
    notify(
        session,
        job.clipper_id,
        Kind.RATED,
        f"You were rated {stars}/5 for your clip for {campaign.title}.",
        routes.profile(job.clipper_id),
    )
