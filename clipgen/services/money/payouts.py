"""Clippers' payouts: a request moves available money into payout-pending; an admin pays
it (through a payout provider: manual today, Stripe Connect later) or rejects it, which
returns the money. Concurrent requests can never pay out more than the balance: the
ledger's database check refuses the overdraft."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import update
from sqlmodel import Session, col, select

from clipgen import routes
from clipgen.models import (
    AccountKind,
    Payout,
    PayoutStatus,
    Role,
    TransactionKind,
    User,
    utcnow,
)
from clipgen.services.access import require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotFound
from clipgen.services.money.amounts import format_cents
from clipgen.services.money.ledger import (
    InsufficientFunds,
    Posting,
    Purpose,
    account,
    balance,
    find_transaction,
    post_transaction,
    require_positive_cents,
)
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify

MIN_PAYOUT_CENTS = 1000
MAX_REASON_LENGTH = 500


class PayoutProvider(Protocol):
    """Who sends the money: `pay` returns the payment's reference, or raises."""

    name: str

    def pay(self, *, payout_id: int, amount_cents: int, reference: str) -> str: ...


class ManualPayout:
    """An admin paid by hand (a bank transfer) and records the transfer's reference."""

    name = "manual"

    def pay(self, *, payout_id: int, amount_cents: int, reference: str) -> str:
        cleaned = " ".join(str(reference or "").split())
        if not cleaned:
            raise InvalidInput("Enter the payment's reference (e.g. the bank transfer id).")
        return cleaned[:200]


MANUAL_PAYOUTS = ManualPayout()


@dataclass(frozen=True)
class PayoutView:
    id: int
    clipper_id: int
    clipper_name: str
    clipper_email: str
    amount_cents: int
    status: str
    provider: str
    reference: str
    rejection_reason: str
    requested_at: datetime
    decided_at: datetime | None


def _view(payout: Payout, clipper: User) -> PayoutView:
    return PayoutView(
        id=payout.id,
        clipper_id=payout.clipper_id,
        clipper_name=clipper.display_name,
        clipper_email=clipper.email,
        amount_cents=payout.amount_cents,
        status=payout.status,
        provider=payout.provider,
        reference=payout.reference,
        rejection_reason=payout.rejection_reason,
        requested_at=payout.requested_at,
        decided_at=payout.decided_at,
    )


class _AlreadyRequested(Exception):
    """Raised inside the savepoint to undo a duplicate request's own payout row."""

    def __init__(self, payout_id: int) -> None:
        self.payout_id = payout_id


def request_payout(
    *, session: Session, actor: UserView, amount_cents: int, request_key: str = ""
) -> PayoutView:
    """Ask to be paid `amount_cents` of the clipper's available money (at least $10).

    `request_key` (one per form shown) makes a double click one request.
    """
    require_role(actor, Role.CLIPPER)
    amount = require_positive_cents(amount_cents)
    if amount < MIN_PAYOUT_CENTS:
        raise InvalidInput(f"The smallest payout is {format_cents(MIN_PAYOUT_CENTS)}.")
    key = f"payout-request:{actor.id}:{request_key}"[:128] if request_key else ""
    if key:
        earlier = find_transaction(session, key)
        if earlier is not None:
            return _view(session.get(Payout, earlier.payout_id), session.get(User, actor.id))
    available = account(session, AccountKind.CLIPPER_AVAILABLE, user_id=actor.id)
    try:
        # A savepoint: a refused request leaves no payout row behind, in any caller.
        with session.begin_nested():
            payout = Payout(clipper_id=actor.id, amount_cents=amount)
            session.add(payout)
            session.flush()
            posted = post_transaction(
                session,
                key=key or f"payout-request:{actor.id}:payout-{payout.id}",
                purpose=Purpose(
                    kind=TransactionKind.PAYOUT_REQUEST,
                    actor_id=actor.id,
                    payout_id=payout.id,
                    details={"clipper_id": actor.id},
                ),
                postings=[
                    Posting(available, -amount),
                    Posting(
                        account(session, AccountKind.CLIPPER_PAYOUT_PENDING, user_id=actor.id),
                        amount,
                    ),
                ],
            )
            if posted.payout_id != payout.id:
                # The same click, a moment earlier in another request, won: drop our row.
                raise _AlreadyRequested(posted.payout_id)
    except _AlreadyRequested as earlier:
        return _view(session.get(Payout, earlier.payout_id), session.get(User, actor.id))
    except InsufficientFunds:
        raise InsufficientFunds(
            f"You have {format_cents(balance(session, available))} available to pay out."
        ) from None
    record_audit(
        session=session,
        action="money.payout_requested",
        actor_id=actor.id,
        target_type="payout",
        target_id=payout.id,
        amount_cents=amount,
    )
    return _view(payout, session.get(User, actor.id))


def _decide(session: Session, payout_id: int, **values) -> Payout:
    """Move a requested payout to its decision, once (a second decision finds nothing)."""
    try:
        payout_id = int(payout_id)
    except (TypeError, ValueError):
        raise NotFound("That payout was not found.") from None
    changed = session.exec(
        update(Payout)
        .where(col(Payout.id) == payout_id, col(Payout.status) == PayoutStatus.REQUESTED)
        .values(decided_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    payout = session.get(Payout, payout_id, populate_existing=True)
    if payout is None:
        raise NotFound("That payout was not found.")
    if changed != 1:
        raise InvalidInput(f"This payout was already {payout.status}.")
    return payout


def approve_payout(
    *,
    session: Session,
    actor: UserView,
    payout_id: int,
    reference: str,
    provider: PayoutProvider = MANUAL_PAYOUTS,
) -> PayoutView:
    """Pay a requested payout through `provider` and record it paid (admins only).

    The payout is claimed first (one conditional UPDATE), so of two admins approving at
    once only one reaches the provider; if the provider fails, nothing is recorded.
    """
    require_role(actor, Role.ADMIN)
    # A savepoint: a provider that refuses leaves the payout requested, in any caller.
    with session.begin_nested():
        payout = _decide(
            session,
            payout_id,
            status=PayoutStatus.PAID,
            provider=provider.name,
            decided_by=actor.id,
        )
        paid_reference = provider.pay(
            payout_id=payout.id, amount_cents=payout.amount_cents, reference=reference
        )
        payout.reference = paid_reference
        session.add(payout)
        post_transaction(
            session,
            key=f"payout-paid:{payout.id}",
            purpose=Purpose(
                kind=TransactionKind.PAYOUT_PAID,
                actor_id=actor.id,
                payout_id=payout.id,
                details={"clipper_id": payout.clipper_id, "reference": paid_reference},
            ),
            postings=[
                Posting(
                    account(session, AccountKind.CLIPPER_PAYOUT_PENDING, user_id=payout.clipper_id),
                    -payout.amount_cents,
                ),
                Posting(account(session, AccountKind.EXTERNAL_PAYOUTS), payout.amount_cents),
            ],
        )
    notify(
        session,
        payout.clipper_id,
        Kind.PAYOUT_PAID,
        f"Your payout of {format_cents(payout.amount_cents)} was paid "
        f"(reference {paid_reference}).",
        routes.EARNINGS,
    )
    record_audit(
        session=session,
        action="money.payout_paid",
        actor_id=actor.id,
        target_type="payout",
        target_id=payout.id,
        amount_cents=payout.amount_cents,
        reference=paid_reference,
        provider=provider.name,
    )
    return _view(payout, session.get(User, payout.clipper_id))


def reject_payout(*, session: Session, actor: UserView, payout_id: int, reason: str) -> PayoutView:
    """Refuse a requested payout; its money returns to the clipper's available balance."""
    require_role(actor, Role.ADMIN)
    why = " ".join(str(reason or "").split())
    if not why:
        raise InvalidInput("Say why the payout is rejected; the clipper will see it.")
    payout = _decide(
        session,
        payout_id,
        status=PayoutStatus.REJECTED,
        rejection_reason=why[:MAX_REASON_LENGTH],
        decided_by=actor.id,
    )
    post_transaction(
        session,
        key=f"payout-rejected:{payout.id}",
        purpose=Purpose(
            kind=TransactionKind.PAYOUT_REJECTED,
            actor_id=actor.id,
            payout_id=payout.id,
            details={"clipper_id": payout.clipper_id, "reason": why[:MAX_REASON_LENGTH]},
        ),
        postings=[
            Posting(
                account(session, AccountKind.CLIPPER_PAYOUT_PENDING, user_id=payout.clipper_id),
                -payout.amount_cents,
            ),
            Posting(
                account(session, AccountKind.CLIPPER_AVAILABLE, user_id=payout.clipper_id),
                payout.amount_cents,
            ),
        ],
    )
    record_audit(
        session=session,
        action="money.payout_rejected",
        actor_id=actor.id,
        target_type="payout",
        target_id=payout.id,
        amount_cents=payout.amount_cents,
        reason=why[:MAX_REASON_LENGTH],
    )
    return _view(payout, session.get(User, payout.clipper_id))


def list_payouts(
    *, session: Session, actor: UserView, status: str = "", limit: int = 200
) -> list[PayoutView]:
    """Payouts, oldest request first for the queue, newest first otherwise (admins only)."""
    require_role(actor, Role.ADMIN)
    query = select(Payout, User).join(User, col(User.id) == Payout.clipper_id)
    if status:
        query = query.where(Payout.status == status)
    order = (
        col(Payout.requested_at)
        if status == PayoutStatus.REQUESTED
        else col(Payout.requested_at).desc()
    )
    rows = session.exec(query.order_by(order, col(Payout.id)).limit(max(1, min(1000, limit))))
    return [_view(payout, clipper) for payout, clipper in rows.all()]


def my_payouts(*, session: Session, actor: UserView, limit: int = 50) -> list[PayoutView]:
    """The clipper's own payouts, newest first."""
    require_role(actor, Role.CLIPPER)
    rows = session.exec(
        select(Payout, User)
        .join(User, col(User.id) == Payout.clipper_id)
        .where(Payout.clipper_id == actor.id)
        .order_by(col(Payout.requested_at).desc(), col(Payout.id).desc())
        .limit(max(1, min(500, limit)))
    ).all()
    return [_view(payout, clipper) for payout, clipper in rows]


CSV_COLUMNS = (
    "payout_id",
    "clipper_email",
    "clipper_name",
    "amount",
    "status",
    "provider",
    "reference",
    "rejection_reason",
    "requested_at",
    "decided_at",
)


def payouts_csv(*, session: Session, actor: UserView) -> str:
    """Every payout as CSV, for the books (admins only)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for view in list_payouts(session=session, actor=actor, limit=1000):
        writer.writerow(
            [
                view.id,
                view.clipper_email,
                _safe_cell(view.clipper_name),
                f"{view.amount_cents / 100:.2f}",
                view.status,
                view.provider,
                _safe_cell(view.reference),
                _safe_cell(view.rejection_reason),
                view.requested_at.isoformat(),
                view.decided_at.isoformat() if view.decided_at else "",
            ]
        )
    return out.getvalue()


def _safe_cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
