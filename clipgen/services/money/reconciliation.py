"""The daily reconciliation: a UTC day of Stripe's balance transactions against the
ledger's Stripe bookings, every disagreement recorded in words.

What is compared. Every ledger transaction whose details say `"provider": "stripe"` and
name a `stripe_source` (the Stripe object the money came from: `ch_` for a card payment,
`re_` for its refund, `du_` for a dispute, `tr_` for a Connect transfer, `trr_` for its
reversal) is matched with Stripe's balance transactions by their `source`. Both sides are
signed as Stripe's balance sees them: money in is positive (a charge, a won dispute, a
transfer reversed back), money out negative (a refund, a dispute withdrawal, a transfer
to a clipper). A source's amounts are summed on each side, so a dispute's withdrawal and
its reversal (two balance transactions of one `du_`) compare with the hold and its
release. Stripe's fee on a source (a charge's processing fee, a dispute's fee) is
compared with the `payment_fee` bookings naming that source.

What is left out. Balance transactions ClipGen never books are skipped by their type
(`SKIPPED_TYPES`): Stripe paying the platform's balance out to its own bank (`payout`
and its failures and cancellations), Stripe's own billing fees, reserves and top-ups.
Ledger bookings that move no money at Stripe (a lost dispute only settles the hold
inside ClipGen) are left out by their kind.

Midnight. A charge at 23:59 may be booked at 00:01. So each side is read over the day
and the days either side of it (one list of Stripe's balance transactions over three
days, and the ledger's Stripe bookings of the same three days), and what is compared is
every source that has something on the day itself on either side, with whatever the
other side has for that source in the three days. Timing alone never makes a mismatch;
a booking more than a day away from Stripe's is reported (and found again by a later
run once it is booked).

Each run is a new `ReconciliationRun` (the history is kept). When Stripe cannot be read
the run is recorded with the reason in `error` and no mismatches; nothing is raised.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from clipgen.config import get_settings
from clipgen.models import (
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    ReconciliationMismatch,
    ReconciliationRun,
    Role,
    TransactionKind,
    utcnow,
)
from clipgen.services.access import require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, ServiceError
from clipgen.services.money import stripe_api
from clipgen.services.money.amounts import format_cents

log = logging.getLogger(__name__)

MISSING_IN_LEDGER = "missing_in_ledger"
MISSING_AT_STRIPE = "missing_at_stripe"
AMOUNT_DIFFERS = "amount_differs"
FEE_DIFFERS = "fee_differs"

PAGE_SIZE = 100  # Stripe's largest page
MAX_RUNS_SHOWN = 50
# Balance transactions of money ClipGen does not book (the platform's own bank payouts,
# Stripe's billing of the platform, reserves and top-ups): not mismatches.
SKIPPED_TYPES = frozenset(
    {
        "payout",
        "payout_cancel",
        "payout_failure",
        "payout_minimum_balance_hold",
        "payout_minimum_balance_release",
        "stripe_fee",
        "stripe_fx_fee",
        "tax_fee",
        "reserve_transaction",
        "reserved_funds",
        "topup",
        "topup_reversal",
    }
)
# How each kind of booking moves the platform's Stripe balance.
MONEY_IN = frozenset(
    {TransactionKind.DEPOSIT, TransactionKind.DISPUTE_WON, TransactionKind.PAYOUT_RETURNED}
)
MONEY_OUT = frozenset(
    {TransactionKind.CARD_REFUND, TransactionKind.DISPUTE_HOLD, TransactionKind.PAYOUT_PAID}
)
# Bookings that move no money at Stripe: the hold already took it.
NOT_AT_STRIPE = frozenset({TransactionKind.DISPUTE_LOST})
EXTERNAL_KINDS = (AccountKind.EXTERNAL_DEPOSITS, AccountKind.EXTERNAL_PAYOUTS)
CATEGORY_OF_KIND = {
    TransactionKind.DEPOSIT: "charge",
    TransactionKind.CARD_REFUND: "refund",
    TransactionKind.DISPUTE_HOLD: "dispute",
    TransactionKind.DISPUTE_WON: "dispute",
    TransactionKind.PAYOUT_PAID: "transfer",
    TransactionKind.PAYOUT_RETURNED: "transfer_reversal",
    TransactionKind.PAYMENT_FEE: "fee",
}
KIND_WORDS = {
    MISSING_IN_LEDGER: "Missing in the ledger",
    MISSING_AT_STRIPE: "Missing at Stripe",
    AMOUNT_DIFFERS: "Amount differs",
    FEE_DIFFERS: "Fee differs",
}


# --- reading both sides --------------------------------------------------------------------


@dataclass(frozen=True)
class _StripeTxn:
    id: str
    type: str
    source: str
    amount: int  # signed: + into the platform's balance
    fee: int
    created: datetime


@dataclass(frozen=True)
class _Booking:
    id: int
    kind: str
    source: str
    amount: int  # signed like Stripe's balance; for a fee, the fee (positive)
    created: datetime
    is_fee: bool


@dataclass
class _Side:
    stripe: list[_StripeTxn] = field(default_factory=list)
    movements: list[_Booking] = field(default_factory=list)
    fees: list[_Booking] = field(default_factory=list)


def _bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def _read_stripe(start: datetime, end: datetime) -> list[_StripeTxn]:
    """Every balance transaction of the platform created in [start, end), all pages."""
    params = {
        "created": {"gte": int(start.timestamp()), "lt": int(end.timestamp())},
        "limit": PAGE_SIZE,
    }

    def fetch(api) -> list[dict[str, Any]]:
        listed = api.v1.balance_transactions.list(params=params)
        return [txn.to_dict() for txn in listed.auto_paging_iter()]

    found = []
    for txn in stripe_api.call("read Stripe's balance transactions", fetch):
        source = txn.get("source")
        if source is not None and not isinstance(source, str):
            source = source.get("id")  # an expanded source
        found.append(
            _StripeTxn(
                id=str(txn.get("id") or ""),
                type=str(txn.get("type") or ""),
                source=str(source or ""),
                amount=int(txn.get("amount") or 0),
                fee=int(txn.get("fee") or 0),
                created=datetime.fromtimestamp(int(txn.get("created") or 0), UTC),
            )
        )
    return found


def _external_flow(session: Session, transaction_id: int) -> int:
    """What a booking moved into (+) or out of (-) the platform from outside: the
    opposite of its entries on the external accounts."""
    total = session.exec(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
        .join(LedgerAccount, col(LedgerAccount.id) == LedgerEntry.account_id)
        .where(
            LedgerEntry.transaction_id == transaction_id,
            col(LedgerAccount.kind).in_([str(kind) for kind in EXTERNAL_KINDS]),
        )
    ).one()
    return -int(total)


def _size(session: Session, transaction: LedgerTransaction, signed: bool = False) -> int:
    """A booking's amount (positive): its details', else what its entries moved. With
    `signed`, the details' sign is kept (a returned dispute fee is a negative fee)."""
    amount = (transaction.details or {}).get("amount_cents")
    if isinstance(amount, int) and not isinstance(amount, bool):
        return amount if signed else abs(amount)
    total = session.exec(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0)).where(
            LedgerEntry.transaction_id == transaction.id, LedgerEntry.amount_cents > 0
        )
    ).one()
    return int(total)


def _read_ledger(session: Session, start: datetime, end: datetime) -> list[_Booking]:
    """The ledger's Stripe bookings (those naming a Stripe source) made in [start, end)."""
    rows = session.exec(
        select(LedgerTransaction)
        .where(
            LedgerTransaction.created_at >= start,
            LedgerTransaction.created_at < end,
            col(LedgerTransaction.details)["provider"].as_string() == "stripe",
        )
        .order_by(col(LedgerTransaction.id))
    ).all()
    bookings = []
    for row in rows:
        source = str((row.details or {}).get("stripe_source") or "")
        if not source or row.kind in NOT_AT_STRIPE:
            continue
        is_fee = row.kind == TransactionKind.PAYMENT_FEE
        if is_fee:
            amount = _size(session, row, signed=True)
        elif row.kind in MONEY_IN:
            amount = _size(session, row)
        elif row.kind in MONEY_OUT:
            amount = -_size(session, row)
        else:  # a kind this module does not know: what it moved across the boundary
            amount = _external_flow(session, row.id)
            if amount == 0:
                continue
        bookings.append(_Booking(row.id, row.kind, source, amount, row.created_at, is_fee))
    return bookings


# --- comparing ---------------------------------------------------------------------------


def _mismatch(
    run_id: int,
    kind: str,
    category: str,
    source: str,
    stripe_cents: int | None,
    ledger_cents: int | None,
) -> ReconciliationMismatch:
    words = {
        MISSING_IN_LEDGER: (
            f"Stripe has a {category} {source} of {_money(stripe_cents)}; "
            "the ledger has no booking for it."
        ),
        MISSING_AT_STRIPE: (
            f"The ledger booked {_money(ledger_cents)} for {source}; Stripe has no balance "
            "transaction for it."
        ),
        AMOUNT_DIFFERS: (
            f"The {category} {source} is {_money(stripe_cents)} at Stripe but "
            f"{_money(ledger_cents)} in the ledger."
        ),
        FEE_DIFFERS: (
            f"Stripe's fee on the {category} {source} is {_money(stripe_cents)}; the ledger "
            f"booked {_money(ledger_cents)}."
        ),
    }[kind]
    return ReconciliationMismatch(
        run_id=run_id,
        kind=kind,
        category=category[:32],
        source=source[:255],
        stripe_cents=stripe_cents,
        ledger_cents=ledger_cents,
        note=words[:500],
    )


def _money(cents: int | None) -> str:
    return format_cents(cents or 0)


def _compare(run_id: int, source: str, side: _Side) -> list[ReconciliationMismatch]:
    category = (
        side.stripe[0].type
        if side.stripe
        else CATEGORY_OF_KIND.get((side.movements or side.fees)[0].kind, "booking")
    )
    stripe_amount = sum(txn.amount for txn in side.stripe)
    stripe_fee = sum(txn.fee for txn in side.stripe)
    ledger_amount = sum(booking.amount for booking in side.movements)
    ledger_fee = sum(booking.amount for booking in side.fees)
    if not side.stripe:
        booked = ledger_amount if side.movements else ledger_fee
        return [_mismatch(run_id, MISSING_AT_STRIPE, category, source, None, booked)]
    if not side.movements:
        return [_mismatch(run_id, MISSING_IN_LEDGER, category, source, stripe_amount, None)]
    found = []
    if stripe_amount != ledger_amount:
        found.append(
            _mismatch(run_id, AMOUNT_DIFFERS, category, source, stripe_amount, ledger_amount)
        )
    if stripe_fee != ledger_fee:
        found.append(_mismatch(run_id, FEE_DIFFERS, category, source, stripe_fee, ledger_fee))
    return found


def _on(moment: datetime, start: datetime, end: datetime) -> bool:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return start <= moment < end


def reconcile_day(session: Session, day: date) -> ReconciliationRun:
    """Compare one UTC day of Stripe's balance transactions with the ledger and record a
    run with every mismatch (see the module's docstring for what is compared and how).
    Never raises for Stripe's sake: a Stripe that cannot be read gives a run with `error`."""
    run = ReconciliationRun(day=day, started_at=utcnow())
    session.add(run)
    session.flush()
    start, end = _bounds(day)
    window_start, window_end = start - timedelta(days=1), end + timedelta(days=1)
    try:
        listed = _read_stripe(window_start, window_end)
    except ServiceError as error:
        run.error = str(error)[:500]
        run.finished_at = utcnow()
        session.add(run)
        session.flush()
        log.warning("Stripe reconciliation of %s not done: %s", day, error)
        return run
    # A balance transaction named by its own id (txn_...) is matched by its source.
    source_of_txn = {txn.id: txn.source for txn in listed}
    stripe_txns = [txn for txn in listed if txn.type not in SKIPPED_TYPES and txn.source]
    bookings = [
        booking
        if booking.source not in source_of_txn
        else _Booking(
            booking.id,
            booking.kind,
            source_of_txn[booking.source],
            booking.amount,
            booking.created,
            booking.is_fee,
        )
        for booking in _read_ledger(session, window_start, window_end)
    ]
    sides: dict[str, _Side] = defaultdict(_Side)
    wanted: dict[str, None] = {}  # the sources with something on the day, in order
    for txn in stripe_txns:
        sides[txn.source].stripe.append(txn)
        if _on(txn.created, start, end):
            wanted[txn.source] = None
    for booking in bookings:
        side = sides[booking.source]
        (side.fees if booking.is_fee else side.movements).append(booking)
        if _on(booking.created, start, end):
            wanted[booking.source] = None
    mismatches: list[ReconciliationMismatch] = []
    matched = 0
    for source in wanted:
        found = _compare(run.id, source, sides[source])
        mismatches.extend(found)
        matched += not found
    session.add_all(mismatches)
    run.stripe_transactions = sum(_on(txn.created, start, end) for txn in stripe_txns)
    run.ledger_bookings = sum(_on(booking.created, start, end) for booking in bookings)
    run.matched = matched
    run.mismatches = len(mismatches)
    run.finished_at = utcnow()
    session.add(run)
    session.flush()
    log.info(
        "Stripe reconciliation of %s: %d matched, %d mismatch(es).", day, matched, len(mismatches)
    )
    return run


# --- what admins see ------------------------------------------------------------------------


@dataclass(frozen=True)
class MismatchView:
    kind: str
    category: str
    source: str
    stripe_cents: int | None
    ledger_cents: int | None
    words: str

    @property
    def kind_words(self) -> str:
        return KIND_WORDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class RunView:
    id: int
    day: date
    started_at: datetime
    finished_at: datetime | None
    stripe_transactions: int
    ledger_bookings: int
    matched: int
    mismatches: int
    error: str
    problems: tuple[MismatchView, ...]

    @property
    def summary(self) -> str:
        if self.error:
            return f"Not done: {self.error}"
        if not self.mismatches:
            return f"All {self.matched} matched."
        plural = "es" if self.mismatches != 1 else ""
        return f"{self.matched} matched, {self.mismatches} mismatch{plural}."


def _views(session: Session, runs: Iterable[ReconciliationRun]) -> list[RunView]:
    runs = list(runs)
    problems: dict[int, list[MismatchView]] = defaultdict(list)
    if runs:
        rows = session.exec(
            select(ReconciliationMismatch)
            .where(col(ReconciliationMismatch.run_id).in_([run.id for run in runs]))
            .order_by(col(ReconciliationMismatch.id))
        ).all()
        for row in rows:
            problems[row.run_id].append(
                MismatchView(
                    kind=row.kind,
                    category=row.category,
                    source=row.source,
                    stripe_cents=row.stripe_cents,
                    ledger_cents=row.ledger_cents,
                    words=row.note,
                )
            )
    return [
        RunView(
            id=run.id,
            day=run.day,
            started_at=run.started_at,
            finished_at=run.finished_at,
            stripe_transactions=run.stripe_transactions,
            ledger_bookings=run.ledger_bookings,
            matched=run.matched,
            mismatches=run.mismatches,
            error=run.error,
            problems=tuple(problems[run.id]),
        )
        for run in runs
    ]


def list_runs(session: Session, actor: UserView, limit: int = 10) -> list[RunView]:
    """The latest reconciliation runs, newest first, with their mismatches (admins only)."""
    require_role(actor, Role.ADMIN)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        limit = 10
    runs = session.exec(
        select(ReconciliationRun)
        .order_by(col(ReconciliationRun.id).desc())
        .limit(min(limit, MAX_RUNS_SHOWN))
    ).all()
    return _views(session, runs)


def yesterday(now: datetime | None = None) -> date:
    """The UTC day before `now`."""
    return ((now or utcnow()).astimezone(UTC) - timedelta(days=1)).date()


def reconcile_yesterday(session: Session, actor: UserView) -> RunView:
    """An admin's "Reconcile yesterday": the same run the daily worker makes."""
    require_role(actor, Role.ADMIN)
    if not get_settings().stripe_configured:
        raise InvalidInput("Stripe is not set up on this ClipGen: there is nothing to reconcile.")
    run = reconcile_day(session, yesterday())
    record_audit(
        session=session,
        action="money.reconciliation_run",
        actor_id=actor.id,
        target_type="reconciliation_run",
        target_id=run.id,
        day=run.day.isoformat(),
        mismatches=run.mismatches,
        error=run.error,
    )
    return _views(session, [run])[0]
