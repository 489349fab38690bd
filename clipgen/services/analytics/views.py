"""Views over time, shared by the dashboards.

A post's count on a day is its newest reading of that day (the sync reads daily, hand
entries may come more often), counted by the rules the money follows
(`publishing.sync.counted_views`): only verified posts count, a disqualified post counts
for nothing, and a post below its campaign's minimum views per post counts zero. Views
are cumulative, so the figures are built from each post's daily gain (its count minus
its previous day's count): summing gains per day and running them on gives the views of
any group of posts at the end of each day, without carrying every post's count forward
by hand.

Everything a dashboard needs of views is one SQL statement: the gains are computed once
(a CTE, read in the index's order: one pass of window functions) and grouped several
ways, by window functions and UNION ALL that SQLite and PostgreSQL share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    String,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement
from sqlmodel import Session, col, select

from clipgen.models import (
    Campaign,
    MarketJob,
    Publication,
    PublicationStatus,
    Submission,
    Verification,
    ViewSnapshot,
)
from clipgen.services.analytics.periods import Window, as_day, day_of

# What views can be grouped by: a clip (its submission), a campaign, a clipper.
GROUPS = {
    "submission": Publication.submission_id,
    "campaign": MarketJob.campaign_id,
    "clipper": Publication.clipper_id,
}


@dataclass(frozen=True)
class ViewsAt:
    """The views of one group at the end of a day, and what it gained that day."""

    key: int
    day: date
    views: int
    gained: int


@dataclass
class ViewsSummary:
    """What a dashboard shows of views.

    `totals[group][key]`: (views now, gained within the range); `days`: all posts in scope
    at the end of each day with a reading; `series`: the same for the `series_by` groups
    with the most views gained in the range, `series_keys` best first."""

    totals: dict[str, dict[int, tuple[int, int]]] = field(default_factory=dict)
    days: list[ViewsAt] = field(default_factory=list)
    series_keys: list[int] = field(default_factory=list)
    series: list[ViewsAt] = field(default_factory=list)

    def opening(self, key: int, group: str) -> int:
        """A group's views before the range began."""
        total, gained = self.totals[group].get(key, (0, 0))
        return total - gained


def _scoped(query, where: list[ColumnElement]):
    """`query` over the posts in scope: joined to their clip, claim and campaign."""
    return (
        query.join(Submission, col(Submission.id) == Publication.submission_id)
        .join(MarketJob, col(MarketJob.id) == Submission.job_id)
        .join(Campaign, col(Campaign.id) == MarketJob.campaign_id)
        .where(
            Publication.status != PublicationStatus.DISQUALIFIED,
            Publication.verification == Verification.VERIFIED,
            *where,
        )
    )


def _counted(views):
    """A count as the money counts it: nothing below the campaign's minimum per post."""
    return case((views >= Campaign.min_views_per_post, views), else_=0)


def _gains(period: Window, where: list[ColumnElement]):
    """Per post and day with a reading in the range: the newest reading's counted views
    minus the post's count on its previous day with a reading (before the range: its
    newest reading before it, found through the (post, time) index once per post)."""
    opening = literal(0)
    if period.since is not None:
        earlier = aliased(ViewSnapshot)
        opening = _counted(
            func.coalesce(
                select(earlier.views)
                .where(earlier.publication_id == Publication.id, earlier.taken_at < period.since)
                .order_by(col(earlier.taken_at).desc(), col(earlier.id).desc())
                .limit(1)
                .scalar_subquery(),
                0,
            )
        )
    posts = (
        _scoped(
            select(
                col(Publication.id).label("post"),
                *[column.label(name) for name, column in GROUPS.items()],
                Campaign.min_views_per_post.label("min_views"),
                opening.label("opening"),
            ),
            where,
        )
        # OFFSET 0 keeps PostgreSQL from folding this into the join below, which would
        # look up the opening once per reading instead of once per post; in post order,
        # the readings come out of the (post, time) index already sorted for the windows.
        .order_by(col(Publication.id))
        .offset(0)
        .subquery()
    )
    day = day_of(ViewSnapshot.taken_at)
    # In (post, time) order, as the index keeps them: a reading is its day's newest when
    # the post's next reading is on another day (or there is none).
    in_order = (col(ViewSnapshot.taken_at), col(ViewSnapshot.id))
    next_day = func.lead(day).over(partition_by=posts.c.post, order_by=in_order)
    in_range = [] if period.since is None else [col(ViewSnapshot.taken_at) >= period.since]
    readings = (
        select(
            posts.c.post,
            *[posts.c[name] for name in GROUPS],
            day.label("day"),
            case((col(ViewSnapshot.views) >= posts.c.min_views, ViewSnapshot.views), else_=0).label(
                "views"
            ),
            posts.c.opening,
            col(ViewSnapshot.taken_at).label("at"),
            col(ViewSnapshot.id).label("reading"),
            next_day.label("next_day"),
        )
        .select_from(ViewSnapshot)
        .join(posts, posts.c.post == ViewSnapshot.publication_id)
        .where(*in_range)
        .subquery()
    )
    # One reading a day is left, so time order is day order (and needs no new sort).
    previous = func.lag(readings.c.views, 1, readings.c.opening).over(
        partition_by=readings.c.post, order_by=(readings.c.at, readings.c.reading)
    )
    return (
        select(
            *[readings.c[name] for name in GROUPS],
            readings.c.day,
            (readings.c.views - previous).label("gain"),
        )
        .where(or_(readings.c.next_day.is_(None), readings.c.next_day != readings.c.day))
        .cte("gains")
    )


def _part(name: str, key, day, views, gained):
    """One kind of row of the summary, in the shape every part shares."""
    return [
        literal(name, String).label("part"),
        cast(key, Integer).label("key"),
        # A NULL day must be typed for PostgreSQL's UNION; a real one is left as SQL gives it
        # (SQLite's CAST to DATE would make a number of it).
        (cast(null(), Date) if day is None else type_coerce(day, Date)).label("day"),
        cast(views, BigInteger).label("views"),
        cast(gained, BigInteger).label("gained"),
    ]


def summary_query(
    period: Window,
    *,
    where: list[ColumnElement],
    totals_by: tuple[str, ...],
    series_by: str,
    series_count: int,
):
    """The one statement behind `views_summary`. Parts: per group, the views now (each
    post's newest count, kept on the post) and the gain within the range; the range's
    gains run on by day, for everything and for the top groups of `series_by`."""
    gains = _gains(period, where)
    parts = []
    for group in totals_by:
        now = _scoped(select(GROUPS[group], _counted(col(Publication.views))), where).subquery()
        key = now.c[GROUPS[group].name]
        parts.append(select(*_part(f"{group}:now", key, None, func.sum(now.c[1]), 0)).group_by(key))
        parts.append(
            select(*_part(group, gains.c[group], None, 0, func.sum(gains.c.gain))).group_by(
                gains.c[group]
            )
        )
    per_day = (
        select(
            gains.c.day,
            func.sum(gains.c.gain).label("gained"),
            func.sum(func.sum(gains.c.gain)).over(order_by=gains.c.day).label("views"),
        )
        .group_by(gains.c.day)
        .subquery()
    )
    parts.append(
        select(*_part("day", literal(0), per_day.c.day, per_day.c.views, per_day.c.gained))
    )
    key = gains.c[series_by]
    ranked = (
        select(key.label("key"))
        .group_by(key)
        .having(func.sum(gains.c.gain) > 0)
        .order_by(func.sum(gains.c.gain).desc(), key)
        .limit(series_count)
        .subquery()
    )
    series = (
        select(
            key.label("key"),
            gains.c.day,
            func.sum(gains.c.gain).label("gained"),
            func.sum(func.sum(gains.c.gain))
            .over(partition_by=key, order_by=gains.c.day)
            .label("views"),
        )
        .where(key.in_(select(ranked.c.key)))
        .group_by(key, gains.c.day)
        .subquery()
    )
    parts.append(
        select(*_part("series", series.c.key, series.c.day, series.c.views, series.c.gained))
    )
    return union_all(*parts)


def views_summary(
    session: Session,
    period: Window,
    *,
    where: list[ColumnElement],
    totals_by: tuple[str, ...],
    series_by: str,
    series_count: int,
) -> ViewsSummary:
    """Views of the posts matching `where`: totals per group, the whole by day, and the
    `series_count` groups of `series_by` that gained most in the range, by day."""
    groups = tuple(dict.fromkeys((*totals_by, series_by)))
    query = summary_query(
        period, where=where, totals_by=groups, series_by=series_by, series_count=series_count
    )
    now: dict[str, dict[int, int]] = {group: {} for group in groups}
    gained: dict[str, dict[int, int]] = {group: {} for group in groups}
    days: list[ViewsAt] = []
    series: list[ViewsAt] = []
    for part, key, day, views, gain in session.exec(query).all():
        if part == "day":
            days.append(ViewsAt(0, as_day(day), int(views), int(gain)))
        elif part == "series":
            series.append(ViewsAt(int(key), as_day(day), int(views), int(gain)))
        elif part.endswith(":now"):
            now[part.removesuffix(":now")][int(key)] = int(views)
        else:
            gained[part][int(key)] = int(gain)
    found = ViewsSummary(
        totals={
            group: {k: (now[group].get(k, 0), gained[group].get(k, 0)) for k in now[group]}
            for group in groups
        }
    )
    # The SQL runs the range's gains on from zero; each line starts where it stood before.
    first = next(iter(groups))
    opening = sum(total - gain for total, gain in found.totals[first].values())
    found.days = sorted(
        (ViewsAt(0, p.day, opening + p.views, p.gained) for p in days), key=lambda p: p.day
    )
    by_key = found.totals[series_by]
    found.series = [
        ViewsAt(p.key, p.day, found.opening(p.key, series_by) + p.views, p.gained) for p in series
    ]
    found.series_keys = sorted(
        {p.key for p in series},
        key=lambda k: (-by_key.get(k, (0, 0))[1], -by_key.get(k, (0, 0))[0], k),
    )
    return found


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
