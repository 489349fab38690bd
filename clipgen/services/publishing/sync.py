"""View sync (DESIGN §5): every reading becomes an append-only snapshot, suspicious ones
raise a flag, and the money services bring the clip's CPM earnings, bonus and tier up
to date. Money follows views idempotently: the same reading twice, or an older one
after a newer one, books nothing more.

Only a verified post's views earn (DESIGN §5, "Verified posts"). `run_view_sync` is the
scheduled job's body: it asks each platform about every post it can read, in batches,
each batch its own unit of work (a quota error halfway keeps what was read): posts waiting
for verification are judged from the platform's facts (`verification`), and verified
posts' counts become readings.
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
    Verification,
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
from clipgen.services.money.amounts import format_cents
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify
from clipgen.services.publishing import connections, fraud, verification, youtube

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
        reading = fraud.Reading(
            taken_at, counts.views, counts.likes, counts.comments, engagement_known
        )
        found = fraud.suspicion(history, reading)
        if found is None and fraud.judged_by_peers(history, source):
            # No trend yet, or a person's word: a bonus it books is judged against the
            # campaign's other posts (DESIGN §5). The clip is locked first, so a reading of
            # its other post at the same time is in the views judged (and booked) here.
            submission = session.exec(
                select(Submission).where(Submission.id == post.submission_id).with_for_update()
            ).one()
            campaign = session.get(Campaign, session.get(MarketJob, submission.job_id).campaign_id)
            found = fraud.unvouched_bonus(
                session,
                post,
                history,
                reading,
                source=source,
                clip_views=counted_views(session, submission, campaign),
            )
        if found is not None:
            fraud.raise_flag(session, post, snapshot, found)
            flagged = True
    booked = settle_submission(session, post.submission_id) if post.submission_id else []
    return snapshot, booked, flagged


def counted_views(session: Session, submission: Submission, campaign: Campaign) -> int:
    """The views a clip is paid for: its verified posts' latest counts, except disqualified
    posts and posts below the campaign's minimum views per post."""
    views = session.exec(
        select(Publication.views).where(
            Publication.submission_id == submission.id,
            Publication.verification == Verification.VERIFIED,
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
# Verification verdicts

SOURCES = {
    Platform.YOUTUBE: ViewSource.YOUTUBE_API,
    Platform.TIKTOK: ViewSource.TIKTOK_API,
    Platform.INSTAGRAM: ViewSource.INSTAGRAM_API,
}
WAITING = (Verification.PENDING, Verification.UNAVAILABLE)


def _label(platform: str) -> str:
    return campaigns.PLATFORM_LABELS.get(platform, platform)


def judge_post(
    session: Session, post_id: int, facts: verification.PostFacts | None, *, by: str
) -> str:
    """Apply a platform's answer to a post waiting for verification (`facts` None: the
    platform did not return it to the connected account); the post's verification after.
    A post already verified or refused is left as it is."""
    post = session.exec(
        select(Publication).where(Publication.id == post_id).with_for_update()
    ).one()
    session.refresh(post)
    if post.verification not in WAITING or post.submission_id is None:
        return post.verification
    label = _label(post.platform)
    if facts is None:
        reasons = [
            f"{label} does not show this post on the account you connected: it is another "
            "account's post, or it was deleted or made private."
        ]
    else:
        reasons = verification.judge(facts, verification.expected_for(session, post))
        post.platform_ref = facts.platform_ref or post.platform_ref
    post.verification_checked_at = utcnow()
    if reasons:
        refuse_post(session, post, " ".join(reasons), by=by)
    else:
        _verify(session, post, by=by)
    return post.verification


def _verify(session: Session, post: Publication, *, by: str, actor_id: int | None = None) -> None:
    post.verification, post.verification_note, post.verified_by = Verification.VERIFIED, "", by
    session.add(post)
    session.flush()
    record_audit(
        session=session,
        action="publication.verified",
        actor_id=actor_id,
        target_type="publication",
        target_id=post.id,
        by=by,
    )
    notify(
        session,
        post.clipper_id,
        Kind.POST_VERIFIED,
        f"Your {_label(post.platform)} post is verified: its views now earn.",
        routes.clip_performance(post.submission_id),
    )


def verify_by_hand(session: Session, post: Publication, *, by: str, actor_id: int) -> None:
    """The campaign's client (or an admin) confirmed counts having seen the post: where no
    platform verified it, their word stands in for the platform's. A refused post is not
    verified this way (the clipper fixes it and asks again)."""
    if post.verification in WAITING:
        _verify(session, post, by=by, actor_id=actor_id)


def refuse_post(session: Session, post: Publication, reason: str, *, by: str) -> None:
    """Refuse a post with the reason in words: it earns nothing from now on. Where its
    clip was paid for more views than its verified posts now have (the post earned before
    posts were verified), the clip's pending view earnings are reversed and booked again
    from the verified posts alone. The clipper is told why and how to ask again."""
    post.verification, post.verification_note = Verification.REFUSED, reason[:500]
    post.verified_by = by
    session.add(post)
    session.flush()
    reversed_, kept = [], 0
    submission = session.get(Submission, post.submission_id)
    campaign = session.get(Campaign, session.get(MarketJob, submission.job_id).campaign_id)
    if earnings.booked_beyond(
        session, submission.id, counted_views(session, submission, campaign)
    ):  # it was paid for (before posts were verified): undo, then pay the verified ones
        reversed_, kept = earnings.reverse_unverified_view_earnings(
            session=session,
            submission_id=submission.id,
            actor_id=None,
            reason=f"Post refused: {reason}"[:500],
            post_id=post.id,
        )
        if reversed_:
            settle_submission(session, submission.id)
    record_audit(
        session=session,
        action="publication.refused",
        actor_id=None,
        target_type="publication",
        target_id=post.id,
        by=by,
        reason=reason[:300],
        reversed_transactions=len(reversed_),
        released_cents_kept=kept,
    )
    undone = sum(int(t.details.get("clipper_cents", 0)) for t in reversed_)
    notify(
        session,
        post.clipper_id,
        Kind.POST_REFUSED,
        f"Your {_label(post.platform)} post was not verified: {reason} "
        + (f"{format_cents(undone)} of pending earnings from it were reversed. " if undone else "")
        + "Fix the post, then press Check again on the clip's page.",
        routes.clip_performance(post.submission_id),
    )


def _cannot_verify(session: Session, post_ids: list[int], why: str) -> None:
    """Posts ClipGen cannot ask their platform about (not connected, not set up)."""
    for post_id in post_ids:
        post = session.get(Publication, post_id)
        if post.verification in WAITING and post.verification_note != why:
            post.verification, post.verification_note = Verification.UNAVAILABLE, why[:500]
            session.add(post)


# ---------------------------------------------------------------------------------------
# The scheduled sync


def request_view_sync(*, session: Session, actor: UserView) -> None:
    """An admin asks for a sync now, which also verifies every waiting post (it runs on a
    worker, after this commits)."""
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


@dataclass
class _Group:
    waiting: list[verification.ToRead]
    verified: list[verification.ToRead]


def _posts_to_read(session: Session, only_post: int | None) -> dict[tuple[str, int], _Group]:
    """Posts the sync asks about, by (platform, clipper): refused and disqualified posts
    are not read (a refused one waits for its clipper to ask again)."""
    query = select(
        Publication.platform,
        Publication.clipper_id,
        Publication.id,
        Publication.external_id,
        Publication.url,
        Publication.platform_ref,
        Publication.verification,
    ).where(
        col(Publication.submission_id).is_not(None),
        Publication.status != PublicationStatus.DISQUALIFIED,
        Publication.verification != Verification.REFUSED,
    )
    if only_post is not None:
        query = query.where(Publication.id == only_post)
    groups: dict[tuple[str, int], _Group] = defaultdict(lambda: _Group([], []))
    for platform, clipper_id, post_id, external_id, url, ref, state in session.exec(
        query.order_by(col(Publication.id))
    ).all():
        group = groups[(platform, clipper_id)]
        to_read = verification.ToRead(post_id, external_id, url, ref)
        (group.verified if state == Verification.VERIFIED else group.waiting).append(to_read)
    return groups


def run_view_sync(
    *, triggered_by: int | None = None, service_factory=None, only_post: int | None = None
) -> ViewSyncRun:
    """Verify the waiting posts and read the views of the verified ones, on every platform
    ClipGen can read (see module doc); `only_post` limits the run to one post (a clipper's
    "Check again").

    Verified YouTube posts of clippers who connected a channel are read with their own
    token (`videos.batchGetStats`, its own quota bucket, falling back to `videos.list`),
    others with `YOUTUBE_API_KEY` when their channel is known from an earlier connection.
    A platform's rate limit or quota stops reading that platform for the run (its retry
    time kept on the run row); the others go on. `service_factory(creds=..., api_key=...)`
    builds the YouTube client (tests pass one bound to a fake).
    """
    make_service = service_factory or youtube.client
    run = ViewSyncRun(triggered_by=triggered_by)  # counts what it does as it goes
    with session_scope() as session:
        session.add(run)
        session.flush()
        session.expunge(run)
        groups = _posts_to_read(session, only_post)
    stopped: dict[str, str] = {}
    stats_method = ["batchGetStats"]  # a fallback to videos.list sticks for the rest
    try:
        for (platform, clipper_id), group in sorted(groups.items()):
            every = group.waiting + group.verified
            if platform in stopped:
                run.unread += len(every)
                continue
            with session_scope() as session:
                why = verification.can_read(session, platform, clipper_id)
                if why:
                    run.unread += len(every)
                    _cannot_verify(session, [p.post_id for p in group.waiting], why)
                    continue
            try:
                if group.waiting:
                    for batch in verification.read(
                        platform, clipper_id, group.waiting, service_factory=make_service
                    ):
                        _apply(batch, run)
                if group.verified and platform == Platform.YOUTUBE:
                    _read_youtube_stats(make_service, clipper_id, group.verified, stats_method, run)
                elif group.verified:
                    for batch in verification.read(platform, clipper_id, group.verified):
                        _apply(batch, run)
            except verification.Stopped as stop:
                stopped[platform] = str(stop)
                run.retry_at = max(filter(None, [run.retry_at, stop.retry_at]), default=None)
    finally:
        run.error = "; ".join(f"{_label(p)}: {why}" for p, why in stopped.items())[:500]
        run.finished_at = utcnow()
        with session_scope() as session:
            run = session.merge(run)
            session.flush()
            session.expunge(run)
    log.info(
        "View sync %s: %d posts, %d readings, %d verified, %d refused, %d unavailable, "
        "%d unread, API calls %s (%d YouTube quota units, %d batchGetStats), %d flags, "
        "%d bookings%s.",
        run.id,
        run.publications,
        run.snapshots,
        run.verified,
        run.refused,
        run.unavailable,
        run.unread,
        run.calls_by_platform,
        run.quota_units,
        run.stats_calls,
        run.flags_raised,
        run.bookings,
        f"; stopped: {run.error}" if run.error else "",
    )
    return run


def _count_calls(run: ViewSyncRun, platform: str, calls: int, quota_units: int = 0) -> None:
    run.api_calls += calls
    run.quota_units += quota_units
    run.calls_by_platform = {
        **run.calls_by_platform,
        platform: run.calls_by_platform.get(platform, 0) + calls,
    }


def _apply(batch: verification.Batch, run: ViewSyncRun) -> None:
    """One batch's answers, in one unit of work: verdicts for waiting posts, readings for
    verified ones, unavailability for verified posts the platform no longer returns."""
    _count_calls(run, batch.platform, batch.calls, batch.quota_units)
    now = utcnow()
    with session_scope() as session:
        for post_id in batch.missing:
            run.publications += 1
            post = session.get(Publication, post_id)
            if post.verification in WAITING:
                run.refused += judge_post(session, post_id, None, by=batch.platform) == (
                    Verification.REFUSED
                )
            else:
                run.unavailable += _mark_unavailable(session, post_id, now)
        for post_id, facts in batch.facts.items():
            run.publications += 1
            before = session.get(Publication, post_id).verification
            after = judge_post(session, post_id, facts, by=batch.platform)
            if before in WAITING:
                run.verified += after == Verification.VERIFIED
                run.refused += after == Verification.REFUSED
            if after != Verification.VERIFIED or not facts.counts_known:
                continue
            _snapshot, booked, flagged = record_reading(
                session,
                post_id,
                Counts(facts.views, facts.likes, facts.comments),
                source=SOURCES[batch.platform],
                taken_at=now,
            )
            run.snapshots += 1
            run.bookings += len(booked)
            run.flags_raised += flagged


def _read_youtube_stats(
    make_service, clipper_id: int, posts: list[verification.ToRead], method: list[str], run
) -> None:
    """Verified YouTube posts' counts: the clipper's own token, else the API key."""
    creds = connections.usable_credentials(clipper_id)
    api_key = get_settings().youtube_api_key.get_secret_value()
    if creds is None and not api_key:
        run.unread += len(posts)
        return
    service = make_service(creds=creds) if creds is not None else make_service(api_key=api_key)
    wanted = method[0] if creds is not None else "list"
    for start in range(0, len(posts), youtube.STATS_BATCH):
        chunk = posts[start : start + youtube.STATS_BATCH]
        try:
            result = youtube.fetch_stats(service, [p.external_id for p in chunk], method=wanted)
        except youtube.QuotaExceeded as error:
            raise verification.Stopped(Platform.YOUTUBE, str(error), error.retry_at) from None
        except youtube.YouTubeError as error:
            raise verification.Stopped(Platform.YOUTUBE, str(error), None) from None
        _count_calls(run, Platform.YOUTUBE, result.calls, result.quota_units)
        run.stats_calls += result.stats_calls
        if creds is not None:
            method[0] = wanted = result.method
        now = utcnow()
        with session_scope() as session:
            for post in chunk:
                run.publications += 1
                stats = result.found.get(post.external_id)
                if stats is None:
                    run.unavailable += _mark_unavailable(session, post.post_id, now)
                    continue
                _snapshot, booked, flagged = record_reading(
                    session,
                    post.post_id,
                    Counts(stats.views, stats.likes, stats.comments),
                    source=ViewSource.YOUTUBE_API,
                    taken_at=now,
                )
                run.snapshots += 1
                run.bookings += len(booked)
                run.flags_raised += flagged


def _mark_unavailable(session: Session, post_id: int, now: datetime) -> int:
    """A post its platform no longer returns (deleted, or private): keep its last counts
    and its earnings, stop expecting readings; 1 when this is news."""
    post = session.get(Publication, post_id)
    if post.status == PublicationStatus.UNAVAILABLE:
        return 0
    post.status = PublicationStatus.UNAVAILABLE
    post.status_note = (
        f"{_label(post.platform)} did not return this post on {now:%d %b %Y} (deleted, or "
        "made private)."
    )
    session.add(post)
    return 1
