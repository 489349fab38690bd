"""Analytics: each role's charts (shown on the Dashboard) and one campaign's analytics
page (/campaigns/<id>/analytics, for its client and admins)."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.blocks import error_callout, status_badge
from clipgen.components.charts import (
    MUTED,
    bars,
    chart_card,
    lines,
    range_selector,
    ranked_list,
    stacked_area,
    stat,
    views_and_cpm,
)
from clipgen.components.layout import template
from clipgen.state.analytics import CampaignAnalyticsState, DashboardState


def _grid(*children: rx.Component, columns: str = "2") -> rx.Component:
    return rx.grid(
        *children,
        columns=rx.breakpoints(initial="1", md=columns),
        spacing="4",
        width="100%",
    )


def _figures(*cards: rx.Component) -> rx.Component:
    return rx.grid(
        *cards,
        columns=rx.breakpoints(initial="1", xs="2", md=str(len(cards))),
        spacing="3",
        width="100%",
    )


def section_heading(title: str, state, testid: str) -> rx.Component:
    return rx.hstack(
        rx.heading(title, size="5"),
        rx.spacer(),
        range_selector(state, f"{testid}-range"),
        width="100%",
        align="center",
        wrap="wrap",
        spacing="3",
    )


# --- clipper -------------------------------------------------------------------------------


def _tier() -> rx.Component:
    tier = DashboardState.clipper_tier
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("award", size=16, color=rx.color("accent", 10)),
                rx.text("Tier", size="2", weight="medium", color=MUTED),
                spacing="2",
                align="center",
            ),
            rx.hstack(
                rx.text(tier["name"], size="6", weight="bold"),
                rx.badge(tier["split"], variant="soft"),
                align="center",
                spacing="2",
                custom_attrs={"data-testid": "analytics-tier"},
            ),
            rx.progress(value=tier["progress"].to(int), width="100%"),
            rx.text(tier["needs"], size="1", color=MUTED),
            spacing="2",
            width="100%",
        ),
        width="100%",
    )


def clipper_analytics() -> rx.Component:
    f = DashboardState.clipper_figures
    return rx.vstack(
        section_heading("Your performance", DashboardState, "clipper"),
        _figures(
            stat("Earned", f["earned"], "analytics-earned", DashboardState.range_label, "coins"),
            stat("Views", f["views"], "analytics-views", "Gained in the range", "eye"),
            stat(
                "Approval rate", f["approval"], "analytics-approval", f["approval_words"], "check"
            ),
            _tier(),
        ),
        _grid(
            chart_card(
                "Earnings",
                "Everything you earned so far, by where it stands at the end of each day",
                stacked_area(
                    DashboardState.earnings_chart,
                    [
                        ("paid", "Paid"),
                        ("in_payout", "In payout"),
                        ("available", "Available"),
                        ("pending", "Pending"),
                    ],
                ),
                DashboardState.download("clipper", "earnings"),
                "chart-clipper-earnings",
            ),
            chart_card(
                "Views",
                "All your posts, and your best clips of the range",
                lines(
                    DashboardState.clipper_views_chart,
                    ("total", "All posts"),
                    DashboardState.clipper_view_lines,
                ),
                DashboardState.download("clipper", "views"),
                "chart-clipper-views",
            ),
        ),
        _grid(
            chart_card(
                "Best clips by views",
                "Views gained in the range",
                ranked_list(DashboardState.best_by_views, "best-views", "No views yet."),
                DashboardState.download("clipper", "best-clips"),
                "list-best-views",
            ),
            chart_card(
                "Best clips by earnings",
                "Your share earned in the range",
                ranked_list(DashboardState.best_by_earnings, "best-earnings", "No earnings yet."),
                DashboardState.download("clipper", "best-clips"),
                "list-best-earnings",
            ),
        ),
        spacing="4",
        width="100%",
        custom_attrs={"data-testid": "clipper-analytics"},
    )


# --- client (the Dashboard's, or one campaign's page) ---------------------------------------


def _campaign_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row["title"], href=row["href"], weight="medium", size="2")),
        rx.table.cell(status_badge(row["status"])),
        rx.table.cell(rx.text(row["spent"], size="2"), text_align="right"),
        rx.table.cell(rx.text(row["escrow"], size="2"), text_align="right"),
        rx.table.cell(rx.text(row["views"], size="2"), text_align="right"),
        rx.table.cell(rx.text(row["ecpm"], size="2"), text_align="right"),
        custom_attrs={"data-testid": "campaign-analytics-row"},
    )


def _clipper_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.link(row["name"], href=row["href"], weight="medium", size="2")),
        rx.table.cell(rx.text(row["views"], size="2"), text_align="right"),
        rx.table.cell(rx.text(row["total"], size="2"), text_align="right"),
        rx.table.cell(rx.text(row["clips"], size="2"), text_align="right"),
        custom_attrs={"data-testid": "top-clipper-row"},
    )


def _table(headers: list[tuple[str, bool]], rows, row, empty_text: str) -> rx.Component:
    return rx.cond(
        rows.length() == 0,
        rx.text(empty_text, size="2", color=MUTED),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        *[
                            rx.table.column_header_cell(
                                name, text_align="right" if right else "left"
                            )
                            for name, right in headers
                        ]
                    )
                ),
                rx.table.body(rx.foreach(rows, row)),
                variant="ghost",
                size="1",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
    )


def client_analytics(state, download, *, one_campaign: bool) -> rx.Component:
    f = state.client_figures
    series_words = "your best clips" if one_campaign else "your best campaigns"
    return rx.vstack(
        section_heading(
            "This campaign" if one_campaign else "Campaign performance", state, "client"
        ),
        _figures(
            stat("Spent", f["spent"], "analytics-spent", state.range_label, "wallet"),
            stat("Left in escrow", f["escrow"], "analytics-escrow", "Now", "lock"),
            stat("Views", f["views"], "analytics-client-views", "Gained in the range", "eye"),
            stat(
                "Effective CPM",
                f["ecpm"],
                "analytics-ecpm",
                "Spent per 1,000 views, all time",
                "trending-down",
            ),
        ),
        _grid(
            chart_card(
                "Views and effective CPM",
                f"Views so far (and {series_words}); what 1,000 views have cost",
                views_and_cpm(state.client_chart, state.client_view_lines),
                download("views"),
                "chart-client-views",
            ),
            chart_card(
                "Spend and escrow" if one_campaign else "Spend and escrow per campaign",
                "Paid for clips in the range, and what is left to pay",
                bars(
                    state.campaign_bars,
                    "campaign",
                    [("spent", "Spent"), ("escrow", "Left in escrow")],
                    money=True,
                    stacked=True,
                ),
                download("spend"),
                "chart-client-spend",
            ),
        ),
        _grid(
            chart_card(
                "Submissions",
                "Handed in during the range, by where they stand",
                bars(state.submission_states, "state", [("count", "Submissions")]),
                download("submissions"),
                "chart-client-submissions",
            ),
            chart_card(
                "Top clippers",
                "By views gained in the range",
                _table(
                    [("Clipper", False), ("Views", True), ("All time", True), ("Clips", True)],
                    state.top_clippers,
                    _clipper_row,
                    "No views yet.",
                ),
                download("clippers"),
                "list-top-clippers",
            ),
        ),
        *(
            []
            if one_campaign
            else [
                chart_card(
                    "Campaigns",
                    "Open one for its own charts",
                    _table(
                        [
                            ("Campaign", False),
                            ("Status", False),
                            ("Spent", True),
                            ("Escrow", True),
                            ("Views", True),
                            ("CPM", True),
                        ],
                        state.campaign_rows,
                        _campaign_row,
                        "No campaigns yet.",
                    ),
                    download("spend"),
                    "list-campaigns",
                )
            ]
        ),
        spacing="4",
        width="100%",
        custom_attrs={"data-testid": "client-analytics"},
    )


# --- admin ---------------------------------------------------------------------------------


def admin_analytics() -> rx.Component:
    f = DashboardState.admin_figures
    return rx.vstack(
        section_heading("Platform", DashboardState, "admin"),
        _figures(
            stat(
                "Revenue", f["revenue"], "analytics-revenue", DashboardState.range_label, "landmark"
            ),
            stat(
                "Gross volume",
                f["gross"],
                "analytics-gross",
                "Paid out of escrow for clips",
                "activity",
            ),
            stat("Owed to clippers", f["owed"], "analytics-owed", f["owed_words"], "hand-coins"),
            stat("Payout queue", f["payouts"], "analytics-payouts", f["payouts_words"], "banknote"),
            stat("Open flags", f["flags"], "analytics-flags", f["flags_words"], "flag"),
        ),
        _grid(
            chart_card(
                "Revenue and gross volume",
                "Per day; gross volume is everything clips took from escrow",
                bars(
                    DashboardState.admin_money_chart,
                    "day",
                    [("gross", "Gross volume"), ("revenue", "Revenue")],
                    money=True,
                ),
                DashboardState.download("admin", "money"),
                "chart-admin-money",
            ),
            chart_card(
                "Owed to clippers",
                "Pending, available and in payout, at the end of each day",
                stacked_area(DashboardState.admin_money_chart, [("owed", "Owed")]),
                DashboardState.download("admin", "money"),
                "chart-admin-owed",
            ),
        ),
        chart_card(
            "Signups",
            rx.text("People who joined each day; ", f["signups"], " in the range"),
            bars(
                DashboardState.signups_chart,
                "day",
                [("clippers", "Clippers"), ("clients", "Clients")],
                stacked=True,
            ),
            DashboardState.download("admin", "signups"),
            "chart-admin-signups",
        ),
        spacing="4",
        width="100%",
        custom_attrs={"data-testid": "admin-analytics"},
    )


# --- one campaign's page -------------------------------------------------------------------


@template(routes.CAMPAIGN_ANALYTICS, "Campaign analytics", on_load=CampaignAnalyticsState.open_page)
def campaign_analytics() -> rx.Component:
    state = CampaignAnalyticsState
    return rx.vstack(
        rx.link(
            rx.hstack(rx.icon("arrow-left", size=14), "Campaign", spacing="1", align="center"),
            href=state.campaign_href,
            size="2",
        ),
        rx.cond(
            state.not_found,
            error_callout(state.load_error, "campaign-analytics-error"),
            rx.vstack(
                rx.heading(
                    state.client_title, size="7", custom_attrs={"data-testid": "page-title"}
                ),
                error_callout(state.range_error, "range-error"),
                error_callout(state.load_error, "analytics-error"),
                client_analytics(state, state.download, one_campaign=True),
                spacing="4",
                width="100%",
            ),
        ),
        spacing="4",
        width="100%",
    )
