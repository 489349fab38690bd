"""The daily reconciliation: a UTC day of Stripe's balance transactions (read through the
real stripe library from the local fake Stripe, every page) against the ledger's Stripe
bookings, each disagreement recorded as its kind, a Stripe that cannot be read recorded
as a run with its error, and nothing raised."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

import clipgen.clipgen  # noqa: F401  (registers every state)
import workers  # noqa: F401  (installs the sender: a stored event is sent to a worker)
from clipgen.config import get_settings
from clipgen.db import session_scope
from clipgen.models import (
    AccountKind,
    LedgerTransaction,
    ReconciliationMismatch,
    ReconciliationRun,
    Role,
    TransactionKind,
    User,
)
from clipgen.services.auth import service as auth
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, PermissionDenied
from clipgen.services.money import cards, reconciliation
from clipgen.services.money.ledger import Posting, Purpose, account, post_transaction
from clipgen.state.money import AdminMoneyState
from tests.support.concurrency import books_are_sound
from tests.support.fake_stripe import DISPUTE_FEE, FakeStripe, card_fee, new_id
from tests.support.money import PASSWORD, person
from tests.support.stripe_webhooks import deliver as _deliver
from workers.money import reconcile_stripe

ONLY_ADMINS = "Only admins can do that."

DAY = date(2026, 11, 3)
NOON = datetime(2026, 11, 3, 12, 0, tzinfo=UTC)


# --- both sides, made cheaply --------------------------------------------------------------


def _stripe_txn(
    fake: FakeStripe,
    *,
    amount: int,
    type: str = "charge",
    source: str | None = None,
    fee: int | None = None,
    at: datetime = NOON,
) -> str:
    """A balance transaction on the platform's Stripe balance, created at `at`."""
    prefix = {"charge": "ch", "refund": "re", "transfer": "tr", "payout": "po"}.get(type, "du")
    source = source or new_id(prefix)
    fee = card_fee(amount) if fee is None and type == "charge" else (fee or 0)
    with fake._lock:
        before = fake.clock
        fake.now = at.timestamp()
        try:
            fake._txn(amount=amount, type=type, category=type, source=source, fee=fee)
        finally:
            fake.clock = before
    return source


def _book(
    kind: str,
    source: str,
    amount: int,
    *,
    fee: int = 0,
    at: datetime = NOON,
    postings: tuple[str, str] = (AccountKind.EXTERNAL_DEPOSITS, AccountKind.PLATFORM_REVENUE),
) -> int:
    """A Stripe booking of the ledger (and its fee), dated `at`; the booking's id."""
    details = {"provider": "stripe", "stripe_source": source, "amount_cents": amount}
    with session_scope() as session:
        out, into = (account(session, kind_) for kind_ in postings)
        booked = post_transaction(
            session,
            key=f"test:{kind}:{source}",
            purpose=Purpose(kind=kind, details=details),
            postings=[Posting(out, -amount), Posting(into, amount)],
        )
        ids = [booked.id]
        if fee:
            fee_row = post_transaction(
                session,
                key=f"test:fee:{source}",
                purpose=Purpose(
                    kind=TransactionKind.PAYMENT_FEE, details={**details, "amount_cents": fee}
                ),
                postings=[
                    Posting(account(session, AccountKind.PLATFORM_REVENUE), -fee),
                    Posting(account(session, AccountKind.PAYMENT_FEES), fee),
                ],
            )
            ids.append(fee_row.id)
        session.exec(
            update(LedgerTransaction)
            .where(col(LedgerTransaction.id).in_(ids))
            .values(created_at=at)
        )
    return booked.id


def _deposit(fake: FakeStripe, amount: int, *, at: datetime = NOON) -> str:
    """A card payment both sides agree on: Stripe's charge, the deposit and its fee."""
    charge = _stripe_txn(fake, amount=amount, at=at)
    _book(TransactionKind.DEPOSIT, charge, amount, fee=card_fee(amount), at=at)
    return charge


def _reconcile(day: date = DAY) -> int:
    with session_scope() as session:
        return reconciliation.reconcile_day(session, day).id


def _run(run_id: int) -> tuple[ReconciliationRun, set[tuple]]:
    with session_scope() as session:
        run = session.get(ReconciliationRun, run_id)
        session.expunge(run)
        rows = session.exec(
            select(ReconciliationMismatch).where(ReconciliationMismatch.run_id == run_id)
        ).all()
        found = {(m.kind, m.source, m.stripe_cents, m.ledger_cents) for m in rows}
    return run, found


def _admin() -> UserView:
    with session_scope() as session:
        return person(session, Role.ADMIN)


def _state(cls, token: str):
    from reflex.state import State

    root = State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    state.session_token = token
    return state


# --- tests ---------------------------------------------------------------------------------


def test_card_payments_booked_from_the_webhook_reconcile_with_no_mismatch(
    fake: FakeStripe,
) -> None:
    """The real path: Checkout, Stripe's events, the deposits and fees; today matches."""
    with session_scope() as session:
        client = person(session, Role.CLIENT)
    for amount, key in ((5000, "form-1"), (2500, "form-2")):
        with session_scope() as session:
            checkout = cards.start_card_payment(
                session=session,
                actor=UserView.of(session.get(User, client.id)),
                amount_cents=amount,
                request_key=key,
            )
        fake.pay(checkout.url.rsplit("/", 1)[1])
        _deliver(fake, fake.last_event("checkout.session.completed"))
    # Stripe paying the platform's balance out to its bank is not ClipGen's to book.
    _stripe_txn(fake, amount=-4000, type="payout", at=datetime.now(UTC))
    today = datetime.now(UTC).date()
    run, found = _run(_reconcile(today))
    assert found == set()
    assert (run.stripe_transactions, run.ledger_bookings, run.matched, run.mismatches) == (
        2,
        4,  # two deposits and their two fees
        2,
        0,
    )
    assert run.error == "" and run.finished_at is not None and run.day == today
    books_are_sound()


def test_each_disagreement_is_recorded_as_its_kind(fake: FakeStripe) -> None:
    matched = _deposit(fake, 4000)
    altered = _deposit(fake, 5000)
    with session_scope() as session:  # someone edits the deposit's amount in the database
        row = session.exec(
            select(LedgerTransaction).where(
                LedgerTransaction.kind == TransactionKind.DEPOSIT,
                LedgerTransaction.idempotency_key == f"test:deposit:{altered}",
            )
        ).one()
        row.details = {**row.details, "amount_cents": 4500}
        session.add(row)
    only_at_stripe = _stripe_txn(fake, amount=3000)
    only_in_ledger = new_id("ch")
    _book(TransactionKind.DEPOSIT, only_in_ledger, 2000, fee=card_fee(2000))
    fee_off = _stripe_txn(fake, amount=6000)
    _book(TransactionKind.DEPOSIT, fee_off, 6000, fee=100)
    # Money out is negative at Stripe: a refund, a transfer to a clipper, a dispute.
    refund = _stripe_txn(fake, amount=-1000, type="refund")
    _book(
        TransactionKind.CARD_REFUND,
        refund,
        1000,
        postings=(AccountKind.PLATFORM_REVENUE, AccountKind.EXTERNAL_DEPOSITS),
    )
    transfer = _stripe_txn(fake, amount=-3000, type="transfer")
    _book(
        TransactionKind.PAYOUT_PAID,
        transfer,
        3000,
        postings=(AccountKind.PLATFORM_REVENUE, AccountKind.EXTERNAL_PAYOUTS),
    )
    dispute = _stripe_txn(fake, amount=-5000, type="adjustment", fee=DISPUTE_FEE)
    _book(
        TransactionKind.DISPUTE_HOLD,
        dispute,
        5000,
        fee=DISPUTE_FEE,
        postings=(AccountKind.PLATFORM_REVENUE, AccountKind.EXTERNAL_DEPOSITS),
    )
    # Near midnight: Stripe's charge at 23:59:30, the booking at 00:00:30 the next day.
    late = datetime(2026, 11, 3, 23, 59, 30, tzinfo=UTC)
    midnight = _stripe_txn(fake, amount=7000, at=late)
    _book(
        TransactionKind.DEPOSIT, midnight, 7000, fee=card_fee(7000), at=late + timedelta(minutes=1)
    )
    # The day before and after are someone else's run.
    _stripe_txn(fake, amount=900, at=NOON - timedelta(days=1))
    _stripe_txn(fake, amount=-2222, type="payout")

    run, found = _run(_reconcile())
    assert found == {
        (reconciliation.AMOUNT_DIFFERS, altered, 5000, 4500),
        (reconciliation.MISSING_IN_LEDGER, only_at_stripe, 3000, None),
        (reconciliation.MISSING_AT_STRIPE, only_in_ledger, None, 2000),
        (reconciliation.FEE_DIFFERS, fee_off, card_fee(6000), 100),
    }
    assert matched and (run.matched, run.mismatches) == (5, 4)  # matched, refund, transfer, ...
    assert (run.stripe_transactions, run.ledger_bookings) == (8, 12)

    # The next day: the midnight booking is not "missing at Stripe" either.
    _, next_day = _run(_reconcile(DAY + timedelta(days=1)))
    assert next_day == set()

    admin = _admin()
    with session_scope() as session:
        [latest, first] = reconciliation.list_runs(session, admin)
    assert latest.day == DAY + timedelta(days=1) and latest.summary == "All 1 matched."
    assert first.summary == "5 matched, 4 mismatches."
    words = {problem.kind_words: problem.words for problem in first.problems}
    assert words["Amount differs"] == (
        f"The charge {altered} is $50.00 at Stripe but $45.00 in the ledger."
    )
    assert words["Missing in the ledger"].endswith("the ledger has no booking for it.")
    assert "Stripe has no balance transaction" in words["Missing at Stripe"]
    assert words["Fee differs"] == (
        f"Stripe's fee on the charge {fee_off} is $2.04; the ledger booked $1.00."
    )


def test_every_page_of_a_busy_day_is_read(fake: FakeStripe) -> None:
    for number in range(105):
        _deposit(fake, 1000 + number, at=NOON + timedelta(seconds=number))
    run, found = _run(_reconcile())
    assert found == set()
    assert (run.stripe_transactions, run.matched, run.mismatches) == (105, 105, 0)
    pages = fake.calls("GET", "/v1/balance_transactions")
    assert len(pages) == 2
    assert pages[0].params["limit"] == "100" and "starting_after" in pages[1].params
    assert pages[0].params["created"] == {
        "gte": str(int((NOON - timedelta(days=1, hours=12)).timestamp())),
        "lt": str(int((NOON + timedelta(days=1, hours=12)).timestamp())),
    }


@pytest.mark.parametrize("failure", ["rate_limit", "outage"])
def test_a_stripe_that_cannot_be_read_gives_a_run_with_its_error(
    fake: FakeStripe, failure: str
) -> None:
    _stripe_txn(fake, amount=3000)  # would be a mismatch if Stripe answered
    if failure == "rate_limit":
        fake.rate_limit_next(target="/v1/balance_transactions")
    else:
        fake.fail_next("/v1/balance_transactions", 500, times=5)
    run, found = _run(_reconcile())
    with fake._lock:
        fake._faults.clear()  # the library's retries may not have used every failure
    assert found == set() and run.mismatches == 0 and run.finished_at is not None
    assert run.error.startswith(
        "Stripe is busy" if failure == "rate_limit" else "Could not read Stripe's balance"
    )
    # The same day again is a new run (the history is kept); Stripe answers this time.
    again, found = _run(_reconcile())
    assert again.id != run.id and again.error == ""
    assert {kind for kind, *_ in found} == {reconciliation.MISSING_IN_LEDGER}
    with session_scope() as session:
        views = reconciliation.list_runs(session, _admin())
    assert [view.id for view in views] == [again.id, run.id]
    assert views[1].summary.startswith("Not done: ")


def test_only_admins_see_or_start_runs(fake: FakeStripe) -> None:
    with session_scope() as session:
        clipper = person(session, Role.CLIPPER)
        client = person(session, Role.CLIENT)
    for who in (clipper, client):
        with session_scope() as session, pytest.raises(PermissionDenied):
            reconciliation.list_runs(session, who)
        with session_scope() as session, pytest.raises(PermissionDenied):
            reconciliation.reconcile_yesterday(session, who)
    with session_scope() as session:
        assert session.exec(select(ReconciliationRun)).all() == []
    admin = _admin()
    with session_scope() as session:
        view = reconciliation.reconcile_yesterday(session, admin)
    assert view.day == reconciliation.yesterday() and view.error == ""


def test_the_worker_reconciles_yesterday_only_with_stripe_set_up(
    fake: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    yesterday_noon = datetime.combine(reconciliation.yesterday(), NOON.timetz())
    _deposit(fake, 2000, at=yesterday_noon)
    reconcile_stripe.fn()
    with session_scope() as session:
        [run] = session.exec(select(ReconciliationRun)).all()
    assert (run.day, run.matched, run.mismatches) == (reconciliation.yesterday(), 1, 0)

    monkeypatch.delenv("STRIPE_SECRET_KEY")
    get_settings.cache_clear()
    reconcile_stripe.fn()
    with session_scope() as session:
        assert len(session.exec(select(ReconciliationRun)).all()) == 1
        with pytest.raises(InvalidInput, match="Stripe is not set up"):
            reconciliation.reconcile_yesterday(session, _admin())


def test_the_money_page_lists_runs_and_reconciles_for_admins_only(fake: FakeStripe) -> None:
    with session_scope() as session:
        admin = person(session, Role.ADMIN)
        clipper = person(session, Role.CLIPPER)
        tokens = {
            who.id: auth.sign_in(session=session, email=who.email, password=PASSWORD)[0]
            for who in (admin, clipper)
        }
    refused = _state(AdminMoneyState, tokens[clipper.id])
    AdminMoneyState.reconcile_yesterday.fn(refused)
    assert refused.reconciliation_error == ONLY_ADMINS
    with session_scope() as session:
        assert session.exec(select(ReconciliationRun)).all() == []

    _stripe_txn(fake, amount=1234, at=datetime.combine(reconciliation.yesterday(), NOON.timetz()))
    state = _state(AdminMoneyState, tokens[admin.id])
    AdminMoneyState.open_page.fn(state)
    assert state.stripe_on and state.reconciliation_runs == []
    assert AdminMoneyState.reconcile_yesterday.fn(state)
    assert state.reconciliation_error == ""
    [row] = state.reconciliation_runs
    assert (row["day"], row["stripe"], row["mismatches"], row["status"]) == (
        reconciliation.yesterday().isoformat(),
        "1",
        "1",
        "mismatches",
    )
    [problem] = state.reconciliation_mismatches
    assert (problem["kind"], problem["stripe"], problem["ledger"]) == (
        reconciliation.MISSING_IN_LEDGER,
        "$12.34",
        "",
    )
    json.dumps([state.reconciliation_runs, state.reconciliation_mismatches])

    fake.rate_limit_next(target="/v1/balance_transactions")
    AdminMoneyState.reconcile_yesterday.fn(state)
    assert state.reconciliation_error.startswith("Not done: Stripe is busy")
    assert len(state.reconciliation_runs) == 2
