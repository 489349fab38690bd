"""The double-entry ledger: the one function that moves money, and account balances.

Every movement is a `LedgerTransaction` of two or more entries summing to zero,
in integer cents, under a unique idempotency key: posting a key again returns
the first transaction and changes nothing. Each account's `balance_cents` is
kept equal to the sum of its entries by `post_transaction` alone, with one
relative UPDATE per account (a row lock on PostgreSQL until the commit), and
the database refuses to let a protected account go below zero
(`ck_ledger_accounts_protected_balance_not_negative`). So two concurrent
withdrawals can never both spend the same cent: the second waits for the
first's commit and then fails the check. `check_invariants` proves the cached
balances equal the sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from clipgen.models import (
    UNPROTECTED_KINDS,
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    utcnow,
)
from clipgen.services.errors import InvalidInput, ServiceError

MAX_KEY_LENGTH = 128
PLATFORM_KINDS = (
    AccountKind.PLATFORM_REVENUE,
    AccountKind.EXTERNAL_DEPOSITS,
    AccountKind.EXTERNAL_PAYOUTS,
    AccountKind.PAYMENT_FEES,
)
USER_KINDS = (
    AccountKind.CLIENT_AVAILABLE,
    AccountKind.CLIPPER_PENDING,
    AccountKind.CLIPPER_AVAILABLE,
    AccountKind.CLIPPER_PAYOUT_PENDING,
)


class InsufficientFunds(ServiceError):
    """A protected balance would go below zero; nothing was posted."""


@dataclass(frozen=True)
class Posting:
    """One side of a transaction to post: an account and a signed amount in cents."""

    account: LedgerAccount
    amount_cents: int


@dataclass(frozen=True)
class Purpose:
    """What a transaction was for, so that every statement line can say it."""

    kind: str
    memo: str = ""
    actor_id: int | None = None
    campaign_id: int | None = None
    submission_id: int | None = None
    payout_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    release_at: datetime | None = None
    release_of: int | None = None
    held_by_flag_id: int | None = None
    reversal_of: int | None = None


def account_code(kind: str, *, user_id: int | None = None, campaign_id: int | None = None) -> str:
    """The unique code of an account: `platform_revenue`, `clipper_pending:42`, ..."""
    if kind in PLATFORM_KINDS:
        return str(kind)
    if kind == AccountKind.CAMPAIGN_ESCROW:
        return f"{kind}:{int(campaign_id)}"
    if kind in USER_KINDS:
        return f"{kind}:{int(user_id)}"
    raise ValueError(f"unknown account kind {kind!r}")


def account(
    session: Session, kind: str, *, user_id: int | None = None, campaign_id: int | None = None
) -> LedgerAccount:
    """The account of this kind and owner, opened (at zero) the first time it is needed."""
    code = account_code(kind, user_id=user_id, campaign_id=campaign_id)
    found = session.exec(select(LedgerAccount).where(LedgerAccount.code == code)).first()
    if found is not None:
        return found
    opened = LedgerAccount(
        code=code,
        kind=str(kind),
        user_id=user_id if kind in USER_KINDS else None,
        campaign_id=campaign_id if kind == AccountKind.CAMPAIGN_ESCROW else None,
    )
    try:
        with session.begin_nested():
            session.add(opened)
    except IntegrityError:
        # Another transaction opened it at the same moment: use theirs.
        return session.exec(select(LedgerAccount).where(LedgerAccount.code == code)).one()
    return opened


def balance(session: Session, account_row: LedgerAccount) -> int:
    """The account's balance as this transaction sees it now."""
    return session.exec(
        select(LedgerAccount.balance_cents).where(LedgerAccount.id == account_row.id)
    ).one()


def locked_balance(session: Session, account_row: LedgerAccount) -> int:
    """The account's balance, locked until this transaction ends (PostgreSQL row lock), for
    decisions such as "pay what is left"."""
    return session.exec(
        select(LedgerAccount.balance_cents)
        .where(LedgerAccount.id == account_row.id)
        .with_for_update()
    ).one()


def find_transaction(session: Session, key: str) -> LedgerTransaction | None:
    """The transaction posted under `key`, if any."""
    return session.exec(
        select(LedgerTransaction).where(LedgerTransaction.idempotency_key == key)
    ).first()


def _checked(key: str, postings: Sequence[Posting]) -> list[Posting]:
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ValueError("an idempotency key of 1 to 128 characters is required")
    merged: dict[int, Posting] = {}
    for posting in postings:
        amount = posting.amount_cents
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise ValueError("amounts are integer cents")
        if posting.account.id is None:
            raise ValueError("post to saved accounts only")
        before = merged.get(posting.account.id)
        total = amount + (before.amount_cents if before else 0)
        merged[posting.account.id] = Posting(posting.account, total)
    lines = [posting for posting in merged.values() if posting.amount_cents != 0]
    if len(lines) < 2:
        raise ValueError("a transaction moves money between at least two accounts")
    if sum(posting.amount_cents for posting in lines) != 0:
        raise ValueError("a transaction's entries must sum to zero")
    # Always lock accounts in the same order, so two transactions never deadlock.
    return sorted(lines, key=lambda posting: posting.account.id)


def post_transaction(
    session: Session, *, key: str, purpose: Purpose, postings: Sequence[Posting]
) -> LedgerTransaction:
    """Post a balanced transaction once; the same key again returns the first one.

    Raises `InsufficientFunds` (and posts nothing) when a protected account would go
    negative. Runs inside the caller's unit of work, in a savepoint of its own.
    """
    lines = _checked(key, postings)
    existing = find_transaction(session, key)
    if existing is not None:
        return existing
    transaction = LedgerTransaction(
        idempotency_key=key,
        kind=str(purpose.kind),
        memo=purpose.memo[:500],
        actor_id=purpose.actor_id,
        campaign_id=purpose.campaign_id,
        submission_id=purpose.submission_id,
        payout_id=purpose.payout_id,
        details=dict(purpose.details),
        release_at=purpose.release_at,
        release_of=purpose.release_of,
        held_by_flag_id=purpose.held_by_flag_id,
        reversal_of=purpose.reversal_of,
    )
    savepoint = session.begin_nested()
    try:
        session.add(transaction)
        session.flush()
        now = utcnow()
        # All the entries in one statement: one round trip, not one per entry.
        session.execute(
            insert(LedgerEntry),
            [
                {
                    "transaction_id": transaction.id,
                    "account_id": posting.account.id,
                    "amount_cents": posting.amount_cents,
                    "created_at": now,
                }
                for posting in lines
            ],
        )
        for posting in lines:
            session.exec(
                update(LedgerAccount)
                .where(col(LedgerAccount.id) == posting.account.id)
                .values(balance_cents=LedgerAccount.balance_cents + posting.amount_cents)
                .execution_options(synchronize_session=False)
            )
        session.flush()
        savepoint.commit()
    except IntegrityError as error:
        savepoint.rollback()
        again = find_transaction(session, key)
        if again is not None:
            return again  # posted by a concurrent request under the same key
        if "protected_balance_not_negative" in str(error.orig):
            raise InsufficientFunds("There is not enough money in the account for that.") from None
        raise
    for posting in lines:
        session.expire(posting.account, ["balance_cents"])
    session.info.setdefault(_POSTED_HERE, set()).add(transaction.id)
    return transaction


_POSTED_HERE = "clipgen_posted_transactions"


def posted_here(session: Session, transaction: LedgerTransaction) -> bool:
    """Whether this session posted `transaction` (rather than finding it under its key)."""
    return transaction.id in session.info.get(_POSTED_HERE, ())


def entries_of(session: Session, transaction: LedgerTransaction) -> list[LedgerEntry]:
    """A transaction's entries."""
    return list(
        session.exec(select(LedgerEntry).where(LedgerEntry.transaction_id == transaction.id)).all()
    )


@dataclass(frozen=True)
class InvariantReport:
    """What the invariant check found; `ok` when there is nothing wrong."""

    transactions: int
    accounts: int
    unbalanced_transactions: tuple[int, ...]
    drifted_accounts: tuple[str, ...]
    negative_accounts: tuple[str, ...]
    total_cents: int

    @property
    def ok(self) -> bool:
        return not (
            self.unbalanced_transactions
            or self.drifted_accounts
            or self.negative_accounts
            or self.total_cents
        )


def check_invariants(session: Session) -> InvariantReport:
    """Every transaction sums to zero (and so does all money), every cached balance equals
    the sum of its entries, and no protected account is negative. Aggregated in SQL."""
    unbalanced = session.exec(
        select(LedgerEntry.transaction_id)
        .group_by(col(LedgerEntry.transaction_id))
        .having(func.sum(LedgerEntry.amount_cents) != 0)
    ).all()
    sums = (
        select(LedgerEntry.account_id, func.sum(LedgerEntry.amount_cents).label("total"))
        .group_by(col(LedgerEntry.account_id))
        .subquery()
    )
    drifted = session.exec(
        select(LedgerAccount.code)
        .outerjoin(sums, sums.c.account_id == LedgerAccount.id)
        .where(func.coalesce(sums.c.total, 0) != LedgerAccount.balance_cents)
    ).all()
    negative = session.exec(
        select(LedgerAccount.code).where(
            LedgerAccount.balance_cents < 0,
            col(LedgerAccount.kind).not_in([str(kind) for kind in UNPROTECTED_KINDS]),
        )
    ).all()
    return InvariantReport(
        transactions=session.exec(select(func.count()).select_from(LedgerTransaction)).one(),
        accounts=session.exec(select(func.count()).select_from(LedgerAccount)).one(),
        unbalanced_transactions=tuple(unbalanced),
        drifted_accounts=tuple(drifted),
        negative_accounts=tuple(negative),
        total_cents=session.exec(
            select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
        ).one(),
    )


def require_positive_cents(amount_cents: Any, what: str = "The amount") -> int:
    """A positive whole number of cents, or a refusal in words."""
    if isinstance(amount_cents, bool) or not isinstance(amount_cents, int):
        raise InvalidInput(f"{what} must be a whole number of cents.")
    if amount_cents <= 0:
        raise InvalidInput(f"{what} must be more than zero.")
    return amount_cents
