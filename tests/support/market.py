"""Marketplace set-ups made through the real services: funded clients, live campaigns,
clippers with clips of a campaign's source (rows for the clips; no rendering)."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from argon2 import PasswordHasher
from sqlmodel import Session

from clipgen.models import Clip, ClipStatus, JobStatus, ProcessingJob, User, Video, VideoStatus
from clipgen.services.auth import passwords
from clipgen.services.auth.service import UserView
from clipgen.services.market import campaigns, claims, reviews
from clipgen.services.market.campaigns import CampaignDraft, CampaignView
from clipgen.services.market.claims import ClaimView, SubmissionView
from clipgen.services.money import funds

_references = itertools.count(1)
_QUICK_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap Argon2 settings, for tests that open many accounts and test no passwords
    (the real settings take about half a second a hash)."""
    monkeypatch.setattr(passwords, "_hasher", _QUICK_HASHER)


DRAFT = CampaignDraft(
    title="Launch week",
    brief="Cut the best moments of our launch talk.",
    platforms=("youtube", "tiktok"),
    min_length_s=15,
    max_length_s=60,
    price_per_clip_cents=1000,
    budget_cents=10_000,
    max_clips=10,
)


def ready_video(
    session: Session,
    owner: UserView,
    *,
    duration_s: float = 600.0,
    width: int = 1920,
    height: int = 1080,
    name: str = "talk.mp4",
) -> Video:
    """A checked, stored video row of `owner` (its file is not needed by the services)."""
    number = next(_references)
    video = Video(
        owner_id=owner.id,
        original_filename=name,
        storage_key=f"uploads/{owner.id}/test-{number}.mp4",
        size_bytes=1000,
        duration_s=duration_s,
        width=width,
        height=height,
        status=VideoStatus.READY,
    )
    session.add(video)
    session.flush()
    return video


def fund(session: Session, admin: UserView, client: UserView, cents: int) -> None:
    funds.record_deposit(
        session=session,
        actor=admin,
        client_id=client.id,
        amount_cents=cents,
        reference=f"wire-{next(_references)}",
    )


def live_campaign(session: Session, admin: UserView, client: UserView, **terms) -> CampaignView:
    """A campaign of `client` with an uploaded source, funded and activated."""
    source = ready_video(session, client)
    draft = replace(DRAFT, source_video_id=source.id, **terms)
    fund(session, admin, client, draft.budget_cents)
    made = campaigns.create_campaign(session=session, actor=client, draft=draft)
    return campaigns.activate_campaign(session=session, actor=client, campaign_id=made.id)


def clip_of(
    session: Session,
    clipper: UserView,
    video_id: int,
    *,
    seconds: float = 30.0,
    aspect: str = "9:16",
    market_job_id: int | None = None,
) -> Clip:
    """A rendered clip of `video_id` owned by `clipper`, as a finished generation leaves it."""
    job = ProcessingJob(
        user_id=clipper.id,
        video_id=video_id,
        status=JobStatus.SUCCEEDED,
        market_job_id=market_job_id,
    )
    session.add(job)
    session.flush()
    clip = Clip(
        owner_id=clipper.id,
        job_id=job.id,
        video_id=video_id,
        rank=1,
        start_s=10.0,
        end_s=10.0 + seconds,
        title="The best bit",
        aspect=aspect,
        status=ClipStatus.READY,
        video_key=f"clips/{clipper.id}/{job.id}/1.mp4",
    )
    session.add(clip)
    session.flush()
    return clip


def both_roles(session: Session, user: UserView) -> UserView:
    """The same account holding the clipper and the client role (DESIGN §3: one account
    may hold both; `auth.register` gives one, so the second is set on the row)."""
    row = session.get(User, user.id)
    row.is_clipper = True
    row.is_client = True
    session.add(row)
    session.flush()
    return UserView.of(row)


def submitted(
    session: Session,
    clipper: UserView,
    campaign: CampaignView,
    *,
    seconds: float = 30.0,
    caption: str = "",
) -> tuple[ClaimView, SubmissionView]:
    """The clipper claims a slot of the campaign and hands in a fitting clip of its source
    (with the campaign's required hashtags)."""
    claim = claims.claim_slot(session=session, actor=clipper, campaign_id=campaign.id)
    clip = clip_of(
        session, clipper, campaign.source_video_id, seconds=seconds, market_job_id=claim.id
    )
    submission = claims.submit_clip(
        session=session,
        actor=clipper,
        job_id=claim.id,
        clip_id=clip.id,
        caption=caption,
        hashtags=campaign.hashtags,
    )
    return claim, submission


def approved(
    session: Session, client: UserView, clipper: UserView, campaign: CampaignView
) -> tuple[ClaimView, SubmissionView]:
    """A claim of the clipper whose clip the client approved."""
    claim, submission = submitted(session, clipper, campaign)
    reviews.approve_submission(session=session, actor=client, submission_id=submission.id)
    return claim, submission
