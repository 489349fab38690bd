"""A client's dashboard, over all their campaigns or one: spend and the escrow left per
campaign, views and effective CPM over time, submissions by state, top clippers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import case, func
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from clipgen.models import (
    AccountKind,
    Campaign,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    MarketJob,
    Role,
    Submission,
    SubmissionStatus,
    User,
)
from clipgen.services.access import fresh, require_role
from clipgen.services.analytics.common import (
    SERIES_SHOWN,
    Series,
    clip_names,
    ecpm_cents,
    running_by_day,
    spend_kinds,
)
from clipgen.services.analytics.periods import DEFAULT_RANGE, Window, days_of, window
from clipgen.services.analytics.views import carried, views_summary
from clipgen.services.auth.service import UserView
from clipgen.services.errors import NotFound

TOP_CLIPPERS = 10
# The accounts a clip's price, CPM and bonus go to: what the client spent on it.
SPENT_TO = (AccountKind.CLIPPER_PENDING, AccountKind.PLATFORM_REVENUE)
SUBMISSION_STATES = tuple(str(state) for state in SubmissionStatus)


@dataclass(frozen=True)
class CampaignFigures:
    campaign_id: int
    title: str
    status: str
    budget_cents: int
    spent_in_range_cents: int
    spent_cents: int
    escrow_cents: int
    views: int
    views_in_range: int

    @property
    def ecpm_cents(self) -> int | None:
        return ecpm_cents(self.spent_cents, self.views)


@dataclass(frozen=True)
class ClientDay:
    """A day of the campaigns: spent that day, and spend, views and effective CPM so far."""

    day: date
    spent_cents: int
    spent_to_date_cents: int
    views: int
    by_series: dict[str, int]

    @property
    def ecpm_cents(self) -> int | None:
        return ecpm_cents(self.spent_to_date_cents, self.views)


@dataclass(frozen=True)
class ClipperFigures:
    clipper_id: int
    name: str
    views: int
    views_in_range: int
    approved_clips: int


@dataclass(frozen=True)
class ClientDashboard:
    period: Window
    campaign_id: int | None  # one campaign's page, or all the client's campaigns
    title: str
    campaigns: tuple[CampaignFigures, ...]
    days: tuple[ClientDay, ...]
    view_series: tuple[Series, ...]
    submissions_by_state: dict[str, int]
    top_clippers: tuple[ClipperFigures, ...]

    @property
    def spent_in_range_cents(self) -> int:
        return sum(c.spent_in_range_cents for c in self.campaigns)

    @property
    def escrow_cents(self) -> int:
        return sum(c.escrow_cents for c in self.campaigns)

    @property
    def views_in_range(self) -> int:
        return sum(c.views_in_range for c in self.campaigns)

    @property
    def ecpm_cents(self) -> int | None:
        return ecpm_cents(
            sum(c.spent_cents for c in self.campaigns), sum(c.views for c in self.campaigns)
        )


def _spend_where(campaign_ids) -> list[ColumnElement]:
    return [
        col(LedgerTransaction.campaign_id).in_(campaign_ids),
        col(LedgerTransaction.kind).in_(spend_kinds()),
        col(LedgerAccount.kind).in_([str(kind) for kind in SPENT_TO]),
    ]


def _campaign_figures(
    session: Session, period: Window, campaign_ids, per_campaign: dict[int, tuple[int, int]]
) -> list[CampaignFigures]:
    in_range = LedgerEntry.amount_cents
    if period.since is not None:
        in_range = case(
            (col(LedgerEntry.created_at) >= period.since, LedgerEntry.amount_cents), else_=0
        )
    spent = {
        int(campaign_id): (int(total), int(recent))
        for campaign_id, total, recent in session.exec(
            select(
                LedgerTransaction.campaign_id,
                func.sum(LedgerEntry.amount_cents),
                func.sum(in_range),
            )
            .select_from(LedgerEntry)
            .join(LedgerAccount, col(LedgerAccount.id) == LedgerEntry.account_id)
            .join(LedgerTransaction, col(LedgerTransaction.id) == LedgerEntry.transaction_id)
            .where(*_spend_where(campaign_ids))
            .group_by(col(LedgerTransaction.campaign_id))
        ).all()
    }
    rows = session.exec(
        select(
            Campaign.id,
            Campaign.title,
            Campaign.status,
            Campaign.budget_cents,
            func.coalesce(LedgerAccount.balance_cents, 0),
        )
        .outerjoin(
            LedgerAccount,
            (col(LedgerAccount.campaign_id) == Campaign.id)
            & (LedgerAccount.kind == AccountKind.CAMPAIGN_ESCROW),
        )
        .where(col(Campaign.id).in_(campaign_ids))
        .order_by(col(Campaign.created_at).desc(), col(Campaign.id).desc())
    ).all()
    return [
        CampaignFigures(
            campaign_id=campaign_id,
            title=title,
            status=status,
            budget_cents=budget,
            spent_in_range_cents=spent.get(campaign_id, (0, 0))[1],
            spent_cents=spent.get(campaign_id, (0, 0))[0],
            escrow_cents=int(escrow),
            views=per_campaign.get(campaign_id, (0, 0))[0],
            views_in_range=per_campaign.get(campaign_id, (0, 0))[1],
        )
        for campaign_id, title, status, budget, escrow in rows
    ]


def _submissions_by_state(session: Session, period: Window, campaign_ids) -> dict[str, int]:
    where = [col(MarketJob.campaign_id).in_(campaign_ids)]
    if period.since is not None:
        where.append(col(Submission.created_at) >= period.since)
    found = dict(
        session.exec(
            select(Submission.status, func.count())
            .join(MarketJob, col(MarketJob.id) == Submission.job_id)
            .where(*where)
            .group_by(col(Submission.status))
        ).all()
    )
    return {state: int(found.get(state, 0)) for state in SUBMISSION_STATES}


def _top_clippers(
    session: Session, per_clipper: dict[int, tuple[int, int]], campaign_ids
) -> tuple[ClipperFigures, ...]:
    top = sorted(per_clipper, key=lambda c: (-per_clipper[c][1], -per_clipper[c][0], c))
    top = [c for c in top if per_clipper[c][0] > 0][:TOP_CLIPPERS]
    if not top:
        return ()
    names = dict(
        session.exec(select(User.id, User.display_name).where(col(User.id).in_(top))).all()
    )
    approved = dict(
        session.exec(
            select(MarketJob.clipper_id, func.count())
            .join(Submission, col(Submission.job_id) == MarketJob.id)
            .where(
                col(MarketJob.campaign_id).in_(campaign_ids),
                col(MarketJob.clipper_id).in_(top),
                Submission.status == SubmissionStatus.APPROVED,
            )
            .group_by(col(MarketJob.clipper_id))
        ).all()
    )
    return tuple(
        ClipperFigures(c, names.get(c, ""), *per_clipper[c], int(approved.get(c, 0))) for c in top
    )


def _dashboard(
    session: Session, period: Window, scope: list, campaign_ids, *, single: Campaign | None
) -> ClientDashboard:
    # One line for the views of everything in scope, and one per campaign (per clip on a
    # campaign's own page) for the ones with the most views gained in the range.
    series_by = "campaign" if single is None else "submission"
    views = views_summary(
        session,
        period,
        where=scope,
        totals_by=("campaign", "clipper"),
        series_by=series_by,
        series_count=SERIES_SHOWN,
    )
    per_campaign = views.totals["campaign"]
    campaigns = _campaign_figures(session, period, campaign_ids, per_campaign)
    money_rows = running_by_day(
        session,
        {"spent": LedgerEntry.amount_cents},
        where=_spend_where(campaign_ids),
    )
    days = days_of(period, [row[0] for row in money_rows] + [p.day for p in views.days])
    charted = views.series_keys
    if single is None:
        names = {c.campaign_id: c.title for c in campaigns}
    else:
        names = {k: f"#{k} {n.title}" for k, n in clip_names(session, charted).items()}
    lines = carried(days, views.series, charted, {k: views.opening(k, series_by) for k in charted})
    in_range = sum(gained for _, gained in per_campaign.values())
    opening = sum(total for total, _ in per_campaign.values()) - in_range
    total = carried(days, views.days, [0], {0: opening})[0]
    spent = _running(days, money_rows)
    series = tuple(Series(f"s{n}", names[k][:40]) for n, k in enumerate(charted, start=1))
    return ClientDashboard(
        period=period,
        campaign_id=single.id if single else None,
        title=single.title if single else "All campaigns",
        campaigns=tuple(campaigns),
        days=tuple(
            ClientDay(
                day,
                spent[index][0],
                spent[index][1],
                total[index],
                {f"s{n}": lines[k][index] for n, k in enumerate(charted, start=1)},
            )
            for index, day in enumerate(days)
        ),
        view_series=series,
        submissions_by_state=_submissions_by_state(session, period, campaign_ids),
        top_clippers=_top_clippers(session, views.totals["clipper"], campaign_ids),
    )


def _running(days: list[date], rows) -> list[tuple[int, int]]:
    """(spent that day, spent to date) on every day of the grid."""
    by_day = {day: (daily["spent"], running["spent"]) for day, daily, running in rows}
    to_date = 0
    for day, _, running in rows:
        if day >= days[0]:
            break
        to_date = running["spent"]
    out = []
    for day in days:
        that_day, to_date = by_day.get(day, (0, to_date))
        out.append((that_day, to_date))
    return out


def client_dashboard(
    *,
    session: Session,
    actor: UserView,
    range_key: str = DEFAULT_RANGE,
    now: datetime | None = None,
) -> ClientDashboard:
    """The signed-in client's figures over all their campaigns (clients only)."""
    require_role(actor, Role.CLIENT)
    period = window(range_key, now=now)
    mine = select(Campaign.id).where(Campaign.client_id == actor.id)
    return _dashboard(session, period, [Campaign.client_id == actor.id], mine, single=None)


def campaign_dashboard(
    *,
    session: Session,
    actor: UserView,
    campaign_id: object,
    range_key: str = DEFAULT_RANGE,
    now: datetime | None = None,
) -> ClientDashboard:
    """One campaign's figures: for its client and for admins; to anyone else it does not
    exist."""
    require_role(actor, Role.CLIENT, Role.ADMIN)
    period = window(range_key, now=now)
    campaign = fresh(session, Campaign, campaign_id)
    if campaign is None or not (campaign.client_id == actor.id or actor.has_role(Role.ADMIN)):
        raise NotFound("That campaign was not found.")
    return _dashboard(session, period, [Campaign.id == campaign.id], [campaign.id], single=campaign)
