"""Clients add funds by card through Stripe Checkout.

The browser only ever goes to Stripe and back: money is booked from Stripe's signed
webhook alone (`checkout.session.completed` when paid, or `payment_intent.succeeded`
for a delayed method), exactly once per Checkout Session however often, late or out of
order the events come, under the ledger key `deposit:stripe:<session id>`.

Stripe's fee (read from the charge's balance transaction) is carried by the platform:
the client's balance gets every cent they paid, and the fee moves from platform revenue
to the `payment_fees` account, so the books match Stripe's balance (amount - fee).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from clipgen import routes
from clipgen.config import get_settings
from clipgen.models import (
    AccountKind,
    CardPayment,
    CardPaymentStatus,
    Role,
    TransactionKind,
    utcnow,
)
from clipgen.services.access import require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput
from clipgen.services.money import stripe_api
from clipgen.services.money.amounts import format_cents
from clipgen.services.money.ledger import Posting, Purpose, account, post_transaction
from clipgen.services.money.stripe_api import NotYet
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify

MAX_REQUEST_KEY = 64


@dataclass(frozen=True)
class Checkout:
    card_payment_id: int
    url: str


def deposit_key(checkout_session_id: str) -> str:
    return f"deposit:stripe:{checkout_session_id}"[:128]


def start_card_payment(
    *, session: Session, actor: UserView, amount_cents: Any, request_key: str
) -> Checkout:
    """A Checkout Session for the client to pay `amount_cents` by card; the same request
    key (one per form shown) gives the same session, so a double click pays once."""
    require_role(actor, Role.CLIENT)
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise InvalidInput("Enter the amount in dollars, e.g. 50 or 50.00.")
    settings = get_settings()
    low, high = settings.card_deposit_min_cents, settings.card_deposit_max_cents
    if not low <= amount_cents <= high:
        raise InvalidInput(
            f"Add between {format_cents(low)} and {format_cents(high)} by card at a time."
        )
    key = " ".join(str(request_key or "").split())[:MAX_REQUEST_KEY]
    if not key:
        raise InvalidInput("This form has expired; reload the page and try again.")
    earlier = session.exec(
        select(CardPayment).where(CardPayment.client_id == actor.id, CardPayment.request_key == key)
    ).first()
    if earlier is not None and earlier.checkout_url:
        if earlier.amount_cents != amount_cents:
            raise InvalidInput("This form was already sent; reload the page for a new payment.")
        return Checkout(earlier.id, earlier.checkout_url)
    payment = earlier or CardPayment(client_id=actor.id, amount_cents=amount_cents, request_key=key)
    session.add(payment)
    session.flush()
    back = get_settings().app_url.rstrip("/") + routes.BILLING
    metadata = {"card_payment_id": str(payment.id), "client_id": str(actor.id)}
    created = stripe_api.call(
        "start the card payment",
        lambda api: api.v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "line_items": [
                    {
                        "price_data": {
                            "currency": "usd",
                            "unit_amount": amount_cents,
                            "product_data": {"name": "ClipGen balance"},
                        },
                        "quantity": 1,
                    }
                ],
                "client_reference_id": str(actor.id),
                "customer_email": actor.email,
                "metadata": metadata,
                "payment_intent_data": {"metadata": metadata},
                "success_url": back + "?checkout=done",
                "cancel_url": back + "?checkout=cancelled",
            },
            options={"idempotency_key": f"card-payment-{payment.id}"},
        ),
    )
    payment.checkout_session_id = created.id
    payment.checkout_url = created.url or ""
    session.add(payment)
    session.flush()
    record_audit(
        session=session,
        action="money.card_payment_started",
        actor_id=actor.id,
        target_type="card_payment",
        target_id=payment.id,
        amount_cents=amount_cents,
        checkout_session=created.id,
    )
    return Checkout(payment.id, payment.checkout_url)


def _locked(session: Session, *conditions) -> CardPayment | None:
    return session.exec(select(CardPayment).where(*conditions).with_for_update()).first()


def _ours(session: Session, obj: dict[str, Any], stripe_id: Any) -> CardPayment | None:
    """The card payment a Stripe object is about (found by the object's id in the column
    `stripe_id`, else by the payment id in its metadata), locked; None for a payment that
    is not ClipGen's (another integration on the same Stripe account)."""
    if obj.get("id"):
        found = _locked(session, stripe_id == str(obj["id"]))
        if found is not None:
            return found
    wanted = (obj.get("metadata") or {}).get("card_payment_id")
    if wanted and str(wanted).isdigit():
        return _locked(session, col(CardPayment.id) == int(wanted))
    return None


def on_checkout_completed(session: Session, obj: dict[str, Any]) -> str:
    """`checkout.session.completed` / `.async_payment_succeeded`: book it if paid, else
    wait for the delayed payment."""
    payment = _ours(session, obj, col(CardPayment.checkout_session_id))
    if payment is None:
        return "Not a ClipGen card payment."
    if payment.checkout_session_id and payment.checkout_session_id != obj.get("id"):
        return "The event names another Checkout Session of this payment; ignored."
    if obj.get("payment_intent"):
        payment.payment_intent_id = str(obj["payment_intent"])
    if obj.get("payment_status") == "paid":
        return _book(session, payment)
    if payment.status == CardPaymentStatus.OPEN:
        payment.status = CardPaymentStatus.PROCESSING
    session.add(payment)
    return "Paid by a delayed method: booked when Stripe confirms the payment."


def on_payment_succeeded(session: Session, obj: dict[str, Any]) -> str:
    """`payment_intent.succeeded`: the money arrived (first, or after a delay)."""
    payment = _ours(session, obj, col(CardPayment.payment_intent_id))
    if payment is None:
        return "Not a ClipGen card payment."
    payment.payment_intent_id = str(obj["id"])
    return _book(session, payment)


def on_checkout_expired(session: Session, obj: dict[str, Any]) -> str:
    payment = _ours(session, obj, col(CardPayment.checkout_session_id))
    if payment is None:
        return "Not a ClipGen card payment."
    if payment.status in (CardPaymentStatus.OPEN, CardPaymentStatus.PROCESSING):
        payment.status = CardPaymentStatus.EXPIRED
        session.add(payment)
    return f"Card payment #{payment.id} expired unpaid."


def _book(session: Session, payment: CardPayment) -> str:
    """Book a paid card payment into the client's balance, once, with Stripe's fee."""
    if payment.status == CardPaymentStatus.PAID:
        return f"Card payment #{payment.id} was booked already."
    if not payment.payment_intent_id or not payment.checkout_session_id:
        raise NotYet("The payment's Checkout Session or Payment Intent is not known yet.")
    intent = stripe_api.call(
        "read the card payment",
        lambda api: api.v1.payment_intents.retrieve(
            payment.payment_intent_id,
            params={"expand": ["latest_charge.balance_transaction"]},
        ),
    )
    if intent.status != "succeeded":
        raise NotYet(f"The payment is {intent.status} at Stripe, not succeeded yet.")
    charge = intent.latest_charge
    received = int(intent.amount_received)
    fee = int(charge.balance_transaction.fee) if charge and charge.balance_transaction else 0
    client_available = account(session, AccountKind.CLIENT_AVAILABLE, user_id=payment.client_id)
    details = {
        "client_id": payment.client_id,
        "amount_cents": received,
        "reference": payment.checkout_session_id,
        "provider": "stripe",
        "card_payment_id": payment.id,
        "charge_id": charge.id if charge else "",
        "fee_cents": fee,
        "stripe_source": charge.id if charge else "",
    }
    deposit = post_transaction(
        session,
        key=deposit_key(payment.checkout_session_id),
        purpose=Purpose(kind=TransactionKind.DEPOSIT, memo="Card payment", details=details),
        postings=[
            Posting(account(session, AccountKind.EXTERNAL_DEPOSITS), -received),
            Posting(client_available, received),
        ],
    )
    if fee:
        post_transaction(
            session,
            key=f"payment-fee:{details['charge_id'] or payment.checkout_session_id}"[:128],
            purpose=Purpose(
                kind=TransactionKind.PAYMENT_FEE,
                memo="Stripe's fee on a card payment, carried by ClipGen",
                details={**details, "amount_cents": fee},
            ),
            postings=[
                Posting(account(session, AccountKind.PLATFORM_REVENUE), -fee),
                Posting(account(session, AccountKind.PAYMENT_FEES), fee),
            ],
        )
    payment.status = CardPaymentStatus.PAID
    payment.charge_id = details["charge_id"] or None
    payment.fee_cents = fee
    payment.paid_at = utcnow()
    session.add(payment)
    notify(
        session,
        payment.client_id,
        Kind.CARD_PAYMENT_RECEIVED,
        f"Your card payment of {format_cents(received)} was added to your balance.",
        routes.BILLING,
    )
    record_audit(
        session=session,
        action="money.card_payment_booked",
        actor_id=None,
        target_type="user",
        target_id=payment.client_id,
        amount_cents=received,
        fee_cents=fee,
        card_payment_id=payment.id,
        transaction_id=deposit.id,
    )
    return f"Booked {format_cents(received)} for card payment #{payment.id}."
