"""What happens to a payout after its Transfer reached the clipper's Stripe account.

Approval (`payouts`) sent the Transfer and booked the money out of ClipGen. Then:
- a worker asks Stripe to pay the connected account's balance to the clipper's bank (one
  Stripe payout per ClipGen payout, keyed by it; the account's schedule is manual);
- `payout.paid` (on the connected account) marks it paid and tells the clipper;
- `payout.failed`, or a payout Stripe refuses to make, reverses the Transfer and returns
  the money to the clipper's available balance with the reason, and tells them;
- `transfer.reversed` (ClipGen's own reversal, or one made in Stripe's dashboard) returns
  each reversal once, under the key `payout-returned:<reversal id>`.

Every handler locks the payout's row first, so an approval still being committed and a
webhook about it are worked one after the other, and every cent is in one place.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import Session, col, select

from clipgen import routes
from clipgen.models import AccountKind, Payout, PayoutStatus, TransactionKind, utcnow
from clipgen.services.audit import record_audit
from clipgen.services.money import connect, stripe_api
from clipgen.services.money.amounts import format_cents
from clipgen.services.money.ledger import (
    Posting,
    Purpose,
    account,
    find_transaction,
    post_transaction,
)
from clipgen.services.money.stripe_api import NotYet, StripeRefused
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify

MAX_REASON = 500


def _locked(session: Session, *conditions) -> Payout | None:
    return session.exec(select(Payout).where(*conditions).with_for_update()).first()


def _ours(session: Session, obj: dict[str, Any], stripe_id: Any) -> Payout | None:
    """The payout a Stripe object is about (by its id in `stripe_id`, else by the payout
    id in its metadata), locked; None when it is not ClipGen's."""
    if obj.get("id"):
        found = _locked(session, stripe_id == str(obj["id"]))
        if found is not None:
            return found
    wanted = (obj.get("metadata") or {}).get("payout_id")
    if wanted and str(wanted).isdigit():
        found = _locked(session, col(Payout.id) == int(wanted))
        if found is not None and found.provider == "stripe":
            return found
        if found is not None and found.status == PayoutStatus.REQUESTED:
            # Stripe knows of a transfer whose approval is not committed yet.
            raise NotYet(f"Payout #{found.id} is still being approved.")
    return None


def send_bank_payout(session: Session, payout_id: int) -> str:
    """Ask Stripe to pay the transferred money to the clipper's bank (the worker, after
    the approval committed). Stripe refusing (payouts disabled since, ...) fails the
    payout and returns the money; Stripe unreachable raises, and the worker retries."""
    payout = _locked(session, col(Payout.id) == int(payout_id))
    if payout is None or payout.status != PayoutStatus.PROCESSING or payout.stripe_payout_id:
        return "Nothing to send."
    row = connect.account_of(session, payout.clipper_id)
    if row is None:
        return _fail(session, payout, "The clipper's Stripe account was not found.")
    try:
        made = stripe_api.call(
            "pay the clipper's bank",
            lambda api: api.v1.payouts.create(
                params={
                    "amount": payout.amount_cents,
                    "currency": "usd",
                    "description": f"ClipGen payout #{payout.id}",
                    "metadata": {"payout_id": str(payout.id)},
                },
                options={
                    "stripe_account": row.stripe_account_id,
                    "idempotency_key": f"payout-{payout.id}-bank",
                },
            ),
        )
    except StripeRefused as refused:
        return _fail(session, payout, str(refused))
    payout.stripe_payout_id = made.id
    session.add(payout)
    return f"Payout #{payout.id} sent to the bank as {made.id}."


def on_payout_paid(session: Session, obj: dict[str, Any]) -> str:
    """`payout.paid` on a connected account: the clipper's bank has the money."""
    payout = _ours(session, obj, col(Payout.stripe_payout_id))
    if payout is None:
        return "Not a ClipGen payout."
    if payout.status != PayoutStatus.PROCESSING:
        return f"Payout #{payout.id} is {payout.status}; nothing to do."
    payout.status = PayoutStatus.PAID
    payout.stripe_payout_id = payout.stripe_payout_id or str(obj.get("id") or "")
    payout.paid_at = utcnow()
    session.add(payout)
    notify(
        session,
        payout.clipper_id,
        Kind.PAYOUT_PAID,
        f"Your payout of {format_cents(payout.amount_cents)} was paid to your bank.",
        routes.EARNINGS,
    )
    record_audit(
        session=session,
        action="money.payout_paid",
        actor_id=None,
        target_type="payout",
        target_id=payout.id,
        amount_cents=payout.amount_cents,
        stripe_payout=payout.stripe_payout_id,
    )
    return f"Payout #{payout.id} paid to the bank."


def on_payout_failed(session: Session, obj: dict[str, Any]) -> str:
    """`payout.failed`: the bank refused it (Stripe put the money back on the connected
    account), so ClipGen takes it back and returns it to the clipper's balance."""
    payout = _ours(session, obj, col(Payout.stripe_payout_id))
    if payout is None:
        return "Not a ClipGen payout."
    if payout.status not in (PayoutStatus.PROCESSING, PayoutStatus.PAID):
        return f"Payout #{payout.id} is {payout.status}; nothing to do."
    words = str(obj.get("failure_message") or obj.get("failure_code") or "").strip()
    return _fail(session, payout, f"The bank refused the payout: {words or 'no reason given'}")


def on_transfer_reversed(session: Session, obj: dict[str, Any]) -> str:
    """`transfer.reversed`: every reversal of the payout's transfer is returned once."""
    payout = _ours(session, obj, col(Payout.transfer_id))
    if payout is None:
        return "Not a ClipGen payout."
    returned = _return_reversals(session, payout)
    # The event's transfer says how much is reversed; only ever more in a later event.
    if int(obj.get("amount_reversed") or 0) >= payout.amount_cents:
        _mark_failed(session, payout, "Stripe reversed the transfer to your account.")
    return f"Payout #{payout.id}: {format_cents(returned)} returned."


def unsent(session: Session, *, older_than_s: float = 300, limit: int = 200) -> list[int]:
    """Processing payouts whose bank payout was never asked for (a lost message)."""
    before = utcnow() - timedelta(seconds=older_than_s)
    return list(
        session.exec(
            select(Payout.id)
            .where(
                Payout.status == PayoutStatus.PROCESSING,
                Payout.stripe_payout_id == "",
                col(Payout.decided_at) < before,
            )
            .limit(limit)
        ).all()
    )


def _fail(session: Session, payout: Payout, reason: str) -> str:
    """Take the transfer back from the clipper's Stripe account and return the money."""
    transfer = stripe_api.call(
        "read the payout's transfer",
        lambda api: api.v1.transfers.retrieve(payout.transfer_id),
    )
    if int(transfer.amount_reversed) < int(transfer.amount):
        stripe_api.call(
            "take the payout back from the clipper's Stripe account",
            lambda api: api.v1.transfers.reversals.create(
                payout.transfer_id,
                params={"metadata": {"payout_id": str(payout.id)}},
                options={"idempotency_key": f"payout-{payout.id}-reversal"},
            ),
        )
    _return_reversals(session, payout, reason)
    _mark_failed(session, payout, reason)
    return f"Payout #{payout.id} failed: {reason}"


def _return_reversals(session: Session, payout: Payout, reason: str = "") -> int:
    """Book each reversal of the payout's transfer back to the clipper, once; the cents
    returned by this call."""
    reversals = stripe_api.call(
        "read the payout's reversals",
        lambda api: api.v1.transfers.reversals.list(payout.transfer_id, params={"limit": 100}),
    )
    returned = 0
    for reversal in reversals.auto_paging_iter():
        key = f"payout-returned:{reversal.id}"[:128]
        amount = int(reversal.amount)
        if find_transaction(session, key) is not None:
            continue
        post_transaction(
            session,
            key=key,
            purpose=Purpose(
                kind=TransactionKind.PAYOUT_RETURNED,
                payout_id=payout.id,
                memo="Payout returned",
                details={
                    "clipper_id": payout.clipper_id,
                    "provider": "stripe",
                    "transfer_id": payout.transfer_id,
                    "stripe_source": reversal.id,
                    "amount_cents": amount,
                    "reason": (reason or payout.failure_reason)[:MAX_REASON],
                },
            ),
            postings=[
                Posting(account(session, AccountKind.EXTERNAL_PAYOUTS), -amount),
                Posting(
                    account(session, AccountKind.CLIPPER_AVAILABLE, user_id=payout.clipper_id),
                    amount,
                ),
            ],
        )
        returned += amount
    return returned


def _mark_failed(session: Session, payout: Payout, reason: str) -> None:
    if payout.status == PayoutStatus.FAILED:
        return
    payout.status = PayoutStatus.FAILED
    payout.failure_reason = reason[:MAX_REASON]
    session.add(payout)
    notify(
        session,
        payout.clipper_id,
        Kind.PAYOUT_FAILED,
        f"Your payout of {format_cents(payout.amount_cents)} could not be paid and is back "
        f"in your available balance. {payout.failure_reason}",
        routes.EARNINGS,
    )
    record_audit(
        session=session,
        action="money.payout_failed",
        actor_id=None,
        target_type="payout",
        target_id=payout.id,
        amount_cents=payout.amount_cents,
        reason=payout.failure_reason,
    )
