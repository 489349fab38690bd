"""The money pages: a clipper's Earnings, a client's Billing, and the admins' Payouts and
Money. Handlers read their inputs as untrusted text, call one service each, and copy
plain values (strings, numbers) into vars; the services check who is asking."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

import reflex as rx

from clipgen.config import get_settings
from clipgen.models import PayoutStatus, utcnow
from clipgen.services import paging
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput
from clipgen.services.money import (
    cards,
    connect,
    funds,
    holds,
    money_settings,
    payouts,
    reconciliation,
    reports,
)
from clipgen.services.money.amounts import format_cents
from clipgen.services.money.ledger import InvariantReport
from clipgen.services.money.payouts import MIN_PAYOUT_CENTS, PayoutView
from clipgen.services.money.reconciliation import RunView
from clipgen.services.money.reports import StatementLine, StatementPage
from clipgen.services.money.tiers import TierStanding
from clipgen.state.formats import age, when
from clipgen.state.forms import dollars, dollars_or_zero, field, whole_number
from clipgen.state.limits import limited
from clipgen.state.session import SessionState, shows_refusals

STATEMENT_PER_PAGE = 20
RECONCILIATION_RUNS_SHOWN = 10
DECIDED_PAYOUTS_SHOWN = 50
_REQUEST_KEY = re.compile(r"[0-9a-f]{32}")


def signed_amount(cents: int) -> str:
    """ "+$7.00" for money in, "-$10.00" for money out."""
    return ("+" if cents > 0 else "") + format_cents(cents)


def statement_row(line: StatementLine) -> dict[str, str]:
    return {
        "at": when(line.at),
        "description": line.description,
        "account": line.account,
        "amount": signed_amount(line.amount_cents),
        "direction": "in" if line.amount_cents > 0 else "out",
    }


def payout_row(view: PayoutView, now: datetime) -> dict[str, str]:
    if view.status == PayoutStatus.PAID and view.provider == "stripe":
        detail = "Paid to the bank through Stripe"
    elif view.status == PayoutStatus.PAID:
        detail = f"Reference {view.reference}"
    elif view.status == PayoutStatus.PROCESSING:
        detail = "Sent through Stripe, on its way to the bank"
    elif view.status == PayoutStatus.FAILED:
        detail = f"Not paid, money returned: {view.failure_reason}"
    elif view.status == PayoutStatus.REJECTED:
        detail = f"Rejected: {view.rejection_reason}"
    else:
        detail = "Waiting for an admin"
    return {
        "id": str(view.id),
        "clipper_name": view.clipper_name,
        "clipper_email": view.clipper_email,
        "amount": format_cents(view.amount_cents),
        "status": view.status,
        "detail": detail,
        "reference": view.reference,
        "reason": view.rejection_reason,
        "requested_at": when(view.requested_at),
        "decided_at": when(view.decided_at),
        "age": age(view.requested_at, now),
        # Approving sends it through Stripe (no reference to type).
        "via_stripe": "yes" if view.stripe_ready else "",
    }


def tier_card(standing: TierStanding) -> dict[str, str | int]:
    """The tier, the split, and what the next tier needs, in words."""
    have = (
        f"You have {standing.approved_clips:,} approved "
        f"{'clip' if standing.approved_clips == 1 else 'clips'} and "
        f"{standing.total_views:,} views."
    )
    if standing.next_tier is None:
        needs = "You are at the top tier."
    else:
        needs = (
            f"{standing.next_tier.title()} needs {standing.next_needs_clips:,} approved clips "
            f"or {standing.next_needs_views:,} views."
        )
    return {
        "name": standing.tier.title(),
        "split": f"{standing.clipper_percent}% / {standing.platform_percent}%",
        "split_words": (
            f"You keep {standing.clipper_percent}% of what your clips earn; the platform "
            f"keeps {standing.platform_percent}%."
        ),
        "progress": standing.progress_percent,
        "needs": needs,
        "have": have,
    }


def invariant_problems(report: InvariantReport) -> list[str]:
    """What the ledger check found wrong, one sentence each."""
    problems = [
        f"Transaction #{tid} does not sum to zero." for tid in report.unbalanced_transactions
    ]
    problems += [
        f"Account {code}'s balance differs from the sum of its entries."
        for code in report.drifted_accounts
    ]
    problems += [f"Account {code} is below zero." for code in report.negative_accounts]
    if report.total_cents:
        problems.append(f"All entries sum to {format_cents(report.total_cents)}, not $0.00.")
    return problems


def statement_vars(statement: StatementPage) -> tuple[int, int, list[dict[str, str]]]:
    """A statement page as the page shows it: its number, the line count, the rows."""
    return statement.page, statement.total, [statement_row(line) for line in statement.lines]


# --- clipper: Earnings ------------------------------------------------------------------


def _earnings_view(*, session, actor: UserView, page: int, from_stripe: bool = False):
    """Balances, one statement page, the payouts and the payout set-up, read in one unit
    of work (back from Stripe's onboarding, the account is read from Stripe again)."""
    setup = (
        connect.refresh_account(session=session, actor=actor)
        if from_stripe
        else connect.my_payout_account(session=session, actor=actor)
    )
    return (
        reports.clipper_balances(session=session, actor=actor),
        reports.clipper_statement(
            session=session, actor=actor, page=page, per_page=STATEMENT_PER_PAGE
        ),
        payouts.my_payouts(session=session, actor=actor),
        setup,
    )


# What the payout set-up card says for each state of the clipper's Stripe account.
PAYOUT_SETUP_WORDS = {
    "not set up": "Get paid straight to your bank: set up payouts with Stripe, our payments "
    "partner. It takes a few minutes; ClipGen never sees your bank details.",
    "incomplete": "Stripe needs a few more details before it can pay you.",
    "ready": "Payouts go to your bank through Stripe, usually within 2 business days of approval.",
}


def payout_setup_card(view: connect.PayoutAccountView) -> dict[str, str]:
    return {
        "status": view.status,
        "words": PAYOUT_SETUP_WORDS.get(view.status, ""),
        "needs": ", ".join(view.needs),
        "button": "Continue setting up" if view.connected else "Set up payouts",
    }


class EarningsState(SessionState):
    pending: str = ""
    available: str = ""
    in_payout: str = ""
    paid_out: str = ""
    tier: dict[str, str | int] = {}
    lines: list[dict[str, str]] = []
    page: int = 1
    total_lines: int = 0
    my_payouts: list[dict[str, str]] = []
    load_error: str = ""
    payout_error: str = ""
    # One per form shown: a double click sends the same key twice, and the service pays once.
    request_key: str = ""
    # The clipper's Stripe payout account (status "manual": this ClipGen pays by hand).
    payout_setup: dict[str, str] = {}
    setup_error: str = ""

    @rx.var
    def page_count(self) -> int:
        return paging.page_count(self.total_lines, STATEMENT_PER_PAGE)

    @rx.var
    def minimum_payout(self) -> str:
        return format_cents(MIN_PAYOUT_CENTS)

    @shows_refusals("load_error")
    def _load(self):
        self.load_error = ""
        back = self.router.url.query_parameters.get("payouts", "") in ("back", "retry")
        balances, statement, mine, setup = self._call_service(
            _earnings_view, page=self.page, from_stripe=back and not self.payout_setup
        )
        self.payout_setup = payout_setup_card(setup)
        self.pending = format_cents(balances.pending_cents)
        self.available = format_cents(balances.available_cents)
        self.in_payout = format_cents(balances.in_payout_cents)
        self.paid_out = format_cents(balances.paid_cents)
        self.tier = tier_card(balances.standing)
        self._show_statement(statement)
        now = utcnow()
        self.my_payouts = [payout_row(view, now) for view in mine]
        return None

    def _show_statement(self, statement: StatementPage) -> None:
        self.page, self.total_lines, self.lines = statement_vars(statement)

    @rx.event
    @limited("expensive_read")
    def open_page(self):
        self.page = 1
        self.payout_error = ""
        self.setup_error = ""
        self.payout_setup = {}
        self.request_key = uuid.uuid4().hex
        return self._load()

    @rx.event
    @shows_refusals("setup_error", to_sign_in=False)
    @limited("write", "setup_error")
    def set_up_payouts(self):
        """Send the clipper to Stripe's onboarding for their payout account."""
        self.setup_error = ""
        url = self._call_service(connect.start_onboarding)
        return rx.redirect(url)

    @rx.event
    @limited("expensive_read")
    def go_to_page(self, page: int):
        if isinstance(page, bool) or not isinstance(page, int):
            return None
        self.page = max(1, min(page, self.page_count))
        return self._load()

    @rx.event
    @shows_refusals("payout_error", to_sign_in=False)
    @limited("write", "payout_error")
    def request_payout(self, form_data: dict):
        """Ask for a payout of the amount typed; the form's key makes a double click one."""
        self.payout_error = ""
        sent_key = field(form_data, "request_key")
        key = sent_key if _REQUEST_KEY.fullmatch(sent_key) else self.request_key
        amount_cents = dollars(form_data.get("amount") if isinstance(form_data, dict) else None)
        payout = self._call_service(
            payouts.request_payout, amount_cents=amount_cents, request_key=key
        )
        self.request_key = uuid.uuid4().hex
        reloaded = self._load()
        return [
            rx.toast.success(
                f"Payout of {format_cents(payout.amount_cents)} requested. An admin will review it."
            ),
            *([reloaded] if reloaded else []),
        ]


# --- client: Billing ---------------------------------------------------------------------


CARD_PAYMENTS_SHOWN = 20
CHECKOUT_NOTICES = {
    "done": (
        "Payment received by Stripe; your balance updates as soon as Stripe confirms it "
        "(usually seconds)."
    ),
    "cancelled": "Payment cancelled; nothing was charged.",
}


def card_payment_row(view: cards.CardPaymentView) -> dict[str, str]:
    refunded = (
        f"; {format_cents(view.refunded_cents)} refunded to the card" if view.refunded_cents else ""
    )
    return {
        "id": str(view.id),
        "amount": format_cents(view.amount_cents),
        "status": str(view.status),
        "status_words": view.status_words + refunded,
        "created_at": when(view.created_at),
        "paid_at": when(view.paid_at),
    }


def _billing_view(*, session, actor: UserView, page: int, with_cards: bool):
    """Balances, escrow, one statement page and (with Stripe) the latest card payments,
    read in one unit of work."""
    billing = reports.client_billing(
        session=session, actor=actor, page=page, per_page=STATEMENT_PER_PAGE
    )
    mine = (
        cards.my_card_payments(session=session, actor=actor, limit=CARD_PAYMENTS_SHOWN)
        if with_cards
        else []
    )
    return billing, mine


class BillingState(SessionState):
    available: str = ""
    held: str = ""
    campaigns: list[dict] = []
    lines: list[dict[str, str]] = []
    page: int = 1
    total_lines: int = 0
    load_error: str = ""
    # Add funds by card: shown only when Stripe is configured.
    cards_on: bool = False
    card_minimum: str = ""
    card_maximum: str = ""
    card_payments: list[dict[str, str]] = []
    card_error: str = ""
    # After Stripe's Checkout sent the browser back (`?checkout=done|cancelled`).
    checkout_notice: str = ""
    checkout_status: str = ""
    # One per form shown: a double click sends the same key twice, and Stripe is asked once.
    card_request_key: str = ""

    @rx.var
    def page_count(self) -> int:
        return paging.page_count(self.total_lines, STATEMENT_PER_PAGE)

    @shows_refusals("load_error")
    def _load(self):
        self.load_error = ""
        settings = get_settings()
        self.cards_on = settings.stripe_configured
        self.card_minimum = format_cents(settings.card_deposit_min_cents)
        self.card_maximum = format_cents(settings.card_deposit_max_cents)
        billing, mine = self._call_service(_billing_view, page=self.page, with_cards=self.cards_on)
        self.available = format_cents(billing.available_cents)
        self.held = format_cents(billing.held_cents)
        self.campaigns = [
            {
                "title": item.title,
                "status": str(item.status),
                "budget": format_cents(item.budget_cents),
                "escrow": format_cents(item.escrow_cents),
                "exhausted": item.exhausted,
            }
            for item in billing.campaigns
        ]
        self._show_statement(billing.history)
        self.card_payments = [card_payment_row(view) for view in mine]
        return None

    def _show_statement(self, statement: StatementPage) -> None:
        self.page, self.total_lines, self.lines = statement_vars(statement)

    @rx.event
    @limited("expensive_read")
    def open_page(self):
        self.page = 1
        self.card_error = ""
        self.card_request_key = uuid.uuid4().hex
        given = str(self.router.url.query_parameters.get("checkout", ""))
        self.checkout_status = given if given in CHECKOUT_NOTICES else ""
        self.checkout_notice = CHECKOUT_NOTICES.get(self.checkout_status, "")
        return self._load()

    @rx.event
    @limited("expensive_read")
    def refresh(self):
        """Read the balance and the card payments again (a payment Stripe just confirmed)."""
        return self._load()

    @rx.event
    @limited("expensive_read")
    def go_to_page(self, page: int):
        if isinstance(page, bool) or not isinstance(page, int):
            return None
        self.page = max(1, min(page, self.page_count))
        return self._load()

    @rx.event
    @shows_refusals("card_error", to_sign_in=False)
    @limited("write", "card_error")
    def add_funds(self, form_data: dict):
        """Start a card payment of the dollars typed and send the browser to Stripe's
        Checkout; the money is booked when Stripe's webhook confirms the payment."""
        self.card_error = ""
        sent_key = field(form_data, "request_key")
        key = sent_key if _REQUEST_KEY.fullmatch(sent_key) else self.card_request_key
        amount_cents = dollars(form_data.get("amount") if isinstance(form_data, dict) else None)
        checkout = self._call_service(
            cards.start_card_payment, amount_cents=amount_cents, request_key=key
        )
        self.card_request_key = uuid.uuid4().hex
        return rx.redirect(checkout.url)


# --- admin: Payouts ----------------------------------------------------------------------


def _payout_lists(*, session, actor: UserView):
    """The queue (oldest first) and every payout (newest first), in one unit of work."""
    return (
        payouts.list_payouts(session=session, actor=actor, status=PayoutStatus.REQUESTED),
        payouts.list_payouts(session=session, actor=actor, limit=DECIDED_PAYOUTS_SHOWN * 4),
    )


class AdminPayoutsState(SessionState):
    queue: list[dict[str, str]] = []
    decided: list[dict[str, str]] = []
    load_error: str = ""
    # The row an approval was refused for, and why (shown next to that row).
    action_payout_id: str = ""
    action_error: str = ""
    reject_payout_id: int = 0
    reject_summary: str = ""
    reject_error: str = ""

    @rx.var
    def reject_open(self) -> bool:
        return self.reject_payout_id > 0

    @shows_refusals("load_error")
    def _load(self):
        self.load_error = ""
        queue, everything = self._call_service(_payout_lists)
        now = utcnow()
        self.queue = [payout_row(view, now) for view in queue]
        self.decided = [
            payout_row(view, now) for view in everything if view.status != PayoutStatus.REQUESTED
        ][:DECIDED_PAYOUTS_SHOWN]
        return None

    def _after(self, message: str) -> list:
        reloaded = self._load()
        return [rx.toast.success(message), *([reloaded] if reloaded else [])]

    @rx.event
    @limited("expensive_read")
    def open_page(self):
        self.action_payout_id = ""
        self.action_error = ""
        self.reject_payout_id = 0
        return self._load()

    @rx.event
    @shows_refusals("action_error", to_sign_in=False)
    @limited("write", "action_error")
    def approve(self, form_data: dict):
        """Record a requested payout paid, with the transfer's reference."""
        sent_id = field(form_data, "payout_id")
        self.action_payout_id, self.action_error = sent_id, ""
        paid = self._call_service(
            payouts.approve_payout,
            payout_id=whole_number(sent_id, "payout number"),
            reference=field(form_data, "reference"),
        )
        self.action_payout_id = ""
        via_stripe = paid.status == PayoutStatus.PROCESSING
        done = "sent through Stripe." if via_stripe else "recorded as paid."
        return self._after(
            f"Payout #{paid.id} of {format_cents(paid.amount_cents)} to {paid.clipper_name} {done}"
        )

    @rx.event
    def start_reject(self, payout_id: str):
        """Open the reject dialog for a row of the queue (ids not in the queue are ignored)."""
        row = next((row for row in self.queue if row["id"] == payout_id), None)
        if row is None:
            return
        self.reject_payout_id = int(row["id"])
        self.reject_summary = f"{row['amount']} to {row['clipper_name']} ({row['clipper_email']})"
        self.reject_error = ""

    @rx.event
    def close_reject(self, open_: bool = False):
        if not open_:
            self.reject_payout_id = 0
            self.reject_error = ""

    @rx.event
    @shows_refusals("reject_error", to_sign_in=False)
    @limited("write", "reject_error")
    def reject(self, form_data: dict):
        """Refuse the payout in the dialog; the money returns to the clipper's balance."""
        self.reject_error = ""
        rejected = self._call_service(
            payouts.reject_payout,
            payout_id=self.reject_payout_id,
            reason=field(form_data, "reason"),
        )
        self.reject_payout_id = 0
        return self._after(
            f"Payout #{rejected.id} rejected; {format_cents(rejected.amount_cents)} went back "
            f"to {rejected.clipper_name}'s available balance."
        )

    @rx.event
    @shows_refusals("load_error", to_sign_in=False)
    @limited("expensive_read", "load_error")
    def export_csv(self):
        self.load_error = ""
        data = self._call_service(payouts.payouts_csv)
        return rx.download(data=data, filename="payouts.csv", mime_type="text/csv")


# --- admin: Money --------------------------------------------------------------------------


def _money_view(*, session, actor: UserView):
    """The platform's totals, the clients to record deposits for, the automatic payout
    approval limit and (with Stripe) the latest reconciliation runs, in one unit of work."""
    money = reports.platform_money(session=session, actor=actor)  # admins only
    runs = (
        reconciliation.list_runs(session=session, actor=actor, limit=RECONCILIATION_RUNS_SHOWN)
        if get_settings().stripe_configured
        else []
    )
    return (
        money,
        funds.list_clients(session=session, actor=actor),
        money_settings.auto_approve_limit_cents(session),
        runs,
    )


def _plain_dollars(cents: int) -> str:
    """Cents as a form shows them again: "25.00", "0"."""
    return f"{cents // 100}.{cents % 100:02d}" if cents else "0"


def reconciliation_rows(runs: list[RunView]) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The runs (newest first) and all their mismatches, as the page's tables show them."""
    run_rows, mismatch_rows = [], []
    for run in runs:
        status = "error" if run.error else ("mismatches" if run.mismatches else "matched")
        run_rows.append(
            {
                "id": str(run.id),
                "day": run.day.isoformat(),
                "ran_at": when(run.started_at),
                "stripe": str(run.stripe_transactions),
                "ledger": str(run.ledger_bookings),
                "matched": str(run.matched),
                "mismatches": str(run.mismatches),
                "error": run.error,
                "summary": run.summary,
                "status": status,
            }
        )
        for problem in run.problems:
            mismatch_rows.append(
                {
                    "run_id": str(run.id),
                    "day": run.day.isoformat(),
                    "kind": problem.kind,
                    "kind_words": problem.kind_words,
                    "source": problem.source,
                    "stripe": ""
                    if problem.stripe_cents is None
                    else format_cents(problem.stripe_cents),
                    "ledger": ""
                    if problem.ledger_cents is None
                    else format_cents(problem.ledger_cents),
                    "words": problem.words,
                }
            )
    return run_rows, mismatch_rows


class AdminMoneyState(SessionState):
    revenue: str = ""
    escrow: str = ""
    owed_to_clippers: str = ""
    clients_available: str = ""
    deposited: str = ""
    paid_out: str = ""
    payouts_waiting: int = 0
    ledger_ok: bool = True
    ledger_summary: str = ""
    ledger_problems: list[str] = []
    checked_at: str = ""
    clients: list[dict[str, str]] = []
    load_error: str = ""
    deposit_error: str = ""
    hold_error: str = ""
    release_error: str = ""
    # Changed after each success: the form is drawn afresh (empty) under a new key.
    deposit_form_key: int = 0
    hold_form_key: int = 0
    release_form_key: int = 0
    # Payouts up to this are approved automatically ("Off" when 0).
    auto_approve_limit: str = ""
    auto_approve_input: str = ""
    auto_approve_error: str = ""
    auto_approve_form_key: int = 0
    # The Stripe reconciliation (shown only when Stripe is set up).
    stripe_on: bool = False
    payment_fees: str = ""
    reconciliation_runs: list[dict[str, str]] = []
    reconciliation_mismatches: list[dict[str, str]] = []
    reconciliation_error: str = ""

    @shows_refusals("load_error")
    def _load(self):
        self.load_error = ""
        money, clients, limit_cents, runs = self._call_service(_money_view)
        self.revenue = format_cents(money.revenue_cents)
        self.escrow = format_cents(money.escrow_cents)
        self.owed_to_clippers = format_cents(money.owed_to_clippers_cents)
        self.clients_available = format_cents(money.clients_available_cents)
        self.deposited = format_cents(money.deposited_cents)
        self.paid_out = format_cents(money.paid_out_cents)
        self.payment_fees = format_cents(money.payment_fees_cents)
        self.payouts_waiting = int(money.payouts_waiting)
        report = money.invariants
        self.ledger_ok = report.ok
        self.ledger_problems = invariant_problems(report)
        self.ledger_summary = (
            f"{report.transactions:,} transactions across {report.accounts:,} accounts."
        )
        self.checked_at = when(utcnow())
        self.clients = [
            {"id": str(client_id), "label": f"{name} ({email})"}
            for client_id, name, email in clients
        ]
        self.auto_approve_limit = format_cents(limit_cents) if limit_cents else "Off"
        self.auto_approve_input = _plain_dollars(limit_cents)
        self.stripe_on = get_settings().stripe_configured
        self.reconciliation_runs, self.reconciliation_mismatches = reconciliation_rows(runs)
        return None

    def _after(self, message: str) -> list:
        reloaded = self._load()
        return [rx.toast.success(message), *([reloaded] if reloaded else [])]

    @rx.event
    @limited("expensive_read")
    def open_page(self):
        self.deposit_error = self.hold_error = self.release_error = ""
        self.auto_approve_error = self.reconciliation_error = ""
        return self._load()

    @rx.event
    @limited("expensive_read")
    def run_check(self):
        reloaded = self._load()
        if reloaded or self.load_error:
            return reloaded
        if self.ledger_ok:
            return rx.toast.success("The ledger checks out: every cent is accounted for.")
        return rx.toast.error("The ledger check found problems; they are listed on the page.")

    @rx.event
    @shows_refusals("deposit_error", to_sign_in=False)
    @limited("write", "deposit_error")
    def record_deposit(self, form_data: dict):
        """Add a client's bank transfer to their balance."""
        self.deposit_error = ""
        client_id = field(form_data, "client_id")
        if not client_id:
            raise InvalidInput("Choose the client whose money arrived.")
        deposit = self._call_service(
            funds.record_deposit,
            client_id=whole_number(client_id, "client"),
            amount_cents=dollars(form_data.get("amount") if isinstance(form_data, dict) else None),
            reference=field(form_data, "reference"),
        )
        self.deposit_form_key += 1
        return self._after(
            f"Deposit of {format_cents(deposit.amount_cents)} recorded (reference "
            f"{deposit.reference}); the client's balance is "
            f"{format_cents(deposit.client_balance_cents)}."
        )

    @rx.event
    @shows_refusals("hold_error", to_sign_in=False)
    @limited("write", "hold_error")
    def hold(self, form_data: dict):
        """Keep a submission's earnings pending while it is reviewed."""
        self.hold_error = ""
        submission_id = whole_number(field(form_data, "submission_id"), "submission number")
        self._call_service(
            holds.hold_earnings,
            submission_id=submission_id,
            reason=field(form_data, "reason"),
        )
        self.hold_form_key += 1
        return self._after(f"Earnings of submission #{submission_id} are held.")

    @rx.event
    @shows_refusals("release_error", to_sign_in=False)
    @limited("write", "release_error")
    def release(self, form_data: dict):
        """Lift a hold; earnings past the usual hold become available at once."""
        self.release_error = ""
        submission_id = whole_number(field(form_data, "submission_id"), "submission number")
        released = self._call_service(holds.release_earnings_hold, submission_id=submission_id)
        self.release_form_key += 1
        made = (
            f"; {released} earning{'s' if released != 1 else ''} became available"
            if released
            else ""
        )
        return self._after(f"Hold lifted on submission #{submission_id}{made}.")

    @rx.event
    @shows_refusals("auto_approve_error", to_sign_in=False)
    @limited("write", "auto_approve_error")
    def save_auto_approve(self, form_data: dict):
        """Set the amount up to which payout requests are approved without an admin."""
        self.auto_approve_error = ""
        cents = self._call_service(
            money_settings.set_auto_approve_limit,
            cents=dollars_or_zero(
                form_data.get("limit") if isinstance(form_data, dict) else None, "The limit"
            ),
        )
        self.auto_approve_form_key += 1
        if cents:
            return self._after(f"Payouts up to {format_cents(cents)} are approved automatically.")
        return self._after("Automatic payout approval is off: an admin approves every payout.")

    @rx.event
    @shows_refusals("reconciliation_error", to_sign_in=False)
    @limited("write", "reconciliation_error")
    def reconcile_yesterday(self):
        """Compare yesterday's Stripe balance transactions with the ledger now."""
        self.reconciliation_error = ""
        run = self._call_service(reconciliation.reconcile_yesterday)
        reloaded = self._load()
        if run.error:
            self.reconciliation_error = run.summary
            return reloaded
        toast = rx.toast.success if not run.mismatches else rx.toast.warning
        return [
            toast(f"Reconciled {run.day.isoformat()}: {run.summary}"),
            *([reloaded] if reloaded else []),
        ]
