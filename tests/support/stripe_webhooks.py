"""Stripe's events delivered to the app's real webhook route, then worked, as Stripe and
the worker would: each test decides when, how often and in what order."""

from __future__ import annotations

import json
from typing import Any

from starlette.testclient import TestClient

from clipgen import routes
from clipgen.api import files_app
from clipgen.db import session_scope
from clipgen.services.money import stripe_events
from tests.support.fake_stripe import FakeStripe


def post(fake: FakeStripe, event: dict[str, Any], times: int = 1) -> None:
    """Post the event, signed as Stripe signs it, to the webhook route; it must be taken."""
    payload = json.dumps(event, indent=2).encode()
    with TestClient(files_app) as http:
        for _ in range(times):
            answer = http.post(
                routes.STRIPE_WEBHOOK,
                content=payload,
                headers={"Stripe-Signature": fake.sign(payload)},
            )
            assert answer.status_code == 200, answer.text


def work(event_id: str) -> str:
    """Work a stored event, as the worker does, in a unit of work of its own."""
    with session_scope() as session:
        return stripe_events.process(session, event_id)


def deliver(fake: FakeStripe, event: dict[str, Any], times: int = 1) -> str:
    """Post the event then work it; what the worker said."""
    post(fake, event, times)
    return work(event["id"])
