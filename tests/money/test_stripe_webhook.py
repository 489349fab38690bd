"""The Stripe webhook endpoint: the raw body's signature checked by the stripe library,
each event stored once by its id however often it arrives, a bad signature refused with
400 and nothing stored. Driven through the real Starlette route with events signed as
Stripe signs them (by the local fake)."""

from __future__ import annotations

import json
import threading

import pytest
from sqlmodel import Session, select
from starlette.testclient import TestClient

import workers  # noqa: F401  (installs the sender: a stored event is sent to a worker)
from clipgen import routes
from clipgen.api import files_app
from clipgen.config import get_settings
from clipgen.db import get_engine
from clipgen.models import StripeEvent
from tests.support.fake_stripe import FakeStripe


@pytest.fixture
def stripe_env(database_url: str, monkeypatch: pytest.MonkeyPatch) -> FakeStripe:
    fake = FakeStripe()  # signs only; nothing here needs it listening
    monkeypatch.setenv("STRIPE_SECRET_KEY", fake.secret_key)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", fake.webhook_secret)
    get_settings.cache_clear()
    return fake


def _event(event_id: str = "evt_test_1", kind: str = "checkout.session.completed") -> bytes:
    body = {
        "id": event_id,
        "object": "event",
        "type": kind,
        "created": 1_765_000_000,
        "livemode": False,
        "data": {"object": {"id": "cs_test_1", "object": "checkout.session"}},
    }
    return json.dumps(body, indent=2).encode()


def _post(client: TestClient, payload: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return client.post(routes.STRIPE_WEBHOOK, content=payload, headers=headers)


def _stored() -> list[StripeEvent]:
    with Session(get_engine()) as session:
        return list(session.exec(select(StripeEvent)).all())


def test_a_signed_event_is_stored_once_however_often_it_arrives(stripe_env: FakeStripe) -> None:
    payload = _event()
    with TestClient(files_app) as client:
        first = _post(client, payload, stripe_env.sign(payload))
        again = _post(client, payload, stripe_env.sign(payload))
    assert first.status_code == 200 and first.json() == {"received": True, "duplicate": False}
    assert again.status_code == 200 and again.json()["duplicate"] is True
    [row] = _stored()
    assert (row.id, row.type) == ("evt_test_1", "checkout.session.completed")
    assert row.processed_at is None
    assert row.payload["data"]["object"]["id"] == "cs_test_1"


def test_unknown_event_types_are_stored_too(stripe_env: FakeStripe) -> None:
    payload = _event("evt_unknown", "radar.early_fraud_warning.created")
    with TestClient(files_app) as client:
        assert _post(client, payload, stripe_env.sign(payload)).status_code == 200
    assert [row.type for row in _stored()] == ["radar.early_fraud_warning.created"]


@pytest.mark.parametrize(
    "case",
    ["no header", "wrong secret", "tampered body", "stale timestamp", "not json", "garbage"],
)
def test_a_bad_signature_gets_400_and_stores_nothing(stripe_env: FakeStripe, case: str) -> None:
    payload = _event()
    signature: str | None = stripe_env.sign(payload)
    if case == "no header":
        signature = None
    elif case == "wrong secret":
        signature = stripe_env.sign(payload, secret="whsec_someone_else")
    elif case == "tampered body":
        payload = payload.replace(b"cs_test_1", b"cs_test_2")
    elif case == "stale timestamp":
        signature = stripe_env.sign(payload, timestamp=1_000_000_000)
    elif case == "not json":
        payload = b"not json at all"
        signature = stripe_env.sign(payload)
    else:
        signature = "t=1,v1=deadbeef"
    with TestClient(files_app) as client:
        answer = _post(client, payload, signature)
    assert answer.status_code == 400
    assert _stored() == []


def test_only_forgeries_count_against_the_webhook_limit(
    stripe_env: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stripe delivers bursts from a few addresses: signed deliveries are never limited.
    Bad signatures from one address are, and past the limit get 429 with Retry-After."""
    monkeypatch.setenv("RATE_LIMITS", "webhook=3/minute")
    get_settings.cache_clear()  # new settings: a new limiter with empty counts
    forged = _event("evt_forged")
    with TestClient(files_app) as client:
        signed = []
        for n in range(12):
            payload = _event(f"evt_burst_{n}")
            signed.append(_post(client, payload, stripe_env.sign(payload)).status_code)
        forgeries = [_post(client, forged, "t=1,v1=deadbeef").status_code for _ in range(4)]
        refused = _post(client, forged, "t=1,v1=deadbeef")
        payload = _event("evt_after")
        still = _post(client, payload, stripe_env.sign(payload))
    assert signed == [200] * 12
    assert forgeries == [400, 400, 400, 429]
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert still.status_code == 200
    assert sorted(row.id for row in _stored()) == sorted(
        [f"evt_burst_{n}" for n in range(12)] + ["evt_after"]
    )


def test_without_a_webhook_secret_every_event_is_refused(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeStripe()
    monkeypatch.delenv("STRIPE_WEBHOOK_SECRET", raising=False)
    get_settings.cache_clear()
    payload = _event()
    with TestClient(files_app) as client:
        answer = _post(client, payload, fake.sign(payload))
    assert answer.status_code == 400 and "not set up" in answer.text
    assert _stored() == []


def test_ten_deliveries_at_once_store_one_event(stripe_env: FakeStripe) -> None:
    payload = _event("evt_raced")
    signature = stripe_env.sign(payload)
    start = threading.Barrier(10)
    answers: list[int] = []

    def deliver() -> None:
        with TestClient(files_app) as client:
            start.wait()
            answers.append(_post(client, payload, signature).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert answers == [200] * 10
    assert [row.id for row in _stored()] == ["evt_raced"]
