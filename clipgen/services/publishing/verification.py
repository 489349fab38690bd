"""Is a post the clipper's post of the clip? (DESIGN §5, "Verified posts")

A post earns only once the platform's own API shows that it is on the account the clipper
connected, that it was published after the clipper claimed the campaign, that it is as
long as the approved clip (within `DURATION_TOLERANCE_S`), and that its caption or
description carries the hashtags and mentions the campaign requires.

This module reads the facts from each platform and judges them; `sync` applies the
verdicts (and the readings that come with them) to the database. Readers keep their
own units of work only where the connections refresh tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from clipgen.config import get_settings
from clipgen.models import (
    Campaign,
    Clip,
    MarketJob,
    Platform,
    Publication,
    Submission,
    Video,
)
from clipgen.services.market.campaigns import PLATFORM_LABELS
from clipgen.services.publishing import connections, instagram, tiktok, youtube

DURATION_TOLERANCE_S = 1.5
# Platforms give publish times in whole seconds, and clocks differ: a post published
# within this of the claim counts as after it.
CLOCK_GRACE = timedelta(minutes=1)


@dataclass(frozen=True)
class PostFacts:
    """What a platform's API says about one post."""

    account_id: str  # the channel / TikTok open_id / Instagram user id it is on
    published_at: datetime | None
    duration_s: float | None  # None where the platform does not say (Instagram)
    text: str  # title, caption or description, and tags: where hashtags are looked for
    views: int
    likes: int = 0
    comments: int = 0
    counts_known: bool = True  # Instagram's insights can lag up to 48 hours
    platform_ref: str = ""  # the platform's own id (Instagram media id)
    is_video: bool = True


@dataclass(frozen=True)
class Expected:
    """What a post of this clip must show."""

    platform: str
    account_id: str  # of the clipper's connection ("" when none is known)
    claimed_at: datetime
    clip_duration_s: float | None
    required: tuple[str, ...]  # "#tag" and "@name", as the campaign lists them


def required_tags(hashtags: str) -> tuple[str, ...]:
    """The campaign's hashtags and mentions (`clean_hashtags` keeps them space apart)."""
    return tuple(
        dict.fromkeys(t for t in str(hashtags or "").split() if t[:1] in "#@" and len(t) > 1)
    )


def carries(text: str, tag: str) -> bool:
    """Whether `text` has `tag` as a whole tag (#podcast is not in #podcasting)."""
    # A name may hold dots (@brand.co is someone else), a sentence's full stop may follow.
    ends = r"(?!\w|\.\w)" if tag[:1] == "@" else r"(?!\w)"
    pattern = re.escape(tag.lower()) + ends
    return re.search(r"(?<![\w#@])" + pattern, str(text or "").lower()) is not None


def judge(facts: PostFacts, expected: Expected) -> list[str]:
    """Why the post is refused, in words (each check that failed); [] when verified."""
    label = PLATFORM_LABELS.get(expected.platform, expected.platform)
    reasons = []
    if not facts.is_video:
        reasons.append("It is a photo, not a video of the clip.")
    if expected.account_id and facts.account_id and facts.account_id != expected.account_id:
        reasons.append(f"It is on another {label} account than the one you connected.")
    if facts.published_at is not None and facts.published_at < expected.claimed_at - CLOCK_GRACE:
        reasons.append(
            f"It was published on {facts.published_at:%d %b %Y %H:%M} UTC, before you claimed "
            f"this campaign ({expected.claimed_at:%d %b %Y %H:%M} UTC)."
        )
    if (
        facts.duration_s is not None
        and expected.clip_duration_s is not None
        and abs(facts.duration_s - expected.clip_duration_s) > DURATION_TOLERANCE_S
    ):
        reasons.append(
            f"It is {facts.duration_s:.1f} s long; the approved clip is "
            f"{expected.clip_duration_s:.1f} s."
        )
    missing = [tag for tag in expected.required if not carries(facts.text, tag)]
    if missing:
        reasons.append(
            f"Its {'description' if expected.platform == Platform.YOUTUBE else 'caption'} "
            f"lacks {', '.join(missing)}, which the campaign requires."
        )
    return reasons


def clip_duration(session: Session, submission: Submission) -> float | None:
    """How long the approved clip is: the generated clip's cut, or the uploaded edit's."""
    if submission.clip_id is not None:
        clip = session.get(Clip, submission.clip_id)
        if clip is not None and clip.end_s > clip.start_s:
            return clip.end_s - clip.start_s
    if submission.video_id is not None:
        video = session.get(Video, submission.video_id)
        if video is not None and video.duration_s:
            return float(video.duration_s)
    return None


def expected_for(session: Session, post: Publication) -> Expected:
    submission = session.get(Submission, post.submission_id)
    job = session.get(MarketJob, submission.job_id)
    campaign = session.get(Campaign, job.campaign_id)
    return Expected(
        platform=post.platform,
        account_id=connections.account_id(session, post.clipper_id, post.platform) or "",
        claimed_at=job.claimed_at,
        clip_duration_s=clip_duration(session, submission),
        required=required_tags(campaign.hashtags),
    )


# ---------------------------------------------------------------------------------------
# Reading the platforms


class Stopped(Exception):
    """A platform's rate limit or quota: read nothing more from it in this run."""

    def __init__(self, platform: str, message: str, retry_at: datetime | None) -> None:
        super().__init__(message)
        self.platform = platform
        self.retry_at = retry_at


@dataclass
class Batch:
    """One request's worth of a clipper's posts on a platform, and what came back."""

    platform: str
    clipper_id: int
    facts: dict[int, PostFacts] = field(default_factory=dict)  # by publication id
    missing: list[int] = field(default_factory=list)  # the platform did not return them
    calls: int = 0
    quota_units: int = 0


@dataclass(frozen=True)
class ToRead:
    """A post the sync asks its platform about."""

    post_id: int
    external_id: str
    url: str
    platform_ref: str = ""


def can_read(session: Session, platform: str, clipper_id: int) -> str:
    """ "" when ClipGen can ask `platform` about this clipper's posts; otherwise why not,
    in words for the clipper."""
    label = PLATFORM_LABELS.get(platform, platform)
    settings = get_settings()
    configured = {
        Platform.YOUTUBE: settings.youtube_configured or bool(_api_key()),
        Platform.TIKTOK: settings.tiktok_configured,
        Platform.INSTAGRAM: settings.instagram_configured,
    }[platform]
    if not configured:
        return (
            f"ClipGen cannot read {label} on this server, so the campaign's client checks "
            "this post and confirms its counts."
        )
    if connections.is_connected(session, clipper_id, platform):
        return ""
    if (
        platform == Platform.YOUTUBE
        and _api_key()
        and connections.account_id(session, clipper_id, platform)
    ):
        return ""  # the channel is known from an earlier connection: the key reads it
    return f"Connect your {label} account (Account page) so ClipGen can verify this post."


def _api_key() -> str:
    return get_settings().youtube_api_key.get_secret_value()


def read(
    platform: str, clipper_id: int, posts: list[ToRead], *, service_factory=None
) -> Iterator[Batch]:
    """The facts of a clipper's posts on `platform`, batch by batch. Raises `Stopped` on a
    rate limit or quota, and yields nothing more for a connection that broke."""
    if platform == Platform.YOUTUBE:
        yield from _read_youtube(clipper_id, posts, service_factory or youtube.client)
    elif platform == Platform.TIKTOK:
        yield from _read_tiktok(clipper_id, posts)
    elif platform == Platform.INSTAGRAM:
        yield from _read_instagram(clipper_id, posts)


def _read_youtube(clipper_id: int, posts: list[ToRead], make_service) -> Iterator[Batch]:
    creds = connections.usable_credentials(clipper_id)
    service = make_service(creds=creds) if creds is not None else None
    if service is None and _api_key():
        service = make_service(api_key=_api_key())
    if service is None:
        return
    for start in range(0, len(posts), youtube.STATS_BATCH):
        chunk = posts[start : start + youtube.STATS_BATCH]
        try:
            result = youtube.fetch_facts(service, [p.external_id for p in chunk])
        except youtube.QuotaExceeded as error:
            raise Stopped(Platform.YOUTUBE, str(error), error.retry_at) from None
        except youtube.YouTubeError as error:
            raise Stopped(Platform.YOUTUBE, str(error), None) from None
        batch = Batch(
            Platform.YOUTUBE, clipper_id, calls=result.calls, quota_units=result.quota_units
        )
        for post in chunk:
            found = result.found.get(post.external_id)
            if found is None:
                batch.missing.append(post.post_id)
                continue
            batch.facts[post.post_id] = PostFacts(
                account_id=found.channel_id,
                published_at=found.published_at,
                duration_s=found.duration_s,
                text="\n".join([found.title, found.description, *found.tags]),
                views=found.views,
                likes=found.likes,
                comments=found.comments,
            )
        yield batch


def _read_tiktok(clipper_id: int, posts: list[ToRead]) -> Iterator[Batch]:
    token = connections.usable_token(clipper_id, Platform.TIKTOK)
    if token is None:
        return
    for start in range(0, len(posts), tiktok.QUERY_BATCH):
        chunk = posts[start : start + tiktok.QUERY_BATCH]
        try:
            result = tiktok.query_videos(token, [p.external_id for p in chunk])
        except tiktok.RateLimited as error:
            raise Stopped(Platform.TIKTOK, str(error), error.retry_at) from None
        except tiktok.NotConnected:
            connections.mark_broken(clipper_id, Platform.TIKTOK)
            return
        except tiktok.TikTokError as error:
            raise Stopped(Platform.TIKTOK, str(error), None) from None
        batch = Batch(Platform.TIKTOK, clipper_id, calls=result.calls)
        for post in chunk:
            video = result.found.get(post.external_id)
            if video is None:  # TikTok answers only for the connected user's own videos
                batch.missing.append(post.post_id)
                continue
            batch.facts[post.post_id] = PostFacts(
                account_id="",  # its being returned for this token is the proof
                published_at=video.create_time,
                duration_s=float(video.duration),
                text=video.description,
                views=video.views,
                likes=video.likes,
                comments=video.comments,
            )
        yield batch


def _read_instagram(clipper_id: int, posts: list[ToRead]) -> Iterator[Batch]:
    token = connections.usable_token(clipper_id, Platform.INSTAGRAM)
    if token is None:
        return
    for post in posts:  # one post a unit: finding it may page through the account's media
        batch = Batch(Platform.INSTAGRAM, clipper_id)
        try:
            media = instagram.find_media(token, post.url)
            batch.calls += 1
            if media is None:
                batch.missing.append(post.post_id)
                yield batch
                continue
            counts = instagram.insights(token, media.id)
            batch.calls += 1
        except instagram.RateLimitExceeded as error:
            raise Stopped(Platform.INSTAGRAM, str(error), error.retry_at) from None
        except instagram.NotConnected:
            connections.mark_broken(clipper_id, Platform.INSTAGRAM)
            return
        except instagram.InstagramError as error:
            raise Stopped(Platform.INSTAGRAM, str(error), None) from None
        batch.facts[post.post_id] = PostFacts(
            account_id="",  # found among the connected account's own media
            published_at=media.timestamp,
            duration_s=None,  # the Instagram API does not give a post's length
            text=media.caption,
            views=counts.views or 0,
            likes=counts.likes or 0,
            comments=counts.comments or 0,
            counts_known=counts.views is not None,
            platform_ref=media.id,
            is_video=media.media_type == "VIDEO",
        )
        yield batch
