"""The local Stripe fake, driven only by the real `stripe` library (and httpx for pages)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import pytest
import stripe
from stripe._http_client import HTTPClient

from tests.support.fake_http import LocalHTTPFake
from tests.support.fake_stripe import (
    API_VERSION,
    DISPUTE_FEE,
    FakeStripe,
    FakeStripeError,
    card_fee,
    parse_form,
)


class Receiver(LocalHTTPFake):
    """A tiny webhook endpoint: keeps what it is sent and answers `status`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.received: list[tuple[str, str, dict[str, str], bytes]] = []
        self.status = 200

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with receiver.lock:
                    receiver.received.append((method, self.path, dict(self.headers), body))
                    status = receiver.status
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def do_POST(self) -> None:
                self._answer("POST")

            def do_GET(self) -> None:
                self._answer("GET")

        return Handler

    def posts(self) -> list[tuple[dict[str, str], bytes]]:
        with self.lock:
            return [(h, b) for m, _, h, b in self.received if m == "POST"]

    def events(self, secret: str) -> list[stripe.Event]:
        """Every POSTed event, checked as an app checks it (the real library)."""
        return [
            stripe.Webhook.construct_event(body, headers["Stripe-Signature"], secret)
            for headers, body in self.posts()
        ]

    def types(self, secret: str) -> list[str]:
        return [event.type for event in self.events(secret)]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def fake(receiver: Receiver) -> Iterator[FakeStripe]:
    with FakeStripe() as running:
        running.webhook_url = f"{receiver.url}/stripe/webhook"
        yield running
        running.wait_for_webhooks()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The library's backoff (0.5 s and up) shortened so retries stay fast."""
    monkeypatch.setattr(HTTPClient, "INITIAL_DELAY", 0.001)
    monkeypatch.setattr(HTTPClient, "MAX_DELAY", 0.01)


def client_for(fake: FakeStripe, retries: int = 0, key: str | None = None) -> stripe.StripeClient:
    return stripe.StripeClient(
        key or fake.secret_key,
        base_addresses={"api": fake.url, "connect": fake.url},
        max_network_retries=retries,
    )


@pytest.fixture
def client(fake: FakeStripe) -> stripe.StripeClient:
    return client_for(fake)


def checkout_params(receiver: Receiver, amount: int = 5000, **extra: Any) -> dict[str, Any]:
    return {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "usd",
                    "unit_amount": amount,
                    "product_data": {"name": "ClipGen balance"},
                },
                "quantity": 1,
            }
        ],
        "success_url": f"{receiver.url}/billing/done?session={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{receiver.url}/billing",
        "client_reference_id": "3",
        "metadata": {"client_id": "3", "deposit_id": "17"},
        "payment_intent_data": {"metadata": {"client_id": "3", "deposit_id": "17"}},
        **extra,
    }


def onboarded_account(fake: FakeStripe, client: stripe.StripeClient) -> stripe.Account:
    account = client.v1.accounts.create(
        params={
            "type": "express",
            "email": "clipper@example.com",
            "country": "US",
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"user_id": "9"},
        }
    )
    fake.complete_onboarding(account.id)
    return account


# -- parsing --------------------------------------------------------------------------


def test_bracket_notation_parses_into_nested_dicts_and_lists() -> None:
    assert parse_form(
        [
            ("line_items[0][price_data][unit_amount]", "5000"),
            ("line_items[0][quantity]", "1"),
            ("line_items[1][quantity]", "2"),
            ("metadata[client_id]", "3"),
            ("expand[]", "latest_charge"),
            ("expand[]", "latest_charge.balance_transaction"),
            ("created[gte]", "10"),
            ("mode", "payment"),
        ]
    ) == {
        "line_items": [{"price_data": {"unit_amount": "5000"}, "quantity": "1"}, {"quantity": "2"}],
        "metadata": {"client_id": "3"},
        "expand": ["latest_charge", "latest_charge.balance_transaction"],
        "created": {"gte": "10"},
        "mode": "payment",
    }


# -- Checkout and signed webhooks -----------------------------------------------------


def test_checkout_paid_through_the_page_sends_signed_events(
    fake: FakeStripe, client: stripe.StripeClient, receiver: Receiver
) -> None:
    session = client.v1.checkout.sessions.create(
        params=checkout_params(receiver, customer_email="buyer@example.com"),
        options={"idempotency_key": "deposit-17"},
    )
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.url == f"{fake.url}/checkout/{session.id}"
    assert (session.amount_total, session.amount_subtotal, session.currency) == (5000, 5000, "usd")
    assert (session.status, session.payment_status, session.payment_intent) == (
        "open",
        "unpaid",
        None,
    )
    assert session.metadata.to_dict() == {"client_id": "3", "deposit_id": "17"}
    assert session.client_reference_id == "3"
    assert session.expires_at - session.created == 24 * 3600
    assert session.livemode is False

    with httpx.Client(base_url=fake.url) as browser:
        page = browser.get(f"/checkout/{session.id}")
        assert page.status_code == 200
        assert "Pay $50.00" in page.text
        assert f'action="/checkout/{session.id}/pay"' in page.text
        assert f'href="{receiver.url}/billing"' in page.text
        paid = browser.post(f"/checkout/{session.id}/pay", follow_redirects=False)
        assert paid.status_code == 303
        assert paid.headers["Location"] == f"{receiver.url}/billing/done?session={session.id}"
        twice = browser.post(f"/checkout/{session.id}/pay")
        assert twice.status_code == 409  # paying twice is refused
        followed = browser.get(paid.headers["Location"])
        assert followed.status_code == 200

    # The events arrived (before the redirect), signed as Stripe signs them.
    events = receiver.events(fake.webhook_secret)
    assert [e.type for e in events] == ["checkout.session.completed", "payment_intent.succeeded"]
    completed, succeeded = events
    assert completed.api_version == API_VERSION
    assert completed.data.object.id == session.id
    assert completed.data.object.payment_status == "paid"
    assert completed.request.id is None  # caused by the customer, not an API request
    assert completed.pending_webhooks == 1 and completed.livemode is False
    assert [e["id"] for e in fake.events] == [completed.id, succeeded.id]
    assert fake.deliveries == [(completed.id, 200), (succeeded.id, 200)]
    headers, body = receiver.posts()[0]
    assert headers["Content-Type"].startswith("application/json")
    assert json.loads(body)["data"]["object"]["id"] == session.id

    # Expand on the payment intent: the charge and its balance transaction.
    pi = client.v1.payment_intents.retrieve(
        succeeded.data.object.id, params={"expand": ["latest_charge.balance_transaction"]}
    )
    assert pi.status == "succeeded" and pi.amount == 5000
    assert pi.metadata.to_dict() == {"client_id": "3", "deposit_id": "17"}
    charge = pi.latest_charge
    assert charge.id.startswith("ch_") and charge.paid and charge.amount_captured == 5000
    assert charge.metadata.to_dict() == pi.metadata.to_dict()
    txn = charge.balance_transaction
    assert (txn.type, txn.reporting_category, txn.amount) == ("charge", "charge", 5000)
    assert txn.fee == card_fee(5000) == 175 and txn.net == 4825
    assert txn.fee_details[0].type == "stripe_fee" and txn.source == charge.id
    charge_only = client.v1.charges.retrieve(charge.id, params={"expand": ["balance_transaction"]})
    assert charge_only.balance_transaction.id == txn.id
    plain = client.v1.payment_intents.retrieve(pi.id)
    assert plain.latest_charge == charge.id

    after = client.v1.checkout.sessions.retrieve(session.id)
    assert (after.status, after.payment_status, after.payment_intent) == (
        "complete",
        "paid",
        pi.id,
    )
    with pytest.raises(FakeStripeError):
        fake.pay(session.id)
    assert fake.created["payment_intent"] == 1 and fake.created["charge"] == 1


def test_delayed_payment_completes_unpaid_then_settles(
    fake: FakeStripe, client: stripe.StripeClient, receiver: Receiver
) -> None:
    session = client.v1.checkout.sessions.create(params=checkout_params(receiver, 2000))
    fake.pay(session.id, delayed=True)
    assert receiver.types(fake.webhook_secret) == ["checkout.session.completed"]
    done = client.v1.checkout.sessions.retrieve(session.id)
    assert (done.status, done.payment_status) == ("complete", "unpaid")
    pi = client.v1.payment_intents.retrieve(done.payment_intent)
    assert pi.status == "processing" and pi.latest_charge is None
    assert fake.created["charge"] == 0

    fake.settle_delayed(session.id)
    assert receiver.types(fake.webhook_secret)[1:] == [
        "payment_intent.succeeded",
        "checkout.session.async_payment_succeeded",
    ]
    pi = client.v1.payment_intents.retrieve(pi.id, params={"expand": ["latest_charge"]})
    assert pi.status == "succeeded" and pi.latest_charge.amount == 2000
    assert client.v1.checkout.sessions.retrieve(session.id).payment_status == "paid"


def test_unpaid_session_expires_after_a_day(
    fake: FakeStripe, client: stripe.StripeClient, receiver: Receiver
) -> None:
    fake.now = 1_767_225_600
    session = client.v1.checkout.sessions.create(params=checkout_params(receiver))
    fake.advance(24 * 3600)
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    fake.wait_for_webhooks()
    assert receiver.types(fake.webhook_secret) == ["checkout.session.expired"]
    page = httpx.get(f"{fake.url}/checkout/{session.id}")
    assert "no longer active" in page.text and "Pay $" not in page.text
    with pytest.raises(FakeStripeError):
        fake.pay(session.id)
    with pytest.raises(stripe.InvalidRequestError) as small:
        client.v1.checkout.sessions.create(params=checkout_params(receiver, amount=49))
    assert small.value.code == "amount_too_small"


def test_signature_computed_by_hand_and_checked_by_the_library(fake: FakeStripe) -> None:
    payload = json.dumps({"id": "evt_1", "object": "event"}, indent=2).encode()
    t = int(time.time())
    by_hand = hmac.new(
        fake.webhook_secret.encode(), f"{t}.".encode() + payload, hashlib.sha256
    ).hexdigest()
    header = fake.sign(payload, t)
    assert header == f"t={t},v1={by_hand}"
    assert stripe.WebhookSignature.verify_header(payload.decode(), header, fake.webhook_secret)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(
            payload.decode().replace("evt_1", "evt_2"), header, fake.webhook_secret
        )
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, header, "whsec_someone_else")
    stale = fake.sign(payload, t - 3600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(payload, stale, fake.webhook_secret)


def test_held_events_are_sent_by_the_test_even_concurrently(
    fake: FakeStripe, client: stripe.StripeClient, receiver: Receiver
) -> None:
    fake.deliver_events = False
    session = client.v1.checkout.sessions.create(params=checkout_params(receiver))
    fake.pay(session.id)
    assert [e["type"] for e in fake.events] == [
        "checkout.session.completed",
        "payment_intent.succeeded",
    ]
    assert receiver.posts() == [] and fake.deliveries == []

    completed = fake.events[0]
    assert fake.send(completed["id"], times=3, concurrently=True) == [200, 200, 200]
    receiver.status = 500
    assert fake.send(completed) == [500]
    assert [e.id for e in receiver.events(fake.webhook_secret)] == [completed["id"]] * 4
    assert fake.deliveries[-1] == (completed["id"], 500)
    # The app may also fetch the event back from the API.
    assert client.v1.events.retrieve(completed["id"]).type == "checkout.session.completed"


# -- errors, idempotency, retries ------------------------------------------------------


def test_errors_use_stripe_envelopes(fake: FakeStripe, client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.AuthenticationError) as wrong_key:
        client_for(fake, key="sk_test_wrong_key_1234").v1.balance.retrieve()
    assert wrong_key.value.http_status == 401
    assert wrong_key.value.json_body["error"]["type"] == "invalid_request_error"
    assert wrong_key.value.json_body["error"]["message"].startswith("Invalid API Key provided:")
    assert httpx.get(f"{fake.url}/v1/balance").status_code == 401

    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.retrieve("pi_nope")
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    assert missing.value.json_body["error"]["message"] == "No such payment_intent: 'pi_nope'"

    with pytest.raises(stripe.InvalidRequestError) as no_amount:
        client.v1.transfers.create(params={"currency": "usd", "destination": "acct_x"})
    assert no_amount.value.http_status == 400
    assert (no_amount.value.code, no_amount.value.param) == ("parameter_missing", "amount")

    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.transfers.create(
            params={"amount": 1, "currency": "usd", "destination": "a", "colour": "red"}
        )
    assert (unknown.value.code, unknown.value.param) == ("parameter_unknown", "colour")

    with pytest.raises(stripe.PermissionError):
        client.v1.balance.retrieve(options={"stripe_account": "acct_not_mine"})


def test_idempotent_replay_creates_once(fake: FakeStripe, client: stripe.StripeClient) -> None:
    account = onboarded_account(fake, client)
    params = {"amount": 700, "currency": "usd", "destination": account.id}
    first = client.v1.transfers.create(params=params, options={"idempotency_key": "payout-1"})
    again = client.v1.transfers.create(params=params, options={"idempotency_key": "payout-1"})
    assert again.id == first.id and again.to_dict() == first.to_dict()
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers
    assert fake.created["transfer"] == 1
    fake.wait_for_webhooks()
    transfer_events = fake.events_of("transfer.created")
    assert len(transfer_events) == 1
    assert transfer_events[0]["request"]["idempotency_key"] == "payout-1"

    with pytest.raises(stripe.IdempotencyError):
        client.v1.transfers.create(
            params={**params, "amount": 800}, options={"idempotency_key": "payout-1"}
        )
    assert fake.created["transfer"] == 1

    # A refusal once the endpoint began is saved too: the same key keeps getting it.
    fake.platform_available_cents = 100
    short = {**params, "amount": 500}
    for _ in range(2):
        with pytest.raises(stripe.InvalidRequestError) as refused:
            client.v1.transfers.create(params=short, options={"idempotency_key": "payout-2"})
        assert refused.value.code == "balance_insufficient"
    fake.platform_available_cents = 10_000
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.create(params=short, options={"idempotency_key": "payout-2"})
    assert (
        client.v1.transfers.create(params=short, options={"idempotency_key": "payout-3"}).amount
        == 500
    )


def test_lost_answer_is_retried_with_the_same_key_and_replayed(fake: FakeStripe) -> None:
    client = client_for(fake, retries=2)
    fake.drop_next("POST /v1/accounts", after_execution=True)
    account = client.v1.accounts.create(
        params={"type": "express", "capabilities": {"transfers": {"requested": True}}}
    )
    posts = fake.calls("POST", "/v1/accounts")
    assert len(posts) == 2 and posts[0].idempotency_key == posts[1].idempotency_key
    assert posts[0].status == 0 and posts[1].status == 200
    assert fake.created["account"] == 1
    assert account.last_response.headers["Idempotent-Replayed"] == "true"


def test_rate_limits_are_not_retried_lock_timeouts_and_500s_are(fake: FakeStripe) -> None:
    client = client_for(fake, retries=3)
    fake.rate_limit_next()
    with pytest.raises(stripe.RateLimitError) as limited:
        client.v1.balance.retrieve()
    assert limited.value.http_status == 429
    assert limited.value.json_body["error"]["code"] == "rate_limit"
    assert "Stripe-Should-Retry" not in limited.value.headers
    assert len(fake.calls("GET", "/v1/balance")) == 1  # the library gave up at once

    fake.lock_timeout_next(times=2)
    params = {"type": "express", "capabilities": {"transfers": {"requested": True}}}
    account = client.v1.accounts.create(params=params)
    posts = fake.calls("POST", "/v1/accounts")
    assert [p.status for p in posts] == [429, 429, 200]
    assert len({p.idempotency_key for p in posts}) == 1
    assert fake.created["account"] == 1 and account.id.startswith("acct_")

    fake.fail_next("GET /v1/accounts/", 500, times=1)
    assert client.v1.accounts.retrieve(account.id).id == account.id
    assert [p.status for p in fake.calls("GET", f"/v1/accounts/{account.id}")] == [500, 200]

    fake.lock_timeout_next(times=4)
    with pytest.raises(stripe.RateLimitError):  # 1 try + 3 retries, all locked
        client_for(fake, retries=3).v1.balance.retrieve()

    fake.fail_next("/v1/balance", 503)
    with pytest.raises(stripe.APIError):
        client_for(fake, retries=0).v1.balance.retrieve()


# -- Connect --------------------------------------------------------------------------


def test_account_link_onboarding_page(
    fake: FakeStripe, client: stripe.StripeClient, receiver: Receiver
) -> None:
    account = client.v1.accounts.create(
        params={
            "type": "express",
            "email": "clipper@example.com",
            "country": "US",
            "capabilities": {"transfers": {"requested": True}},
            "metadata": {"user_id": "9"},
        }
    )
    assert account.id.startswith("acct_") and account.type == "express"
    assert not (account.charges_enabled or account.payouts_enabled or account.details_submitted)
    assert account.capabilities.to_dict() == {"transfers": "inactive"}
    requirements = account.requirements
    assert "external_account" in requirements.currently_due
    assert "tos_acceptance.date" in requirements.currently_due
    assert requirements.disabled_reason == "requirements.past_due"
    assert requirements.errors == [] and requirements.pending_verification == []
    assert account.metadata.to_dict() == {"user_id": "9"} and account.email == "clipper@example.com"

    link_params = {
        "account": account.id,
        "refresh_url": f"{receiver.url}/payouts/refresh",
        "return_url": f"{receiver.url}/payouts/return",
        "type": "account_onboarding",
    }
    link = client.v1.account_links.create(params=link_params)
    assert link.object == "account_link" and link.url.startswith(f"{fake.url}/connect/")
    assert link.expires_at - link.created == 300

    with httpx.Client() as browser:
        page = browser.get(link.url)
        assert "Set up payouts for clipper@example.com" in page.text
        assert "Agree and submit" in page.text
        submitted = browser.post(link.url)
        assert submitted.status_code == 303
        assert submitted.headers["Location"] == f"{receiver.url}/payouts/return"
        reused = browser.get(link.url)
        assert (reused.status_code, reused.headers["Location"]) == (
            303,
            f"{receiver.url}/payouts/refresh",
        )
        fake.now = time.time()
        expired = client.v1.account_links.create(params=link_params)
        fake.advance(301)
        late = browser.get(expired.url)
        assert late.headers["Location"] == f"{receiver.url}/payouts/refresh"
        fake.now = None

    done = client.v1.accounts.retrieve(account.id)
    assert done.details_submitted and done.charges_enabled and done.payouts_enabled
    assert done.capabilities.transfers == "active"
    assert done.requirements.currently_due == [] and done.requirements.disabled_reason is None
    updated = receiver.events(fake.webhook_secret)
    assert [e.type for e in updated] == ["account.updated"]
    assert updated[0].account == account.id
    assert updated[0].data.previous_attributes.payouts_enabled is False

    fake.set_requirements(account.id, ["individual.verification.document"])
    again = client.v1.accounts.retrieve(account.id)
    assert again.payouts_enabled is False and again.capabilities.transfers == "inactive"
    assert again.requirements.currently_due == ["individual.verification.document"]
    assert receiver.types(fake.webhook_secret) == ["account.updated", "account.updated"]


def test_transfers_refused_before_onboarding_then_reversed(
    fake: FakeStripe, client: stripe.StripeClient, receiver: Receiver
) -> None:
    account = client.v1.accounts.create(
        params={"type": "express", "capabilities": {"transfers": {"requested": True}}}
    )
    params = {
        "amount": 1200,
        "currency": "usd",
        "destination": account.id,
        "metadata": {"payout_id": "5"},
        "transfer_group": "payout-5",
    }
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.transfers.create(params=params)
    assert refused.value.http_status == 400
    assert "capabilities enabled: transfers" in refused.value.user_message

    fake.complete_onboarding(account.id)
    before = fake.balance()["available"]
    transfer = client.v1.transfers.create(params=params, options={"idempotency_key": "tr-5"})
    assert transfer.id.startswith("tr_") and transfer.object == "transfer"
    assert (transfer.amount, transfer.amount_reversed, transfer.reversed) == (1200, 0, False)
    assert transfer.metadata.to_dict() == {"payout_id": "5"}
    assert transfer.reversals.object == "list" and transfer.reversals.data == []
    assert fake.balance()["available"] == before - 1200
    assert fake.balance(account.id)["available"] == 1200
    txn = client.v1.balance_transactions.retrieve(transfer.balance_transaction)
    assert (txn.type, txn.amount, txn.fee, txn.source) == ("transfer", -1200, 0, transfer.id)
    assert client.v1.transfers.retrieve(transfer.id).destination == account.id

    reversal = client.v1.transfers.reversals.create(
        transfer.id, params={"amount": 200, "metadata": {"why": "fraud"}}
    )
    assert reversal.id.startswith("trr_") and reversal.amount == 200
    back = client.v1.balance_transactions.retrieve(reversal.balance_transaction)
    assert (back.type, back.reporting_category, back.amount) == (
        "transfer_refund",
        "transfer_reversal",
        200,
    )
    rest = client.v1.transfers.reversals.create(transfer.id)
    assert rest.amount == 1000
    after = client.v1.transfers.retrieve(transfer.id)
    assert (after.amount_reversed, after.reversed) == (1200, True)
    assert fake.balance()["available"] == before
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.transfers.reversals.create(transfer.id)

    fake.wait_for_webhooks()
    assert sorted(receiver.types(fake.webhook_secret)) == sorted(
        ["account.updated", "transfer.created", "transfer.reversed", "transfer.reversed"]
    )
    reversed_events = fake.events_of("transfer.reversed")
    assert reversed_events[-1]["data"]["object"]["reversed"] is True


def test_connected_payouts_paid_and_failed(
    fake: FakeStripe, client: stripe.StripeClient, receiver: Receiver
) -> None:
    account = onboarded_account(fake, client)
    client.v1.transfers.create(
        params={"amount": 3000, "currency": "usd", "destination": account.id}
    )
    on_account = {"stripe_account": account.id}
    payout = client.v1.payouts.create(
        params={"amount": 1000, "currency": "usd", "metadata": {"payout_id": "5"}},
        options=on_account,
    )
    assert payout.id.startswith("po_") and payout.status == "pending"
    assert payout.failure_code is None and payout.arrival_date > payout.created
    assert fake.calls("POST", "/v1/payouts")[0].stripe_account == account.id
    assert fake.balance(account.id)["available"] == 2000
    balance = client.v1.balance.retrieve(options=on_account)
    assert balance.available[0].amount == 2000

    with pytest.raises(stripe.InvalidRequestError):  # not the platform's payout
        client.v1.payouts.retrieve(payout.id)
    assert client.v1.payouts.retrieve(payout.id, options=on_account).amount == 1000
    with pytest.raises(stripe.InvalidRequestError) as short:
        client.v1.payouts.create(params={"amount": 5000, "currency": "usd"}, options=on_account)
    assert short.value.code == "balance_insufficient"

    fake.settle_payout(payout.id)
    assert client.v1.payouts.retrieve(payout.id, options=on_account).status == "paid"
    failing = client.v1.payouts.create(
        params={"amount": 2000, "currency": "usd"}, options=on_account
    )
    assert fake.balance(account.id)["available"] == 0
    fake.settle_payout(failing.id, paid=False)
    failed = client.v1.payouts.retrieve(failing.id, options=on_account)
    assert (failed.status, failed.failure_code) == ("failed", "account_closed")
    assert failed.failure_message == "The bank account has been closed."
    assert fake.balance(account.id)["available"] == 2000

    fake.wait_for_webhooks()
    events = {e.type: e for e in receiver.events(fake.webhook_secret)}
    assert events["payout.paid"].account == account.id
    assert events["payout.failed"].account == account.id
    assert events["payout.failed"].data.object.id == failing.id
    assert "account" not in fake.last_event("transfer.created")

    listed = client.v1.balance_transactions.list(options=on_account)
    assert [t.type for t in listed.data] == ["payout_failure", "payout", "payout", "payment"]

    fake.set_requirements(account.id, ["external_account"])
    with pytest.raises(stripe.InvalidRequestError) as blocked:
        client.v1.payouts.create(params={"amount": 100, "currency": "usd"}, options=on_account)
    assert blocked.value.code == "payouts_not_allowed"


# -- refunds and disputes -------------------------------------------------------------


def test_refunds_and_disputes_send_their_events(
    fake: FakeStripe, client: stripe.StripeClient, receiver: Receiver
) -> None:
    session = client.v1.checkout.sessions.create(params=checkout_params(receiver, 5000))
    fake.pay(session.id)
    pi = client.v1.payment_intents.retrieve(fake.get(session.id)["payment_intent"])
    charge_id = pi.latest_charge

    refund = client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1000})
    assert refund.id.startswith("re_") and refund.status == "succeeded"
    assert (refund.amount, refund.charge, refund.payment_intent) == (1000, charge_id, pi.id)
    txn = client.v1.balance_transactions.retrieve(refund.balance_transaction)
    assert (txn.type, txn.amount, txn.fee, txn.source) == ("refund", -1000, 0, refund.id)
    fake.wait_for_webhooks()
    rest = fake.refund(charge_id)
    assert rest["amount"] == 4000
    charge = client.v1.charges.retrieve(charge_id)
    assert (charge.amount_refunded, charge.refunded) == (5000, True)
    refunds = client.v1.refunds.list(params={"charge": charge_id})
    assert refunds.object == "list" and refunds.url == "/v1/refunds"
    assert [r.amount for r in refunds.data] == [4000, 1000] and refunds.has_more is False
    with pytest.raises(stripe.InvalidRequestError) as twice:
        client.v1.refunds.create(params={"charge": charge_id})
    assert twice.value.code == "charge_already_refunded"
    refunded = [e for e in receiver.events(fake.webhook_secret) if e.type == "charge.refunded"]
    assert [e.data.object.amount_refunded for e in refunded] == [1000, 5000]

    other = client.v1.checkout.sessions.create(params=checkout_params(receiver, 8000))
    fake.pay(other.id)
    other_charge = fake.get(fake.get(other.id)["payment_intent"])["latest_charge"]
    before = fake.balance()["available"]
    dispute = fake.dispute(other_charge)
    assert dispute["id"].startswith("du_") and dispute["status"] == "needs_response"
    assert dispute["reason"] == "fraudulent" and dispute["amount"] == 8000
    withdrawal = dispute["balance_transactions"][0]
    assert (withdrawal["type"], withdrawal["amount"], withdrawal["fee"]) == (
        "adjustment",
        -8000,
        DISPUTE_FEE,
    )
    assert fake.balance()["available"] == before - 8000 - DISPUTE_FEE
    with pytest.raises(stripe.InvalidRequestError) as disputed:
        client.v1.refunds.create(params={"charge": other_charge})
    assert disputed.value.code == "charge_disputed"
    won = fake.close_dispute(dispute["id"], won=True)
    assert won["status"] == "won" and won["balance_transactions"][1]["net"] == 8000 + DISPUTE_FEE
    assert fake.balance()["available"] == before
    assert client.v1.disputes.retrieve(dispute["id"]).status == "won"

    lost = fake.close_dispute(fake.dispute(other_charge, 3000, "duplicate")["id"], won=False)
    assert lost["status"] == "lost" and len(lost["balance_transactions"]) == 1
    types = receiver.types(fake.webhook_secret)
    assert types.count("charge.dispute.created") == 2
    assert types.count("charge.dispute.closed") == 2
    closed = [e for e in receiver.events(fake.webhook_secret) if e.type == "charge.dispute.closed"]
    assert [e.data.object.status for e in closed] == ["won", "lost"]


# -- balance transactions -------------------------------------------------------------


def test_balance_transactions_by_day_over_several_pages(
    fake: FakeStripe, client: stripe.StripeClient
) -> None:
    account = onboarded_account(fake, client)
    day = 1_767_225_600  # 2026-01-01 00:00 UTC
    made: dict[str, list[str]] = {"before": [], "day": [], "after": []}
    for which, start, count in (
        ("before", day - 600, 2),
        ("day", day, 23),
        ("after", day + 86400, 2),
    ):
        for n in range(count):
            fake.now = start + n * 60
            transfer = client.v1.transfers.create(
                params={"amount": 100 + n, "currency": "usd", "destination": account.id}
            )
            made[which].append(transfer.balance_transaction)
    fake.now = None

    params = {"created": {"gte": day, "lt": day + 86400}, "limit": 10}
    first = client.v1.balance_transactions.list(params=params)
    assert first.object == "list" and first.url == "/v1/balance_transactions"
    assert len(first.data) == 10 and first.has_more is True
    seen = list(client.v1.balance_transactions.list(params=params).auto_paging_iter())
    assert [t.id for t in seen] == list(reversed(made["day"]))  # newest first, the day only
    assert all(day <= t.created < day + 86400 for t in seen)
    pages = [r for r in fake.calls("GET", "/v1/balance_transactions") if r.status == 200]
    assert [r.params.get("starting_after") for r in pages[1:]] == [
        None,
        seen[9].id,
        seen[19].id,
    ]

    only = client.v1.balance_transactions.list(params={"type": "charge", "limit": 100})
    assert only.data == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.balance_transactions.list(params={"limit": 101})
