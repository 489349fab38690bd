"""The money rules of shared/DESIGN.md §4 with worked examples, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from clipgen.models import AccountKind, AuditLog, Campaign, Payout, Role, Tier, utcnow
from clipgen.services.errors import InvalidInput, NotFound, PermissionDenied
from clipgen.services.money import earnings, funds, holds, payouts, reports, tiers
from clipgen.services.money.amounts import format_cents, parse_dollars
from clipgen.services.money.ledger import (
    InsufficientFunds,
    Posting,
    Purpose,
    account,
    balance,
    check_invariants,
    post_transaction,
)
from tests.support.money import approved_submission, campaign, person


@pytest.fixture
def admin(session: Session):
    return person(session, Role.ADMIN)


@pytest.fixture
def client(session: Session):
    return person(session, Role.CLIENT, "brand")


@pytest.fixture
def clipper(session: Session):
    return person(session, Role.CLIPPER, "ada")


def _balance(session: Session, kind: AccountKind, **owner) -> int:
    return balance(session, account(session, kind, **owner))


def _funded_campaign(session, admin, client, **terms) -> Campaign:
    budget = terms.get("budget_cents", 10_000)
    funds.record_deposit(
        session=session, actor=admin, client_id=client.id, amount_cents=budget, reference="wire-1"
    )
    row = campaign(session, client, **terms)
    funds.reserve_campaign_budget(session=session, campaign_id=row.id)
    return row


# --- the ledger ------------------------------------------------------------------


def test_a_transaction_must_balance_and_a_key_posts_once(session: Session, client) -> None:
    outside = account(session, AccountKind.EXTERNAL_DEPOSITS)
    wallet = account(session, AccountKind.CLIENT_AVAILABLE, user_id=client.id)
    with pytest.raises(ValueError, match="sum to zero"):
        post_transaction(
            session,
            key="k1",
            purpose=Purpose(kind="deposit"),
            postings=[Posting(outside, -500), Posting(wallet, 400)],
        )
    with pytest.raises(ValueError, match="integer cents"):
        post_transaction(
            session,
            key="k1",
            purpose=Purpose(kind="deposit"),
            postings=[Posting(outside, -5.0), Posting(wallet, 5.0)],
        )
    postings = [Posting(outside, -500), Posting(wallet, 500)]
    first = post_transaction(session, key="k1", purpose=Purpose(kind="deposit"), postings=postings)
    again = post_transaction(session, key="k1", purpose=Purpose(kind="deposit"), postings=postings)
    assert again.id == first.id
    assert balance(session, wallet) == 500 and balance(session, outside) == -500
    assert check_invariants(session).ok


def test_a_protected_balance_never_goes_negative(session: Session, client) -> None:
    wallet = account(session, AccountKind.CLIENT_AVAILABLE, user_id=client.id)
    with pytest.raises(InsufficientFunds):
        post_transaction(
            session,
            key="overdraft",
            purpose=Purpose(kind="deposit"),
            postings=[
                Posting(wallet, -1),
                Posting(account(session, AccountKind.EXTERNAL_PAYOUTS), 1),
            ],
        )
    assert balance(session, wallet) == 0
    report = check_invariants(session)
    assert report.ok and report.transactions == 0


# --- deposits and budgets --------------------------------------------------------------


def test_an_admin_records_a_deposit_once_per_reference(session: Session, admin, client) -> None:
    first = funds.record_deposit(
        session=session, actor=admin, client_id=client.id, amount_cents=25_000, reference=" T-77 "
    )
    again = funds.record_deposit(
        session=session, actor=admin, client_id=client.id, amount_cents=25_000, reference="T-77"
    )
    assert again.transaction_id == first.transaction_id and again.client_balance_cents == 25_000
    with pytest.raises(InvalidInput, match="already recorded"):
        funds.record_deposit(
            session=session, actor=admin, client_id=client.id, amount_cents=1, reference="T-77"
        )
    audits = session.exec(select(AuditLog).where(AuditLog.action == "money.deposit_recorded"))
    assert len(audits.all()) == 1


def test_only_an_admin_records_deposits_and_only_for_a_client(
    session: Session, admin, client, clipper
) -> None:
    with pytest.raises(PermissionDenied):
        funds.record_deposit(
            session=session, actor=client, client_id=client.id, amount_cents=100, reference="x"
        )
    with pytest.raises(NotFound):
        funds.record_deposit(
            session=session, actor=admin, client_id=clipper.id, amount_cents=100, reference="x"
        )
    for bad in (0, -5, 1.5, True):
        with pytest.raises(InvalidInput):
            funds.record_deposit(
                session=session, actor=admin, client_id=client.id, amount_cents=bad, reference="x"
            )
    assert check_invariants(session).transactions == 0


def test_activation_moves_the_budget_to_escrow_and_refuses_a_short_balance(
    session: Session, admin, client
) -> None:
    funds.record_deposit(
        session=session, actor=admin, client_id=client.id, amount_cents=5_000, reference="w"
    )
    too_big = campaign(session, client, budget_cents=8_000)
    with pytest.raises(
        InsufficientFunds, match=r"needs its budget of \$80.00; your balance is \$50.00"
    ):
        funds.reserve_campaign_budget(session=session, campaign_id=too_big.id)
    fits = campaign(session, client, budget_cents=5_000)
    assert funds.reserve_campaign_budget(session=session, campaign_id=fits.id) == 5_000
    funds.reserve_campaign_budget(session=session, campaign_id=fits.id)  # once per campaign
    assert _balance(session, AccountKind.CLIENT_AVAILABLE, user_id=client.id) == 0
    assert _balance(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=fits.id) == 5_000
    assert funds.release_campaign_budget(session=session, campaign_id=fits.id) == 5_000
    assert funds.release_campaign_budget(session=session, campaign_id=fits.id) == 0
    assert _balance(session, AccountKind.CLIENT_AVAILABLE, user_id=client.id) == 5_000
    assert check_invariants(session).ok


# --- tiers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clips", "views", "tier", "percent"),
    [
        (0, 0, Tier.BRONZE, 70),
        (9, 99_999, Tier.BRONZE, 70),
        (10, 0, Tier.SILVER, 75),
        (0, 100_000, Tier.SILVER, 75),
        (50, 0, Tier.GOLD, 80),
        (3, 500_000, Tier.GOLD, 80),
        (100, 0, Tier.PLATINUM, 85),
        (0, 1_000_000, Tier.PLATINUM, 85),
    ],
)
def test_tiers_by_approved_clips_or_views(clips, views, tier, percent) -> None:
    standing = tiers.standing(clips, views)
    assert (standing.tier, standing.clipper_percent, standing.platform_percent) == (
        tier,
        percent,
        100 - percent,
    )


def test_progress_to_the_next_tier() -> None:
    standing = tiers.standing(5, 20_000)
    assert (standing.next_tier, standing.next_needs_clips, standing.next_needs_views) == (
        "silver",
        10,
        100_000,
    )
    assert standing.progress_percent == 50
    assert (
        tiers.standing(100, 0).next_tier is None and tiers.standing(100, 0).progress_percent == 100
    )


# --- approval ------------------------------------------------------------------------------


def test_a_ten_dollar_clip_approved_for_a_silver_clipper_books_750_and_250(
    session: Session, admin, client, clipper
) -> None:
    row = _funded_campaign(session, admin, client)
    # Silver by views: 100k on an earlier post.
    approved_submission(session, campaign(session, client, title="Earlier"), clipper, views=100_000)
    submission = approved_submission(session, row, clipper)
    booked = earnings.book_approval(session=session, submission_id=submission.id)
    assert booked.details["tier"] == "silver"
    assert (booked.details["clipper_cents"], booked.details["platform_cents"]) == (750, 250)
    assert earnings.book_approval(session=session, submission_id=submission.id).id == booked.id
    assert _balance(session, AccountKind.CLIPPER_PENDING, user_id=clipper.id) == 750
    assert _balance(session, AccountKind.PLATFORM_REVENUE) == 250
    assert _balance(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=row.id) == 9_000
    assert check_invariants(session).ok


def test_the_clippers_share_is_rounded_down_to_the_cent(
    session: Session, admin, client, clipper
) -> None:
    row = _funded_campaign(session, admin, client, price_cents=999)
    booked = earnings.book_approval(
        session=session, submission_id=approved_submission(session, row, clipper).id
    )
    assert (booked.details["clipper_cents"], booked.details["platform_cents"]) == (699, 300)


def test_escrow_pays_what_is_left_and_the_campaign_is_exhausted(
    session: Session, admin, client, clipper
) -> None:
    row = _funded_campaign(session, admin, client, price_cents=1000, budget_cents=1500)
    first = earnings.book_approval(
        session=session, submission_id=approved_submission(session, row, clipper).id
    )
    second = earnings.book_approval(
        session=session, submission_id=approved_submission(session, row, clipper).id
    )
    assert first.details["gross_cents"] == 1000
    assert (second.details["gross_cents"], second.details["short_cents"]) == (500, 500)
    session.refresh(row)
    assert row.is_exhausted
    third = approved_submission(session, row, clipper)
    assert earnings.book_approval(session=session, submission_id=third.id) is None
    assert _balance(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=row.id) == 0
    assert check_invariants(session).ok


def test_an_unapproved_submission_is_not_paid(session: Session, admin, client, clipper) -> None:
    row = _funded_campaign(session, admin, client)
    submission = approved_submission(session, row, clipper)
    submission.status = "pending"
    session.add(submission)
    with pytest.raises(InvalidInput, match="approved"):
        earnings.book_approval(session=session, submission_id=submission.id)


# --- views: CPM and bonuses -----------------------------------------------------------------


def test_cpm_accrues_with_views_up_to_the_cap_and_replays_book_nothing(
    session: Session, admin, client, clipper
) -> None:
    row = _funded_campaign(
        session,
        admin,
        client,
        price_cents=1000,
        budget_cents=100_000,
        cpm_cents=200,
        cpm_cap_cents=5_000,
    )
    submission = approved_submission(session, row, clipper)
    assert earnings.book_views(session=session, submission_id=submission.id, views=10_000) == []
    earnings.book_approval(session=session, submission_id=submission.id)
    (cpm,) = earnings.book_views(session=session, submission_id=submission.id, views=10_000)
    assert cpm.details["gross_cents"] == 2_000  # $2 per 1,000 views
    assert earnings.book_views(session=session, submission_id=submission.id, views=10_000) == []
    assert earnings.book_views(session=session, submission_id=submission.id, views=5_000) == []
    (more,) = earnings.book_views(session=session, submission_id=submission.id, views=99_999)
    assert more.details["gross_cents"] == 3_000  # capped at $50 in all
    assert earnings.book_views(session=session, submission_id=submission.id, views=99_999) == []
    assert check_invariants(session).ok


def test_a_cpm_only_campaign_pays_views_though_its_approval_pays_nothing(
    session: Session, admin, client, clipper
) -> None:
    row = _funded_campaign(
        session, admin, client, price_cents=0, budget_cents=10_000, cpm_cents=300
    )
    submission = approved_submission(session, row, clipper)
    assert earnings.book_approval(session=session, submission_id=submission.id) is None
    (cpm,) = earnings.book_views(session=session, submission_id=submission.id, views=2_000)
    assert (cpm.details["gross_cents"], cpm.details["clipper_cents"]) == (600, 420)
    session.refresh(row)
    assert not row.is_exhausted and check_invariants(session).ok


def test_at_500k_views_the_bonus_difference_is_booked_once(
    session: Session, admin, client, clipper
) -> None:
    row = _funded_campaign(session, admin, client, price_cents=1000, budget_cents=100_000)
    submission = approved_submission(session, row, clipper)
    earnings.book_approval(session=session, submission_id=submission.id)
    (first,) = earnings.book_views(session=session, submission_id=submission.id, views=150_000)
    assert (first.details["threshold"], first.details["gross_cents"]) == (100_000, 200)
    (second,) = earnings.book_views(session=session, submission_id=submission.id, views=520_000)
    assert (second.details["threshold"], second.details["gross_cents"]) == (500_000, 300)
    assert earnings.book_views(session=session, submission_id=submission.id, views=520_000) == []
    assert earnings.book_views(session=session, submission_id=submission.id, views=120_000) == []
    (top,) = earnings.book_views(session=session, submission_id=submission.id, views=6_000_000)
    assert (top.details["threshold"], top.details["gross_cents"]) == (5_000_000, 1_500)


def test_a_jump_straight_past_several_thresholds_books_the_highest_once(
    session: Session, admin, client, clipper
) -> None:
    row = _funded_campaign(session, admin, client, price_cents=1000, budget_cents=100_000)
    submission = approved_submission(session, row, clipper)
    earnings.book_approval(session=session, submission_id=submission.id)
    (bonus,) = earnings.book_views(session=session, submission_id=submission.id, views=1_200_000)
    assert (bonus.details["threshold"], bonus.details["gross_cents"]) == (1_000_000, 1_000)
    assert earnings.book_views(session=session, submission_id=submission.id, views=600_000) == []


# --- holds -------------------------------------------------------------------------------------


def test_pending_earnings_become_available_after_the_hold_unless_an_admin_holds_them(
    session: Session, admin, client, clipper
) -> None:
    row = _funded_campaign(session, admin, client)
    held = approved_submission(session, row, clipper)
    free = approved_submission(session, row, clipper)
    for submission in (held, free):
        earnings.book_approval(session=session, submission_id=submission.id)
    assert holds.release_matured_earnings(session=session) == 0  # still inside the hold
    holds.hold_earnings(session=session, actor=admin, submission_id=held.id, reason="View spike")
    later = utcnow() + timedelta(days=7, minutes=1)
    assert holds.release_matured_earnings(session=session, now=later) == 1
    assert holds.release_matured_earnings(session=session, now=later) == 0
    assert _balance(session, AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id) == 700
    assert _balance(session, AccountKind.CLIPPER_PENDING, user_id=clipper.id) == 700
    with pytest.raises(PermissionDenied):
        holds.release_earnings_hold(session=session, actor=clipper, submission_id=held.id)
    # Lifted before its hold ran out, it waits for the release like any other.
    assert holds.release_earnings_hold(session=session, actor=admin, submission_id=held.id) == 0
    assert holds.release_matured_earnings(session=session, now=later) == 1
    assert _balance(session, AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id) == 1_400
    assert check_invariants(session).ok


# --- payouts ---------------------------------------------------------------------------------


def _available(session, admin, client, clipper, cents: int) -> None:
    """Give the clipper `cents` of available money, the way it really arrives."""
    row = _funded_campaign(
        session, admin, client, price_cents=cents * 10 // 7 + 1, budget_cents=10**7
    )
    earnings.book_approval(
        session=session, submission_id=approved_submission(session, row, clipper).id
    )
    holds.release_matured_earnings(session=session, now=utcnow() + timedelta(days=8))


def test_a_payout_request_is_paid_by_an_admin_with_a_reference(
    session: Session, admin, client, clipper
) -> None:
    _available(session, admin, client, clipper, 5_000)
    available = _balance(session, AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id)
    with pytest.raises(InvalidInput, match=r"smallest payout is \$10.00"):
        payouts.request_payout(session=session, actor=clipper, amount_cents=999)
    with pytest.raises(InsufficientFunds, match="available to pay out"):
        payouts.request_payout(session=session, actor=clipper, amount_cents=available + 1)
    request = payouts.request_payout(
        session=session, actor=clipper, amount_cents=2_000, request_key="form-1"
    )
    again = payouts.request_payout(
        session=session, actor=clipper, amount_cents=2_000, request_key="form-1"
    )
    assert again.id == request.id
    assert _balance(session, AccountKind.CLIPPER_PAYOUT_PENDING, user_id=clipper.id) == 2_000
    with pytest.raises(PermissionDenied):
        payouts.approve_payout(session=session, actor=clipper, payout_id=request.id, reference="x")
    with pytest.raises(InvalidInput, match="reference"):
        payouts.approve_payout(session=session, actor=admin, payout_id=request.id, reference=" ")
    paid = payouts.approve_payout(
        session=session, actor=admin, payout_id=request.id, reference="SEPA-123"
    )
    assert (paid.status, paid.reference) == ("paid", "SEPA-123")
    with pytest.raises(InvalidInput, match="already paid"):
        payouts.reject_payout(session=session, actor=admin, payout_id=request.id, reason="late")
    balances = reports.clipper_balances(session=session, actor=clipper)
    assert (balances.available_cents, balances.in_payout_cents, balances.paid_cents) == (
        available - 2_000,
        0,
        2_000,
    )
    assert session.exec(select(AuditLog).where(AuditLog.action == "money.payout_paid")).one()
    csv_text = payouts.payouts_csv(session=session, actor=admin)
    assert "SEPA-123" in csv_text and "20.00" in csv_text
    assert check_invariants(session).ok


def test_a_rejected_payout_returns_the_money(session: Session, admin, client, clipper) -> None:
    _available(session, admin, client, clipper, 5_000)
    before = _balance(session, AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id)
    request = payouts.request_payout(session=session, actor=clipper, amount_cents=1_500)
    with pytest.raises(InvalidInput, match="Say why"):
        payouts.reject_payout(session=session, actor=admin, payout_id=request.id, reason="")
    rejected = payouts.reject_payout(
        session=session, actor=admin, payout_id=request.id, reason="Bank details do not match"
    )
    assert rejected.rejection_reason == "Bank details do not match"
    assert _balance(session, AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id) == before
    assert session.get(Payout, request.id).decided_by == admin.id
    assert check_invariants(session).ok


# --- what people see ---------------------------------------------------------------------------


def test_a_statement_says_what_every_line_was_for_and_shows_only_ones_own(
    session: Session, admin, client, clipper
) -> None:
    other = person(session, Role.CLIPPER, "bob")
    row = _funded_campaign(
        session, admin, client, price_cents=1000, budget_cents=100_000, title="Spring drop"
    )
    submission = approved_submission(session, row, clipper)
    earnings.book_approval(session=session, submission_id=submission.id)
    earnings.book_views(session=session, submission_id=submission.id, views=120_000)
    statement = reports.clipper_statement(session=session, actor=clipper)
    texts = [line.description for line in statement.lines]
    assert any("Bonus of 20% at 100,000 views" in text and "Spring drop" in text for text in texts)
    assert any(
        text.startswith("Approval of submission") and "Bronze tier" in text for text in texts
    )
    assert reports.clipper_statement(session=session, actor=other).total == 0
    with pytest.raises(PermissionDenied):
        reports.clipper_statement(session=session, actor=client)


def test_billing_and_platform_totals(session: Session, admin, client, clipper) -> None:
    row = _funded_campaign(session, admin, client)
    earnings.book_approval(
        session=session, submission_id=approved_submission(session, row, clipper).id
    )
    billing = reports.client_billing(session=session, actor=client)
    assert (billing.available_cents, billing.held_cents) == (0, 9_000)
    assert billing.campaigns[0].escrow_cents == 9_000
    totals = reports.platform_money(session=session, actor=admin)
    assert (totals.revenue_cents, totals.escrow_cents, totals.owed_to_clippers_cents) == (
        300,
        9_000,
        700,
    )
    assert totals.deposited_cents == 10_000 and totals.invariants.ok
    with pytest.raises(PermissionDenied):
        reports.platform_money(session=session, actor=client)


@pytest.mark.parametrize(
    ("text", "cents"), [("12", 1200), ("12.5", 1250), ("$1,250.05", 125005), (" 0.01 ", 1)]
)
def test_dollars_are_read_as_cents(text: str, cents: int) -> None:
    assert parse_dollars(text) == cents
    assert parse_dollars(format_cents(cents)) == cents


@pytest.mark.parametrize("text", ["", "abc", "-5", "1.234", "0", "1e5"])
def test_a_bad_amount_is_refused_in_words(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_dollars(text)
