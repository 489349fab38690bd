"""Money under concurrency, on a real PostgreSQL: threads that start together (a barrier),
each in its own unit of work (`session_scope()`), race for the same money.

Each scenario runs a few rounds, each round with new people, to shake out races.
"""

from __future__ import annotations

import pytest
from sqlmodel import Session, func, select

from clipgen.db import session_scope
from clipgen.models import (
    AccountKind,
    Campaign,
    LedgerTransaction,
    Payout,
    PayoutStatus,
    Role,
    TransactionKind,
)
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput
from clipgen.services.money import earnings, payouts
from clipgen.services.money.ledger import InsufficientFunds
from tests.support.concurrency import balance_of, books_are_sound, race
from tests.support.money import approved_submission, funded_campaign, person
from tests.support.money import clipper_with_available as made_clipper_with_available

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

ROUNDS = 5


@pytest.fixture
def staff(database_url: str) -> tuple[UserView, UserView]:
    """An admin and a client."""
    with session_scope() as session:
        return person(session, Role.ADMIN), person(session, Role.CLIENT, "brand")


def _funded_campaign(
    session: Session, admin: UserView, client: UserView, *, price_cents: int, budget_cents: int
) -> Campaign:
    return funded_campaign(
        session, admin, client, price_cents=price_cents, budget_cents=budget_cents
    )


def clipper_with_available(staff, cents: int) -> UserView:
    """A new clipper with exactly `cents` available (an approved clip, hold ended)."""
    admin, client = staff
    with session_scope() as session:
        clipper = made_clipper_with_available(session, admin, client, cents)
    assert balance_of(AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id) == cents
    return clipper


def _payouts_of(clipper: UserView) -> list[Payout]:
    with session_scope() as session:
        return list(session.exec(select(Payout).where(Payout.clipper_id == clipper.id)).all())


def test_twenty_requests_of_10_against_30_pay_out_three(staff) -> None:
    for _ in range(ROUNDS):
        clipper = clipper_with_available(staff, 3_000)
        outcomes = race(
            20,
            lambda session, _n, clipper=clipper: payouts.request_payout(
                session=session, actor=clipper, amount_cents=1_000
            ),
        )
        granted = [o for o in outcomes if isinstance(o, payouts.PayoutView)]
        refused = [o for o in outcomes if isinstance(o, InsufficientFunds)]
        assert (len(granted), len(refused)) == (3, 17), outcomes
        rows = _payouts_of(clipper)
        assert sorted(p.id for p in rows) == sorted(view.id for view in granted)
        assert all(p.status == PayoutStatus.REQUESTED and p.amount_cents == 1_000 for p in rows)
        assert balance_of(AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id) == 0
        assert balance_of(AccountKind.CLIPPER_PAYOUT_PENDING, user_id=clipper.id) == 3_000
        books_are_sound()


def test_a_double_click_is_one_payout(staff) -> None:
    for round_number in range(ROUNDS):
        clipper = clipper_with_available(staff, 3_000)
        outcomes = race(
            10,
            lambda session, _n, clipper=clipper, key=f"form-{round_number}": payouts.request_payout(
                session=session, actor=clipper, amount_cents=1_000, request_key=key
            ),
        )
        rows = _payouts_of(clipper)
        assert len(rows) == 1, (rows, outcomes)
        assert all(isinstance(o, payouts.PayoutView) and o.id == rows[0].id for o in outcomes), (
            outcomes
        )
        assert balance_of(AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id) == 2_000
        assert balance_of(AccountKind.CLIPPER_PAYOUT_PENDING, user_id=clipper.id) == 1_000
        books_are_sound()


def test_ten_approvals_at_once_never_overdraw_escrow(staff) -> None:
    admin, client = staff
    with session_scope() as session:
        clippers = [person(session, Role.CLIPPER, name) for name in ("ada", "bo")]
    price = 2_500
    for _ in range(ROUNDS):
        with session_scope() as session:
            row = _funded_campaign(
                session, admin, client, price_cents=price, budget_cents=4 * price
            )
            submissions = [approved_submission(session, row, clippers[n % 2]).id for n in range(10)]
        outcomes = race(
            10,
            lambda session, n, submissions=submissions: earnings.book_approval(
                session=session, submission_id=submissions[n]
            ),
        )
        full = [o for o in outcomes if isinstance(o, LedgerTransaction)]
        assert len(full) == 4 and outcomes.count(None) == 6, outcomes
        assert all(
            o.details["gross_cents"] == price and o.details["short_cents"] == 0 for o in full
        )
        assert balance_of(AccountKind.CAMPAIGN_ESCROW, campaign_id=row.id) == 0
        with session_scope() as session:
            assert session.get(Campaign, row.id).is_exhausted
        books_are_sound()


def test_two_admins_approving_one_payout_pay_it_once(staff) -> None:
    admin, _client = staff
    with session_scope() as session:
        other_admin = person(session, Role.ADMIN)
    admins = (admin, other_admin)
    for _ in range(ROUNDS + 2):
        clipper = clipper_with_available(staff, 3_000)
        with session_scope() as session:
            request = payouts.request_payout(session=session, actor=clipper, amount_cents=2_500)
        outcomes = race(
            2,
            lambda session, n, payout_id=request.id: payouts.approve_payout(
                session=session, actor=admins[n], payout_id=payout_id, reference=f"SEPA-{n}"
            ),
        )
        paid = [o for o in outcomes if isinstance(o, payouts.PayoutView)]
        refused = [o for o in outcomes if isinstance(o, InvalidInput)]
        assert (len(paid), len(refused)) == (1, 1), outcomes
        assert "already paid" in str(refused[0])
        with session_scope() as session:
            payout = session.get(Payout, request.id)
            assert (payout.status, payout.reference) == (PayoutStatus.PAID, paid[0].reference)
            assert payout.decided_by == admins[outcomes.index(paid[0])].id
            paid_transactions = session.exec(
                select(func.count())
                .select_from(LedgerTransaction)
                .where(
                    LedgerTransaction.payout_id == request.id,
                    LedgerTransaction.kind == TransactionKind.PAYOUT_PAID,
                )
            ).one()
        assert paid_transactions == 1
        assert balance_of(AccountKind.CLIPPER_PAYOUT_PENDING, user_id=clipper.id) == 0
        assert balance_of(AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id) == 500
        books_are_sound()
