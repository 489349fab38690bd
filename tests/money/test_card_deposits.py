"""Clients add funds by card: a Checkout Session made through the real stripe library
(talking to the local fake Stripe), the money booked only from Stripe's signed webhook
events, exactly once however often, late, out of order or concurrently they come, with
Stripe's fee carried by the platform in its own account."""

from __future__ import annotations

import json
import re

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

import workers  # noqa: F401  (installs the sender: a stored event is sent to a worker)
from clipgen import routes
from clipgen.api import files_app
from clipgen.db import session_scope
from clipgen.models import (
    AccountKind,
    CardPayment,
    CardPaymentStatus,
    LedgerTransaction,
    User,
)
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, PermissionDenied
from clipgen.services.money import cards, stripe_events
from clipgen.services.money.stripe_api import StripeUnavailable
from tests.support.concurrency import balance_of, books_are_sound, race
from tests.support.fake_stripe import FakeStripe, card_fee
from tests.support.money import person
from tests.support.stripe_webhooks import deliver as _deliver


def _client() -> int:
    with session_scope() as session:
        return person(session, "client").id


def _start(client_id: int, amount: object = 5000, key: str = "form-1") -> cards.Checkout:
    with session_scope() as session:
        actor = UserView.of(session.get(User, client_id))
        return cards.start_card_payment(
            session=session, actor=actor, amount_cents=amount, request_key=key
        )


def _session_id(checkout: cards.Checkout) -> str:
    return checkout.url.rsplit("/", 1)[1]


def _deposits() -> list[LedgerTransaction]:
    with session_scope() as session:
        return list(
            session.exec(select(LedgerTransaction).where(LedgerTransaction.kind == "deposit"))
        )


def test_a_paid_checkout_is_booked_once_with_the_fee_carried_by_the_platform(
    fake: FakeStripe,
) -> None:
    client_id = _client()
    checkout = _start(client_id)
    assert checkout.url.startswith(fake.url + "/checkout/cs_")
    assert _start(client_id).url == checkout.url  # a double click: the same session
    assert fake.created["checkout.session"] == 1
    fake.pay(_session_id(checkout))
    completed = fake.last_event("checkout.session.completed")
    succeeded = fake.last_event("payment_intent.succeeded")
    # Before any event, nothing is booked (the browser's return books nothing).
    assert balance_of(AccountKind.CLIENT_AVAILABLE, user_id=client_id) == 0
    _deliver(fake, completed, times=3)
    _deliver(fake, succeeded, times=2)
    _deliver(fake, completed)
    fee = card_fee(5000)
    assert fee == 175
    assert balance_of(AccountKind.CLIENT_AVAILABLE, user_id=client_id) == 5000
    assert balance_of(AccountKind.PAYMENT_FEES) == fee
    assert balance_of(AccountKind.PLATFORM_REVENUE) == -fee
    assert balance_of(AccountKind.EXTERNAL_DEPOSITS) == -5000
    [deposit] = _deposits()
    assert deposit.details["provider"] == "stripe"
    assert deposit.details["charge_id"].startswith("ch_")
    with session_scope() as session:
        payment = session.get(CardPayment, checkout.card_payment_id)
        assert (payment.status, payment.fee_cents) == (CardPaymentStatus.PAID, fee)
    books_are_sound()


def test_the_payment_intent_first_books_the_same_deposit_once(fake: FakeStripe) -> None:
    client_id = _client()
    checkout = _start(client_id, 2500)
    fake.pay(_session_id(checkout))
    # The Payment Intent's event before the session's: the intent's metadata names us.
    _deliver(fake, fake.last_event("payment_intent.succeeded"))
    _deliver(fake, fake.last_event("checkout.session.completed"))
    assert balance_of(AccountKind.CLIENT_AVAILABLE, user_id=client_id) == 2500
    assert len(_deposits()) == 1
    books_are_sound()


def test_a_delayed_payment_is_booked_only_when_it_succeeds(fake: FakeStripe) -> None:
    client_id = _client()
    checkout = _start(client_id, 4000)
    fake.pay(_session_id(checkout), delayed=True)
    _deliver(fake, fake.last_event("checkout.session.completed"))
    assert balance_of(AccountKind.CLIENT_AVAILABLE, user_id=client_id) == 0
    with session_scope() as session:
        status = session.get(CardPayment, checkout.card_payment_id).status
    assert status == CardPaymentStatus.PROCESSING
    fake.settle_delayed(_session_id(checkout))
    _deliver(fake, fake.last_event("payment_intent.succeeded"))
    assert balance_of(AccountKind.CLIENT_AVAILABLE, user_id=client_id) == 4000
    books_are_sound()


@pytest.mark.parametrize(
    ("amount", "key", "words"),
    [
        (999, "k", "between $10.00 and $10,000.00"),
        (1_000_001, "k", "between $10.00 and $10,000.00"),
        ("50", "k", "Enter the amount"),
        (True, "k", "Enter the amount"),
        (5000, "  ", "reload the page"),
    ],
)
def test_bad_amounts_are_refused_in_words_and_change_nothing(
    fake: FakeStripe, amount, key: str, words: str
) -> None:
    client_id = _client()
    with pytest.raises(InvalidInput, match=re.escape(words)):
        _start(client_id, amount, key)
    with session_scope() as session:
        assert session.exec(select(CardPayment)).all() == []
    assert fake.created.get("checkout.session", 0) == 0


def test_only_clients_add_funds(fake: FakeStripe) -> None:
    with session_scope() as session:
        clipper = person(session, "clipper").id
    with pytest.raises(PermissionDenied):
        _start(clipper)


def test_stripe_failing_leaves_no_payment_behind(fake: FakeStripe) -> None:
    client_id = _client()
    fake.fail_next("POST /v1/checkout/sessions", status=500, times=5)
    with pytest.raises(StripeUnavailable, match="Could not start the card payment"):
        _start(client_id)
    with session_scope() as session:
        assert session.exec(select(CardPayment)).all() == []


def test_without_stripe_card_payments_are_refused_in_words(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client_id = _client()
    with pytest.raises(InvalidInput, match="Card payments are not set up"):
        _start(client_id)


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_the_same_events_worked_ten_times_at_once_book_once(fake: FakeStripe) -> None:
    client_id = _client()
    checkout = _start(client_id, 7000)
    fake.pay(_session_id(checkout))
    events = [
        fake.last_event("checkout.session.completed"),
        fake.last_event("payment_intent.succeeded"),
    ]
    with TestClient(files_app) as http:
        for event in events:
            payload = json.dumps(event).encode()
            headers = {"Stripe-Signature": fake.sign(payload)}
            assert http.post(routes.STRIPE_WEBHOOK, content=payload, headers=headers).is_success
    outcomes = race(10, lambda session, n: stripe_events.process(session, events[n % 2]["id"]))
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert balance_of(AccountKind.CLIENT_AVAILABLE, user_id=client_id) == 7000
    assert len(_deposits()) == 1
    books_are_sound()
