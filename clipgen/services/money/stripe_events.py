"""Stripe's webhook events: checked against `STRIPE_WEBHOOK_SECRET` (or the Connect
endpoint's secret) by the stripe library, and stored once by their id.

The webhook route answers as soon as an event is stored; nothing here moves money.
Delivering the same event again (Stripe retries until it gets a 2xx, and may deliver
twice) finds it stored and changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from clipgen.config import get_settings
from clipgen.models import StripeEvent
from clipgen.services.errors import InvalidInput

MAX_PAYLOAD_BYTES = 512 * 1024
# How old a signature may be (Stripe's own default): a replayed old delivery is refused.
TOLERANCE_S = stripe.Webhook.DEFAULT_TOLERANCE


class BadSignature(InvalidInput):
    """The request was not signed by Stripe with one of our webhook secrets."""


@dataclass(frozen=True)
class Received:
    event_id: str
    type: str
    new: bool


def _secrets() -> list[str]:
    settings = get_settings()
    found = [
        settings.stripe_webhook_secret.get_secret_value(),
        settings.stripe_connect_webhook_secret.get_secret_value(),
    ]
    return [secret for secret in found if secret]


def verified_event(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event in `payload` if its `Stripe-Signature` checks out with one of our secrets
    (within the library's five-minute tolerance), else `BadSignature`."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise BadSignature("The event is too large.")
    secrets = _secrets()
    if not secrets:
        raise BadSignature("Stripe webhooks are not set up (STRIPE_WEBHOOK_SECRET).")
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"), signature, secret, tolerance=TOLERANCE_S
            )
        except stripe.SignatureVerificationError:
            continue
        except UnicodeDecodeError:
            break
        try:
            event = json.loads(payload)
        except ValueError:
            break
        if not isinstance(event, dict) or not isinstance(event.get("id"), str):
            break
        return event
    raise BadSignature("The Stripe signature does not match.")


def store(session: Session, event: dict[str, Any]) -> Received:
    """Keep a verified event once by its id (a second delivery finds it and changes
    nothing); unknown types are kept too."""
    event_id = str(event["id"])[:255]
    kind = str(event.get("type") or "")[:100]
    if session.get(StripeEvent, event_id) is not None:
        return Received(event_id, kind, new=False)
    created = event.get("created")
    row = StripeEvent(
        id=event_id,
        type=kind,
        account=str(event.get("account") or "")[:255],
        livemode=bool(event.get("livemode")),
        created=datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None,
        payload=event,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # The same event, delivered at the same moment to another request: theirs stands.
        return Received(event_id, kind, new=False)
    return Received(event_id, kind, new=True)
