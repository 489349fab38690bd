"""View sync (DESIGN §5): every reading becomes an append-only snapshot, suspicious ones
raise a flag, and the money services bring the clip's CPM earnings, bonus and tier up
to date. Money follows views idempotently: the same reading twice, or an older one
after a newer one, books nothing more.

`run_view_sync` is the scheduled job's body: it reads YouTube in batches and commits
each batch in its own unit of work, so a quota error halfway keeps what was read.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from clipgen import routes
from clipgen.config import get_settings
from clipgen.db import session_scope
from clipgen.models import (
    Campaign,
    LedgerTransaction,
    MarketJob,
    Platform,
    Publication,
    PublicationStatus,
    Role,
    Submission,
    ViewSnapshot,
    ViewSource,
    ViewSyncRun,
    utcnow,
)
from clipgen.services import tasks
from clipgen.services.access import require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.market import campaigns
from clipgen.services.money import earnings, tiers
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify
from clipgen.services.publishing import connections, fraud, youtube

log = logging.getLogger(__name__)

MAX_COUNT = 10**12  # more views than people have ever watched anything


@dataclass(frozen=True)
class Counts:
    views: int
    likes: int = 0
    comments: int = 0


def record_reading(
    session: Session,
    publication_id: int,
    counts: Counts,
    *,
    source: ViewSource,
    recorded_by: int | None = None,
    taken_at: datetime | None = None,
    engagement_known: bool = True,
) -> tuple[ViewSnapshot, list[LedgerTransaction], bool]:
    """Append a reading of a post, flag it if it looks bought, and settle its clip's
    money. (snapshot, transactions booked, whether a flag was raised)."""
    post = session.exec(
        select(Publication).where(Publication.id == publication_id).with_for_update()
    ).one()
    session.refresh(post)
    taken_at = taken_at or utcnow()
    history = [
        fraud.Reading(at, views, likes, comments)
        for at, views, likes, comments in session.exec(
            select(
                ViewSnapshot.taken_at,
                ViewSnapshot.views,
                ViewSnapshot.likes,
                ViewSnapshot.comments,
            )
            .where(ViewSnapshot.publication_id == post.id, ViewSnapshot.taken_at <= taken_at)
            .order_by(col(ViewSnapshot.taken_at), col(ViewSnapshot.id))
        ).all()
    ]
    snapshot = ViewSnapshot(
        publication_id=post.id,
        source=source,
        views=counts.views,
        likes=counts.likes,
        comments=counts.comments,
        recorded_by=recorded_by,
        taken_at=taken_at,
    )
    session.add(snapshot)
    newest = post.last_synced_at is None or taken_at >= post.last_synced_at
    if newest:  # an older reading arriving late is kept, but does not replace the count
        post.views, post.likes, post.comments = counts.views, counts.likes, counts.comments
        post.last_synced_at = taken_at
        if post.status == PublicationStatus.UNAVAILABLE:
            post.status, post.status_note = PublicationStatus.LIVE, ""
    session.add(post)
    session.flush()
    flagged = False
    if (
        newest
        and post.status != PublicationStatus.DISQUALIFIED
        and post.submission_id is not None
        and fraud.open_flag_of(session, post.submission_id) is None
    ):
        found = fraud.suspicion(
            history,
            fraud.Reading(taken_at, counts.views, counts.likes, counts.comments, engagement_known),
        )
        if found is not None:
            fraud.raise_flag(session, post, snapshot, found)
            flagged = True
    booked = settle_submission(session, post.submission_id) if post.submission_id else []
    return snapshot, booked, flagged


def counted_views(session: Session, submission: Submission, campaign: Campaign) -> int:
    """The views a clip is paid for: its posts' latest counts, except disqualified posts
    and posts below the campaign's minimum views per post."""
    views = session.exec(
        select(Publication.views).where(
            Publication.submission_id == submission.id,
            Publication.status != PublicationStatus.DISQUALIFIED,
        )
    ).all()
    return sum(v for v in views if v >= campaign.min_views_per_post)


def settle_submission(session: Session, submission_id: int) -> list[LedgerTransaction]:
    """Bring one clip's CPM earnings and bonus up to date with its counted views (held
    while a flag on it is open); tell the client when that spends the campaign's budget,
    and complete the campaign when it can pay nothing more."""
    submission = session.exec(
        select(Submission).where(Submission.id == submission_id).with_for_update()
    ).one()
    job = session.get(MarketJob, submission.job_id)
    campaign = session.get(Campaign, job.campaign_id)
    flag = fraud.open_flag_of(session, submission.id)
    was_exhausted = campaign.is_exhausted
    booked = earnings.book_views(
        session=session,
        submission_id=submission.id,
        views=counted_views(session, submission, campaign),
        held_by_flag_id=flag.id if flag else None,
    )
    session.refresh(campaign)
    if campaign.is_exhausted and not was_exhausted:
        notify(
            session,
            campaign.client_id,
            Kind.CAMPAIGN_EXHAUSTED,
            f"{campaign.title} has spent its budget on its clips' views; it takes no new claims.",
            routes.campaign(campaign.id),
        )
    tiers.refresh_cached_tier(session, job.clipper_id)
    if booked:
        campaigns.complete_if_done(session, campaign)
    return booked


# ---------------------------------------------------------------------------------------
# The scheduled sync


def request_view_sync(*, session: Session, actor: UserView) -> None:
    """An admin asks for a sync now (it runs on a worker, after this commits)."""
    require_role(actor, Role.ADMIN)
    record_audit(
        session=session, action="views.sync_requested", actor_id=actor.id, target_type="sync"
    )
    tasks.send_after_commit(session, tasks.SYNC_VIEWS, triggered_by=actor.id)


def last_runs(*, session: Session, actor: UserView, limit: int = 10) -> list[ViewSyncRun]:
    """The latest sync runs, newest first (what was read, quota used, errors)."""
    require_role(actor, Role.ADMIN)
    return list(
        session.exec(
            select(ViewSyncRun).order_by(col(ViewSyncRun.started_at).desc()).limit(limit)
        ).all()
    )


def _youtube_posts(session: Session) -> dict[int, list[tuple[int, str]]]:
    """YouTube posts the sync reads, by clipper: (publication id, video id)."""
    rows = session.exec(
        select(Publication.clipper_id, Publication.id, Publication.external_id).where(
            Publication.platform == Platform.YOUTUBE,
            Publication.status != PublicationStatus.DISQUALIFIED,
        )
    ).all()
    by_clipper: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for clipper_id, post_id, video_id in rows:
        by_clipper[clipper_id].append((post_id, video_id))
    return by_clipper


def run_view_sync(*, triggered_by: int | None = None, service_factory=None) -> ViewSyncRun:
    """Read the views of every YouTube post and record them (see module doc).

    Posts of clippers who connected a channel are read with their own token
    (`videos.batchGetStats`, its own quota bucket, falling back to `videos.list`);
    others with `YOUTUBE_API_KEY` if set (`videos.list`); the rest wait for counts
    entered by hand. `service_factory(creds=..., api_key=...)` builds the API client
    (tests pass one bound to a fake).
    """
    make_service = service_factory or youtube.client
    run = ViewSyncRun(triggered_by=triggered_by)  # counts what it does as it goes
    with session_scope() as session:
        session.add(run)
        session.flush()
        session.expunge(run)
        by_clipper = _youtube_posts(session)
    keyless: list[tuple[int, str]] = []
    api_key = get_settings().youtube_api_key.get_secret_value()
    try:
        for clipper_id, posts in sorted(by_clipper.items()):
            creds = connections.usable_credentials(clipper_id)
            if creds is None:  # not connected (or the connection broke): the key, or by hand
                keyless.extend(posts)
                continue
            _read(make_service(creds=creds), posts, "batchGetStats", run)
        if keyless and api_key:
            _read(make_service(api_key=api_key), keyless, "list", run)
        elif keyless:
            run.unread = len(keyless)
    except youtube.YouTubeError as error:  # quota used up, or Google refused: stop here
        run.error = str(error)[:500]
    finally:
        run.finished_at = utcnow()
        with session_scope() as session:
            run = session.merge(run)
            session.flush()
            session.expunge(run)
    log.info(
        "View sync %s: %d posts, %d readings, %d unavailable, %d unread (no channel, no key), "
        "%d API calls (%d quota units, %d batchGetStats), %d flags, %d bookings%s.",
        run.id,
        run.publications,
        run.snapshots,
        run.unavailable,
        run.unread,
        run.api_calls,
        run.quota_units,
        run.stats_calls,
        run.flags_raised,
        run.bookings,
        f"; stopped: {run.error}" if run.error else "",
    )
    return run


def _read(service, posts: list[tuple[int, str]], method: str, run: ViewSyncRun) -> None:
    """Read one credential's posts in batches; each batch is one unit of work."""
    for start in range(0, len(posts), youtube.STATS_BATCH):
        batch = posts[start : start + youtube.STATS_BATCH]
        result = youtube.fetch_stats(service, [video for _, video in batch], method=method)
        run.api_calls += result.calls
        run.quota_units += result.quota_units
        run.stats_calls += result.stats_calls
        method = result.method  # a fallback to videos.list sticks for the rest
        now = utcnow()
        with session_scope() as session:
            for post_id, video_id in batch:
                run.publications += 1
                stats = result.found.get(video_id)
                if stats is None:
                    run.unavailable += _mark_unavailable(session, post_id, now)
                    continue
                _snapshot, booked, flagged = record_reading(
                    session,
                    post_id,
                    Counts(stats.views, stats.likes, stats.comments),
                    source=ViewSource.YOUTUBE_API,
                    taken_at=now,
                )
                run.snapshots += 1
                run.bookings += len(booked)
                run.flags_raised += flagged


def _mark_unavailable(session: Session, post_id: int, now: datetime) -> int:
    """A video YouTube no longer returns (deleted, or private): keep its last counts and
    its earnings, stop expecting readings; 1 when this is news."""
    post = session.get(Publication, post_id)
    if post.status == PublicationStatus.UNAVAILABLE:
        return 0
    post.status = PublicationStatus.UNAVAILABLE
    post.status_note = (
        f"YouTube did not return this video on {now:%d %b %Y} (deleted, or made private)."
    )
    session.add(post)
    return 1
