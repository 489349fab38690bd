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


def _manual_funds() -> rx.Component:
    """Without Stripe: an admin records each transfer."""
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


def _card_funds() -> rx.Component:
    """With Stripe: pay by card on Stripe's Checkout page; booked when Stripe confirms."""
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.icon("credit-card", size=18, color=rx.color("accent", 10)),
                rx.heading("Add funds", size="4"),
                align="center",
                spacing="2",
            ),
            rx.text(
                "Pay by card on Stripe's secure page; the money is added to your available "
                "balance as soon as Stripe confirms the payment. Between ",
                rx.text.strong(BillingState.card_minimum),
                " and ",
                rx.text.strong(BillingState.card_maximum),
                " at a time. Stripe's fee is paid by ClipGen: every dollar you pay is added.",
                size="2",
                color=rx.color("gray", 11),
            ),
            error_callout(BillingState.card_error, "card-error"),
            rx.form(
                rx.hstack(
                    rx.input(
                        rx.input.slot("$"),
                        name="amount",
                        placeholder="50.00",
                        input_mode="decimal",
                        auto_complete="off",
                        width="200px",
                        custom_attrs={
                            "data-testid": "card-amount",
                            "aria-label": "Amount in dollars",
                        },
                    ),
                    rx.el.input(
                        type="hidden", name="request_key", value=BillingState.card_request_key
                    ),
                    rx.button(
                        rx.icon("lock", size=14),
                        "Pay by card",
                        type="submit",
                        custom_attrs={"data-testid": "card-submit"},
                    ),
                    spacing="3",
                    align="center",
                    wrap="wrap",
                ),
                # A new key after each payment started draws the form afresh, empty.
                key=BillingState.card_request_key,
                on_submit=BillingState.add_funds,
                width="100%",
            ),
            rx.text(
                "Paying by bank transfer instead? An admin adds it when it arrives.",
                size="1",
                color=rx.color("gray", 10),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "card-funds"},
    )


def _checkout_notice() -> rx.Component:
    """What happened at Stripe's Checkout, when it sent the browser back here."""
    return rx.cond(
        BillingState.checkout_notice != "",
        rx.callout(
            BillingState.checkout_notice,
            icon=rx.cond(BillingState.checkout_status == "done", "circle-check", "info"),
            color_scheme=rx.cond(BillingState.checkout_status == "done", "green", "gray"),
            role="status",
            width="100%",
            custom_attrs={"data-testid": "checkout-notice"},
        ),
    )


CARD_STATUS_COLORS = (
    ("open", "amber"),
    ("processing", "blue"),
    ("paid", "green"),
    ("expired", "gray"),
)


def _card_payment_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["created_at"], size="2", white_space="nowrap")),
        rx.table.cell(
            rx.text(row["amount"], size="2", weight="medium"),
            text_align="right",
            custom_attrs={"data-testid": "card-payment-amount"},
        ),
        rx.table.cell(
            rx.badge(
                row["status_words"],
                color_scheme=rx.match(row["status"], *CARD_STATUS_COLORS, "gray"),
                variant="soft",
                custom_attrs={"data-testid": "card-payment-status"},
            )
        ),
        rx.table.cell(rx.text(row["paid_at"], size="2", white_space="nowrap")),
        custom_attrs={"data-testid": "card-payment-row", "data-status": row["status"]},
    )


def _card_payments() -> rx.Component:
    return section(
        "Card payments",
        rx.hstack(
            rx.text(
                "Your latest payments by card and where each one is.",
                size="2",
                color=rx.color("gray", 11),
            ),
            rx.spacer(),
            rx.button(
                rx.icon("refresh-cw", size=14),
                "Refresh",
                variant="soft",
                size="1",
                on_click=BillingState.refresh,
                custom_attrs={"data-testid": "card-payments-refresh"},
            ),
            align="center",
            width="100%",
        ),
        rx.cond(
            BillingState.card_payments.length() == 0,
            rx.text(
                "No card payments yet.",
                size="2",
                color=rx.color("gray", 11),
                custom_attrs={"data-testid": "card-payments-empty"},
            ),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Started"),
                            rx.table.column_header_cell("Amount", text_align="right"),
                            rx.table.column_header_cell("Status"),
                            rx.table.column_header_cell("Added"),
                        )
                    ),
                    rx.table.body(rx.foreach(BillingState.card_payments, _card_payment_row)),
                    variant="surface",
                    size="1",
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
        ),
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
        _checkout_notice(),
        rx.cond(BillingState.cards_on, _card_funds(), _manual_funds()),
        rx.cond(BillingState.cards_on, _card_payments()),
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
