"""Earnings: a clipper's balances, tier, statement and payouts, and asking to be paid."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.blocks import error_callout, figure, figures, section, status_badge
from clipgen.components.dialogs import password_dialog
from clipgen.components.layout import page_header, template
from clipgen.components.money import pager, statement_table
from clipgen.config import get_settings
from clipgen.state.money import EarningsState


def _tier() -> rx.Component:
    tier = EarningsState.tier
    return section(
        "Your tier",
        rx.hstack(
            rx.badge(
                tier["name"],
                size="3",
                color_scheme="violet",
                custom_attrs={"data-testid": "tier-name"},
            ),
            rx.text(
                tier["split"],
                size="5",
                weight="bold",
                custom_attrs={"data-testid": "tier-split"},
            ),
            rx.text("you / platform", size="2", color=rx.color("gray", 11)),
            align="center",
            spacing="3",
            wrap="wrap",
        ),
        rx.text(tier["split_words"], size="2", color=rx.color("gray", 11)),
        rx.progress(
            value=tier["progress"].to(int),
            width="100%",
            custom_attrs={"data-testid": "tier-progress"},
        ),
        rx.text(
            tier["needs"], size="2", weight="medium", custom_attrs={"data-testid": "tier-needs"}
        ),
        rx.text(tier["have"], size="2", color=rx.color("gray", 11)),
    )


def _request_form() -> rx.Component:
    return section(
        "Request a payout",
        rx.text(
            "You can ask for up to your available balance (",
            rx.text.strong(EarningsState.available),
            "), at least ",
            EarningsState.minimum_payout,
            rx.cond(
                EarningsState.payout_setup["status"] == "ready",
                ". Once an admin approves it, Stripe pays it to your bank.",
                ". An admin pays it by bank transfer and records the reference.",
            ),
            size="2",
            color=rx.color("gray", 11),
        ),
        error_callout(EarningsState.payout_error, "payout-error"),
        rx.form(
            rx.hstack(
                rx.input(
                    rx.input.slot("$"),
                    name="amount",
                    placeholder="25.00",
                    input_mode="decimal",
                    auto_complete="off",
                    width="200px",
                    custom_attrs={
                        "data-testid": "payout-amount",
                        "aria-label": "Amount in dollars",
                    },
                ),
                rx.el.input(type="hidden", name="request_key", value=EarningsState.request_key),
                rx.button(
                    rx.icon("send", size=14),
                    "Request payout",
                    type="submit",
                    custom_attrs={"data-testid": "payout-submit"},
                ),
                spacing="3",
                align="center",
                wrap="wrap",
            ),
            # A new key after each request draws the form afresh, empty.
            key=EarningsState.request_key,
            on_submit=EarningsState.request_payout,
            width="100%",
        ),
    )


def _payout_setup() -> rx.Component:
    """Where payouts go: the clipper's Stripe account, and what Stripe still needs."""
    setup = EarningsState.payout_setup
    card = section(
        "Payouts to your bank",
        rx.hstack(
            status_badge(setup["status"]),
            rx.text(setup["words"], size="2", custom_attrs={"data-testid": "payout-setup-words"}),
            spacing="3",
            align="center",
            wrap="wrap",
        ),
        rx.cond(
            setup["needs"] != "",
            rx.text(
                "Stripe still needs: ",
                rx.text.strong(setup["needs"]),
                ".",
                size="2",
                custom_attrs={"data-testid": "payout-setup-needs"},
            ),
        ),
        error_callout(EarningsState.setup_error, "payout-setup-error"),
        rx.cond(
            setup["status"] != "ready",
            rx.button(
                rx.icon("landmark", size=14),
                setup["button"],
                on_click=EarningsState.set_up_payouts,
                custom_attrs={"data-testid": "payout-setup"},
            ),
        ),
    )
    return rx.box(
        card,
        width="100%",
        custom_attrs={"data-testid": "payout-setup-card", "data-status": setup["status"]},
    )


def _payout_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["requested_at"], size="2", white_space="nowrap")),
        rx.table.cell(rx.text(row["amount"], size="2", weight="medium")),
        rx.table.cell(status_badge(row["status"])),
        rx.table.cell(rx.text(row["detail"], size="2")),
        custom_attrs={"data-testid": "my-payout-row", "data-status": row["status"]},
    )


def _payouts() -> rx.Component:
    return section(
        "Your payouts",
        rx.cond(
            EarningsState.my_payouts.length() == 0,
            rx.text(
                "No payouts yet.",
                size="2",
                color=rx.color("gray", 11),
                custom_attrs={"data-testid": "my-payouts-empty"},
            ),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Requested"),
                            rx.table.column_header_cell("Amount"),
                            rx.table.column_header_cell("Status"),
                            rx.table.column_header_cell("Reference or reason"),
                        )
                    ),
                    rx.table.body(rx.foreach(EarningsState.my_payouts, _payout_row)),
                    variant="surface",
                    size="1",
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
        ),
    )


@template(routes.EARNINGS, "Earnings", role="clipper", on_load=EarningsState.open_page)
def earnings() -> rx.Component:
    return rx.vstack(
        page_header("Earnings", "What your clips earned, what you can withdraw, and payouts."),
        password_dialog(EarningsState),
        error_callout(EarningsState.load_error, "earnings-error"),
        figures(
            figure(
                "Pending",
                EarningsState.pending,
                "balance-pending",
                f"Held {get_settings().earnings_hold_days} days for review, then available.",
                "hourglass",
            ),
            figure(
                "Available",
                EarningsState.available,
                "balance-available",
                "Yours to withdraw.",
                "wallet",
            ),
            figure(
                "In payout",
                EarningsState.in_payout,
                "balance-in-payout",
                "Requested, waiting for an admin.",
                "send",
            ),
            figure(
                "Paid out",
                EarningsState.paid_out,
                "balance-paid",
                "Sent to you so far, or on its way to your bank.",
                "circle-check",
            ),
        ),
        rx.grid(
            _tier(),
            _request_form(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        rx.cond(
            (EarningsState.payout_setup["status"] != "manual")
            & (EarningsState.payout_setup.length() > 0),
            _payout_setup(),
        ),
        _payouts(),
        section(
            "Statement",
            statement_table(EarningsState.lines, "No earnings yet: approved clips appear here."),
            pager(EarningsState.page, EarningsState.page_count, EarningsState.go_to_page),
            subtitle="Every movement on your balances, newest first.",
        ),
        spacing="4",
        width="100%",
    )
