"""Fraud flags: a reading far above a clip's own trend, or engagement no audience gives,
holds the clip's new earnings until an admin looks (DESIGN §5).

`suspicion` is the rule, a pure function of the readings. A post's first readings have
no trend to judge them by, and a count typed by hand is only a person's word, so
`unvouched_bonus` judges those against the campaign's other posts whenever they would
book a bonus: no such reading books one unflagged unless it is in line with enough of
them. Flag decisions: clearing lets the held earnings follow the normal hold; confirming
reverses them through the ledger, takes the post out of every count and tells the
clipper why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from sqlalchemy import func
from sqlmodel import Session, col, select

from clipgen import routes
from clipgen.models import (
    Campaign,
    FlagStatus,
    FraudFlag,
    LedgerTransaction,
    MarketJob,
    Publication,
    PublicationStatus,
    Role,
    Submission,
    TransactionKind,
    User,
    Verification,
    ViewSnapshot,
    ViewSource,
    utcnow,
)
from clipgen.services.access import as_id, require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotFound
from clipgen.services.money import earnings, holds
from clipgen.services.money.amounts import format_cents
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify, notify_admins

# A jump is suspicious when it is at least this many views ...
SPIKE_MIN_VIEWS = 10_000
# ... and this many times what the clip's own trend predicts for the time since the last
# reading. The trend is the median hourly growth of its last few readings, so a single
# viral day earlier does not excuse a second one, and needs TREND_READINGS earlier ones.
SPIKE_FACTOR = 10
TREND_INTERVALS = 5
TREND_READINGS = 2
# Engagement: likes or comments above views are impossible; at this many views, fewer
# than this share of likes + comments is what bought views look like.
ENGAGEMENT_MIN_VIEWS = 50_000
MIN_ENGAGEMENT = 0.0005  # 0.05 %
# A reading the trend cannot judge (the post has fewer than TREND_READINGS earlier ones:
# its first, or its second), or any count typed by hand, that would book a bonus the clip
# has not booked yet is judged by its views per hour since the post was published against
# the campaign's other posts (verified, not disqualified, not held by a flag, read at
# least once; each one's latest views over the hours from its publishing to its last
# reading). With fewer than MIN_PEERS of them there is nothing to compare it with and it
# is flagged; otherwise it is flagged above PEER_FACTOR times their median rate.
MIN_PEERS = 3
PEER_FACTOR = 5
PEER_SAMPLE = 500  # the campaign's most recently read posts make the median


@dataclass(frozen=True)
class Reading:
    taken_at: datetime
    views: int
    likes: int = 0
    comments: int = 0
    engagement_known: bool = True  # False: counted by hand without likes and comments


@dataclass(frozen=True)
class Suspicion:
    reason: str
    evidence: dict = field(default_factory=dict)


def _hours(later: datetime, earlier: datetime) -> float:
    """Hours between two readings, at least one (hand-entered readings may be seconds
    apart; a rate over seconds means nothing)."""
    return max(1.0, (later - earlier).total_seconds() / 3600)


def suspicion(history: list[Reading], new: Reading) -> Suspicion | None:
    """Why `new` (the latest reading) looks bought, given the post's earlier readings
    (oldest first); None when it looks like an audience."""
    if new.likes > new.views or new.comments > new.views:
        return Suspicion(
            f"More {'likes' if new.likes > new.views else 'comments'} than views "
            f"({max(new.likes, new.comments):,} against {new.views:,}).",
            {"views": new.views, "likes": new.likes, "comments": new.comments},
        )
    if history:
        spike = _spike(history, new)
        if spike:
            return spike
    if new.engagement_known and new.views >= ENGAGEMENT_MIN_VIEWS:
        share = (new.likes + new.comments) / new.views
        if share < MIN_ENGAGEMENT:
            return Suspicion(
                f"{new.views:,} views but only {new.likes:,} likes and {new.comments:,} "
                f"comments ({share:.3%} engagement; audiences give well above "
                f"{MIN_ENGAGEMENT:.2%}).",
                {
                    "views": new.views,
                    "likes": new.likes,
                    "comments": new.comments,
                    "engagement_percent": round(share * 100, 4),
                },
            )
    return None


def _spike(history: list[Reading], new: Reading) -> Suspicion | None:
    last = history[-1]
    jump = new.views - last.views
    if jump < SPIKE_MIN_VIEWS or len(history) < TREND_READINGS:
        return None
    recent = history[-(TREND_INTERVALS + 1) :]
    rates = [
        max(0, later.views - earlier.views) / _hours(later.taken_at, earlier.taken_at)
        for earlier, later in zip(recent, recent[1:], strict=False)
    ]
    trend = median(rates)
    hours = _hours(new.taken_at, last.taken_at)
    expected = trend * hours
    if jump <= SPIKE_FACTOR * expected:
        return None
    times = f"{jump / expected:,.0f}× what its trend predicts" if expected else "a flat trend"
    return Suspicion(
        f"Views jumped by {jump:,} in {hours:,.0f} h against this post's trend of about "
        f"{trend * 24:,.0f} a day ({times}).",
        {
            "views_before": last.views,
            "views_now": new.views,
            "jump": jump,
            "hours": round(hours, 1),
            "trend_per_day": round(trend * 24),
            "expected": round(expected),
            "likes": new.likes,
            "comments": new.comments,
        },
    )


_ORDINALS = ("First", "Second", "Third")


def judged_by_peers(history: list[Reading], source: str) -> bool:
    """Whether a reading after `history` (the post's earlier readings) is one
    `unvouched_bonus` judges: the post has no trend yet, or a person typed the count."""
    return len(history) < TREND_READINGS or source == ViewSource.MANUAL


def unvouched_bonus(
    session: Session,
    post: Publication,
    history: list[Reading],
    new: Reading,
    *,
    source: str,
    clip_views: int,
) -> Suspicion | None:
    """Why `new`, a reading of `post` the trend cannot judge or a count typed by hand (see
    `judged_by_peers`), may not book a bonus unflagged; None when it books no new bonus,
    or when it is in line with the campaign's other posts. `clip_views`: the clip's counted
    views with `new` (what its money is about to follow)."""
    if not judged_by_peers(history, source):
        return None  # the trend rule judges it
    submission = session.get(Submission, post.submission_id)
    job = session.get(MarketJob, submission.job_id)
    campaign = session.get(Campaign, job.campaign_id)
    threshold, percent = earnings.bonus_percent(clip_views)
    wanted = campaign.price_per_clip_cents * percent // 100
    if wanted <= _bonus_booked(session, submission.id):
        return None  # no bonus it books now (CPM alone is not this rule's concern)
    hours = _hours(new.taken_at, post.published_at)
    rate = new.views / hours
    peers = _peer_rates(session, campaign.id, post.id)
    first = not history
    nth = _ORDINALS[len(history)] if len(history) < len(_ORDINALS) else f"{len(history) + 1}th"
    what = f"{nth} reading of {new.views:,} views"
    if source == ViewSource.MANUAL:
        what = f"A count of {new.views:,} views typed by hand"
        what += " (the post's first reading)" if first else ""
    evidence = {
        "views": new.views,
        "source": str(source),
        "first_reading": first,
        "earlier_readings": len(history),
        "hours_since_published": round(hours, 1),
        "views_per_hour": round(rate, 1),
        "peers": len(peers),
        "bonus_threshold": threshold,
        "bonus_percent": percent,
        "clip_views": clip_views,
    }
    bonus = f"the {percent}% bonus at {threshold:,} views"
    if len(peers) < MIN_PEERS:
        others = {0: "no other verified post", 1: "only 1 other verified post"}.get(
            len(peers), f"only {len(peers)} other verified posts"
        )
        return Suspicion(
            f"{what} ({rate:,.0f} views/hour since the post was published) "
            f"would book {bonus}, and the campaign has {others} with readings to compare it "
            f"with ({MIN_PEERS} needed).",
            evidence,
        )
    typical = median(peers)
    evidence["peer_median_per_hour"] = round(typical, 1)
    if rate <= PEER_FACTOR * typical:
        return None
    times = f"{rate / typical:,.0f}x" if typical else "far above"
    return Suspicion(
        f"{what} is {rate:,.0f} views/hour, {times} the campaign's "
        f"other posts (median {typical:,.0f}/hour over {len(peers)} posts); it would book "
        f"{bonus}.",
        evidence,
    )


def _bonus_booked(session: Session, submission_id: int) -> int:
    """Gross cents of bonus the clip has booked, net of what confirmed fraud reversed (what
    `earnings.book_views` compares a bonus's amount with)."""
    rows = session.exec(
        select(LedgerTransaction).where(
            LedgerTransaction.submission_id == submission_id,
            col(LedgerTransaction.kind).in_(
                [TransactionKind.BONUS, TransactionKind.FRAUD_REVERSAL]
            ),
        )
    ).all()
    reversed_ids = {row.reversal_of for row in rows if row.reversal_of}
    return sum(
        int((row.details or {}).get("gross_cents", 0))
        for row in rows
        if row.kind == TransactionKind.BONUS and row.id not in reversed_ids
    )


def _peer_rates(session: Session, campaign_id: int, post_id: int) -> list[float]:
    """Views per hour of the campaign's other posts that can vouch for a rate: verified,
    not disqualified, not held by a flag, read at least once."""
    rows = session.exec(
        select(Publication.views, Publication.published_at, Publication.last_synced_at)
        .join(Submission, col(Submission.id) == Publication.submission_id)
        .join(MarketJob, col(MarketJob.id) == Submission.job_id)
        .where(
            MarketJob.campaign_id == campaign_id,
            Publication.id != post_id,
            Publication.status != PublicationStatus.DISQUALIFIED,
            Publication.verification == Verification.VERIFIED,
            col(Publication.earnings_held).is_(False),
            col(Publication.last_synced_at).is_not(None),
        )
        .order_by(col(Publication.last_synced_at).desc(), col(Publication.id).desc())
        .limit(PEER_SAMPLE)
    ).all()
    return [views / _hours(read_at, published) for views, published, read_at in rows]


def open_flag_of(session: Session, submission_id: int) -> FraudFlag | None:
    """The open flag on any post of this submission (its new earnings are held)."""
    return session.exec(
        select(FraudFlag)
        .join(Publication, col(Publication.id) == FraudFlag.publication_id)
        .where(Publication.submission_id == submission_id, FraudFlag.status == FlagStatus.OPEN)
        .order_by(col(FraudFlag.id))
    ).first()


def raise_flag(
    session: Session, publication: Publication, snapshot: ViewSnapshot, found: Suspicion
) -> FraudFlag:
    """Flag a post (its clip's new earnings are held from now on); admins and the clipper
    are told. The caller checked no flag is open on it."""
    flag = FraudFlag(
        publication_id=publication.id,
        reason=found.reason[:500],
        evidence=found.evidence,
        snapshot_id=snapshot.id,
    )
    session.add(flag)
    publication.earnings_held = True
    session.add(publication)
    session.flush()
    record_audit(
        session=session,
        action="fraud.flag_raised",
        actor_id=None,
        target_type="publication",
        target_id=publication.id,
        reason=flag.reason,
    )
    notify_admins(
        session,
        Kind.FLAG_RAISED,
        f"A post was flagged for review: {flag.reason}",
        routes.ADMIN_FLAGS,
    )
    notify(
        session,
        publication.clipper_id,
        Kind.EARNINGS_HELD,
        "The new earnings of one of your clips are held while we review its views.",
        routes.clip_performance(publication.submission_id),
    )
    return flag


@dataclass(frozen=True)
class FlagView:
    id: int
    status: str
    reason: str
    evidence: dict
    created_at: datetime
    resolved_at: datetime | None
    resolution_note: str
    publication_id: int
    submission_id: int | None
    platform: str
    url: str
    views: int
    likes: int
    comments: int
    clipper_id: int
    clipper_name: str
    campaign_title: str
    held_cents: int  # gross of the earnings booked while this flag was open
    series: list[tuple[datetime, int, int, int]]  # the post's readings: at, views, likes, comments


def list_flags(
    *, session: Session, actor: UserView, status: str = FlagStatus.OPEN
) -> list[FlagView]:
    """Flags in one state (open first for review), newest first, with their evidence."""
    require_role(actor, Role.ADMIN)
    if status not in {s.value for s in FlagStatus}:
        raise InvalidInput("Choose open, cleared, confirmed or overturned flags.")
    flags = session.exec(
        select(FraudFlag)
        .where(FraudFlag.status == status)
        .order_by(col(FraudFlag.created_at).desc(), col(FraudFlag.id).desc())
        .limit(200)
    ).all()
    return [_view(session, flag) for flag in flags]


def _view(session: Session, flag: FraudFlag) -> FlagView:
    post = session.get(Publication, flag.publication_id)
    clipper = session.get(User, post.clipper_id)
    campaign_title = ""
    if post.submission_id is not None:
        campaign_title = (
            session.exec(
                select(Campaign.title)
                .join(MarketJob, col(MarketJob.campaign_id) == Campaign.id)
                .join(Submission, col(Submission.job_id) == MarketJob.id)
                .where(Submission.id == post.submission_id)
            ).first()
            or ""
        )
    held = [
        int(details.get("gross_cents", 0))
        for details in session.exec(
            select(LedgerTransaction.details).where(LedgerTransaction.held_by_flag_id == flag.id)
        ).all()
    ]
    series = [
        (row.taken_at, row.views, row.likes, row.comments)
        for row in session.exec(
            select(ViewSnapshot)
            .where(ViewSnapshot.publication_id == post.id)
            .order_by(col(ViewSnapshot.taken_at), col(ViewSnapshot.id))
        ).all()
    ]
    return FlagView(
        id=flag.id,
        status=flag.status,
        reason=flag.reason,
        evidence=dict(flag.evidence or {}),
        created_at=flag.created_at,
        resolved_at=flag.resolved_at,
        resolution_note=flag.resolution_note,
        publication_id=post.id,
        submission_id=post.submission_id,
        platform=post.platform,
        url=post.url,
        views=post.views,
        likes=post.likes,
        comments=post.comments,
        clipper_id=post.clipper_id,
        clipper_name=clipper.display_name if clipper else "",
        campaign_title=campaign_title,
        held_cents=sum(held),
        series=series,
    )


def open_flag_count(*, session: Session, actor: UserView) -> int:
    require_role(actor, Role.ADMIN)
    return int(
        session.exec(
            select(func.count()).select_from(FraudFlag).where(FraudFlag.status == FlagStatus.OPEN)
        ).one()
    )


def _locked_flag(
    session: Session, flag_id: object, status: FlagStatus = FlagStatus.OPEN
) -> tuple[FraudFlag, Publication]:
    """The flag and its post, locked so that two admins' decisions cannot both apply;
    refused unless the flag is in `status` (open, to be decided; confirmed, to overturn)."""
    checked = as_id(flag_id)
    flag = (
        session.exec(select(FraudFlag).where(FraudFlag.id == checked).with_for_update()).first()
        if checked
        else None
    )
    if flag is None:
        raise NotFound("That flag was not found.")
    session.refresh(flag)
    if flag.status != status:
        if status == FlagStatus.CONFIRMED:
            raise InvalidInput(
                f"Only a confirmed flag can be overturned; this one is {flag.status}."
            )
        raise InvalidInput(f"That flag was already {flag.status}.")
    post = session.exec(
        select(Publication).where(Publication.id == flag.publication_id).with_for_update()
    ).one()
    return flag, post


def _resolve(flag: FraudFlag, actor: UserView, status: FlagStatus, note: str) -> None:
    flag.status = status
    flag.resolved_by = actor.id
    flag.resolved_at = utcnow()
    flag.resolution_note = note[:500]


def clear_flag(*, session: Session, actor: UserView, flag_id: int, note: str = "") -> FlagView:
    """The views are genuine: the held earnings follow the normal hold from now on (those
    past it become available at once) and the clipper is told."""
    require_role(actor, Role.ADMIN)
    flag, post = _locked_flag(session, flag_id)
    why = " ".join(str(note or "").split())
    _resolve(flag, actor, FlagStatus.CLEARED, why)
    post.earnings_held = False
    session.add_all([flag, post])
    session.flush()
    released = holds.release_matured_for(session, post.submission_id) if post.submission_id else 0
    record_audit(
        session=session,
        action="fraud.flag_cleared",
        actor_id=actor.id,
        target_type="fraud_flag",
        target_id=flag.id,
        reason=why,
        released=released,
    )
    notify(
        session,
        post.clipper_id,
        Kind.FLAG_CLEARED,
        "We reviewed your clip's views and they are fine: its held earnings are released "
        "on the normal schedule.",
        routes.clip_performance(post.submission_id) if post.submission_id else "",
    )
    session.flush()
    return _view(session, flag)


def confirm_flag(*, session: Session, actor: UserView, flag_id: int, reason: str) -> FlagView:
    """The views were bought or faked: the earnings booked while the flag was open are
    reversed (back to the campaign's escrow, or to the client once the campaign returned
    its budget), the post counts for nothing any more, and the clipper is told why."""
    require_role(actor, Role.ADMIN)
    why = " ".join(str(reason or "").split())
    if not why:
        raise InvalidInput("Say why the views are not genuine; the clipper will be told.")
    flag, post = _locked_flag(session, flag_id)
    _resolve(flag, actor, FlagStatus.CONFIRMED, why)
    post.earnings_held = False
    post.status = PublicationStatus.DISQUALIFIED
    post.status_note = f"Views found not genuine: {why}"[:300]
    session.add_all([flag, post])
    session.flush()
    reversed_ = earnings.reverse_flagged_earnings(
        session=session, flag_id=flag.id, actor_id=actor.id, reason=why
    )
    clipper_cents = sum(int(t.details.get("clipper_cents", 0)) for t in reversed_)
    record_audit(
        session=session,
        action="fraud.flag_confirmed",
        actor_id=actor.id,
        target_type="fraud_flag",
        target_id=flag.id,
        reason=why,
        reversed_transactions=len(reversed_),
    )
    notify(
        session,
        post.clipper_id,
        Kind.FLAG_CONFIRMED,
        f"The views of your post {post.url} were found not genuine ({why}). "
        f"{format_cents(clipper_cents)} of held earnings were reversed and the post no "
        "longer earns.",
        routes.clip_performance(post.submission_id) if post.submission_id else "",
    )
    session.flush()
    return _view(session, flag)


def overturn_flag(*, session: Session, actor: UserView, flag_id: int, reason: str) -> FlagView:
    """A confirmed flag was wrong (overturned on the clipper's appeal): exactly what its
    confirmation reversed is booked back through the ledger (refused, naming the shortfall,
    when the money is no longer there), the post counts and earns again. The caller checked
    the appeal and tells the clipper."""
    require_role(actor, Role.ADMIN)
    why = " ".join(str(reason or "").split())
    if not why:
        raise InvalidInput("Say why the flag is overturned; the clipper will be told.")
    flag, post = _locked_flag(session, flag_id, FlagStatus.CONFIRMED)
    restored = earnings.restore_flag_reversals(
        session=session, flag_id=flag.id, actor_id=actor.id, reason=why
    )
    flag.status = FlagStatus.OVERTURNED
    flag.resolved_by = actor.id
    flag.resolved_at = utcnow()
    flag.resolution_note = f"Overturned: {why}"[:500]
    if post.status == PublicationStatus.DISQUALIFIED:
        post.status = PublicationStatus.LIVE
        post.status_note = ""
    session.add_all([flag, post])
    session.flush()
    released = holds.release_matured_for(session, post.submission_id) if post.submission_id else 0
    record_audit(
        session=session,
        action="fraud.flag_overturned",
        actor_id=actor.id,
        target_type="fraud_flag",
        target_id=flag.id,
        reason=why,
        restored_transactions=[t.id for t in restored],
        restored_cents=sum(int(t.details.get("gross_cents", 0)) for t in restored),
        released=released,
    )
    session.flush()
    return _view(session, flag)
