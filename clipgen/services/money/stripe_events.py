"""Stripe's webhook events: checked against `STRIPE_WEBHOOK_SECRET` (or the Connect
endpoint's secret) by the stripe library, and stored once by their id.

The webhook route answers as soon as an event is stored, and a worker works it
(`process`): once, under a row lock, whatever order and however often Stripe delivers.
Delivering the same event again (Stripe retries until it gets a 2xx, and may deliver
twice) finds it stored and changes nothing. Unknown types are stored and ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from clipgen.config import get_settings
from clipgen.models import StripeEvent, utcnow
from clipgen.services import tasks
from clipgen.services.errors import InvalidInput
from clipgen.services.money import cards, connect, stripe_payouts

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
    tasks.send_after_commit(session, tasks.PROCESS_STRIPE_EVENT, event_id=event_id)
    return Received(event_id, kind, new=True)


HANDLERS = {
    "checkout.session.completed": cards.on_checkout_completed,
    "checkout.session.async_payment_succeeded": cards.on_checkout_completed,
    "checkout.session.expired": cards.on_checkout_expired,
    "payment_intent.succeeded": cards.on_payment_succeeded,
    "charge.refunded": cards.on_charge_refunded,
    "refund.updated": cards.on_refund_updated,
    "charge.refund.updated": cards.on_refund_updated,
    "charge.dispute.created": cards.on_dispute_created,
    "charge.dispute.funds_withdrawn": cards.on_dispute_created,
    "charge.dispute.closed": cards.on_dispute_closed,
    "account.updated": connect.on_account_updated,
    "transfer.reversed": stripe_payouts.on_transfer_reversed,
    "payout.paid": stripe_payouts.on_payout_paid,
    "payout.failed": stripe_payouts.on_payout_failed,
}


def process(session: Session, event_id: str) -> str:
    """Work one stored event, once: the row is locked, so two workers given the same
    event do it one after the other and the second finds it done. Raises
    `stripe_api.NotYet` (the caller retries later, the event stays unprocessed) when it
    depends on an event that has not been worked yet."""
    row = session.exec(
        select(StripeEvent).where(col(StripeEvent.id) == event_id).with_for_update()
    ).first()
    if row is None:
        return "No such event."
    if row.processed_at is not None:
        return row.outcome
    row.attempts += 1
    handler = HANDLERS.get(row.type)
    obj = (row.payload.get("data") or {}).get("object") or {}
    if handler is None:
        outcome = "Not an event ClipGen acts on; kept."
    else:
        with session.begin_nested():
            outcome = handler(session, obj)
    row.processed_at = utcnow()
    row.outcome = outcome[:500]
    session.add(row)
    return row.outcome


def unprocessed(session: Session, *, older_than_s: float = 60, limit: int = 500) -> list[str]:
    """Events received but not worked (a lost message, a retry that gave up)."""
    before = utcnow() - timedelta(seconds=older_than_s)
    return list(
        session.exec(
            select(StripeEvent.id)
            .where(col(StripeEvent.processed_at).is_(None), col(StripeEvent.received_at) < before)
            .order_by(col(StripeEvent.received_at))
            .limit(limit)
        ).all()
    )
