"""Refunds and disputes of card payments move the client's money through the ledger, from
Stripe's signed webhook events alone: each refund and each dispute booked once however
often, late or out of order its events come; what the client already spent into a
campaign's escrow is never taken back (the platform carries it); Stripe's dispute fee is
carried by the platform and booked back when the dispute is won."""

from __future__ import annotations

import json

import pytest
from sqlmodel import col, select
from starlette.testclient import TestClient

import workers  # noqa: F401  (installs the sender: a stored event is sent to a worker)
from clipgen import routes
from clipgen.api import files_app
from clipgen.db import session_scope
from clipgen.models import (
    AccountKind,
    CardDispute,
    CardPayment,
    DisputeStatus,
    LedgerTransaction,
    Notification,
    TransactionKind,
    User,
)
from clipgen.services.auth.service import UserView
from clipgen.services.money import cards, funds, reports, stripe_events
from clipgen.services.money.stripe_api import NotYet
from clipgen.services.notification_kinds import Kind
from tests.support.concurrency import balance_of, books_are_sound, race
from tests.support.fake_stripe import DISPUTE_FEE, FakeStripe, card_fee
from tests.support.money import campaign, person
from tests.support.stripe_webhooks import deliver as _deliver

PAID = 5000
FEE = card_fee(PAID)  # 175


def _people() -> tuple[int, int]:
    with session_scope() as session:
        return person(session, "client").id, person(session, "admin").id


def _pay(fake: FakeStripe, client_id: int, amount: int = PAID, book: bool = True) -> CardPayment:
    """A card payment of the client, paid at Stripe (and booked from its event)."""
    with session_scope() as session:
        actor = UserView.of(session.get(User, client_id))
        checkout = cards.start_card_payment(
            session=session, actor=actor, amount_cents=amount, request_key=f"form-{amount}"
        )
    fake.pay(checkout.url.rsplit("/", 1)[1])
    if book:
        _deliver(fake, fake.last_event("checkout.session.completed"))
    return _payment(checkout.card_payment_id)


def _payment(payment_id: int) -> CardPayment:
    with session_scope() as session:
        payment = session.get(CardPayment, payment_id)
        session.expunge(payment)
        return payment


def _charge_of(fake: FakeStripe, payment: CardPayment) -> str:
    """The payment's charge at Stripe (found by the metadata ClipGen gave it)."""
    [charge] = [
        c for c in fake.objects("charge") if c["metadata"].get("card_payment_id") == str(payment.id)
    ]
    return charge["id"]


def _spend(client_id: int, budget: int) -> int:
    """The client activates a campaign: `budget` moves from their balance into escrow."""
    with session_scope() as session:
        actor = UserView.of(session.get(User, client_id))
        row = campaign(session, actor, budget_cents=budget)
        funds.reserve_campaign_budget(session=session, campaign_id=row.id)
        return row.id


def _assert_books(client_id: int, *, client: int, revenue: int, fees: int, outside: int) -> None:
    found = {
        "client": balance_of(AccountKind.CLIENT_AVAILABLE, user_id=client_id),
        "revenue": balance_of(AccountKind.PLATFORM_REVENUE),
        "fees": balance_of(AccountKind.PAYMENT_FEES),
        "outside": balance_of(AccountKind.EXTERNAL_DEPOSITS),
    }
    assert found == {"client": client, "revenue": revenue, "fees": fees, "outside": outside}
    books_are_sound()


def _of_kind(kind: str) -> list[LedgerTransaction]:
    with session_scope() as session:
        return list(
            session.exec(
                select(LedgerTransaction)
                .where(LedgerTransaction.kind == kind)
                .order_by(col(LedgerTransaction.id))
            )
        )


def _notes(user_id: int, kind: str) -> list[str]:
    with session_scope() as session:
        return list(
            session.exec(
                select(Notification.message)
                .where(Notification.user_id == user_id, Notification.kind == kind)
                .order_by(col(Notification.id))
            )
        )


def _dispute(dispute_id: str) -> CardDispute:
    with session_scope() as session:
        row = session.exec(
            select(CardDispute).where(CardDispute.stripe_dispute_id == dispute_id)
        ).one()
        session.expunge(row)
        return row


def _statement(client_id: int) -> list[tuple[int, str, str]]:
    with session_scope() as session:
        actor = UserView.of(session.get(User, client_id))
        history = reports.client_billing(session=session, actor=actor).history
    return [(line.amount_cents, line.kind, line.description) for line in history.lines]


# -- refunds ----------------------------------------------------------------------------


def test_a_full_refund_made_in_the_dashboard_takes_the_money_back_out_once(
    fake: FakeStripe,
) -> None:
    client_id, admin_id = _people()
    payment = _pay(fake, client_id)
    _assert_books(client_id, client=PAID, revenue=-FEE, fees=FEE, outside=-PAID)
    refund = fake.refund(_charge_of(fake, payment))
    outcome = _deliver(fake, fake.last_event("charge.refunded"), times=2)
    assert outcome == f"Booked 1 refund(s) of $50.00 for card payment #{payment.id}."
    # Stripe keeps its processing fee on a refund: the platform still carries it.
    _assert_books(client_id, client=0, revenue=-FEE, fees=FEE, outside=0)
    [booked] = _of_kind(TransactionKind.CARD_REFUND)
    assert booked.idempotency_key == f"card-refund:{refund['id']}"
    assert booked.details["provider"] == "stripe"
    assert booked.details["stripe_source"] == refund["id"]
    assert booked.details["charge_id"] == payment.charge_id
    assert (booked.details["client_cents"], booked.details["platform_cents"]) == (PAID, 0)
    assert _payment(payment.id).refunded_cents == PAID
    assert _notes(client_id, Kind.CARD_REFUNDED) == [
        "$50.00 of your card payment of $50.00 was refunded to your card; $50.00 left your balance."
    ]
    assert _notes(admin_id, Kind.CARD_REFUNDED) == []  # the client's balance covered it all


def test_two_partial_refunds_are_each_booked_once(fake: FakeStripe) -> None:
    client_id, _ = _people()
    payment = _pay(fake, client_id)
    charge = _charge_of(fake, payment)
    fake.refund(charge, 1000)
    first = fake.last_event("charge.refunded")
    _deliver(fake, first)
    _assert_books(client_id, client=4000, revenue=-FEE, fees=FEE, outside=-4000)
    fake.refund(charge, 1500)
    second = fake.last_event("charge.refunded")
    assert second["id"] != first["id"]
    # The second event's charge has both refunds; only the new one is booked.
    _deliver(fake, second)
    _deliver(fake, first, times=2)
    _assert_books(client_id, client=2500, revenue=-FEE, fees=FEE, outside=-2500)
    refunds = _of_kind(TransactionKind.CARD_REFUND)
    assert [r.details["amount_cents"] for r in refunds] == [1000, 1500]
    assert _payment(payment.id).refunded_cents == 2500


def test_a_refund_of_money_spent_into_a_campaign_leaves_escrow_alone(fake: FakeStripe) -> None:
    client_id, admin_id = _people()
    payment = _pay(fake, client_id)
    campaign_id = _spend(client_id, 3000)
    fake.refund(_charge_of(fake, payment))
    _deliver(fake, fake.last_event("charge.refunded"))
    # The client had $20.00 left: that goes; the platform carries the $30.00 in escrow.
    _assert_books(client_id, client=0, revenue=-FEE - 3000, fees=FEE, outside=0)
    assert balance_of(AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign_id) == 3000
    [booked] = _of_kind(TransactionKind.CARD_REFUND)
    assert (booked.details["client_cents"], booked.details["platform_cents"]) == (2000, 3000)
    assert _notes(client_id, Kind.CARD_REFUNDED) == [
        "$50.00 of your card payment of $50.00 was refunded to your card; $20.00 left "
        "your balance. The other $30.00 was already spent on campaigns, so ClipGen covered it."
    ]
    [told] = _notes(admin_id, Kind.CARD_REFUNDED)
    assert "ClipGen carried $30.00" in told


def test_a_refund_before_its_deposit_waits_then_books_once(fake: FakeStripe) -> None:
    client_id, _ = _people()
    payment = _pay(fake, client_id, book=False)
    fake.refund(_charge_of(fake, payment), 2000)
    refunded = fake.last_event("charge.refunded")
    with pytest.raises(NotYet):
        _deliver(fake, refunded)
    _assert_books(client_id, client=0, revenue=0, fees=0, outside=0)
    _deliver(fake, fake.last_event("checkout.session.completed"))
    _deliver(fake, refunded)
    _deliver(fake, refunded)
    _assert_books(client_id, client=3000, revenue=-FEE, fees=FEE, outside=-3000)
    assert len(_of_kind(TransactionKind.CARD_REFUND)) == 1


def test_a_refund_of_a_charge_that_is_not_ours_changes_nothing(fake: FakeStripe) -> None:
    client_id, _ = _people()
    payment = _pay(fake, client_id)
    event = json.loads(json.dumps(fake.last_event("checkout.session.completed")))
    event.update(id="evt_someone_else", type="charge.refunded")
    event["data"]["object"] = {"id": "ch_other", "object": "charge", "metadata": {}}
    assert _deliver(fake, event) == "Not a ClipGen card payment."
    _assert_books(client_id, client=PAID, revenue=-FEE, fees=FEE, outside=-PAID)
    assert _payment(payment.id).refunded_cents == 0


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_same_refund_event_worked_ten_times_at_once_books_once(fake: FakeStripe) -> None:
    client_id, _ = _people()
    payment = _pay(fake, client_id)
    fake.refund(_charge_of(fake, payment), 4000)
    event = fake.last_event("charge.refunded")
    payload = json.dumps(event).encode()
    with TestClient(files_app) as http:
        headers = {"Stripe-Signature": fake.sign(payload)}
        assert http.post(routes.STRIPE_WEBHOOK, content=payload, headers=headers).is_success
    outcomes = race(10, lambda session, n: stripe_events.process(session, event["id"]))
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert len(set(outcomes)) == 1  # the one worker's outcome, read by the nine others
    _assert_books(client_id, client=1000, revenue=-FEE, fees=FEE, outside=-1000)
    assert len(_of_kind(TransactionKind.CARD_REFUND)) == 1
    assert _payment(payment.id).refunded_cents == 4000


# -- disputes ---------------------------------------------------------------------------


def test_a_dispute_holds_the_money_and_winning_gives_it_back_exactly(fake: FakeStripe) -> None:
    client_id, admin_id = _people()
    payment = _pay(fake, client_id)
    dispute = fake.dispute(_charge_of(fake, payment))
    opened = fake.last_event("charge.dispute.created")
    _deliver(fake, opened, times=2)
    _assert_books(
        client_id, client=0, revenue=-FEE - DISPUTE_FEE, fees=FEE + DISPUTE_FEE, outside=0
    )
    row = _dispute(dispute["id"])
    assert (row.status, row.amount_cents, row.held_cents) == (DisputeStatus.OPEN, PAID, PAID)
    assert row.reason == "fraudulent"
    assert _notes(client_id, Kind.CARD_DISPUTE_OPENED) == [
        "A card payment of $50.00 is disputed by the cardholder's bank; $50.00 is held from "
        "your balance until the bank decides."
    ]
    [told] = _notes(admin_id, Kind.CARD_DISPUTE_OPENED)
    assert "Card payment #" in told and "$50.00 held" in told
    with session_scope() as session:
        link = session.exec(
            select(Notification.link).where(Notification.user_id == admin_id)
        ).first()
    assert link == routes.ADMIN_MONEY
    fake.close_dispute(dispute["id"], won=True)
    closed = fake.last_event("charge.dispute.closed")
    _deliver(fake, closed, times=2)
    _deliver(fake, opened)  # a late repeat of the opening changes nothing
    # As before the dispute, the dispute fee returned too.
    _assert_books(client_id, client=PAID, revenue=-FEE, fees=FEE, outside=-PAID)
    row = _dispute(dispute["id"])
    assert row.status == DisputeStatus.WON and row.closed_at is not None
    [hold] = _of_kind(TransactionKind.DISPUTE_HOLD)
    [won] = _of_kind(TransactionKind.DISPUTE_WON)
    assert hold.idempotency_key == f"dispute-hold:{dispute['id']}"
    assert won.idempotency_key == f"dispute-won:{dispute['id']}" and won.reversal_of == hold.id
    fees = [t for t in _of_kind(TransactionKind.PAYMENT_FEE) if "dispute_id" in t.details]
    assert sorted(t.details["fee_cents"] for t in fees) == [-DISPUTE_FEE, DISPUTE_FEE]
    assert all(t.idempotency_key.startswith("dispute-fee:txn_") for t in fees)
    assert _notes(client_id, Kind.CARD_DISPUTE_CLOSED) == [
        "The bank decided the dispute of your card payment of $50.00 for you: the $50.00 "
        "held is back in your balance."
    ]
    assert len(_notes(admin_id, Kind.CARD_DISPUTE_CLOSED)) == 1


def test_a_lost_dispute_keeps_the_money_out_and_escrow_untouched(fake: FakeStripe) -> None:
    client_id, admin_id = _people()
    payment = _pay(fake, client_id)
    campaign_id = _spend(client_id, 3000)
    dispute = fake.dispute(_charge_of(fake, payment))
    _deliver(fake, fake.last_event("charge.dispute.created"))
    # $20.00 could be held from the client; the platform carries the $30.00 in escrow.
    carried = -FEE - DISPUTE_FEE - 3000
    _assert_books(client_id, client=0, revenue=carried, fees=FEE + DISPUTE_FEE, outside=0)
    assert _dispute(dispute["id"]).held_cents == 2000
    fake.close_dispute(dispute["id"], won=False)
    _deliver(fake, fake.last_event("charge.dispute.closed"), times=2)
    _assert_books(client_id, client=0, revenue=carried, fees=FEE + DISPUTE_FEE, outside=0)
    assert balance_of(AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign_id) == 3000
    row = _dispute(dispute["id"])
    assert row.status == DisputeStatus.LOST and row.closed_at is not None
    assert _of_kind(TransactionKind.DISPUTE_WON) == []
    assert _notes(client_id, Kind.CARD_DISPUTE_CLOSED) == [
        "The bank decided the dispute of your card payment of $50.00 for the cardholder: "
        "the $20.00 held from your balance went back to them."
    ]
    [told] = _notes(admin_id, Kind.CARD_DISPUTE_CLOSED)
    assert "lost" in told and "$30.00" in told


def test_a_close_delivered_before_the_opening_books_both_once(fake: FakeStripe) -> None:
    client_id, _ = _people()
    payment = _pay(fake, client_id)
    dispute = fake.dispute(_charge_of(fake, payment), amount=2000)
    fake.close_dispute(dispute["id"], won=True)
    outcome = _deliver(fake, fake.last_event("charge.dispute.closed"))
    assert outcome == f"Dispute {dispute['id']} won: the hold of $20.00 released."
    assert _deliver(fake, fake.last_event("charge.dispute.created")) == (
        f"Dispute {dispute['id']} was recorded already."
    )
    _assert_books(client_id, client=PAID, revenue=-FEE, fees=FEE, outside=-PAID)
    assert len(_of_kind(TransactionKind.DISPUTE_HOLD)) == 1
    assert len(_of_kind(TransactionKind.DISPUTE_WON)) == 1
    row = _dispute(dispute["id"])
    assert (row.status, row.amount_cents, row.held_cents) == (DisputeStatus.WON, 2000, 2000)


def test_a_lost_close_before_the_opening_holds_then_closes(fake: FakeStripe) -> None:
    client_id, _ = _people()
    payment = _pay(fake, client_id)
    dispute = fake.dispute(_charge_of(fake, payment))
    fake.close_dispute(dispute["id"], won=False)
    _deliver(fake, fake.last_event("charge.dispute.closed"))
    _deliver(fake, fake.last_event("charge.dispute.created"))
    _assert_books(
        client_id, client=0, revenue=-FEE - DISPUTE_FEE, fees=FEE + DISPUTE_FEE, outside=0
    )
    assert _dispute(dispute["id"]).status == DisputeStatus.LOST


def test_a_dispute_before_its_deposit_waits(fake: FakeStripe) -> None:
    client_id, _ = _people()
    payment = _pay(fake, client_id, book=False)
    fake.dispute(_charge_of(fake, payment))
    opened = fake.last_event("charge.dispute.created")
    with pytest.raises(NotYet):
        _deliver(fake, opened)
    _deliver(fake, fake.last_event("checkout.session.completed"))
    _deliver(fake, opened)
    _assert_books(
        client_id, client=0, revenue=-FEE - DISPUTE_FEE, fees=FEE + DISPUTE_FEE, outside=0
    )


def test_an_inquiry_holds_nothing_until_stripe_withdraws_the_money(fake: FakeStripe) -> None:
    client_id, admin_id = _people()
    payment = _pay(fake, client_id)
    dispute = fake.dispute(_charge_of(fake, payment))
    inquiry = json.loads(json.dumps(fake.last_event("charge.dispute.created")))
    inquiry["data"]["object"].update(status="warning_needs_response", balance_transactions=[])
    assert "an inquiry" in _deliver(fake, inquiry)
    _assert_books(client_id, client=PAID, revenue=-FEE, fees=FEE, outside=-PAID)
    assert "inquiry" in _notes(admin_id, Kind.CARD_DISPUTE_OPENED)[0]
    withdrawn = json.loads(json.dumps(fake.last_event("charge.dispute.created")))
    withdrawn.update(id="evt_withdrawn", type="charge.dispute.funds_withdrawn")
    _deliver(fake, withdrawn)
    _assert_books(
        client_id, client=0, revenue=-FEE - DISPUTE_FEE, fees=FEE + DISPUTE_FEE, outside=0
    )
    assert _dispute(dispute["id"]).held_cents == PAID


# -- the client's statement -------------------------------------------------------------


def test_the_statement_says_what_refunds_and_disputes_did(fake: FakeStripe) -> None:
    client_id, _ = _people()
    payment = _pay(fake, client_id)
    charge = _charge_of(fake, payment)
    refund = fake.refund(charge, 1000)
    _deliver(fake, fake.last_event("charge.refunded"))
    dispute = fake.dispute(charge, amount=4000)
    _deliver(fake, fake.last_event("charge.dispute.created"))
    fake.close_dispute(dispute["id"], won=True)
    _deliver(fake, fake.last_event("charge.dispute.closed"))
    lines = _statement(client_id)
    assert lines[:3] == [
        (
            4000,
            TransactionKind.DISPUTE_WON,
            "Dispute won: the hold on a card payment of $40.00 was released",
        ),
        (
            -4000,
            TransactionKind.DISPUTE_HOLD,
            "Held: a card payment of $40.00 is disputed by the cardholder's bank, until the "
            "bank decides",
        ),
        (
            -1000,
            TransactionKind.CARD_REFUND,
            f"Refund of $10.00 to your card (refund {refund['id']})",
        ),
    ]
    _assert_books(client_id, client=4000, revenue=-FEE, fees=FEE, outside=-4000)


def test_statement_words_say_what_clipgen_covered() -> None:
    refund = LedgerTransaction(
        idempotency_key="k",
        kind=TransactionKind.CARD_REFUND,
        details={"amount_cents": 5000, "platform_cents": 3000, "stripe_source": "re_1"},
    )
    assert reports.describe(refund, None) == (
        "Refund of $50.00 to your card (refund re_1); ClipGen covered $30.00 already spent"
    )
    lost = LedgerTransaction(
        idempotency_key="k2", kind=TransactionKind.DISPUTE_LOST, details={"amount_cents": 700}
    )
    assert reports.describe(lost, None) == (
        "Dispute lost: the card payment of $7.00 went back to the cardholder"
    )
