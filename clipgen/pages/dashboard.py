"""The signed-in home page: where each of the user's roles starts."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.blocks import error_callout
from clipgen.components.layout import page_header, template
from clipgen.pages.analytics import admin_analytics, client_analytics, clipper_analytics
from clipgen.state.analytics import DashboardState
from clipgen.state.session import SessionState


def _start_card(icon: str, title: str, text: str, href: str, testid: str) -> rx.Component:
    return rx.link(
        rx.card(
            rx.hstack(
                rx.icon(icon, size=22, color=rx.color("accent", 10)),
                rx.vstack(
                    rx.text(title, weight="bold", size="3"),
                    rx.text(text, size="2", color=rx.color("gray", 11)),
                    spacing="1",
                ),
                spacing="3",
                align="start",
            ),
            size="2",
            width="100%",
            _hover={"border_color": rx.color("accent", 8)},
        ),
        href=href,
        underline="none",
        color_scheme="gray",
        high_contrast=True,
        custom_attrs={"data-testid": testid},
    )


def _section(title: str, *cards: rx.Component) -> rx.Component:
    return rx.vstack(
        rx.heading(title, size="4"),
        rx.grid(*cards, columns=rx.breakpoints(initial="1", sm="2"), spacing="3", width="100%"),
        spacing="3",
        width="100%",
    )


@template(routes.DASHBOARD, "Dashboard", on_load=DashboardState.open_page)
def dashboard() -> rx.Component:
    return rx.vstack(
        page_header(
            "Dashboard",
            "Welcome back. Here is where your work starts, and how it is going.",
        ),
        rx.text(
            "Signed in as ",
            rx.text.strong(SessionState.display_name),
            custom_attrs={"data-testid": "welcome"},
        ),
        error_callout(DashboardState.range_error, "range-error"),
        error_callout(DashboardState.load_error, "analytics-error"),
        rx.cond(
            SessionState.is_clipper,
            _section(
                "Clipping",
                _start_card(
                    "store",
                    "Find a campaign",
                    "Paid briefs you can claim.",
                    routes.MARKETPLACE,
                    "start-marketplace",
                ),
                _start_card(
                    "briefcase",
                    "My work",
                    "Your claims, clips to submit, and the clients' feedback.",
                    routes.MY_WORK,
                    "start-work",
                ),
                _start_card(
                    "wand-sparkles",
                    "Generate clips",
                    "Upload a long video; get ranked clips.",
                    routes.GENERATE,
                    "start-generate",
                ),
            ),
        ),
        rx.cond(SessionState.is_clipper & DashboardState.loaded, clipper_analytics()),
        rx.cond(
            SessionState.is_client,
            _section(
                "Campaigns",
                _start_card(
                    "megaphone",
                    "Launch a campaign",
                    "Brief clippers on your video.",
                    routes.CAMPAIGNS,
                    "start-campaigns",
                ),
                _start_card(
                    "circle-check-big",
                    "Review clips",
                    "Approve, reject or ask for a revision.",
                    routes.REVIEWS,
                    "start-reviews",
                ),
                _start_card(
                    "credit-card",
                    "Add funds",
                    "Budgets are held in escrow.",
                    routes.BILLING,
                    "start-billing",
                ),
            ),
        ),
        rx.cond(
            SessionState.is_client & DashboardState.loaded,
            client_analytics(
                DashboardState,
                lambda chart: DashboardState.download("client", chart),
                one_campaign=False,
            ),
        ),
        rx.cond(
            SessionState.is_admin,
            _section(
                "Admin",
                _start_card(
                    "banknote",
                    "Payout requests",
                    "Approve or reject payouts.",
                    routes.ADMIN_PAYOUTS,
                    "start-payouts",
                ),
                _start_card(
                    "flag",
                    "Fraud flags",
                    "Clips held for review.",
                    routes.ADMIN_FLAGS,
                    "start-flags",
                ),
            ),
        ),
        rx.cond(SessionState.is_admin & DashboardState.loaded, admin_analytics()),
        spacing="5",
        width="100%",
    )
