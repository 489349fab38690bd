"""Clippers' payouts: a request moves available money into payout-pending; an admin pays
it (through a payout provider) or rejects it, which returns the money. Concurrent
requests can never pay out more than the balance: the ledger's database check refuses
the overdraft.

A clipper whose Stripe Connect account is ready is paid by a Transfer to it (the payout
is then "processing" until Stripe's payout to their bank is paid or fails, see
`stripe_payouts`); anyone else is paid by hand, the admin typing the bank transfer's
reference. Below the automatic approval limit an admin set, a payout to a clipper with no
open fraud flag and a ready Stripe account is approved by a worker, with no one."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from clipgen import routes
from clipgen.models import (
    AccountKind,
    FlagStatus,
    FraudFlag,
    Payout,
    PayoutStatus,
    Publication,
    Role,
    TransactionKind,
    User,
    utcnow,
)
from clipgen.services import tasks
from clipgen.services.access import require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView, require_recent_password
from clipgen.services.csv_export import csv_text
from clipgen.services.errors import InvalidInput, NotFound
from clipgen.services.money import connect, money_settings, stripe_api
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
    """Who sends the money: `pay` returns the payment's reference, or raises (and then
    nothing is recorded). `settles_as` is the payout's status once `pay` returned."""

    name: str
    settles_as: str

    def pay(self, *, payout_id: int, amount_cents: int, reference: str) -> str: ...


class ManualPayout:
    """An admin paid by hand (a bank transfer) and records the transfer's reference."""

    name = "manual"
    settles_as = PayoutStatus.PAID

    def pay(self, *, payout_id: int, amount_cents: int, reference: str) -> str:
        cleaned = " ".join(str(reference or "").split())
        if not cleaned:
            raise InvalidInput("Enter the payment's reference (e.g. the bank transfer id).")
        return cleaned[:200]


class StripeConnectPayout:
    """A Transfer to the clipper's connected account, once per payout; Stripe's payout to
    their bank follows, and its outcome comes back by webhook (`stripe_payouts`).

    Once: the transfer group names the payout, and an approval first looks for a transfer
    of that group (one sent by an approval whose commit then failed is reused, not sent
    again). The idempotency key names the payout and this attempt, so the library's
    retries of a lost answer are one transfer, while an approval retried after Stripe
    refused (e.g. the platform's balance was short) is not answered with the old refusal,
    which Stripe replays for a key for 24 hours.
    """

    name = "stripe"
    settles_as = PayoutStatus.PROCESSING

    def __init__(self, destination: str) -> None:
        self.destination = destination

    def pay(self, *, payout_id: int, amount_cents: int, reference: str) -> str:
        group = f"payout-{payout_id}"
        earlier = stripe_api.call(
            "look for the payout's transfer",
            lambda api: api.v1.transfers.list(params={"transfer_group": group, "limit": 10}),
        )
        for transfer in earlier.data:
            if transfer.destination == self.destination and int(transfer.amount) == amount_cents:
                return transfer.id
        transfer = stripe_api.call(
            "send the payout to the clipper's Stripe account",
            lambda api: api.v1.transfers.create(
                params={
                    "amount": amount_cents,
                    "currency": "usd",
                    "destination": self.destination,
                    "transfer_group": group,
                    "description": f"ClipGen payout #{payout_id}",
                    "metadata": {"payout_id": str(payout_id)},
                },
                options={"idempotency_key": f"{group}-transfer-{secrets.token_hex(6)}"},
            ),
        )
        return transfer.id


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
    failure_reason: str = ""
    paid_at: datetime | None = None
    # Approving pays through Stripe (the clipper's connected account is ready).
    stripe_ready: bool = False


def _view(payout: Payout, clipper: User, stripe_ready: bool = False) -> PayoutView:
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
        failure_reason=payout.failure_reason,
        paid_at=payout.paid_at,
        stripe_ready=stripe_ready,
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
    _refuse_if_suspended(session, actor.id)
    if amount < MIN_PAYOUT_CENTS:
        raise InvalidInput(f"The smallest payout is {format_cents(MIN_PAYOUT_CENTS)}.")
    require_recent_password(actor, to="request a payout")
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
                # Keyless requests have keys of their own shape, which no form key can
                # make ("payout-request:..." always carries what the form sent).
                key=key or f"payout:{payout.id}:request",
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
    limit = money_settings.auto_approve_limit_cents(session)
    if limit and amount <= limit:
        # Small enough to need no one: a worker approves it once this commits (or not).
        tasks.send_after_commit(session, tasks.AUTO_APPROVE_PAYOUT, payout_id=payout.id)
    return _view(payout, session.get(User, actor.id))


def _decide(session: Session, payout_id: int, **values) -> Payout:
    """Move a requested payout to its decision, once (a second decision finds nothing)."""
    payout_id = _payout_number(payout_id)
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


def _payout_number(payout_id: object) -> int:
    try:
        return int(payout_id)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise NotFound("That payout was not found.") from None


def provider_for(session: Session, clipper_id: int) -> PayoutProvider:
    """Stripe Connect for a clipper whose connected account can be paid, else by hand."""
    ready = connect.ready_account(session, clipper_id)
    return StripeConnectPayout(ready.stripe_account_id) if ready else MANUAL_PAYOUTS


def approve_payout(
    *,
    session: Session,
    actor: UserView,
    payout_id: int,
    reference: str = "",
    provider: PayoutProvider | None = None,
) -> PayoutView:
    """Pay a requested payout (admins only): through Stripe when the clipper's connected
    account is ready, else recorded paid by hand with the transfer's reference.

    The payout is claimed first (one conditional UPDATE, which also locks its row until
    the commit), so of two admins approving at once only one reaches the provider, and a
    Stripe webhook about it waits for the approval; if the provider fails, nothing is
    recorded and the payout stays requested.
    """
    require_role(actor, Role.ADMIN)
    return _approve(session, payout_id, decided_by=actor.id, reference=reference, provider=provider)


def _approve(
    session: Session,
    payout_id: object,
    *,
    decided_by: int | None,
    reference: str = "",
    provider: PayoutProvider | None = None,
) -> PayoutView:
    number = _payout_number(payout_id)
    found = session.get(Payout, number)
    if found is None:
        raise NotFound("That payout was not found.")
    _refuse_if_suspended(session, found.clipper_id)
    chosen = provider or provider_for(session, found.clipper_id)
    # A savepoint: a provider that refuses leaves the payout requested, in any caller.
    with session.begin_nested():
        payout = _decide(
            session,
            number,
            status=chosen.settles_as,
            provider=chosen.name,
            decided_by=decided_by,
        )
        paid_reference = chosen.pay(
            payout_id=payout.id, amount_cents=payout.amount_cents, reference=reference
        )
        payout.reference = paid_reference
        details: dict[str, object] = {
            "clipper_id": payout.clipper_id,
            "reference": paid_reference,
            "provider": chosen.name,
        }
        if chosen.settles_as == PayoutStatus.PAID:
            payout.paid_at = utcnow()
        else:
            payout.transfer_id = paid_reference
            details.update(transfer_id=paid_reference, stripe_source=paid_reference)
        session.add(payout)
        post_transaction(
            session,
            key=f"payout-paid:{payout.id}",
            purpose=Purpose(
                kind=TransactionKind.PAYOUT_PAID,
                actor_id=decided_by,
                payout_id=payout.id,
                details=details,
            ),
            postings=[
                Posting(
                    account(session, AccountKind.CLIPPER_PAYOUT_PENDING, user_id=payout.clipper_id),
                    -payout.amount_cents,
                ),
                Posting(account(session, AccountKind.EXTERNAL_PAYOUTS), payout.amount_cents),
            ],
        )
    if chosen.settles_as == PayoutStatus.PAID:
        notify(
            session,
            payout.clipper_id,
            Kind.PAYOUT_PAID,
            f"Your payout of {format_cents(payout.amount_cents)} was paid "
            f"(reference {paid_reference}).",
            routes.EARNINGS,
        )
    else:
        # Stripe's payout to the bank, once this commits (the worker asks Stripe).
        tasks.send_after_commit(session, tasks.SEND_STRIPE_PAYOUT, payout_id=payout.id)
    record_audit(
        session=session,
        action="money.payout_" + ("paid" if chosen.settles_as == PayoutStatus.PAID else "sent"),
        actor_id=decided_by,
        target_type="payout",
        target_id=payout.id,
        amount_cents=payout.amount_cents,
        reference=paid_reference,
        provider=chosen.name,
        automatic=decided_by is None,
    )
    return _view(payout, session.get(User, payout.clipper_id))


def auto_approve(session: Session, payout_id: int) -> str:
    """Approve a requested payout with no one, when an admin allowed it: at most the
    automatic approval limit, to a clipper with no open fraud flag whose Stripe account
    can be paid. Anything else waits for an admin, as before."""
    limit = money_settings.auto_approve_limit_cents(session)
    payout = session.get(Payout, _payout_number(payout_id))
    if payout is None or payout.status != PayoutStatus.REQUESTED:
        return "Not waiting for approval."
    if suspension_hold(session, payout.clipper_id):
        return "The clipper is suspended: the payout waits until the suspension is lifted."
    if not limit or payout.amount_cents > limit:
        return "Above the automatic approval limit: an admin decides."
    if open_flags(session, payout.clipper_id):
        return "The clipper has an open fraud flag: an admin decides."
    if connect.ready_account(session, payout.clipper_id) is None:
        return "The clipper has no Stripe account ready: an admin pays by hand."
    _approve(session, payout.id, decided_by=None)
    return f"Payout #{payout.id} approved automatically."


SUSPENDED_HOLD = (
    "This clipper account is suspended, so its earnings are held: they stay in its balance "
    "and nothing is paid out until the suspension is lifted."
)


def suspension_hold(session: Session, clipper_id: int) -> bool:
    """Whether the clipper's money is held because an admin suspended the account: the one
    rule requests, approvals and automatic approvals obey (the ledger is not touched)."""
    suspended_at = session.exec(select(User.suspended_at).where(User.id == clipper_id)).first()
    return suspended_at is not None


def _refuse_if_suspended(session: Session, clipper_id: int) -> None:
    if suspension_hold(session, clipper_id):
        raise InvalidInput(SUSPENDED_HOLD)


def open_flags(session: Session, clipper_id: int) -> int:
    """How many of the clipper's posts are held by an open fraud flag."""
    return session.exec(
        select(func.count())
        .select_from(FraudFlag)
        .join(Publication, col(Publication.id) == FraudFlag.publication_id)
        .where(Publication.clipper_id == clipper_id, FraudFlag.status == FlagStatus.OPEN)
    ).one()


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
    rows = session.exec(query.order_by(order, col(Payout.id)).limit(max(1, min(1000, limit)))).all()
    ready = connect.ready_clippers(session, {payout.clipper_id for payout, _ in rows})
    return [_view(payout, clipper, payout.clipper_id in ready) for payout, clipper in rows]


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
    rows = [
        [
            view.id,
            view.clipper_email,
            view.clipper_name,
            f"{view.amount_cents / 100:.2f}",
            view.status,
            view.provider,
            view.reference,
            view.rejection_reason,
            view.requested_at.isoformat(),
            view.decided_at.isoformat() if view.decided_at else "",
        ]
        for view in list_payouts(session=session, actor=actor, limit=1000)
    ]
    return csv_text([CSV_COLUMNS, *rows])
