"""Claims (market jobs): a clipper takes a slot of a campaign, makes a clip, hands it in.

A claim moves only along DESIGN §3's arrows (`TRANSITIONS`); every other move is
refused in words. Claiming is atomic: the campaign row is locked while the free
slots are counted, and the database's unique index allows one open claim per
clipper per campaign, so a double click gets the claim it already has.
An unsubmitted claim expires after the campaign's time-to-live (`expire_claims`,
scheduled); its clipper is warned before (`warn_expiring_claims`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from clipgen import routes
from clipgen.models import (
    Campaign,
    CampaignStatus,
    Clip,
    ClipStatus,
    MarketJob,
    MarketJobStatus,
    ProcessingJob,
    Role,
    Submission,
    SubmissionStatus,
    User,
    Video,
    VideoStatus,
    utcnow,
)
from clipgen.models.marketplace import OPEN_JOB_STATUSES
from clipgen.pipeline.types import GenerateOptions
from clipgen.services.access import as_id, fresh, owned, require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotAuthenticated, NotFound
from clipgen.services.market.campaigns import (
    CampaignView,
    clean_hashtags,
    escrow_balance,
    free_slots,
    job_counts,
    view_of,
)
from clipgen.services.media import jobs as media_jobs
from clipgen.services.media.jobs import JobView
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify

S = MarketJobStatus
# Every move a claim may make, and the words for it; anything else is refused.
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.IN_PROGRESS, S.SUBMITTED): "submitted",
    (S.IN_PROGRESS, S.EXPIRED): "expired",
    (S.IN_PROGRESS, S.ABANDONED): "given up",
    (S.SUBMITTED, S.APPROVED): "approved",
    (S.SUBMITTED, S.REJECTED): "rejected",
    (S.SUBMITTED, S.REVISION_REQUESTED): "sent back for a revision",
    # A rejection the client overturned on the clipper's appeal (services/appeals.py).
    (S.REJECTED, S.APPROVED): "approved on appeal",
    (S.REVISION_REQUESTED, S.IN_PROGRESS): "reopened for its revision",
    (S.REVISION_REQUESTED, S.EXPIRED): "expired",
    (S.REVISION_REQUESTED, S.ABANDONED): "given up",
}
VERBS = {
    S.SUBMITTED: "submitted",
    S.EXPIRED: "expired",
    S.ABANDONED: "given up",
    S.APPROVED: "approved",
    S.REJECTED: "rejected",
    S.REVISION_REQUESTED: "sent back for a revision",
    S.IN_PROGRESS: "reopened",
}
STATUS_WORDS = {
    S.IN_PROGRESS: "in progress",
    S.SUBMITTED: "submitted",
    S.REVISION_REQUESTED: "waiting for your revision",
    S.APPROVED: "approved",
    S.REJECTED: "rejected",
    S.EXPIRED: "expired",
    S.ABANDONED: "given up",
}
MAX_REVISIONS = 2
MAX_CAPTION = 2200
LENGTH_TOLERANCE_S = 1.0
WARN_BEFORE = timedelta(hours=6)
# Workable claims: the clipper may make clips and hand one in.
WORKABLE = (S.IN_PROGRESS, S.REVISION_REQUESTED)
# A hashtag or mention inside a caption, without the punctuation after it ("@brand!").
_TAG_IN_TEXT = re.compile(r"[#@][\w.]*\w")


def move(session: Session, job: MarketJob, to: MarketJobStatus, **values) -> None:
    """Move a claim along one allowed arrow, only if nobody moved it meanwhile.

    Refused with InvalidInput for any arrow not in `TRANSITIONS`, and when the row
    changed under us (a concurrent review, an expiry): the caller's unit of work
    rolls back.
    """
    current = job.status
    if (current, to) not in TRANSITIONS:
        raise InvalidInput(
            f"A claim that is {STATUS_WORDS.get(current, current)} cannot be {VERBS.get(to, to)}."
        )
    moved = session.exec(
        update(MarketJob)
        .where(col(MarketJob.id) == job.id, col(MarketJob.status) == current)
        .values(status=to, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        raise InvalidInput("This claim just changed; reload the page and try again.")
    session.refresh(job)


@dataclass(frozen=True)
class SubmissionView:
    id: int
    job_id: int
    clip_id: int | None
    video_id: int | None
    title: str
    duration_s: float
    caption: str
    hashtags: str
    status: str
    feedback: str
    auto_approved: bool
    created_at: datetime
    reviewed_at: datetime | None


@dataclass(frozen=True)
class ClaimView:
    id: int
    campaign_id: int
    campaign_title: str
    clipper_id: int
    status: str
    status_words: str
    revision_count: int
    claimed_at: datetime
    expires_at: datetime
    submitted_at: datetime | None
    closed_at: datetime | None

    @property
    def workable(self) -> bool:
        return self.status in WORKABLE


@dataclass(frozen=True)
class ClaimableClip:
    """A clip of the clipper's that fits the claim's campaign and can be handed in."""

    id: int
    title: str
    duration_s: float
    aspect: str
    fits: bool
    why_not: str


@dataclass(frozen=True)
class OwnEdit:
    id: int
    filename: str
    duration_s: float
    fits: bool
    why_not: str


@dataclass(frozen=True)
class ClaimDetail:
    claim: ClaimView
    campaign: CampaignView
    submissions: tuple[SubmissionView, ...]
    generation_jobs: tuple[JobView, ...]
    clips: tuple[ClaimableClip, ...]
    own_edits: tuple[OwnEdit, ...]


def claim_view(job: MarketJob, campaign_title: str) -> ClaimView:
    return ClaimView(
        id=job.id,
        campaign_id=job.campaign_id,
        campaign_title=campaign_title,
        clipper_id=job.clipper_id,
        status=job.status,
        status_words=STATUS_WORDS.get(job.status, job.status),
        revision_count=job.revision_count,
        claimed_at=job.claimed_at,
        expires_at=job.expires_at,
        submitted_at=job.submitted_at,
        closed_at=job.closed_at,
    )


def submission_view(session: Session, submission: Submission) -> SubmissionView:
    title, duration = "", 0.0
    if submission.clip_id is not None:
        clip = session.get(Clip, submission.clip_id)
        if clip is not None:
            title, duration = clip.title, round(clip.end_s - clip.start_s, 1)
    elif submission.video_id is not None:
        video = session.get(Video, submission.video_id)
        if video is not None:
            title, duration = video.original_filename, round(video.duration_s or 0.0, 1)
    return SubmissionView(
        id=submission.id,
        job_id=submission.job_id,
        clip_id=submission.clip_id,
        video_id=submission.video_id,
        title=title,
        duration_s=duration,
        caption=submission.caption,
        hashtags=submission.hashtags,
        status=submission.status,
        feedback=submission.feedback,
        auto_approved=submission.auto_approved,
        created_at=submission.created_at,
        reviewed_at=submission.reviewed_at,
    )


def _own_claim(session: Session, actor: UserView, job_id: int) -> MarketJob:
    require_role(actor, Role.CLIPPER)
    return owned(session, MarketJob, job_id, actor, noun="claim", owner_attr="clipper_id")


# --- claiming --------------------------------------------------------------------------------


ALL_SLOTS_TAKEN = "Every slot of this campaign is taken. Try again later: claims expire."


def claim_refusal(
    campaign: Campaign | CampaignView, actor: UserView, slots_left: int, now: datetime
) -> str:
    """Why `actor` cannot claim the campaign now, in words, or "" when they can; the one
    rule behind `claim_slot` and the campaign page's Claim button."""
    if not actor.has_role(Role.CLIPPER):
        return "Claiming is part of a clipper account."
    if campaign.client_id == actor.id:
        return "This is your own campaign; another clipper has to claim it."
    if campaign.status != CampaignStatus.ACTIVE:
        return f"This campaign is {campaign.status}, so it takes no new claims."
    if campaign.deadline is not None and campaign.deadline <= now:
        return "This campaign's deadline has passed."
    if campaign.is_exhausted:
        return "This campaign's budget is spent, so it takes no new claims."
    if slots_left <= 0:
        return ALL_SLOTS_TAKEN
    return ""


def claim_slot(*, session: Session, actor: UserView, campaign_id: int) -> ClaimView:
    """Take one free slot of a live campaign for `claim_ttl_hours`.

    Atomic: the campaign row is locked while free slots are counted, so concurrent
    claims never outnumber the free slots. Claiming again while the actor holds an
    open claim on the campaign returns that claim.
    """
    require_role(actor, Role.CLIPPER)
    campaign_id = as_id(campaign_id)
    if campaign_id is None:
        raise NotFound("That campaign was not found.")
    campaign = session.exec(
        select(Campaign)
        .where(Campaign.id == campaign_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if campaign is None or campaign.status == CampaignStatus.DRAFT:
        raise NotFound("That campaign was not found.")
    mine = session.exec(
        select(MarketJob).where(
            MarketJob.campaign_id == campaign.id,
            MarketJob.clipper_id == actor.id,
            col(MarketJob.status).in_(OPEN_JOB_STATUSES),
        )
    ).first()
    if mine is not None:
        return claim_view(mine, campaign.title)
    now = utcnow()
    open_claims, approved, _pending = job_counts(session, [campaign.id]).get(campaign.id, (0, 0, 0))
    free = free_slots(campaign, escrow_balance(session, campaign), open_claims, approved, now)
    refusal = claim_refusal(campaign, actor, free, now)
    if refusal:
        raise InvalidInput(refusal)
    expires = now + timedelta(hours=campaign.claim_ttl_hours)
    if campaign.deadline is not None:
        expires = min(expires, campaign.deadline)
    job = MarketJob(
        campaign_id=campaign.id, clipper_id=actor.id, claimed_at=now, expires_at=expires
    )
    try:
        with session.begin_nested():
            session.add(job)
            session.flush()
    except IntegrityError:
        # The same clipper's other click won the race: give them that claim.
        session.expunge(job)
        mine = session.exec(
            select(MarketJob).where(
                MarketJob.campaign_id == campaign.id,
                MarketJob.clipper_id == actor.id,
                col(MarketJob.status).in_(OPEN_JOB_STATUSES),
            )
        ).first()
        if mine is None:
            raise
        return claim_view(mine, campaign.title)
    record_audit(
        session=session,
        action="claim.created",
        actor_id=actor.id,
        target_type="market_job",
        target_id=job.id,
        campaign_id=campaign.id,
    )
    return claim_view(job, campaign.title)


def give_up_claim(*, session: Session, actor: UserView, job_id: int) -> ClaimView:
    """Hand a claim back before submitting, freeing its slot."""
    job = _own_claim(session, actor, job_id)
    move(session, job, S.ABANDONED, closed_at=utcnow())
    record_audit(
        session=session,
        action="claim.abandoned",
        actor_id=actor.id,
        target_type="market_job",
        target_id=job.id,
    )
    campaign = session.get(Campaign, job.campaign_id)
    return claim_view(job, campaign.title)


def release_claims_of(*, session: Session, clipper_id: int, actor_id: int, why: str) -> list[int]:
    """Give up, for the clipper, every claim not handed in (an admin suspended them), so
    its slot is free again; the same move as `give_up_claim`. A submitted clip stays for
    its client to review. The ids of the claims closed."""
    jobs = session.exec(
        select(MarketJob).where(
            MarketJob.clipper_id == clipper_id, col(MarketJob.status).in_(WORKABLE)
        )
    ).all()
    closed: list[int] = []
    for job in jobs:
        move(session, job, S.ABANDONED, closed_at=utcnow())
        record_audit(
            session=session,
            action="claim.abandoned",
            actor_id=actor_id,
            target_type="market_job",
            target_id=job.id,
            why=why,
        )
        closed.append(job.id)
    return closed


def expire_claims(*, session: Session, now: datetime | None = None) -> int:
    """Expire every unsubmitted claim past its time-to-live and tell its clipper (scheduled);
    running it again changes nothing. How many expired."""
    now = now or utcnow()
    due = session.exec(
        select(MarketJob.id, MarketJob.clipper_id, MarketJob.status, Campaign.title)
        .join(Campaign, col(Campaign.id) == MarketJob.campaign_id)
        .where(col(MarketJob.status).in_(WORKABLE), col(MarketJob.expires_at) <= now)
    ).all()
    expired = 0
    for job_id, clipper_id, status, title in due:
        moved = session.exec(
            update(MarketJob)
            .where(
                col(MarketJob.id) == job_id,
                col(MarketJob.status) == status,
                col(MarketJob.expires_at) <= now,
            )
            .values(status=S.EXPIRED, closed_at=now)
        ).rowcount
        if moved:
            expired += 1
            notify(
                session,
                clipper_id,
                Kind.CLAIM_EXPIRED,
                f"Your claim on {title} expired before a clip was submitted; its slot is "
                "free again.",
                routes.claim(job_id),
            )
    return expired


def warn_expiring_claims(*, session: Session, now: datetime | None = None) -> int:
    """Tell clippers whose claim expires within `WARN_BEFORE` (once per deadline)."""
    now = now or utcnow()
    due = session.exec(
        select(MarketJob.id, MarketJob.clipper_id, MarketJob.expires_at, Campaign.title)
        .join(Campaign, col(Campaign.id) == MarketJob.campaign_id)
        .where(
            col(MarketJob.status).in_(WORKABLE),
            col(MarketJob.expiry_warned_at).is_(None),
            col(MarketJob.expires_at) > now,
            col(MarketJob.expires_at) <= now + WARN_BEFORE,
        )
    ).all()
    warned = 0
    for job_id, clipper_id, expires_at, title in due:
        moved = session.exec(
            update(MarketJob)
            .where(col(MarketJob.id) == job_id, col(MarketJob.expiry_warned_at).is_(None))
            .values(expiry_warned_at=now)
        ).rowcount
        if moved:
            warned += 1
            hours = max(1, round((expires_at - now).total_seconds() / 3600))
            notify(
                session,
                clipper_id,
                Kind.CLAIM_EXPIRING,
                f"Your claim on {title} expires in about {hours} hour{'s' if hours > 1 else ''}; "
                "submit a clip before then.",
                routes.claim(job_id),
            )
    return warned


# --- reading a clipper's work ----------------------------------------------------------------


def my_claims(*, session: Session, actor: UserView, limit: int = 100) -> list[ClaimView]:
    """The clipper's claims, open ones first, newest first."""
    require_role(actor, Role.CLIPPER)
    rows = session.exec(
        select(MarketJob, Campaign.title)
        .join(Campaign, col(Campaign.id) == MarketJob.campaign_id)
        .where(MarketJob.clipper_id == actor.id)
        .order_by(col(MarketJob.claimed_at).desc(), col(MarketJob.id).desc())
        .limit(max(1, min(200, int(limit))))
        .execution_options(populate_existing=True)
    ).all()
    views = [claim_view(job, title) for job, title in rows]
    return sorted(views, key=lambda v: 0 if v.status in OPEN_JOB_STATUSES else 1)


def my_claim_on(*, session: Session, actor: UserView, campaign_id: int) -> ClaimView | None:
    """The actor's open claim on a campaign, if they hold one."""
    if actor is None:
        raise NotAuthenticated()
    if not actor.has_role(Role.CLIPPER):
        return None
    campaign_id = as_id(campaign_id)
    if campaign_id is None:
        return None
    row = session.exec(
        select(MarketJob, Campaign.title)
        .join(Campaign, col(Campaign.id) == MarketJob.campaign_id)
        .where(
            MarketJob.campaign_id == campaign_id,
            MarketJob.clipper_id == actor.id,
            col(MarketJob.status).in_(OPEN_JOB_STATUSES),
        )
    ).first()
    return claim_view(row[0], row[1]) if row else None


def _fit(duration: float, aspect: str, campaign: Campaign) -> str:
    """Why a clip does not meet the campaign's length or aspect, or ""."""
    if duration < campaign.min_length_s - LENGTH_TOLERANCE_S or duration > (
        campaign.max_length_s + LENGTH_TOLERANCE_S
    ):
        return (
            f"It is {duration:.0f} s long; the campaign asks for "
            f"{campaign.min_length_s}-{campaign.max_length_s} s."
        )
    if aspect and aspect != campaign.aspect:
        return f"It is {aspect}; the campaign asks for {campaign.aspect}."
    return ""


def video_aspect(video: Video) -> str:
    """The nearest offered aspect of an uploaded video ("" when unknown)."""
    if not video.width or not video.height:
        return ""
    ratio = video.width / video.height
    return min(("9:16", 9 / 16), ("1:1", 1.0), ("16:9", 16 / 9), key=lambda a: abs(a[1] - ratio))[0]


def claim_detail(*, session: Session, actor: UserView, job_id: int) -> ClaimDetail:
    """Everything a clipper needs to work on a claim."""
    job = _own_claim(session, actor, job_id)
    campaign = fresh(session, Campaign, job.campaign_id)
    submissions = session.exec(
        select(Submission).where(Submission.job_id == job.id).order_by(col(Submission.id).desc())
    ).all()
    generation = session.exec(
        select(ProcessingJob)
        .where(ProcessingJob.market_job_id == job.id, ProcessingJob.user_id == actor.id)
        .order_by(col(ProcessingJob.id).desc())
        .execution_options(populate_existing=True)
    ).all()
    clips = []
    if campaign.source_video_id is not None:
        clip_rows = session.exec(
            select(Clip)
            .where(
                Clip.owner_id == actor.id,
                Clip.video_id == campaign.source_video_id,
                Clip.status == ClipStatus.READY,
            )
            .order_by(col(Clip.job_id).desc(), col(Clip.rank))
            .limit(60)
        ).all()
        for clip in clip_rows:
            why = _fit(clip.end_s - clip.start_s, clip.aspect, campaign)
            clips.append(
                ClaimableClip(
                    clip.id,
                    clip.title,
                    round(clip.end_s - clip.start_s, 1),
                    clip.aspect,
                    not why,
                    why,
                )
            )
    used_videos = {campaign.source_video_id}
    edits = []
    video_rows = session.exec(
        select(Video)
        .where(Video.owner_id == actor.id, Video.status == VideoStatus.READY)
        .order_by(col(Video.id).desc())
        .limit(30)
    ).all()
    for video in video_rows:
        if video.id in used_videos:
            continue
        why = _fit(video.duration_s or 0.0, video_aspect(video), campaign)
        edits.append(
            OwnEdit(
                video.id, video.original_filename, round(video.duration_s or 0.0, 1), not why, why
            )
        )
    return ClaimDetail(
        claim=claim_view(job, campaign.title),
        campaign=view_of(session, campaign),
        submissions=tuple(submission_view(session, s) for s in submissions),
        generation_jobs=tuple(JobView.of(j) for j in generation),
        clips=tuple(clips),
        own_edits=tuple(edits),
    )


# --- working on a claim ----------------------------------------------------------------------


def _workable(
    session: Session, actor: UserView, job_id: int, *, lock: bool = False
) -> tuple[MarketJob, Campaign]:
    job = _own_claim(session, actor, job_id)
    if job.status not in WORKABLE:
        raise InvalidInput(
            f"This claim is {STATUS_WORDS.get(job.status, job.status)}, so there is nothing to "
            "work on."
        )
    if lock:
        # A hand-in and a cancel of its campaign (which locks the row too) take turns:
        # a cancel never misses a clip handed in at the same moment.
        campaign = session.exec(
            select(Campaign)
            .where(Campaign.id == job.campaign_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).one()
    else:
        campaign = fresh(session, Campaign, job.campaign_id)
    if campaign.status == CampaignStatus.CANCELLED:
        raise InvalidInput("This campaign was cancelled.")
    now = utcnow()
    if job.expires_at <= now:
        raise InvalidInput("This claim has expired.")
    return job, campaign


def generate_for_claim(
    *, session: Session, actor: UserView, job_id: int, options: GenerateOptions
) -> JobView:
    """Make clips of the campaign's source for this claim; the source's analysis is shared
    by every clipper of the campaign (see workers.generation)."""
    job, campaign = _workable(session, actor, job_id)
    if campaign.source_video_id is None:
        raise InvalidInput(
            "This campaign's source is a link, not an uploaded video: make your edit from it "
            "and upload that instead."
        )
    video = fresh(session, Video, campaign.source_video_id)
    if video is None or video.status != VideoStatus.READY:
        raise InvalidInput("The campaign's source video is not available.")
    return media_jobs.queue_generation(
        session=session, actor=actor, video=video, options=options, market_job_id=job.id
    )


def submit_clip(
    *,
    session: Session,
    actor: UserView,
    job_id: int,
    clip_id: int | None = None,
    video_id: int | None = None,
    caption: str = "",
    hashtags: str = "",
) -> SubmissionView:
    """Hand in one clip for the claim: a clip generated from the campaign's source, or the
    clipper's own uploaded edit; with the post's caption and hashtags. A claim sent back
    for a revision is reopened and submitted again."""
    job, campaign = _workable(session, actor, job_id, lock=True)
    if campaign.deadline is not None and campaign.deadline <= utcnow():
        raise InvalidInput("The campaign's deadline has passed.")
    if (clip_id is None) == (video_id is None):
        raise InvalidInput("Pick one clip to submit.")
    caption = str(caption or "").strip()
    if len(caption) > MAX_CAPTION:
        raise InvalidInput(f"Keep the caption to {MAX_CAPTION} characters.")
    tags = clean_hashtags(hashtags)
    required = campaign.hashtags.split()
    given = {tag.lower() for tag in tags.split() + _TAG_IN_TEXT.findall(caption)}
    missing = [tag for tag in required if tag.lower() not in given]
    if missing:
        raise InvalidInput(f"Add the campaign's required hashtags: {' '.join(missing)}.")
    if clip_id is not None:
        clip = owned(session, Clip, clip_id, actor, noun="clip")
        if clip.video_id != campaign.source_video_id:
            raise InvalidInput("That clip was not made from this campaign's source video.")
        if clip.status != ClipStatus.READY:
            raise InvalidInput("That clip is still rendering; submit it once it is ready.")
        why = _fit(clip.end_s - clip.start_s, clip.aspect, campaign)
    else:
        video = owned(session, Video, video_id, actor, noun="video")
        if video.status != VideoStatus.READY:
            raise InvalidInput("That video is not ready; wait until its upload finishes.")
        why = _fit(video.duration_s or 0.0, video_aspect(video), campaign)
    if why:
        raise InvalidInput(f"This clip does not meet the campaign's requirements. {why}")
    now = utcnow()
    if job.status == S.REVISION_REQUESTED:
        move(session, job, S.IN_PROGRESS)
    move(session, job, S.SUBMITTED, submitted_at=now)
    submission = Submission(
        job_id=job.id,
        clip_id=clip_id if clip_id is None else int(clip_id),
        video_id=video_id if video_id is None else int(video_id),
        caption=caption,
        hashtags=tags,
        status=SubmissionStatus.PENDING,
        created_at=now,
    )
    session.add(submission)
    session.flush()
    record_audit(
        session=session,
        action="submission.created",
        actor_id=actor.id,
        target_type="submission",
        target_id=submission.id,
        job_id=job.id,
    )
    clipper = session.get(User, actor.id)
    notify(
        session,
        campaign.client_id,
        Kind.SUBMISSION_RECEIVED,
        f"{clipper.display_name} submitted a clip to {campaign.title}.",
        routes.REVIEWS,
    )
    return submission_view(session, submission)
