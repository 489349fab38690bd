"""A clipper's dashboard: earnings over time (pending, available, in payout, paid), views
of each published clip over time, approval rate, tier, and the best clips."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, func
from sqlmodel import Session, col, select

from clipgen.models import (
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    MarketJob,
    Publication,
    Role,
    Submission,
    SubmissionStatus,
    TransactionKind,
)
from clipgen.services.access import require_role
from clipgen.services.analytics.common import (
    SERIES_SHOWN,
    Series,
    amount_if,
    clip_names,
    running_by_day,
    spend_kinds,
)
from clipgen.services.analytics.periods import DEFAULT_RANGE, Window, days_of, window
from clipgen.services.analytics.views import carried, views_summary
from clipgen.services.auth.service import UserView
from clipgen.services.money.tiers import TierStanding, clipper_standing

CLIPPER_KINDS = (
    AccountKind.CLIPPER_PENDING,
    AccountKind.CLIPPER_AVAILABLE,
    AccountKind.CLIPPER_PAYOUT_PENDING,
)
BEST_CLIPS = 5


@dataclass(frozen=True)
class EarningsDay:
    """Where the clipper's money stood at the end of a day, and what the day earned.
    pending + available + in payout + paid = everything earned so far."""

    day: date
    earned_cents: int
    pending_cents: int
    available_cents: int
    in_payout_cents: int
    paid_cents: int


@dataclass(frozen=True)
class ViewsDay:
    """Views at the end of a day: all the clipper's posts, and each charted clip's."""

    day: date
    total: int
    by_series: dict[str, int]


@dataclass(frozen=True)
class ClipFigures:
    submission_id: int
    title: str
    campaign_title: str
    views: int
    views_in_range: int
    earned_in_range_cents: int


@dataclass(frozen=True)
class ApprovalRate:
    approved: int
    reviewed: int

    @property
    def percent(self) -> int | None:
        return round(100 * self.approved / self.reviewed) if self.reviewed else None


@dataclass(frozen=True)
class ClipperDashboard:
    period: Window
    earnings: tuple[EarningsDay, ...]
    earned_in_range_cents: int
    views: tuple[ViewsDay, ...]
    view_series: tuple[Series, ...]
    views_in_range: int
    approval: ApprovalRate
    standing: TierStanding
    best_by_views: tuple[ClipFigures, ...]
    best_by_earnings: tuple[ClipFigures, ...]

    @property
    def now(self) -> EarningsDay:
        return self.earnings[-1]


def _earning_rows(session: Session, clipper_id: int):
    kind = LedgerAccount.kind
    parts = {
        "earned": amount_if(
            and_(
                kind == AccountKind.CLIPPER_PENDING,
                col(LedgerTransaction.kind).in_(spend_kinds()),
            )
        ),
        "pending": amount_if(kind == AccountKind.CLIPPER_PENDING),
        "available": amount_if(kind == AccountKind.CLIPPER_AVAILABLE),
        "in_payout": amount_if(kind == AccountKind.CLIPPER_PAYOUT_PENDING),
        # Paid money leaves "in payout" for the outside world; a payout Stripe could not
        # pay comes back into "available", and so is no longer paid.
        "paid": -amount_if(
            and_(
                kind == AccountKind.CLIPPER_PAYOUT_PENDING,
                LedgerTransaction.kind == TransactionKind.PAYOUT_PAID,
            )
        )
        - amount_if(
            and_(
                kind == AccountKind.CLIPPER_AVAILABLE,
                LedgerTransaction.kind == TransactionKind.PAYOUT_RETURNED,
            )
        ),
    }
    return running_by_day(
        session,
        parts,
        where=[
            LedgerAccount.user_id == clipper_id,
            col(LedgerAccount.kind).in_([str(k) for k in CLIPPER_KINDS]),
        ],
    )


def _earnings(rows, days: list[date]) -> list[EarningsDay]:
    """The running balances on every day of the grid; a day without entries keeps the
    day before's (from the last day with entries before the range, at first)."""
    by_day = {day: (daily, running) for day, daily, running in rows}
    last = {"pending": 0, "available": 0, "in_payout": 0, "paid": 0}
    for day, _, running in rows:
        if day >= days[0]:
            break
        last = running
    out = []
    for day in days:
        daily, running = by_day.get(day, ({"earned": 0}, last))
        last = running
        out.append(
            EarningsDay(
                day,
                daily["earned"],
                running["pending"],
                running["available"],
                running["in_payout"],
                running["paid"],
            )
        )
    return out


def _approval(session: Session, clipper_id: int, period: Window) -> ApprovalRate:
    where = [MarketJob.clipper_id == clipper_id, Submission.status != SubmissionStatus.PENDING]
    if period.since is not None:
        where.append(col(Submission.reviewed_at) >= period.since)
    approved, reviewed = session.exec(
        select(
            func.coalesce(
                func.sum(case((Submission.status == SubmissionStatus.APPROVED, 1), else_=0)), 0
            ),
            func.count(),
        )
        .select_from(Submission)
        .join(MarketJob, col(MarketJob.id) == Submission.job_id)
        .where(*where)
    ).one()
    return ApprovalRate(int(approved), int(reviewed))


def _earned_by_clip(session: Session, clipper_id: int, period: Window) -> dict[int, int]:
    """The clipper's share each clip earned within the range, net of reversals."""
    where = [
        LedgerAccount.user_id == clipper_id,
        LedgerAccount.kind == AccountKind.CLIPPER_PENDING,
        col(LedgerTransaction.kind).in_(spend_kinds()),
    ]
    if period.since is not None:
        where.append(col(LedgerEntry.created_at) >= period.since)
    rows = session.exec(
        select(LedgerTransaction.submission_id, func.sum(LedgerEntry.amount_cents))
        .select_from(LedgerEntry)
        .join(LedgerAccount, col(LedgerAccount.id) == LedgerEntry.account_id)
        .join(LedgerTransaction, col(LedgerTransaction.id) == LedgerEntry.transaction_id)
        .where(*where)
        .group_by(col(LedgerTransaction.submission_id))
    ).all()
    return {int(submission): int(cents) for submission, cents in rows if submission is not None}


def clipper_dashboard(
    *,
    session: Session,
    actor: UserView,
    range_key: str = DEFAULT_RANGE,
    now: datetime | None = None,
) -> ClipperDashboard:
    """The signed-in clipper's own figures for the range (clippers only)."""
    require_role(actor, Role.CLIPPER)
    period = window(range_key, now=now)
    money_rows = _earning_rows(session, actor.id)

    views = views_summary(
        session,
        period,
        where=[Publication.clipper_id == actor.id],
        totals_by=("submission",),
        series_by="submission",
        series_count=SERIES_SHOWN,
    )
    per_clip = views.totals["submission"]
    earned = _earned_by_clip(session, actor.id, period)
    by_views = sorted(per_clip, key=lambda s: (-per_clip[s][1], -per_clip[s][0], s))
    by_earnings = sorted(earned, key=lambda s: (-earned[s], s))
    charted = views.series_keys
    # Names only for the clips shown (a busy clipper has hundreds).
    shown = {*by_views[:BEST_CLIPS], *by_earnings[:BEST_CLIPS], *charted}
    names = clip_names(session, sorted(shown))

    def figures(submission_id: int) -> ClipFigures:
        total, gained = per_clip.get(submission_id, (0, 0))
        name = names[submission_id]
        return ClipFigures(
            submission_id,
            name.title,
            name.campaign_title,
            total,
            gained,
            earned.get(submission_id, 0),
        )

    days = days_of(period, [row[0] for row in money_rows] + [p.day for p in views.days])
    earnings = _earnings(money_rows, days)
    in_range = sum(gained for _, gained in per_clip.values())
    opening = sum(total for total, _ in per_clip.values()) - in_range
    total_line = carried(days, views.days, [0], {0: opening})[0]
    clip_lines = carried(
        days, views.series, charted, {s: views.opening(s, "submission") for s in charted}
    )
    series = tuple(
        Series(f"c{n}", f"#{s} {names[s].title}"[:40]) for n, s in enumerate(charted, start=1)
    )
    view_days = tuple(
        ViewsDay(
            day,
            total_line[index],
            {f"c{n}": clip_lines[s][index] for n, s in enumerate(charted, start=1)},
        )
        for index, day in enumerate(days)
    )
    return ClipperDashboard(
        period=period,
        earnings=tuple(earnings),
        earned_in_range_cents=sum(day.earned_cents for day in earnings),
        views=view_days,
        view_series=series,
        views_in_range=in_range,
        approval=_approval(session, actor.id, period),
        standing=clipper_standing(session, actor.id),
        best_by_views=tuple(figures(s) for s in by_views[:BEST_CLIPS]),
        best_by_earnings=tuple(figures(s) for s in by_earnings[:BEST_CLIPS]),
    )
