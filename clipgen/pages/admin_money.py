"""Admin Payouts (the queue of payout requests, decisions, CSV) and Admin Money (the
platform's totals, the ledger check, the Stripe reconciliation, deposits, earnings holds
and the automatic payout approval limit)."""

from __future__ import annotations

import reflex as rx

from clipgen import routes
from clipgen.components.blocks import error_callout, figure, figures, section, status_badge
from clipgen.components.dialogs import reason_dialog
from clipgen.components.layout import page_header, template
from clipgen.state.money import AdminMoneyState, AdminPayoutsState

# --- Payouts ------------------------------------------------------------------------------


def _queue_row(row: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.vstack(
                    rx.text(row["clipper_name"], weight="bold", size="3"),
                    rx.text(row["clipper_email"], size="2", color=rx.color("gray", 11)),
                    spacing="0",
                ),
                rx.spacer(),
                rx.vstack(
                    rx.text(
                        row["amount"],
                        size="5",
                        weight="bold",
                        custom_attrs={"data-testid": "queue-amount"},
                    ),
                    rx.text(
                        "#",
                        row["id"],
                        " · requested ",
                        row["requested_at"],
                        " · ",
                        row["age"],
                        size="1",
                        color=rx.color("gray", 11),
                    ),
                    spacing="0",
                    align="end",
                ),
                width="100%",
                align="start",
                wrap="wrap",
            ),
            rx.cond(
                AdminPayoutsState.action_payout_id == row["id"],
                error_callout(AdminPayoutsState.action_error, "approve-error"),
            ),
            rx.form(
                rx.hstack(
                    rx.el.input(type="hidden", name="payout_id", value=row["id"]),
                    rx.cond(
                        row["via_stripe"] == "yes",
                        # The clipper's Stripe account is ready: approving sends the money.
                        rx.button(
                            rx.icon("send", size=14),
                            "Pay through Stripe",
                            type="submit",
                            color_scheme="green",
                            custom_attrs={"data-testid": "approve-stripe"},
                        ),
                        rx.hstack(
                            rx.input(
                                name="reference",
                                placeholder="Transfer reference",
                                auto_complete="off",
                                width="220px",
                                custom_attrs={
                                    "data-testid": "approve-reference",
                                    "aria-label": "Transfer reference",
                                },
                            ),
                            rx.button(
                                rx.icon("circle-check", size=14),
                                "Mark paid",
                                type="submit",
                                color_scheme="green",
                                custom_attrs={"data-testid": "approve-submit"},
                            ),
                            spacing="2",
                            align="center",
                        ),
                    ),
                    rx.spacer(),
                    rx.button(
                        "Reject…",
                        type="button",
                        variant="soft",
                        color_scheme="red",
                        on_click=AdminPayoutsState.start_reject(row["id"]),
                        custom_attrs={"data-testid": "reject-open"},
                    ),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                    width="100%",
                ),
                on_submit=AdminPayoutsState.approve,
                width="100%",
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
        custom_attrs={"data-testid": "queue-row"},
    )


def _reject_dialog() -> rx.Component:
    return reason_dialog(
        open=AdminPayoutsState.reject_open,
        on_close=AdminPayoutsState.close_reject,
        title="Reject this payout?",
        description=(
            AdminPayoutsState.reject_summary,
            ". The money goes back to the clipper's available balance, and they see your reason.",
        ),
        field_name="reason",
        placeholder="Why is it rejected?",
        field_testid="reject-reason",
        field_label="Reason",
        error=AdminPayoutsState.reject_error,
        error_testid="reject-error",
        submit_label="Reject payout",
        submit_testid="reject-submit",
        on_submit=AdminPayoutsState.reject,
        cancel_label="Keep it",
    )


def _decided_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text("#", row["id"], size="2")),
        rx.table.cell(
            rx.vstack(
                rx.text(row["clipper_name"], size="2", weight="medium"),
                rx.text(row["clipper_email"], size="1", color=rx.color("gray", 11)),
                spacing="0",
            )
        ),
        rx.table.cell(rx.text(row["amount"], size="2", weight="medium")),
        rx.table.cell(status_badge(row["status"])),
        rx.table.cell(rx.text(row["detail"], size="2")),
        rx.table.cell(rx.text(row["decided_at"], size="2", white_space="nowrap")),
        custom_attrs={"data-testid": "decided-row", "data-status": row["status"]},
    )


@template(routes.ADMIN_PAYOUTS, "Payouts", role="admin", on_load=AdminPayoutsState.open_page)
def admin_payouts() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            page_header("Payouts", "Pay clippers' requests by bank transfer, then record them."),
            rx.spacer(),
            rx.button(
                rx.icon("download", size=14),
                "Export CSV",
                variant="soft",
                on_click=AdminPayoutsState.export_csv,
                custom_attrs={"data-testid": "payouts-export"},
            ),
            width="100%",
            align="start",
            wrap="wrap",
        ),
        error_callout(AdminPayoutsState.load_error, "payouts-error"),
        rx.vstack(
            rx.hstack(
                rx.heading("Waiting", size="4"),
                rx.badge(
                    AdminPayoutsState.queue.length(),
                    color_scheme="amber",
                    custom_attrs={"data-testid": "queue-count"},
                ),
                align="center",
                spacing="2",
            ),
            rx.text(
                "Oldest first. Send the money, then record the transfer's reference; or "
                "reject the request with a reason and the money goes back to the clipper.",
                size="2",
                color=rx.color("gray", 11),
            ),
            rx.cond(
                AdminPayoutsState.queue.length() == 0,
                rx.callout(
                    "No payout requests are waiting.",
                    icon="circle-check",
                    color_scheme="green",
                    width="100%",
                    custom_attrs={"data-testid": "queue-empty"},
                ),
                rx.vstack(
                    rx.foreach(AdminPayoutsState.queue, _queue_row), spacing="3", width="100%"
                ),
            ),
            spacing="3",
            width="100%",
        ),
        _reject_dialog(),
        section(
            "Decided",
            rx.cond(
                AdminPayoutsState.decided.length() == 0,
                rx.text("No payouts decided yet.", size="2", color=rx.color("gray", 11)),
                rx.box(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell("Payout"),
                                rx.table.column_header_cell("Clipper"),
                                rx.table.column_header_cell("Amount"),
                                rx.table.column_header_cell("Status"),
                                rx.table.column_header_cell("Reference or reason"),
                                rx.table.column_header_cell("Decided"),
                            )
                        ),
                        rx.table.body(rx.foreach(AdminPayoutsState.decided, _decided_row)),
                        variant="surface",
                        size="1",
                        width="100%",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
            ),
            subtitle="The latest paid and rejected payouts, newest first.",
        ),
        spacing="4",
        width="100%",
    )


# --- Money --------------------------------------------------------------------------------


def _field(label: str, control: rx.Component) -> rx.Component:
    return rx.vstack(rx.text(label, size="2", weight="medium"), control, spacing="1", width="100%")


def _ledger_check() -> rx.Component:
    return section(
        "Ledger check",
        rx.cond(
            AdminMoneyState.ledger_ok,
            rx.callout(
                rx.text(
                    rx.text.strong("All good. "),
                    "Every transaction sums to zero, every balance equals its entries, and no "
                    "one's balance is below zero. ",
                    AdminMoneyState.ledger_summary,
                ),
                icon="shield-check",
                color_scheme="green",
                width="100%",
                custom_attrs={"data-testid": "ledger-ok"},
            ),
            rx.callout(
                rx.vstack(
                    rx.text(
                        rx.text.strong("The ledger has problems. "),
                        "Do not pay out until they are understood.",
                    ),
                    rx.foreach(
                        AdminMoneyState.ledger_problems,
                        lambda problem: rx.text("• ", problem, size="2"),
                    ),
                    spacing="1",
                ),
                icon="shield-alert",
                color_scheme="red",
                width="100%",
                custom_attrs={"data-testid": "ledger-problems"},
            ),
        ),
        rx.hstack(
            rx.button(
                rx.icon("scale", size=14),
                "Run check",
                variant="soft",
                on_click=AdminMoneyState.run_check,
                custom_attrs={"data-testid": "ledger-run-check"},
            ),
            rx.text("Checked ", AdminMoneyState.checked_at, size="1", color=rx.color("gray", 11)),
            align="center",
            spacing="3",
        ),
    )


def _deposit_form() -> rx.Component:
    return section(
        "Record a deposit",
        error_callout(AdminMoneyState.deposit_error, "deposit-error"),
        rx.form(
            rx.vstack(
                _field(
                    "Client",
                    rx.select.root(
                        rx.select.trigger(
                            placeholder="Choose a client",
                            width="100%",
                            custom_attrs={"data-testid": "deposit-client"},
                        ),
                        rx.select.content(
                            rx.foreach(
                                AdminMoneyState.clients,
                                lambda client: rx.select.item(client["label"], value=client["id"]),
                            )
                        ),
                        name="client_id",
                    ),
                ),
                rx.grid(
                    _field(
                        "Amount",
                        rx.input(
                            rx.input.slot("$"),
                            name="amount",
                            placeholder="250.00",
                            input_mode="decimal",
                            auto_complete="off",
                            custom_attrs={"data-testid": "deposit-amount"},
                        ),
                    ),
                    _field(
                        "Reference",
                        rx.input(
                            name="reference",
                            placeholder="Bank transfer id",
                            auto_complete="off",
                            custom_attrs={"data-testid": "deposit-reference"},
                        ),
                    ),
                    columns="2",
                    spacing="3",
                    width="100%",
                ),
                rx.button(
                    rx.icon("piggy-bank", size=14),
                    "Record deposit",
                    type="submit",
                    custom_attrs={"data-testid": "deposit-submit"},
                ),
                spacing="3",
                width="100%",
            ),
            key=AdminMoneyState.deposit_form_key,
            on_submit=AdminMoneyState.record_deposit,
            width="100%",
        ),
        subtitle="When a client's bank transfer arrives. The same reference twice is one deposit.",
    )


def _hold_forms() -> rx.Component:
    return section(
        "Hold earnings",
        rx.text(
            "A held submission's earnings stay pending until you release them, even past the "
            "usual hold.",
            size="2",
            color=rx.color("gray", 11),
        ),
        error_callout(AdminMoneyState.hold_error, "hold-error"),
        rx.form(
            rx.vstack(
                rx.grid(
                    _field(
                        "Submission #",
                        rx.input(
                            name="submission_id",
                            placeholder="42",
                            input_mode="numeric",
                            auto_complete="off",
                            custom_attrs={"data-testid": "hold-submission"},
                        ),
                    ),
                    _field(
                        "Reason (the clipper is told)",
                        rx.input(
                            name="reason",
                            placeholder="Sudden view jump under review",
                            auto_complete="off",
                            custom_attrs={"data-testid": "hold-reason"},
                        ),
                    ),
                    columns="2",
                    spacing="3",
                    width="100%",
                ),
                rx.button(
                    rx.icon("lock", size=14),
                    "Hold earnings",
                    type="submit",
                    color_scheme="amber",
                    custom_attrs={"data-testid": "hold-submit"},
                ),
                spacing="3",
                width="100%",
            ),
            key=AdminMoneyState.hold_form_key,
            on_submit=AdminMoneyState.hold,
            width="100%",
        ),
        rx.divider(),
        rx.heading("Release a hold", size="3"),
        error_callout(AdminMoneyState.release_error, "release-error"),
        rx.form(
            rx.hstack(
                rx.input(
                    name="submission_id",
                    placeholder="Submission #",
                    input_mode="numeric",
                    auto_complete="off",
                    width="160px",
                    custom_attrs={"data-testid": "release-submission"},
                ),
                rx.button(
                    rx.icon("lock-open", size=14),
                    "Release",
                    type="submit",
                    variant="soft",
                    custom_attrs={"data-testid": "release-submit"},
                ),
                spacing="3",
                align="center",
            ),
            key=AdminMoneyState.release_form_key,
            on_submit=AdminMoneyState.release,
            width="100%",
        ),
    )


def _run_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["day"], size="2", weight="medium", white_space="nowrap")),
        rx.table.cell(rx.text(row["stripe"], size="2")),
        rx.table.cell(rx.text(row["ledger"], size="2")),
        rx.table.cell(rx.text(row["matched"], size="2")),
        rx.table.cell(
            rx.badge(
                row["mismatches"],
                color_scheme=rx.match(
                    row["status"], ("matched", "green"), ("mismatches", "red"), "amber"
                ),
                variant="soft",
            )
        ),
        rx.table.cell(rx.text(row["summary"], size="2")),
        rx.table.cell(rx.text(row["ran_at"], size="2", white_space="nowrap")),
        custom_attrs={"data-testid": "reconciliation-run", "data-status": row["status"]},
    )


def _mismatch_row(row: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.cell(rx.text(row["day"], size="2", white_space="nowrap")),
        rx.table.cell(rx.badge(row["kind_words"], color_scheme="red", variant="soft")),
        rx.table.cell(rx.code(row["source"], size="1")),
        rx.table.cell(rx.text(row["stripe"], size="2")),
        rx.table.cell(rx.text(row["ledger"], size="2")),
        rx.table.cell(rx.text(row["words"], size="2")),
        custom_attrs={"data-testid": "reconciliation-mismatch", "data-kind": row["kind"]},
    )


def _reconciliation() -> rx.Component:
    return section(
        "Stripe reconciliation",
        error_callout(AdminMoneyState.reconciliation_error, "reconciliation-error"),
        rx.cond(
            AdminMoneyState.reconciliation_runs.length() == 0,
            rx.text(
                "No reconciliation has run yet.",
                size="2",
                color=rx.color("gray", 11),
                custom_attrs={"data-testid": "reconciliation-empty"},
            ),
            rx.box(
                rx.table.root(
                    rx.table.header(
                        rx.table.row(
                            rx.table.column_header_cell("Day"),
                            rx.table.column_header_cell("At Stripe"),
                            rx.table.column_header_cell("In the ledger"),
                            rx.table.column_header_cell("Matched"),
                            rx.table.column_header_cell("Mismatches"),
                            rx.table.column_header_cell("Outcome"),
                            rx.table.column_header_cell("Ran"),
                        )
                    ),
                    rx.table.body(rx.foreach(AdminMoneyState.reconciliation_runs, _run_row)),
                    variant="surface",
                    size="1",
                    width="100%",
                ),
                overflow_x="auto",
                width="100%",
            ),
        ),
        rx.cond(
            AdminMoneyState.reconciliation_mismatches.length() > 0,
            rx.vstack(
                rx.heading("Mismatches", size="3"),
                rx.box(
                    rx.table.root(
                        rx.table.header(
                            rx.table.row(
                                rx.table.column_header_cell("Day"),
                                rx.table.column_header_cell("What"),
                                rx.table.column_header_cell("Stripe object"),
                                rx.table.column_header_cell("Stripe"),
                                rx.table.column_header_cell("Ledger"),
                                rx.table.column_header_cell("Details"),
                            )
                        ),
                        rx.table.body(
                            rx.foreach(AdminMoneyState.reconciliation_mismatches, _mismatch_row)
                        ),
                        variant="surface",
                        size="1",
                        width="100%",
                    ),
                    overflow_x="auto",
                    width="100%",
                ),
                spacing="2",
                width="100%",
            ),
        ),
        rx.button(
            rx.icon("refresh-cw", size=14),
            "Reconcile yesterday",
            variant="soft",
            on_click=AdminMoneyState.reconcile_yesterday,
            custom_attrs={"data-testid": "reconcile-yesterday"},
        ),
        subtitle=(
            "Each night, yesterday's Stripe balance transactions are compared with the "
            "ledger's Stripe bookings: amounts and Stripe's fees, by Stripe object. Stripe's "
            "payouts to the platform's own bank are not compared."
        ),
    )


def _auto_approve_form() -> rx.Component:
    return section(
        "Automatic payout approval",
        rx.text(
            "Now: ",
            rx.text.strong(
                AdminMoneyState.auto_approve_limit,
                custom_attrs={"data-testid": "auto-approve-current"},
            ),
            size="2",
        ),
        error_callout(AdminMoneyState.auto_approve_error, "auto-approve-error"),
        rx.form(
            rx.hstack(
                rx.text("Approve payouts automatically up to", size="2"),
                rx.input(
                    rx.input.slot("$"),
                    name="limit",
                    default_value=AdminMoneyState.auto_approve_input,
                    placeholder="0",
                    input_mode="decimal",
                    auto_complete="off",
                    width="140px",
                    custom_attrs={
                        "data-testid": "auto-approve-limit",
                        "aria-label": "Automatic approval limit in dollars",
                    },
                ),
                rx.text("(0 = off)", size="2", color=rx.color("gray", 11)),
                rx.button(
                    "Save",
                    type="submit",
                    custom_attrs={"data-testid": "auto-approve-submit"},
                ),
                spacing="3",
                align="center",
                wrap="wrap",
            ),
            key=AdminMoneyState.auto_approve_form_key,
            on_submit=AdminMoneyState.save_auto_approve,
            width="100%",
        ),
        subtitle=(
            "Requests up to this amount are paid through Stripe without waiting for an "
            "admin, when the clipper has no open fraud flag and their Stripe account is "
            "ready; anything else waits in the payouts queue."
        ),
    )


@template(routes.ADMIN_MONEY, "Money", role="admin", on_load=AdminMoneyState.open_page)
def admin_money() -> rx.Component:
    return rx.vstack(
        page_header("Money", "Where every cent on the platform is."),
        error_callout(AdminMoneyState.load_error, "money-error"),
        figures(
            figure(
                "Platform revenue",
                AdminMoneyState.revenue,
                "money-revenue",
                "The platform's share of approved work.",
                "trending-up",
            ),
            figure(
                "In escrow",
                AdminMoneyState.escrow,
                "money-escrow",
                "Campaign budgets not yet paid.",
                "lock",
            ),
            figure(
                "Owed to clippers",
                AdminMoneyState.owed_to_clippers,
                "money-owed",
                "Pending, available and in payout.",
                "hand-coins",
            ),
            figure(
                "Clients' balances",
                AdminMoneyState.clients_available,
                "money-clients",
                "Deposited, not yet in a campaign.",
                "wallet",
            ),
            figure(
                "Deposited",
                AdminMoneyState.deposited,
                "money-deposited",
                "Every deposit recorded.",
                "piggy-bank",
            ),
            figure(
                "Paid out",
                AdminMoneyState.paid_out,
                "money-paid-out",
                "Sent to clippers.",
                "banknote",
            ),
            rx.link(
                figure(
                    "Payouts waiting",
                    AdminMoneyState.payouts_waiting,
                    "money-payouts-waiting",
                    "Open the payout queue.",
                    "hourglass",
                ),
                href=routes.ADMIN_PAYOUTS,
                underline="none",
                color_scheme="gray",
                high_contrast=True,
            ),
            rx.cond(
                AdminMoneyState.stripe_on,
                figure(
                    "Payment fees",
                    AdminMoneyState.payment_fees,
                    "money-payment-fees",
                    "Stripe's card and dispute fees, carried by ClipGen.",
                    "credit-card",
                ),
            ),
        ),
        _ledger_check(),
        rx.cond(AdminMoneyState.stripe_on, _reconciliation()),
        rx.grid(
            _deposit_form(),
            _hold_forms(),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        rx.cond(AdminMoneyState.stripe_on, _auto_approve_form()),
        spacing="4",
        width="100%",
    )
