"""Billing's Add funds by card, its handlers called directly as a crafted websocket event
would call them: only a signed-in client starts a card payment, the amount is read as
untrusted text, a double click is one Checkout Session at (the fake) Stripe, and a refused
call changes nothing. Without Stripe keys the page is as before: no card payments."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen import routes
from clipgen.db import session_scope
from clipgen.models import CardPayment, LedgerTransaction, Role
from clipgen.services.auth import service as auth
from clipgen.state.money import CHECKOUT_NOTICES, BillingState
from tests.support.fake_stripe import FakeStripe
from tests.support.handlers import redirect_path, state_on
from tests.support.money import PASSWORD, person
from tests.support.stripe_webhooks import deliver as _deliver

NOT_SIGNED_IN = "Please sign in to continue."
ONLY_CLIENTS = "Running campaigns is part of a client account."
NOT_SET_UP = "Card payments are not set up on this ClipGen."
IN_DOLLARS = "The amount must be in dollars and cents, like 25.00."
BAD_AMOUNTS = ("", "   ", "abc", "nan", "NaN", "inf", "-inf", "-50", "50.001", "1e3", "0x10")
JUNK = (5000, None, 50.0, ["50"], {"$gt": 0}, True)


@pytest.fixture
def tokens(database_url: str) -> dict[str, str]:
    with session_scope() as session:
        users = {
            "client": person(session, Role.CLIENT, "brand"),
            "other_client": person(session, Role.CLIENT, "rival"),
            "clipper": person(session, Role.CLIPPER, "ada"),
            "admin": person(session, Role.ADMIN),
        }
        return {
            name: auth.sign_in(session=session, email=user.email, password=PASSWORD)[0]
            for name, user in users.items()
        }


@pytest.fixture
def fake(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    with FakeStripe() as running:
        running.deliver_events = False  # the test delivers them
        running.apply_env(monkeypatch)
        yield running


def _state(token: str, path: str = routes.BILLING) -> BillingState:
    """Billing as one browser tab holds it, on `path` (with its query)."""
    return state_on(BillingState, token, path)


def _opened(token: str, path: str = routes.BILLING) -> BillingState:
    state = _state(token, path)
    BillingState.open_page.fn(state)
    return state


def _counts(session: Session) -> tuple[int, int]:
    session.expire_all()
    return (
        session.exec(select(func.count()).select_from(CardPayment)).one(),
        session.exec(select(func.count()).select_from(LedgerTransaction)).one(),
    )


def test_a_client_goes_to_checkout_and_a_double_click_is_one_session(
    session: Session, tokens, fake: FakeStripe
) -> None:
    state = _opened(tokens["client"])
    assert state.cards_on and state.load_error == ""
    assert (state.card_minimum, state.card_maximum) == ("$10.00", "$10,000.00")
    assert state.card_payments == []
    form = {"amount": "50", "request_key": state.card_request_key}
    first = BillingState.add_funds.fn(state, form)
    second = BillingState.add_funds.fn(state, form)  # the same form, clicked twice
    assert state.card_error == ""
    url = redirect_path(first)
    assert url == redirect_path(second)
    assert url.startswith(fake.url + "/checkout/cs_")
    assert fake.created["checkout.session"] == 1
    assert _counts(session) == (1, 0)  # nothing booked: only Stripe's webhook books it
    (sent,) = [r for r in fake.requests if (r.method, r.path) == ("POST", "/v1/checkout/sessions")]
    assert sent.params["line_items"][0]["price_data"]["unit_amount"] == "5000"

    # The form drawn afresh has a new key: the next payment is a new Checkout Session.
    assert state.card_request_key != form["request_key"]
    BillingState.add_funds.fn(state, {"amount": "$75.25", "request_key": state.card_request_key})
    assert fake.created["checkout.session"] == 2

    # A key the browser made up is not used: the one of the form shown is.
    BillingState.add_funds.fn(state, {"amount": "20", "request_key": "not-a-key"})
    assert fake.created["checkout.session"] == 3 and _counts(session)[0] == 3


def test_the_card_payments_list_follows_stripe(session: Session, tokens, fake: FakeStripe) -> None:
    state = _opened(tokens["client"])
    checkout = redirect_path(
        BillingState.add_funds.fn(state, {"amount": "50", "request_key": state.card_request_key})
    )
    BillingState.refresh.fn(state)
    assert [(row["amount"], row["status_words"]) for row in state.card_payments] == [
        ("$50.00", "Waiting for payment")
    ]
    fake.pay(checkout.rsplit("/", 1)[1])
    _deliver(fake, fake.last_event("checkout.session.completed"))

    back = _opened(tokens["client"], routes.BILLING + "?checkout=done")
    assert (
        back.checkout_notice
        == CHECKOUT_NOTICES["done"]
        == (
            "Payment received by Stripe; your balance updates as soon as Stripe confirms it "
            "(usually seconds)."
        )
    )
    assert back.available == "$50.00"
    (row,) = back.card_payments
    assert (row["amount"], row["status"], row["status_words"]) == (
        "$50.00",
        "paid",
        "Added to balance",
    )
    assert row["created_at"].endswith(" UTC") and row["paid_at"].endswith(" UTC")
    assert "fee" not in json.dumps(back.card_payments)  # Stripe's fee is ClipGen's affair
    assert [line["description"] for line in back.lines] == [
        "Card payment (Stripe's fee paid by ClipGen)"
    ]
    assert [line["amount"] for line in back.lines] == ["+$50.00"]

    # Another client sees none of it.
    rival = _opened(tokens["other_client"])
    assert rival.card_payments == [] and rival.available == "$0.00"


@pytest.mark.parametrize(
    ("query", "notice"),
    [
        ("?checkout=done", CHECKOUT_NOTICES["done"]),
        ("?checkout=cancelled", "Payment cancelled; nothing was charged."),
        ("?checkout=<script>", ""),
        ("", ""),
    ],
)
def test_coming_back_from_checkout_says_what_happened(
    tokens, fake: FakeStripe, query: str, notice: str
) -> None:
    state = _opened(tokens["client"], routes.BILLING + query)
    assert state.checkout_notice == notice


@pytest.mark.parametrize("bad", BAD_AMOUNTS + JUNK)
def test_a_bad_amount_is_refused_in_words_and_nothing_changes(
    session: Session, tokens, fake: FakeStripe, bad
) -> None:
    state = _opened(tokens["client"])
    key = state.card_request_key
    assert BillingState.add_funds.fn(state, {"amount": bad, "request_key": key}) is None
    assert state.card_error == IN_DOLLARS
    assert state.card_request_key == key
    assert _counts(session) == (0, 0) and fake.created["checkout.session"] == 0


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("0", "The amount must be more than zero."),
        ("9.99", "Add between $10.00 and $10,000.00 by card at a time."),
        ("10000.01", "Add between $10.00 and $10,000.00 by card at a time."),
    ],
)
def test_an_amount_outside_the_limits_is_refused(
    session: Session, tokens, fake: FakeStripe, amount: str, words: str
) -> None:
    state = _opened(tokens["client"])
    BillingState.add_funds.fn(state, {"amount": amount, "request_key": state.card_request_key})
    assert state.card_error == words
    assert _counts(session) == (0, 0) and fake.created["checkout.session"] == 0


@pytest.mark.parametrize("junk", [None, "amount=50", 50, ["50"], {"amount": {"$gt": 0}}])
def test_a_malformed_form_is_refused_in_words(
    session: Session, tokens, fake: FakeStripe, junk
) -> None:
    state = _opened(tokens["client"])
    BillingState.add_funds.fn(state, junk)
    assert state.card_error == IN_DOLLARS
    assert _counts(session) == (0, 0)


@pytest.mark.parametrize(
    ("who", "words"),
    [("clipper", ONLY_CLIENTS), ("admin", ONLY_CLIENTS), ("forged", NOT_SIGNED_IN)],
)
def test_only_a_signed_in_client_adds_funds(
    session: Session, tokens, fake: FakeStripe, who: str, words: str
) -> None:
    state = _state(tokens.get(who, "forged-token"))
    result = BillingState.add_funds.fn(state, {"amount": "50", "request_key": uuid.uuid4().hex})
    assert result is None and state.card_error == words
    assert _counts(session) == (0, 0) and fake.created["checkout.session"] == 0
    BillingState.refresh.fn(state)
    assert state.card_payments == []


def test_stripe_unavailable_is_said_in_words_and_nothing_changes(
    session: Session, tokens, fake: FakeStripe
) -> None:
    state = _opened(tokens["client"])
    key = state.card_request_key
    fake.rate_limit_next(target="POST /v1/checkout/sessions")
    assert BillingState.add_funds.fn(state, {"amount": "50", "request_key": key}) is None
    assert state.card_error == (
        "Stripe is busy; could not start the card payment. Try again in a minute."
    )
    assert state.card_request_key == key and _counts(session) == (0, 0)
    # The same form, sent again once Stripe answers, starts the payment.
    assert BillingState.add_funds.fn(state, {"amount": "50", "request_key": key}) is not None
    assert state.card_error == "" and _counts(session) == (1, 0)


def test_without_stripe_keys_billing_is_as_before(session: Session, tokens) -> None:
    state = _opened(tokens["client"])
    assert not state.cards_on and state.card_payments == [] and state.load_error == ""
    result = BillingState.add_funds.fn(state, {"amount": "50", "request_key": uuid.uuid4().hex})
    assert result is None and state.card_error == NOT_SET_UP
    assert _counts(session) == (0, 0)
