"""Views over time, shared by the dashboards.

A post's count on a day is its newest reading of that day (the sync reads daily, hand
entries may come more often), counted by the rules the money follows
(`publishing.sync.counted_views`): a disqualified post counts for nothing and a post
below its campaign's minimum views per post counts zero. Views are cumulative, so the
figures are built from each post's daily gain (its count minus its previous day's count):
summing gains per day and running them on gives the views of any group of posts at the end
of each day, without carrying every post's count forward by hand. All of it is one SQL
statement (window functions, on SQLite and PostgreSQL alike).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from clipgen.models import (
    Campaign,
    MarketJob,
    Publication,
    PublicationStatus,
    Submission,
    ViewSnapshot,
)
from clipgen.services.analytics.periods import Window, as_day, day_of

# What views can be grouped by: a clip (its submission), a campaign, a clipper, a client.
GROUPS = {
    "submission": Publication.submission_id,
    "campaign": MarketJob.campaign_id,
    "clipper": MarketJob.clipper_id,
    "client": Campaign.client_id,
}


@dataclass(frozen=True)
class ViewsAt:
    """The views of one group at the end of a day, and what it gained that day."""

    key: int
    day: date
    views: int
    gained: int


def _daily_gains(where: list[ColumnElement], group: str):
    """Per post and day: the newest counted reading's gain over the post's previous day."""
    day = day_of(ViewSnapshot.taken_at)
    counted = case(
        (col(ViewSnapshot.views) >= Campaign.min_views_per_post, ViewSnapshot.views), else_=0
    )
    newest = func.row_number().over(
        partition_by=(ViewSnapshot.publication_id, day),
        order_by=(col(ViewSnapshot.taken_at).desc(), col(ViewSnapshot.id).desc()),
    )
    readings = (
        select(
            ViewSnapshot.publication_id,
            GROUPS[group].label("key"),
            day.label("day"),
            counted.label("views"),
            newest.label("newest"),
        )
        .join(Publication, col(Publication.id) == ViewSnapshot.publication_id)
        .join(Submission, col(Submission.id) == Publication.submission_id)
        .join(MarketJob, col(MarketJob.id) == Submission.job_id)
        .join(Campaign, col(Campaign.id) == MarketJob.campaign_id)
        .where(Publication.status != PublicationStatus.DISQUALIFIED, *where)
        .subquery()
    )
    previous = func.lag(readings.c.views, 1, 0).over(
        partition_by=readings.c.publication_id, order_by=readings.c.day
    )
    return (
        select(readings.c.key, readings.c.day, (readings.c.views - previous).label("gain"))
        .where(readings.c.newest == 1)
        .subquery()
    )


def views_by_day(
    session: Session, period: Window, *, where: list[ColumnElement], group: str
) -> list[ViewsAt]:
    """For each group and each day in the range on which one of its posts was read: its
    views at the end of that day and the day's gain. Days without a reading keep the
    previous day's views (the caller carries them forward over the day grid)."""
    gains = _daily_gains(where, group)
    per_day = (
        select(
            gains.c.key,
            gains.c.day,
            func.sum(gains.c.gain).label("gained"),
            func.sum(func.sum(gains.c.gain))
            .over(partition_by=gains.c.key, order_by=gains.c.day)
            .label("views"),
        )
        .group_by(gains.c.key, gains.c.day)
        .subquery()
    )
    query = select(per_day.c.key, per_day.c.day, per_day.c.views, per_day.c.gained)
    if period.first_day is not None:
        query = query.where(per_day.c.day >= period.first_day)
    return [
        ViewsAt(int(key), as_day(day), int(views), int(gained))
        for key, day, views, gained in session.exec(query.order_by(per_day.c.day)).all()
    ]


def views_in_range(
    session: Session, period: Window, *, where: list[ColumnElement], group: str
) -> dict[int, tuple[int, int]]:
    """Per group: (views now, views gained within the range)."""
    gains = _daily_gains(where, group)
    in_range = gains.c.gain
    if period.first_day is not None:
        in_range = case((gains.c.day >= period.first_day, gains.c.gain), else_=0)
    rows = session.exec(
        select(gains.c.key, func.sum(gains.c.gain), func.sum(in_range)).group_by(gains.c.key)
    ).all()
    return {int(key): (int(total), int(gained)) for key, total, gained in rows}


def carried(
    days: list[date], points: list[ViewsAt], keys: list[int], opening: dict[int, int]
) -> dict[int, list[int]]:
    """Each key's views on every day of the grid, a day without a reading keeping the last
    known count (`opening`: the count before the grid's first day)."""
    known = {(point.key, point.day): point.views for point in points}
    series: dict[int, list[int]] = {}
    for key in keys:
        last = opening.get(key, 0)
        values = []
        for day in days:
            last = known.get((key, day), last)
            values.append(last)
        series[key] = values
    return series
