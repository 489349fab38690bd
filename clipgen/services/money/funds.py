"""Clients' money: deposits (recorded by an admin, or by a payment provider) and campaign
budgets moved into escrow on activation and back when a campaign ends."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session, select

from clipgen.models import AccountKind, Campaign, Role, TransactionKind, User
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
    locked_balance,
    post_transaction,
    posted_here,
    require_positive_cents,
)

MAX_REFERENCE_LENGTH = 120


class DepositProvider(Protocol):
    """Where a client's money came from: an admin's record of a bank transfer today, a card
    or Stripe provider later. `confirm` checks the payment and returns its reference."""

    name: str

    def confirm(self, *, amount_cents: int, reference: str) -> str: ...


class ManualDeposit:
    """A deposit an admin saw arrive (a bank transfer) and records by its reference."""

    name = "manual"

    def confirm(self, *, amount_cents: int, reference: str) -> str:
        cleaned = " ".join(str(reference or "").split())
        if not cleaned:
            raise InvalidInput("Enter the payment's reference (e.g. the bank transfer id).")
        if len(cleaned) > MAX_REFERENCE_LENGTH:
            raise InvalidInput(f"Keep the reference to {MAX_REFERENCE_LENGTH} characters.")
        return cleaned


MANUAL_DEPOSITS = ManualDeposit()


@dataclass(frozen=True)
class Deposit:
    transaction_id: int
    client_id: int
    amount_cents: int
    reference: str
    client_balance_cents: int


def _client(session: Session, client_id: int) -> User:
    try:
        user = session.get(User, int(client_id))
    except (TypeError, ValueError):
        user = None
    if user is None or not user.is_client:
        raise NotFound("That client was not found.")
    return user


def record_deposit(
    *,
    session: Session,
    actor: UserView,
    client_id: int,
    amount_cents: int,
    reference: str,
    provider: DepositProvider = MANUAL_DEPOSITS,
) -> Deposit:
    """Add funds to a client's balance (admins only). The same provider reference again
    changes nothing; with another client or amount it is refused."""
    require_role(actor, Role.ADMIN)
    client = _client(session, client_id)
    amount = require_positive_cents(amount_cents)
    confirmed = provider.confirm(amount_cents=amount, reference=reference)
    key = f"deposit:{provider.name}:{confirmed}"[:128]
    earlier = find_transaction(session, key)
    if earlier is not None and (
        earlier.details.get("client_id") != client.id
        or earlier.details.get("amount_cents") != amount
    ):
        raise InvalidInput(f"The reference {confirmed!r} was already recorded for another deposit.")
    available = account(session, AccountKind.CLIENT_AVAILABLE, user_id=client.id)
    posted = post_transaction(
        session,
        key=key,
        purpose=Purpose(
            kind=TransactionKind.DEPOSIT,
            memo=f"Deposit {confirmed}",
            actor_id=actor.id,
            details={
                "client_id": client.id,
                "amount_cents": amount,
                "reference": confirmed,
                "provider": provider.name,
            },
        ),
        postings=[
            Posting(account(session, AccountKind.EXTERNAL_DEPOSITS), -amount),
            Posting(available, amount),
        ],
    )
    if earlier is None and not posted_here(session, posted):
        # Recorded meanwhile by a concurrent request under the same reference.
        _same_deposit(posted, client.id, amount, confirmed)
    elif earlier is None:
        record_audit(
            session=session,
            action="money.deposit_recorded",
            actor_id=actor.id,
            target_type="user",
            target_id=client.id,
            amount_cents=amount,
            reference=confirmed,
            provider=provider.name,
            transaction_id=posted.id,
        )
    return Deposit(posted.id, client.id, amount, confirmed, balance(session, available))


def _same_deposit(earlier, client_id: int, amount: int, reference: str) -> None:
    """A reference already recorded must be this very deposit, or it is refused."""
    if (
        earlier.details.get("client_id") != client_id
        or earlier.details.get("amount_cents") != amount
    ):
        raise InvalidInput(f"The reference {reference!r} was already recorded for another deposit.")


def reserve_campaign_budget(*, session: Session, campaign_id: int) -> int:
    """Move a campaign's whole budget from its client's balance into its escrow (on
    activation); once per campaign. The caller checked the client may activate it.

    Refused in words when the client's balance is short; nothing moves then.
    """
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("That campaign was not found.")
    budget = require_positive_cents(campaign.budget_cents, "The campaign's budget")
    available = account(session, AccountKind.CLIENT_AVAILABLE, user_id=campaign.client_id)
    try:
        post_transaction(
            session,
            key=f"campaign-reserve:{campaign.id}",
            purpose=Purpose(
                kind=TransactionKind.CAMPAIGN_RESERVE,
                memo=f"Budget of {campaign.title}",
                campaign_id=campaign.id,
                details={"budget_cents": budget},
            ),
            postings=[
                Posting(available, -budget),
                Posting(
                    account(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign.id), budget
                ),
            ],
        )
    except InsufficientFunds:
        raise InsufficientFunds(
            f"Activating this campaign needs its budget of {format_cents(budget)}; your "
            f"balance is {format_cents(balance(session, available))}. Add funds first."
        ) from None
    return budget


def release_campaign_budget(*, session: Session, campaign_id: int) -> int:
    """Return what is left in a campaign's escrow to its client (on cancel or completion);
    once per campaign. How many cents went back."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("That campaign was not found.")
    key = f"campaign-release:{campaign.id}"
    if find_transaction(session, key) is not None:
        return 0
    escrow = account(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign.id)
    left = locked_balance(session, escrow)
    if left <= 0:
        return 0
    post_transaction(
        session,
        key=key,
        purpose=Purpose(
            kind=TransactionKind.CAMPAIGN_RELEASE,
            memo=f"Unspent budget of {campaign.title}",
            campaign_id=campaign.id,
            details={"released_cents": left},
        ),
        postings=[
            Posting(escrow, -left),
            Posting(
                account(session, AccountKind.CLIENT_AVAILABLE, user_id=campaign.client_id), left
            ),
        ],
    )
    return left


def list_clients(*, session: Session, actor: UserView) -> list[tuple[int, str, str]]:
    """(id, display name, email) of every client, for an admin's deposit form."""
    require_role(actor, Role.ADMIN)
    rows = session.exec(
        select(User.id, User.display_name, User.email).where(User.is_client).order_by(User.email)
    ).all()
    return [(row[0], row[1], row[2]) for row in rows]
