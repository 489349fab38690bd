"""The dashboards' analytics: each role's charts on the Dashboard, and one campaign's on
its analytics page.

Handlers re-check the session on every call (the services check the role and who owns
what), take the range and the chart to export as untrusted text, and copy plain values
(strings, numbers) into vars; charts get numbers, tables get words.
"""

from __future__ import annotations

from datetime import date, timedelta

import reflex as rx

from clipgen import routes
from clipgen.services.analytics import export
from clipgen.services.analytics.admin import AdminDashboard, admin_dashboard
from clipgen.services.analytics.client import (
    ClientDashboard,
    campaign_dashboard,
    client_dashboard,
)
from clipgen.services.analytics.clipper import ClipperDashboard, clipper_dashboard
from clipgen.services.analytics.common import Series
from clipgen.services.analytics.periods import DEFAULT_RANGE, RANGE_LABELS, RANGES
from clipgen.services.money.amounts import format_cents
from clipgen.state.limits import limited
from clipgen.state.money import tier_card
from clipgen.state.publishing import LINE_COLORS
from clipgen.state.session import SessionState, shows_refusals

RANGE_REFUSED = "Choose a range of 7, 30 or 90 days, or all time."
STATE_LABELS = {
    "pending": "Waiting",
    "approved": "Approved",
    "rejected": "Rejected",
    "revision_requested": "Revision",
}


def short_day(day: date) -> str:
    return f"{day:%b} {day.day}"


def dollars(cents: int | None) -> float | None:
    """Cents as dollars for a chart's axis (None leaves a gap)."""
    return None if cents is None else round(cents / 100, 2)


def money(cents: int | None) -> str:
    return "—" if cents is None else format_cents(cents)


def age_words(age: timedelta | None) -> str:
    if age is None:
        return "none waiting"
    hours = int(age.total_seconds() // 3600)
    if hours < 1:
        return "oldest under an hour"
    if hours < 48:
        return f"oldest {hours} h"
    return f"oldest {hours // 24} days"


def lines_of(series: tuple[Series, ...], *, skip: int = 0) -> list[dict[str, str]]:
    """One colour per line; `skip` leaves the first colours to what the chart draws
    besides (the client's views area is the first)."""
    return [
        {"key": s.key, "name": s.label, "color": LINE_COLORS[(n + skip) % len(LINE_COLORS)]}
        for n, s in enumerate(series)
    ]


# --- plain values of each dashboard --------------------------------------------------------


def clipper_vars(board: ClipperDashboard) -> dict:
    now = board.now
    approval = board.approval
    return {
        "clipper_figures": {
            "earned": format_cents(board.earned_in_range_cents),
            "pending": format_cents(now.pending_cents),
            "available": format_cents(now.available_cents),
            "paid": format_cents(now.paid_cents),
            "in_payout": format_cents(now.in_payout_cents),
            "views": f"{board.views_in_range:,}",
            "approval": "—" if approval.percent is None else f"{approval.percent}%",
            "approval_words": f"{approval.approved} of {approval.reviewed} reviewed clips",
        },
        "clipper_tier": tier_card(board.standing),
        "earnings_chart": [
            {
                "day": short_day(day.day),
                "pending": dollars(day.pending_cents),
                "available": dollars(day.available_cents),
                "in_payout": dollars(day.in_payout_cents),
                "paid": dollars(day.paid_cents),
            }
            for day in board.earnings
        ],
        "clipper_views_chart": [
            {"day": short_day(day.day), "total": day.total, **day.by_series} for day in board.views
        ],
        "clipper_view_lines": lines_of(board.view_series),
        "best_by_views": [
            {
                "href": routes.clip_performance(c.submission_id),
                "title": c.title,
                "campaign": c.campaign_title,
                "value": f"{c.views_in_range:,} views",
                "detail": f"{c.views:,} in all",
            }
            for c in board.best_by_views
        ],
        "best_by_earnings": [
            {
                "href": routes.clip_performance(c.submission_id),
                "title": c.title,
                "campaign": c.campaign_title,
                "value": format_cents(c.earned_in_range_cents),
                "detail": f"{c.views:,} views",
            }
            for c in board.best_by_earnings
        ],
    }


def client_vars(board: ClientDashboard) -> dict:
    return {
        "client_title": board.title,
        "client_figures": {
            "spent": format_cents(board.spent_in_range_cents),
            "escrow": format_cents(board.escrow_cents),
            "views": f"{board.views_in_range:,}",
            "ecpm": money(board.ecpm_cents),
        },
        "campaign_bars": [
            {
                "campaign": c.title[:24],
                "spent": dollars(c.spent_in_range_cents),
                "escrow": dollars(c.escrow_cents),
            }
            for c in board.campaigns
        ],
        "campaign_rows": [
            {
                "href": routes.campaign_analytics(c.campaign_id),
                "title": c.title,
                "status": c.status,
                "spent": format_cents(c.spent_in_range_cents),
                "escrow": format_cents(c.escrow_cents),
                "views": f"{c.views_in_range:,}",
                "ecpm": money(c.ecpm_cents),
            }
            for c in board.campaigns
        ],
        "client_chart": [
            {
                "day": short_day(day.day),
                "views": day.views,
                "spent": dollars(day.spent_cents),
                "ecpm": dollars(day.ecpm_cents),
                **day.by_series,
            }
            for day in board.days
        ],
        "client_view_lines": lines_of(board.view_series, skip=1),
        "submission_states": [
            {"state": STATE_LABELS.get(state, state), "count": count}
            for state, count in board.submissions_by_state.items()
        ],
        "top_clippers": [
            {
                "href": routes.profile(c.clipper_id),
                "name": c.name,
                "views": f"{c.views_in_range:,}",
                "total": f"{c.views:,}",
                "clips": str(c.approved_clips),
            }
            for c in board.top_clippers
        ],
    }


def admin_vars(board: AdminDashboard) -> dict:
    return {
        "admin_figures": {
            "revenue": format_cents(board.revenue_in_range_cents),
            "gross": format_cents(board.gross_volume_in_range_cents),
            "owed": format_cents(board.owed_cents),
            "owed_words": (
                f"{format_cents(board.owed_pending_cents)} pending, "
                f"{format_cents(board.owed_available_cents)} available, "
                f"{format_cents(board.owed_in_payout_cents)} in payout"
            ),
            "payouts": str(board.payouts_waiting),
            "payouts_words": (
                f"{format_cents(board.payouts_waiting_cents)}, "
                f"{age_words(board.oldest_payout_waiting)}"
            ),
            "flags": str(board.flags_open),
            "flags_words": age_words(board.oldest_flag_open) if board.flags_open else "all clear",
            "signups": f"{board.signups_in_range:,}",
        },
        "admin_money_chart": [
            {
                "day": short_day(day.day),
                "revenue": dollars(day.revenue_cents),
                "gross": dollars(day.gross_volume_cents),
                "owed": dollars(day.owed_cents),
            }
            for day in board.days
        ],
        "signups_chart": [
            {
                "day": short_day(day.day),
                "clippers": day.clipper_signups,
                "clients": day.client_signups,
            }
            for day in board.days
        ],
    }


class _ClientCharts(SessionState):
    """The client's charts: all their campaigns on the Dashboard, or one campaign."""

    range_key: str = DEFAULT_RANGE
    range_error: str = ""
    load_error: str = ""
    client_title: str = ""
    client_figures: dict[str, str] = {}
    campaign_bars: list[dict] = []
    campaign_rows: list[dict[str, str]] = []
    client_chart: list[dict] = []
    client_view_lines: list[dict[str, str]] = []
    submission_states: list[dict] = []
    top_clippers: list[dict[str, str]] = []

    @rx.var
    def range_label(self) -> str:
        return RANGE_LABELS.get(self.range_key, "")

    def _take_range(self, value: object) -> bool:
        """The range the browser sent, if it is one we offer (else a message)."""
        if not isinstance(value, str) or value not in RANGES:
            self.range_error = RANGE_REFUSED
            return False
        self.range_error = ""
        self.range_key = value
        return True

    def _apply(self, values: dict) -> None:
        for name, value in values.items():
            setattr(self, name, value)


class DashboardState(_ClientCharts):
    """Every analytics section of the Dashboard the signed-in user's roles give them."""

    clipper_figures: dict[str, str] = {}
    clipper_tier: dict[str, str | int] = {}
    earnings_chart: list[dict] = []
    clipper_views_chart: list[dict] = []
    clipper_view_lines: list[dict[str, str]] = []
    best_by_views: list[dict[str, str]] = []
    best_by_earnings: list[dict[str, str]] = []
    admin_figures: dict[str, str] = {}
    admin_money_chart: list[dict] = []
    signups_chart: list[dict] = []
    loaded: bool = False

    @shows_refusals("load_error")
    def _load(self):
        self.load_error = ""
        user = self._actor()
        if user is None:
            return self._to_login()
        self._show_user(user)
        # The sections show from now on: their figures, or the refusal in `load_error`.
        self.loaded = True
        services = (
            ("clipper", clipper_dashboard, clipper_vars),
            ("client", client_dashboard, client_vars),
            ("admin", admin_dashboard, admin_vars),
        )
        for role, service, to_vars in services:
            if role in user.roles:
                self._apply(to_vars(self._call_service(service, range_key=self.range_key)))
        return None

    @rx.event
    @limited("expensive_read")
    def open_page(self):
        return self._load()

    @rx.event
    @limited("expensive_read")
    def set_range(self, value: str | list[str]):
        if not self._take_range(value):
            return None
        return self._load()

    @rx.event
    @limited("expensive_read")
    def download(self, dashboard: str, chart: str):
        """One chart's figures as CSV (the dashboard's own checks apply)."""
        if dashboard not in ("clipper", "client", "admin"):
            self.load_error = "There is no such chart to export."
            return None
        return _download(self, dashboard, chart)


class CampaignAnalyticsState(_ClientCharts):
    """One campaign's charts, for its client and for admins."""

    campaign_id: int = 0
    not_found: bool = False

    @rx.var
    def campaign_href(self) -> str:
        return routes.campaign(self.campaign_id) if self.campaign_id else routes.CAMPAIGNS

    @shows_refusals("load_error")
    def _load(self):
        self.load_error = ""
        self.not_found = True  # until the service gives the campaign's figures
        board = self._call_service(
            campaign_dashboard, campaign_id=self.campaign_id, range_key=self.range_key
        )
        self.not_found = False
        self._apply(client_vars(board))
        return None

    @rx.event
    @limited("expensive_read")
    def open_page(self):
        """Load the campaign of the address: /campaigns/<id>/analytics."""
        self.campaign_id = self._route_id(routes.CAMPAIGNS, "/analytics")
        return self._load()

    @rx.event
    @limited("expensive_read")
    def set_range(self, value: str | list[str]):
        if not self._take_range(value):
            return None
        return self._load()

    @rx.event
    @limited("expensive_read")
    def download(self, chart: str):
        return _download(self, "campaign", chart, campaign_id=self.campaign_id)


@shows_refusals("load_error")
def _download(state: _ClientCharts, dashboard: str, chart: str, **kwargs):
    """Send one chart's CSV for the range on screen, or say why not."""
    state.load_error = ""
    data = state._call_service(
        export.chart_csv,
        dashboard=dashboard,
        chart=chart if isinstance(chart, str) else "",
        range_key=state.range_key,
        **kwargs,
    )
    filename = f"{dashboard}-{chart}-{state.range_key}.csv"
    return rx.download(data=data, filename=filename, mime_type="text/csv")
