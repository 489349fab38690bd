"""Every chart of the dashboards as CSV rows: the figures the chart is drawn from, for the
range the page shows, behind the same permission checks as the dashboard itself."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from clipgen.services.analytics.admin import AdminDashboard, admin_dashboard
from clipgen.services.analytics.client import (
    ClientDashboard,
    campaign_dashboard,
    client_dashboard,
)
from clipgen.services.analytics.clipper import ClipperDashboard, clipper_dashboard
from clipgen.services.auth.service import UserView
from clipgen.services.csv_export import csv_text
from clipgen.services.errors import InvalidInput

Rows = list[list[object]]

# dashboard -> the charts it can export
CHARTS = {
    "clipper": ("earnings", "views", "best-clips"),
    "client": ("spend", "views", "submissions", "clippers"),
    "campaign": ("spend", "views", "submissions", "clippers"),
    "admin": ("money", "signups"),
}


def dollars(cents: int | None) -> str:
    """Cents as a plain decimal a spreadsheet reads as a number."""
    return "" if cents is None else f"{cents / 100:.2f}"


def clipper_rows(board: ClipperDashboard, chart: str) -> Rows:
    if chart == "earnings":
        return [
            ["day", "earned_usd", "pending_usd", "available_usd", "in_payout_usd", "paid_usd"],
            *[
                [
                    day.day.isoformat(),
                    dollars(day.earned_cents),
                    dollars(day.pending_cents),
                    dollars(day.available_cents),
                    dollars(day.in_payout_cents),
                    dollars(day.paid_cents),
                ]
                for day in board.earnings
            ],
        ]
    if chart == "views":
        series = board.view_series
        return [
            ["day", "all_posts", *[s.label for s in series]],
            *[
                [day.day.isoformat(), day.total, *[day.by_series[s.key] for s in series]]
                for day in board.views
            ],
        ]
    clips = {c.submission_id: c for c in (*board.best_by_views, *board.best_by_earnings)}
    return [
        ["submission", "title", "campaign", "views", "views_in_range", "earned_in_range_usd"],
        *[
            [
                c.submission_id,
                c.title,
                c.campaign_title,
                c.views,
                c.views_in_range,
                dollars(c.earned_in_range_cents),
            ]
            for c in clips.values()
        ],
    ]


def client_rows(board: ClientDashboard, chart: str) -> Rows:
    if chart == "spend":
        return [
            [
                "campaign",
                "title",
                "status",
                "budget_usd",
                "spent_in_range_usd",
                "spent_usd",
                "escrow_left_usd",
                "views",
                "views_in_range",
                "effective_cpm_usd",
            ],
            *[
                [
                    c.campaign_id,
                    c.title,
                    c.status,
                    dollars(c.budget_cents),
                    dollars(c.spent_in_range_cents),
                    dollars(c.spent_cents),
                    dollars(c.escrow_cents),
                    c.views,
                    c.views_in_range,
                    dollars(c.ecpm_cents),
                ]
                for c in board.campaigns
            ],
        ]
    if chart == "views":
        series = board.view_series
        return [
            [
                "day",
                "spent_usd",
                "spent_to_date_usd",
                "views",
                "effective_cpm_usd",
                *[s.label for s in series],
            ],
            *[
                [
                    day.day.isoformat(),
                    dollars(day.spent_cents),
                    dollars(day.spent_to_date_cents),
                    day.views,
                    dollars(day.ecpm_cents),
                    *[day.by_series[s.key] for s in series],
                ]
                for day in board.days
            ],
        ]
    if chart == "submissions":
        return [["state", "submissions"], *[[k, v] for k, v in board.submissions_by_state.items()]]
    return [
        ["clipper", "name", "views", "views_in_range", "approved_clips"],
        *[
            [c.clipper_id, c.name, c.views, c.views_in_range, c.approved_clips]
            for c in board.top_clippers
        ],
    ]


def admin_rows(board: AdminDashboard, chart: str) -> Rows:
    if chart == "money":
        return [
            ["day", "revenue_usd", "gross_volume_usd", "owed_to_clippers_usd"],
            *[
                [
                    day.day.isoformat(),
                    dollars(day.revenue_cents),
                    dollars(day.gross_volume_cents),
                    dollars(day.owed_cents),
                ]
                for day in board.days
            ],
        ]
    return [
        ["day", "clippers", "clients"],
        *[[day.day.isoformat(), day.clipper_signups, day.client_signups] for day in board.days],
    ]


def chart_rows(
    *,
    session: Session,
    actor: UserView,
    dashboard: str,
    chart: str,
    range_key: str,
    campaign_id: object = None,
    now: datetime | None = None,
) -> Rows:
    """One chart's rows, header first, for the range; the dashboard's own checks apply."""
    if dashboard not in CHARTS or chart not in CHARTS[dashboard]:
        raise InvalidInput("There is no such chart to export.")
    common = {"session": session, "actor": actor, "range_key": range_key, "now": now}
    if dashboard == "clipper":
        return clipper_rows(clipper_dashboard(**common), chart)
    if dashboard == "client":
        return client_rows(client_dashboard(**common), chart)
    if dashboard == "campaign":
        return client_rows(campaign_dashboard(campaign_id=campaign_id, **common), chart)
    return admin_rows(admin_dashboard(**common), chart)


def chart_csv(**kwargs) -> str:
    """`chart_rows` as CSV text, for a download (every cell formula-safe)."""
    return csv_text(chart_rows(**kwargs))
