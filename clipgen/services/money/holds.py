"""Pending earnings become available after the hold (`EARNINGS_HOLD_DAYS`, the fraud-review
window); an admin can hold a submission's earnings for review and release them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from clipgen.models import (
    AccountKind,
    FlagStatus,
    FraudFlag,
    LedgerEntry,
    LedgerTransaction,
    Role,
    Submission,
    TransactionKind,
    utcnow,
)
from clipgen.services.access import require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotFound
from clipgen.services.money.earnings import EARNING_KINDS, lock_earnings
from clipgen.services.money.ledger import Posting, Purpose, account, post_transaction

RELEASE_BATCH = 500


def _unreleased_earnings(session: Session, now: datetime, submission_id: int | None = None):
    release = aliased(LedgerTransaction)
    reversal = aliased(LedgerTransaction)
    conditions = [
        col(LedgerTransaction.kind).in_([str(kind) for kind in EARNING_KINDS]),
        col(LedgerTransaction.release_at) <= now,
        ~exists().where(release.release_of == LedgerTransaction.id),
        # A reversed earning (confirmed fraud, a refused post) has nothing left to release.
        ~exists().where(reversal.reversal_of == LedgerTransaction.id),
        ~exists().where(
            Submission.id == LedgerTransaction.submission_id, col(Submission.earnings_held)
        ),
        # Earnings booked while their clip was flagged wait for the flag to be cleared.
        or_(
            col(LedgerTransaction.held_by_flag_id).is_(None),
            exists().where(
                FraudFlag.id == LedgerTransaction.held_by_flag_id,
                FraudFlag.status == FlagStatus.CLEARED,
            ),
        ),
    ]
    if submission_id is not None:
        conditions.append(LedgerTransaction.submission_id == submission_id)
    return session.exec(
        select(LedgerTransaction)
        .where(*conditions)
        .order_by(col(LedgerTransaction.id))
        .limit(RELEASE_BATCH)
    ).all()


def _release(session: Session, earning: LedgerTransaction) -> bool:
    """Release one matured earning; the caller holds its row (`lock_earnings`)."""
    if session.exec(
        select(LedgerTransaction.id).where(LedgerTransaction.reversal_of == earning.id)
    ).first():
        return False  # reversed while this run was choosing what to release
    clipper_id = int(earning.details["clipper_id"])
    pending = account(session, AccountKind.CLIPPER_PENDING, user_id=clipper_id)
    amount = session.exec(
        select(LedgerEntry.amount_cents).where(
            LedgerEntry.transaction_id == earning.id, LedgerEntry.account_id == pending.id
        )
    ).first()
    if not amount:
        return False  # a 0% share: nothing pending to release
    post_transaction(
        session,
        key=f"release:{earning.id}",
        purpose=Purpose(
            kind=TransactionKind.EARNINGS_RELEASE,
            campaign_id=earning.campaign_id,
            submission_id=earning.submission_id,
            release_of=earning.id,
            details={"clipper_id": clipper_id, "earning_kind": earning.kind},
        ),
        postings=[
            Posting(pending, -amount),
            Posting(account(session, AccountKind.CLIPPER_AVAILABLE, user_id=clipper_id), amount),
        ],
    )
    return True


def release_matured_earnings(*, session: Session, now: datetime | None = None) -> int:
    """Make pending earnings past their hold available, except held submissions'; safe to
    run twice (each earning is released under its own key). How many were released."""
    released = 0
    matured = _unreleased_earnings(session, now or utcnow())
    lock_earnings(session, [earning.id for earning in matured])  # a reversal takes them too
    for earning in matured:
        released += _release(session, earning)
    return released


def _submission(session: Session, submission_id: int) -> Submission:
    try:
        found = session.get(Submission, int(submission_id))
    except (TypeError, ValueError):
        found = None
    if found is None:
        raise NotFound("That submission was not found.")
    return found


def hold_earnings(*, session: Session, actor: UserView, submission_id: int, reason: str) -> None:
    """Keep a submission's pending earnings pending (fraud review); admins only."""
    require_role(actor, Role.ADMIN)
    why = " ".join(str(reason or "").split())
    if not why:
        raise InvalidInput("Say why the earnings are held; the clipper will be told.")
    submission = _submission(session, submission_id)
    submission.earnings_held = True
    session.add(submission)
    record_audit(
        session=session,
        action="money.earnings_held",
        actor_id=actor.id,
        target_type="submission",
        target_id=submission.id,
        reason=why[:500],
    )


def release_earnings_hold(*, session: Session, actor: UserView, submission_id: int) -> int:
    """Lift an admin's hold; earnings past their hold become available at once. How many."""
    require_role(actor, Role.ADMIN)
    submission = _submission(session, submission_id)
    submission.earnings_held = False
    session.add(submission)
    session.flush()
    record_audit(
        session=session,
        action="money.earnings_hold_released",
        actor_id=actor.id,
        target_type="submission",
        target_id=submission.id,
    )
    return release_matured_for(session, submission.id)


def release_matured_for(session: Session, submission_id: int) -> int:
    """Make one submission's earnings past their hold available now (after a hold is
    lifted or a flag cleared); how many were released."""
    matured = _unreleased_earnings(session, utcnow(), submission_id)
    lock_earnings(session, [earning.id for earning in matured])
    return sum(_release(session, earning) for earning in matured)
