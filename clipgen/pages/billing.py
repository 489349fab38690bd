"""Billing: a client's balance, the money held in each campaign's escrow, and history."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.blocks import error_callout, figure, figures, section, status_badge
from clipgen.components.layout import page_header, template
from clipgen.components.money import pager, statement_table
from clipgen.state.money import BillingState


def _campaign_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.hstack(
                rx.text(row["title"], size="2", weight="medium"),
                rx.cond(
                    row["exhausted"],
                    rx.badge(
                        "Budget used up",
                        color_scheme="red",
                        variant="soft",
                        custom_attrs={"data-testid": "campaign-exhausted"},
                    ),
                ),
                spacing="2",
                align="center",
                wrap="wrap",
            )
        ),
        rx.table.cell(status_badge(row["status"])),
        rx.table.cell(rx.text(row["budget"], size="2"), text_align="right"),
        rx.table.cell(
            rx.text(row["escrow"], size="2", weight="medium"),
            text_align="right",
            custom_attrs={"data-testid": "campaign-escrow"},
        ),
        custom_attrs={"data-testid": "campaign-money-row"},
    )


def _campaigns() -> rx.Component:
    return section(
        "Held in escrow",
        rx.cond(
            BillingState.campaigns.length() == 0,
            rx.text(
                "No campaigns yet. Activating a campaign moves its whole budget here; "
                "clippers are paid from it as their clips are approved, and what is left "
                "comes back to your balance when the campaign ends.",
                size="2",
                color=rx.color("gray", 11),
                custom_attrs={"data-testid": "campaigns-empty"},
            ),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Campaign"),
                            rx.table.column_header_cell("Status"),
                            rx.table.column_header_cell("Budget", text_align="right"),
                            rx.table.column_header_cell("Escrow left", text_align="right"),
                        )
                    ),
                    rx.table.body(rx.foreach(BillingState.campaigns, _campaign_row)),
                    variant="surface",
                    size="1",
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
        ),
        subtitle="A campaign's budget waits here until clips are approved.",
    )


def _add_funds() -> rx.Component:
    return rx.callout(
        rx.text(
            rx.text.strong("Adding funds. "),
            "Funds are added by an admin when your transfer arrives; each deposit then "
            "shows in the history below with its reference. Card payments are not "
            "available yet.",
        ),
        icon="info",
        color_scheme="blue",
        width="100%",
        custom_attrs={"data-testid": "add-funds"},
    )


@template(routes.BILLING, "Billing", role="client", on_load=BillingState.open_page)
def billing() -> rx.Component:
    return rx.vstack(
        page_header("Billing", "Your balance, the budgets held for your campaigns, and history."),
        error_callout(BillingState.load_error, "billing-error"),
        figures(
            figure(
                "Available balance",
                BillingState.available,
                "billing-available",
                "Ready to fund a campaign.",
                "wallet",
            ),
            figure(
                "Held in escrow",
                BillingState.held,
                "billing-held",
                "Reserved for your campaigns' clippers.",
                "lock",
            ),
        ),
        _add_funds(),
        _campaigns(),
        section(
            "History",
            statement_table(BillingState.lines, "No deposits or campaign budgets yet."),
            pager(BillingState.page, BillingState.page_count, BillingState.go_to_page),
            subtitle="Every movement on your balance, newest first.",
        ),
        spacing="4",
        width="100%",
    )
