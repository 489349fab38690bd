"""Pieces the dashboards share: what counts as spend, running money by day, clip names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from clipgen.models import (
    Campaign,
    Clip,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    MarketJob,
    Submission,
    TransactionKind,
)
from clipgen.services.analytics.periods import as_day, day_of

# Money that left a campaign's escrow for a clip (clipper's share and platform's cut), and
# its fraud reversals, which take it back: what a client spent, the platform's volume.
SPEND_KINDS = (
    TransactionKind.APPROVAL,
    TransactionKind.CPM,
    TransactionKind.BONUS,
    TransactionKind.FRAUD_REVERSAL,
)
SERIES_SHOWN = 5  # lines on a "per clip" or "per campaign" chart; the rest are in the CSV


@dataclass(frozen=True)
class Series:
    """One line of a chart: its data key in each day's values, and its legend."""

    key: str
    label: str


def running_by_day(
    session: Session, parts: dict[str, ColumnElement], *, where: list[ColumnElement]
) -> list[tuple[date, dict[str, int], dict[str, int]]]:
    """Ledger entries matching `where` summed per UTC day: for each day with entries,
    (day, each part's sum that day, each part's running total to the end of that day).
    `parts` maps a name to the amount (or 0) an entry adds to it."""
    day = day_of(LedgerEntry.created_at)
    daily = (
        select(day.label("day"), *[func.sum(part).label(name) for name, part in parts.items()])
        .select_from(LedgerEntry)
        .join(LedgerAccount, col(LedgerAccount.id) == LedgerEntry.account_id)
        .join(LedgerTransaction, col(LedgerTransaction.id) == LedgerEntry.transaction_id)
        .where(*where)
        .group_by(day)
        .subquery()
    )
    columns = [daily.c[name] for name in parts]
    running = [func.sum(daily.c[name]).over(order_by=daily.c.day) for name in parts]
    rows = session.exec(select(daily.c.day, *columns, *running).order_by(daily.c.day)).all()
    count = len(parts)
    return [
        (
            as_day(row[0]),
            {name: int(row[1 + n] or 0) for n, name in enumerate(parts)},
            {name: int(row[1 + count + n] or 0) for n, name in enumerate(parts)},
        )
        for row in rows
    ]


def amount_if(condition: ColumnElement) -> ColumnElement:
    """An entry's amount when `condition` holds, else 0 (to sum one kind of money)."""
    return case((condition, LedgerEntry.amount_cents), else_=0)


def spend_kinds() -> list[str]:
    return [str(kind) for kind in SPEND_KINDS]


@dataclass(frozen=True)
class ClipName:
    title: str
    campaign_id: int
    campaign_title: str
    clipper_id: int


def clip_names(session: Session, submission_ids: list[int]) -> dict[int, ClipName]:
    """What to call each submitted clip: its title (an own edit has none) and campaign."""
    if not submission_ids:
        return {}
    rows = session.exec(
        select(Submission.id, Clip.title, Campaign.id, Campaign.title, MarketJob.clipper_id)
        .join(MarketJob, col(MarketJob.id) == Submission.job_id)
        .join(Campaign, col(Campaign.id) == MarketJob.campaign_id)
        .outerjoin(Clip, col(Clip.id) == Submission.clip_id)
        .where(col(Submission.id).in_(submission_ids))
    ).all()
    return {
        submission_id: ClipName(title or "Own edit", campaign_id, campaign_title, clipper_id)
        for submission_id, title, campaign_id, campaign_title, clipper_id in rows
    }


def ecpm_cents(spent_cents: int, views: int) -> int | None:
    """Effective CPM: what 1,000 views cost, in cents (None before any view)."""
    if views <= 0:
        return None
    return round(spent_cents * 1000 / views)
