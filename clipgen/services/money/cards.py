"""Clients add funds by card through Stripe Checkout.

The browser only ever goes to Stripe and back: money is booked from Stripe's signed
webhook alone (`checkout.session.completed` when paid, or `payment_intent.succeeded`
for a delayed method), exactly once per Checkout Session however often, late or out of
order the events come, under the ledger key `deposit:stripe:<session id>`.

Stripe's fee (read from the charge's balance transaction) is carried by the platform:
the client's balance gets every cent they paid, and the fee moves from platform revenue
to the `payment_fees` account, so the books match Stripe's balance (amount - fee).

Refunds and disputes come from Stripe too. ClipGen has no refund button: an admin refunds
in the Stripe Dashboard (the normal case), and `charge.refunded` books each succeeded
refund once (`card-refund:<re_ id>`), taken from the client's available balance and, for
what the client already spent into campaigns, carried by platform revenue (escrow is never
touched). A dispute holds its amount the same way while the bank decides
(`dispute-hold:<du_ id>`), gives it back when won (`dispute-won:<du_ id>`), and stays
withdrawn when lost; Stripe's dispute fee (and its return) is booked from the dispute's
balance transactions (`dispute-fee:<txn_ id>`). Every handler is idempotent and works in
whatever order Stripe's events come.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from clipgen import routes
from clipgen.config import get_settings
from clipgen.models import (
    AccountKind,
    CardDispute,
    CardPayment,
    CardPaymentStatus,
    DisputeStatus,
    LedgerAccount,
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
from clipgen.services.money.ledger import (
    Posting,
    Purpose,
    account,
    balance,
    find_transaction,
    post_transaction,
    posted_here,
)
from clipgen.services.money.stripe_api import NotYet
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify, notify_admins

log = logging.getLogger(__name__)

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
    settings = get_settings()
    if not settings.stripe_configured:
        raise InvalidInput("Card payments are not set up on this ClipGen.")
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise InvalidInput("Enter the amount in dollars, e.g. 50 or 50.00.")
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


# -- refunds and disputes ---------------------------------------------------------------

# Closed in the merchant's favour: a won dispute, an inquiry closed without a chargeback,
# a dispute the card network prevented. The hold (if any) goes back.
CLOSED_FOR_US = ("won", "warning_closed", "prevented")
CLOSED_AGAINST_US = ("lost",)


def refund_key(refund_id: str) -> str:
    return f"card-refund:{refund_id}"[:128]


def dispute_hold_key(dispute_id: str) -> str:
    return f"dispute-hold:{dispute_id}"[:128]


def dispute_won_key(dispute_id: str) -> str:
    return f"dispute-won:{dispute_id}"[:128]


def _id_of(value: Any) -> str:
    """The id of a Stripe field that is an id or an expanded object."""
    if isinstance(value, dict):
        return str(value.get("id") or "")
    return str(value or "")


def _field(obj: Any, name: str, default: Any = None) -> Any:
    """A field of a Stripe object given as a dict (an event's) or a StripeObject (an
    API answer's)."""
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _payment_of_charge(
    session: Session, charge_id: str, intent_id: str, metadata: Any
) -> CardPayment | None:
    """The card payment of a charge, locked: by the charge id, else the Payment Intent,
    else the payment id in the metadata; None when it is not ClipGen's."""
    found = None
    if charge_id:
        found = _locked(session, col(CardPayment.charge_id) == charge_id)
    if found is None and intent_id:
        found = _locked(session, col(CardPayment.payment_intent_id) == intent_id)
    if found is None:
        wanted = (metadata or {}).get("card_payment_id") if isinstance(metadata, dict) else None
        if wanted and str(wanted).isdigit():
            found = _locked(session, col(CardPayment.id) == int(wanted))
    if found is not None and found.charge_id and charge_id and found.charge_id != charge_id:
        return None  # the metadata names a payment that was paid by another charge
    return found


def _booked(payment: CardPayment) -> None:
    if payment.status != CardPaymentStatus.PAID:
        raise NotYet(f"Card payment #{payment.id} is not booked yet.")


def _tell_admins(session: Session, kind: str, message: str) -> None:
    notify_admins(session, kind, message, routes.ADMIN_MONEY)


def _split(
    session: Session, client_id: int, amount: int
) -> tuple[int, LedgerAccount, LedgerAccount, LedgerAccount]:
    """How much of `amount` the client's available balance can give (the platform carries
    the rest), with the three accounts that move: the client's, platform revenue and
    external deposits. The three are locked in id order (the order `post_transaction`
    locks in), so the balance read stays true until the commit and nothing deadlocks."""
    client = account(session, AccountKind.CLIENT_AVAILABLE, user_id=client_id)
    revenue = account(session, AccountKind.PLATFORM_REVENUE)
    outside = account(session, AccountKind.EXTERNAL_DEPOSITS)
    ids = sorted({client.id, revenue.id, outside.id})
    session.exec(
        select(LedgerAccount.id)
        .where(col(LedgerAccount.id).in_(ids))
        .order_by(col(LedgerAccount.id))
        .with_for_update()
    ).all()
    return min(amount, max(balance(session, client), 0)), client, revenue, outside


def on_charge_refunded(session: Session, obj: dict[str, Any]) -> str:
    """`charge.refunded`: book each succeeded refund of the charge that is not booked yet
    (the event does not say which refund is new, so the charge's refunds are listed)."""
    charge_id = _id_of(obj.get("id"))
    payment = _payment_of_charge(
        session, charge_id, _id_of(obj.get("payment_intent")), obj.get("metadata")
    )
    if payment is None:
        return "Not a ClipGen card payment."
    return _book_refunds(session, payment, charge_id)


def on_refund_updated(session: Session, obj: dict[str, Any]) -> str:
    """`refund.updated` / `charge.refund.updated`: a refund that was pending may have
    succeeded; book what succeeded."""
    charge_id = _id_of(obj.get("charge"))
    payment = _payment_of_charge(
        session, charge_id, _id_of(obj.get("payment_intent")), obj.get("metadata")
    )
    if payment is None:
        return "Not a refund of a ClipGen card payment."
    return _book_refunds(session, payment, charge_id)


def _book_refunds(session: Session, payment: CardPayment, charge_id: str) -> str:
    _booked(payment)
    charge_id = payment.charge_id or charge_id
    if not charge_id:
        return f"Card payment #{payment.id} has no charge to refund."
    refunds = stripe_api.call(
        "read the card payment's refunds",
        lambda api: list(
            api.v1.refunds.list(params={"charge": charge_id, "limit": 100}).auto_paging_iter()
        ),
    )
    done = [
        refund
        for refund in sorted(refunds, key=lambda r: (int(r.created or 0), r.id))
        if refund.status == "succeeded" and int(refund.amount or 0) > 0
    ]
    booked = [cents for refund in done if (cents := _book_refund(session, payment, refund))]
    if not booked:
        return f"The refunds of card payment #{payment.id} were booked already."
    return (
        f"Booked {len(booked)} refund(s) of {format_cents(sum(booked))} "
        f"for card payment #{payment.id}."
    )


def _book_refund(session: Session, payment: CardPayment, refund: Any) -> int:
    """Book one succeeded refund, once; the cents booked now (0: booked before)."""
    key = refund_key(refund.id)
    if find_transaction(session, key) is not None:
        return 0
    amount = int(refund.amount)
    from_client, client, revenue, outside = _split(session, payment.client_id, amount)
    carried = amount - from_client
    details = {
        "provider": "stripe",
        "stripe_source": refund.id,
        "charge_id": payment.charge_id or "",
        "card_payment_id": payment.id,
        "client_id": payment.client_id,
        "amount_cents": amount,
        "client_cents": from_client,
        "platform_cents": carried,
        "payment_cents": payment.amount_cents,
    }
    transaction = post_transaction(
        session,
        key=key,
        purpose=Purpose(
            kind=TransactionKind.CARD_REFUND, memo="Card payment refunded", details=details
        ),
        postings=[
            Posting(client, -from_client),
            Posting(revenue, -carried),
            Posting(outside, amount),
        ],
    )
    if not posted_here(session, transaction):
        return 0
    payment.refunded_cents += amount
    session.add(payment)
    paid = format_cents(payment.amount_cents)
    message = (
        f"{format_cents(amount)} of your card payment of {paid} was refunded to your card; "
        f"{format_cents(from_client)} left your balance."
    )
    if carried:
        message += (
            f" The other {format_cents(carried)} was already spent on campaigns, so ClipGen "
            "covered it."
        )
    notify(session, payment.client_id, Kind.CARD_REFUNDED, message, routes.BILLING)
    if carried:
        _tell_admins(
            session,
            Kind.CARD_REFUNDED,
            f"Card payment #{payment.id} was refunded {format_cents(amount)} at Stripe; the "
            f"client's balance had {format_cents(from_client)}, so ClipGen carried "
            f"{format_cents(carried)}.",
        )
    record_audit(
        session=session,
        action="money.card_refund_booked",
        actor_id=None,
        target_type="user",
        target_id=payment.client_id,
        amount_cents=amount,
        client_cents=from_client,
        platform_cents=carried,
        card_payment_id=payment.id,
        refund_id=refund.id,
        transaction_id=transaction.id,
    )
    return amount


def _dispute_payment(session: Session, obj: dict[str, Any]) -> CardPayment | None:
    """The card payment a dispute is about, locked and booked (else `NotYet`); None when
    the disputed charge is not ClipGen's. A dispute carries no metadata of ours, so a
    charge not known by id yet is read from Stripe for its metadata."""
    charge_id = _id_of(obj.get("charge"))
    intent_id = _id_of(obj.get("payment_intent"))
    metadata = obj["charge"].get("metadata") if isinstance(obj.get("charge"), dict) else None
    payment = _payment_of_charge(session, charge_id, intent_id, metadata)
    if payment is None and charge_id and not metadata:
        charge = stripe_api.call(
            "read the disputed charge", lambda api: api.v1.charges.retrieve(charge_id)
        )
        found = charge.metadata.to_dict() if charge.metadata else {}
        payment = _payment_of_charge(session, charge_id, intent_id, found)
    if payment is not None:
        _booked(payment)
    return payment


def on_dispute_created(session: Session, obj: dict[str, Any]) -> str:
    """`charge.dispute.created` (and `.funds_withdrawn`, when an inquiry becomes a
    chargeback): record the dispute once and hold its amount."""
    payment = _dispute_payment(session, obj)
    if payment is None:
        return "Not a dispute of a ClipGen card payment."
    row, new = _open_dispute(session, payment, obj)
    held = _hold(session, payment, row, obj)
    if held is not None:
        return (
            f"Dispute {row.stripe_dispute_id} of card payment #{payment.id}: "
            f"{format_cents(held)} held from the client's balance."
        )
    if new:
        return f"Dispute {row.stripe_dispute_id} (an inquiry) recorded; no money withdrawn yet."
    return f"Dispute {row.stripe_dispute_id} was recorded already."


def on_dispute_closed(session: Session, obj: dict[str, Any]) -> str:
    """`charge.dispute.closed`: won gives the hold back, lost leaves it withdrawn. A close
    that comes before the dispute's created event opens the dispute first."""
    payment = _dispute_payment(session, obj)
    if payment is None:
        return "Not a dispute of a ClipGen card payment."
    row, _ = _open_dispute(session, payment, obj)
    _hold(session, payment, row, obj)
    return _close(session, payment, row, obj)


def _open_dispute(
    session: Session, payment: CardPayment, obj: dict[str, Any]
) -> tuple[CardDispute, bool]:
    """The dispute's row, made the first time (the payment's lock makes this once; the
    unique id settles any other race). True when made now."""
    dispute_id = str(obj["id"])[:255]

    def find() -> CardDispute | None:
        return session.exec(
            select(CardDispute).where(CardDispute.stripe_dispute_id == dispute_id)
        ).first()

    row = find()
    if row is not None:
        return row, False
    row = CardDispute(
        stripe_dispute_id=dispute_id,
        card_payment_id=payment.id,
        client_id=payment.client_id,
        amount_cents=int(obj.get("amount") or 0),
        reason=str(obj.get("reason") or "")[:64],
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return find(), False
    record_audit(
        session=session,
        action="money.card_dispute_opened",
        actor_id=None,
        target_type="user",
        target_id=payment.client_id,
        dispute_id=dispute_id,
        card_payment_id=payment.id,
        amount_cents=row.amount_cents,
        reason=row.reason,
        stripe_status=str(obj.get("status") or ""),
    )
    if str(obj.get("status") or "").startswith("warning_"):
        _tell_admins(
            session,
            Kind.CARD_DISPUTE_OPENED,
            f"The cardholder's bank is asking about card payment #{payment.id} "
            f"({format_cents(row.amount_cents)}, {row.reason or 'no reason given'}): an "
            "inquiry, no money withdrawn yet. Answer it in the Stripe Dashboard.",
        )
    return row, True


def _hold(
    session: Session, payment: CardPayment, row: CardDispute, obj: dict[str, Any]
) -> int | None:
    """Hold the disputed amount (once) when Stripe withdrew it, and book Stripe's dispute
    fees; the cents held from the client now, None when nothing was held now."""
    _book_dispute_fees(session, payment, row, obj)
    withdrawn = not str(obj.get("status") or "").startswith("warning_")
    key = dispute_hold_key(row.stripe_dispute_id)
    if not withdrawn or row.status != DisputeStatus.OPEN or find_transaction(session, key):
        return None
    amount = row.amount_cents
    held, client, revenue, outside = _split(session, row.client_id, amount)
    carried = amount - held
    details = {
        "provider": "stripe",
        "stripe_source": row.stripe_dispute_id,
        "dispute_id": row.stripe_dispute_id,
        "charge_id": payment.charge_id or "",
        "card_payment_id": payment.id,
        "client_id": row.client_id,
        "amount_cents": amount,
        "client_cents": held,
        "platform_cents": carried,
        "reason": row.reason,
    }
    transaction = post_transaction(
        session,
        key=key,
        purpose=Purpose(
            kind=TransactionKind.DISPUTE_HOLD, memo="Card payment disputed", details=details
        ),
        postings=[Posting(client, -held), Posting(revenue, -carried), Posting(outside, amount)],
    )
    if not posted_here(session, transaction):
        return None
    row.held_cents = held
    session.add(row)
    notify(
        session,
        row.client_id,
        Kind.CARD_DISPUTE_OPENED,
        f"A card payment of {format_cents(amount)} is disputed by the cardholder's bank; "
        f"{format_cents(held)} is held from your balance until the bank decides.",
        routes.BILLING,
    )
    _tell_admins(
        session,
        Kind.CARD_DISPUTE_OPENED,
        f"Card payment #{payment.id} ({format_cents(amount)}) is disputed "
        f"({row.reason or 'no reason given'}): {format_cents(held)} held from the client's "
        f"balance, {format_cents(carried)} carried by ClipGen. Answer it in the Stripe "
        "Dashboard.",
    )
    record_audit(
        session=session,
        action="money.card_dispute_held",
        actor_id=None,
        target_type="user",
        target_id=row.client_id,
        dispute_id=row.stripe_dispute_id,
        amount_cents=amount,
        held_cents=held,
        platform_cents=carried,
        transaction_id=transaction.id,
    )
    return held


def _book_dispute_fees(
    session: Session, payment: CardPayment, row: CardDispute, obj: dict[str, Any]
) -> None:
    """Stripe's dispute fee from each of the dispute's balance transactions, once each: a
    fee is carried by platform revenue, a returned fee (a negative one, when won) goes back."""
    for item in obj.get("balance_transactions") or []:
        txn = item
        if isinstance(item, str):
            txn = stripe_api.call(
                "read the dispute's balance transaction",
                lambda api, txn_id=item: api.v1.balance_transactions.retrieve(txn_id),
            )
        txn_id, fee = str(_field(txn, "id") or ""), int(_field(txn, "fee") or 0)
        if not txn_id or not fee:
            continue
        post_transaction(
            session,
            key=f"dispute-fee:{txn_id}"[:128],
            purpose=Purpose(
                kind=TransactionKind.PAYMENT_FEE,
                memo=(
                    "Stripe's dispute fee, carried by ClipGen"
                    if fee > 0
                    else "Stripe's dispute fee returned (dispute won)"
                ),
                details={
                    "provider": "stripe",
                    "stripe_source": row.stripe_dispute_id,
                    "balance_transaction": txn_id,
                    "dispute_id": row.stripe_dispute_id,
                    "charge_id": payment.charge_id or "",
                    "card_payment_id": payment.id,
                    "client_id": row.client_id,
                    "amount_cents": fee,
                    "fee_cents": fee,
                },
            ),
            postings=[
                Posting(account(session, AccountKind.PLATFORM_REVENUE), -fee),
                Posting(account(session, AccountKind.PAYMENT_FEES), fee),
            ],
        )


def _close(session: Session, payment: CardPayment, row: CardDispute, obj: dict[str, Any]) -> str:
    status = str(obj.get("status") or "")
    if row.status != DisputeStatus.OPEN:
        return f"Dispute {row.stripe_dispute_id} was closed already ({row.status})."
    if status not in CLOSED_FOR_US + CLOSED_AGAINST_US:
        return f"Dispute {row.stripe_dispute_id} is {status or 'not closed'} at Stripe; kept open."
    amount, held = row.amount_cents, row.held_cents
    carried = amount - held
    hold = find_transaction(session, dispute_hold_key(row.stripe_dispute_id))
    transaction = None
    if status in CLOSED_FOR_US:
        if hold is not None:
            transaction = post_transaction(
                session,
                key=dispute_won_key(row.stripe_dispute_id),
                purpose=Purpose(
                    kind=TransactionKind.DISPUTE_WON,
                    memo="Card payment dispute won",
                    details={**hold.details, "stripe_status": status},
                    reversal_of=hold.id,
                ),
                postings=[
                    Posting(
                        account(session, AccountKind.CLIENT_AVAILABLE, user_id=row.client_id), held
                    ),
                    Posting(account(session, AccountKind.PLATFORM_REVENUE), carried),
                    Posting(account(session, AccountKind.EXTERNAL_DEPOSITS), -amount),
                ],
            )
        row.status = DisputeStatus.WON
        client_words = (
            f"The bank decided the dispute of your card payment of {format_cents(amount)} "
            f"for you: the {format_cents(held)} held is back in your balance."
            if hold is not None
            else f"The bank's inquiry about your card payment of {format_cents(amount)} "
            "was closed; nothing changed in your balance."
        )
        admin_words = (
            f"The dispute of card payment #{payment.id} ({format_cents(amount)}) was won: "
            "the hold is released and Stripe returned the money."
        )
        outcome = f"Dispute {row.stripe_dispute_id} won: the hold of {format_cents(held)} released."
    else:
        # The money left with Stripe's withdrawal (the hold): nothing more moves.
        row.status = DisputeStatus.LOST
        client_words = (
            f"The bank decided the dispute of your card payment of {format_cents(amount)} "
            f"for the cardholder: the {format_cents(held)} held from your balance went back "
            "to them."
        )
        admin_words = (
            f"The dispute of card payment #{payment.id} ({format_cents(amount)}) was lost: "
            f"ClipGen carried {format_cents(carried)} of it and Stripe's dispute fee."
        )
        outcome = (
            f"Dispute {row.stripe_dispute_id} lost: the {format_cents(amount)} stays withdrawn."
        )
    row.closed_at = utcnow()
    session.add(row)
    notify(session, row.client_id, Kind.CARD_DISPUTE_CLOSED, client_words, routes.BILLING)
    _tell_admins(session, Kind.CARD_DISPUTE_CLOSED, admin_words)
    record_audit(
        session=session,
        action=f"money.card_dispute_{row.status}",
        actor_id=None,
        target_type="user",
        target_id=row.client_id,
        dispute_id=row.stripe_dispute_id,
        card_payment_id=payment.id,
        amount_cents=amount,
        held_cents=held,
        stripe_status=status,
        transaction_id=transaction.id if transaction is not None else None,
    )
    return outcome


# --- the client's own card payments (Billing) ----------------------------------------------

MY_CARD_PAYMENTS_MAX = 100
CARD_PAYMENT_WORDS = {
    CardPaymentStatus.OPEN: "Waiting for payment",
    CardPaymentStatus.PROCESSING: "Processing",
    CardPaymentStatus.PAID: "Added to balance",
    CardPaymentStatus.EXPIRED: "Expired",
}


@dataclass(frozen=True)
class CardPaymentView:
    """A card payment as its client sees it (Stripe's fee, carried by ClipGen, is not shown)."""

    id: int
    amount_cents: int
    status: str
    status_words: str
    refunded_cents: int
    created_at: datetime
    paid_at: datetime | None


def my_card_payments(
    *, session: Session, actor: UserView, limit: int = 20
) -> list[CardPaymentView]:
    """The client's latest card payments, newest first."""
    require_role(actor, Role.CLIENT)
    if isinstance(limit, bool) or not isinstance(limit, int):
        limit = 20
    rows = session.exec(
        select(CardPayment)
        .where(CardPayment.client_id == actor.id)
        .order_by(col(CardPayment.created_at).desc(), col(CardPayment.id).desc())
        .limit(max(1, min(MY_CARD_PAYMENTS_MAX, limit)))
    ).all()
    return [
        CardPaymentView(
            id=row.id,
            amount_cents=row.amount_cents,
            status=row.status,
            status_words=CARD_PAYMENT_WORDS.get(row.status, str(row.status).title()),
            refunded_cents=row.refunded_cents,
            created_at=row.created_at,
            paid_at=row.paid_at,
        )
        for row in rows
    ]
