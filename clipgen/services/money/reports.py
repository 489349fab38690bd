"""What people see of money: a clipper's balances and statement, a client's billing, the
platform's totals. Every figure is a balance or an aggregate computed in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from clipgen.models import (
    AccountKind,
    Campaign,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    Payout,
    PayoutStatus,
    Role,
    TransactionKind,
)
from clipgen.services.access import require_role
from clipgen.services.auth.service import UserView
from clipgen.services.money.amounts import format_cents
from clipgen.services.money.ledger import InvariantReport, account_code, check_invariants
from clipgen.services.money.tiers import TierStanding, clipper_standing
from clipgen.services.paging import page_count

MAX_PER_PAGE = 100
ACCOUNT_LABELS = {
    AccountKind.CLIPPER_PENDING: "Pending",
    AccountKind.CLIPPER_AVAILABLE: "Available",
    AccountKind.CLIPPER_PAYOUT_PENDING: "In payout",
    AccountKind.CLIENT_AVAILABLE: "Balance",
    AccountKind.CAMPAIGN_ESCROW: "Escrow",
}


def balances_by_code(session: Session, codes: list[str]) -> dict[str, int]:
    """Balances of accounts by code, in one query; 0 for an account not opened yet."""
    rows = session.exec(
        select(LedgerAccount.code, LedgerAccount.balance_cents).where(
            col(LedgerAccount.code).in_(codes)
        )
    ).all()
    found = dict(rows)
    return {code: int(found.get(code, 0)) for code in codes}


@dataclass(frozen=True)
class ClipperBalances:
    pending_cents: int
    available_cents: int
    in_payout_cents: int
    paid_cents: int
    standing: TierStanding


def clipper_balances(*, session: Session, actor: UserView) -> ClipperBalances:
    """The clipper's own pending, available, in-payout and paid-out money, and tier."""
    require_role(actor, Role.CLIPPER)
    kinds = (
        AccountKind.CLIPPER_PENDING,
        AccountKind.CLIPPER_AVAILABLE,
        AccountKind.CLIPPER_PAYOUT_PENDING,
    )
    codes = [account_code(kind, user_id=actor.id) for kind in kinds]
    found = balances_by_code(session, codes)
    paid = session.exec(
        select(func.coalesce(func.sum(Payout.amount_cents), 0)).where(
            Payout.clipper_id == actor.id,
            # Processing: it left ClipGen for the clipper's Stripe account and their bank.
            col(Payout.status).in_((PayoutStatus.PAID, PayoutStatus.PROCESSING)),
        )
    ).one()
    return ClipperBalances(
        pending_cents=found[codes[0]],
        available_cents=found[codes[1]],
        in_payout_cents=found[codes[2]],
        paid_cents=int(paid),
        standing=clipper_standing(session, actor.id),
    )


@dataclass(frozen=True)
class StatementLine:
    """One movement on a user's accounts, saying what it was for."""

    transaction_id: int
    at: datetime
    account: str
    amount_cents: int
    kind: str
    description: str


def describe(transaction: LedgerTransaction, campaign_title: str | None) -> str:
    """What a transaction was for, in a sentence."""
    details = transaction.details or {}
    of_campaign = f" in “{campaign_title}”" if campaign_title else ""
    submission = f"submission #{transaction.submission_id}" if transaction.submission_id else ""
    split = (
        f" ({details.get('clipper_percent')}% share of {format_cents(details['gross_cents'])})"
        if "gross_cents" in details
        else ""
    )
    kind = transaction.kind
    if kind == TransactionKind.APPROVAL:
        tier = str(details.get("tier", "")).title()
        return f"Approval of {submission}{of_campaign}, {tier} tier{split}"
    if kind == TransactionKind.CPM:
        return f"CPM for {details.get('views', 0):,} views of {submission}{of_campaign}{split}"
    if kind == TransactionKind.BONUS:
        return (
            f"Bonus of {details.get('bonus_percent')}% at {details.get('threshold', 0):,} views "
            f"for {submission}{of_campaign}{split}"
        )
    if kind == TransactionKind.FRAUD_REVERSAL:
        return (
            f"Reversed: {details.get('reversed_kind', 'earning')} of {submission}{of_campaign}, "
            f"views found not genuine ({transaction.memo})"
        )
    if kind == TransactionKind.EARNINGS_RELEASE:
        return f"Hold ended: earnings of {submission}{of_campaign} became available"
    if kind == TransactionKind.PAYOUT_REQUEST:
        return f"Payout #{transaction.payout_id} requested"
    if kind == TransactionKind.PAYOUT_PAID and details.get("provider") == "stripe":
        return f"Payout #{transaction.payout_id} sent to your Stripe account for your bank"
    if kind == TransactionKind.PAYOUT_PAID:
        return f"Payout #{transaction.payout_id} paid (reference {details.get('reference', '')})"
    if kind == TransactionKind.PAYOUT_RETURNED:
        reason = details.get("reason") or "Stripe could not pay it"
        return f"Payout #{transaction.payout_id} returned to your balance: {reason}"
    if kind == TransactionKind.PAYOUT_REJECTED:
        return f"Payout #{transaction.payout_id} rejected: {details.get('reason', '')}"
    if kind == TransactionKind.DEPOSIT and details.get("provider") == "stripe":
        return "Card payment (Stripe's fee paid by ClipGen)"
    if kind == TransactionKind.DEPOSIT:
        return f"Deposit (reference {details.get('reference', '')})"
    if kind in _CARD_KINDS:
        return _describe_card(kind, details)
    named = f"“{campaign_title}”" if campaign_title else "a campaign"
    if kind == TransactionKind.CAMPAIGN_RESERVE:
        return f"Budget of {named} moved to its escrow"
    if kind == TransactionKind.CAMPAIGN_RELEASE:
        return f"Unspent budget of {named} returned"
    return transaction.memo or kind


_CARD_KINDS = (
    TransactionKind.CARD_REFUND,
    TransactionKind.DISPUTE_HOLD,
    TransactionKind.DISPUTE_WON,
    TransactionKind.DISPUTE_LOST,
)


def _describe_card(kind: str, details: dict) -> str:
    """A card refund or dispute, in words (with what ClipGen covered, if anything)."""
    amount = format_cents(int(details.get("amount_cents", 0)))
    platform = int(details.get("platform_cents", 0))
    covered = f"; ClipGen covered {format_cents(platform)} already spent" if platform else ""
    if kind == TransactionKind.CARD_REFUND:
        return (
            f"Refund of {amount} to your card (refund {details.get('stripe_source', '')}){covered}"
        )
    if kind == TransactionKind.DISPUTE_HOLD:
        return (
            f"Held: a card payment of {amount} is disputed by the cardholder's bank, "
            f"until the bank decides{covered}"
        )
    if kind == TransactionKind.DISPUTE_WON:
        return f"Dispute won: the hold on a card payment of {amount} was released"
    return f"Dispute lost: the card payment of {amount} went back to the cardholder"


@dataclass(frozen=True)
class StatementPage:
    lines: tuple[StatementLine, ...]
    page: int
    per_page: int
    total: int


def _statement(session: Session, account_ids: list[int], page: int, per_page: int) -> StatementPage:
    per_page = max(1, min(MAX_PER_PAGE, int(per_page)))
    total = session.exec(
        select(func.count())
        .select_from(LedgerEntry)
        .where(col(LedgerEntry.account_id).in_(account_ids))
    ).one()
    last_page = page_count(total, per_page)
    page = max(1, min(last_page, int(page)))
    rows = session.exec(
        select(LedgerEntry, LedgerTransaction, LedgerAccount.kind, Campaign.title)
        .join(LedgerTransaction, col(LedgerTransaction.id) == LedgerEntry.transaction_id)
        .join(LedgerAccount, col(LedgerAccount.id) == LedgerEntry.account_id)
        .outerjoin(Campaign, col(Campaign.id) == LedgerTransaction.campaign_id)
        .where(col(LedgerEntry.account_id).in_(account_ids))
        .order_by(col(LedgerEntry.id).desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    lines = tuple(
        StatementLine(
            transaction_id=transaction.id,
            at=entry.created_at,
            account=ACCOUNT_LABELS.get(kind, kind),
            amount_cents=entry.amount_cents,
            kind=transaction.kind,
            description=describe(transaction, title),
        )
        for entry, transaction, kind, title in rows
    )
    return StatementPage(lines, page, per_page, int(total))


def _account_ids(session: Session, codes: list[str]) -> list[int]:
    return list(
        session.exec(select(LedgerAccount.id).where(col(LedgerAccount.code).in_(codes))).all()
    )


def clipper_statement(
    *, session: Session, actor: UserView, page: int = 1, per_page: int = 25
) -> StatementPage:
    """Every movement on the clipper's own accounts, newest first."""
    require_role(actor, Role.CLIPPER)
    codes = [
        account_code(kind, user_id=actor.id)
        for kind in (
            AccountKind.CLIPPER_PENDING,
            AccountKind.CLIPPER_AVAILABLE,
            AccountKind.CLIPPER_PAYOUT_PENDING,
        )
    ]
    return _statement(session, _account_ids(session, codes) or [-1], page, per_page)


@dataclass(frozen=True)
class CampaignMoney:
    campaign_id: int
    title: str
    status: str
    budget_cents: int
    escrow_cents: int
    exhausted: bool


@dataclass(frozen=True)
class ClientBilling:
    available_cents: int
    held_cents: int
    campaigns: tuple[CampaignMoney, ...]
    history: StatementPage


def client_balance(*, session: Session, actor: UserView) -> int:
    """The client's available balance (money not yet in a campaign), in cents."""
    require_role(actor, Role.CLIENT)
    code = account_code(AccountKind.CLIENT_AVAILABLE, user_id=actor.id)
    return balances_by_code(session, [code])[code]


def client_billing(
    *, session: Session, actor: UserView, page: int = 1, per_page: int = 25
) -> ClientBilling:
    """The client's balance, the money held in each campaign's escrow, and the history."""
    available = client_balance(session=session, actor=actor)
    rows = session.exec(
        select(Campaign, func.coalesce(LedgerAccount.balance_cents, 0))
        .outerjoin(LedgerAccount, col(LedgerAccount.campaign_id) == Campaign.id)
        .where(Campaign.client_id == actor.id)
        .order_by(col(Campaign.created_at).desc())
    ).all()
    campaigns = tuple(
        CampaignMoney(
            campaign.id,
            campaign.title,
            campaign.status,
            campaign.budget_cents,
            int(escrow),
            campaign.is_exhausted,
        )
        for campaign, escrow in rows
    )
    available_code = account_code(AccountKind.CLIENT_AVAILABLE, user_id=actor.id)
    history = _statement(session, _account_ids(session, [available_code]) or [-1], page, per_page)
    return ClientBilling(available, sum(c.escrow_cents for c in campaigns), campaigns, history)


@dataclass(frozen=True)
class PlatformMoney:
    revenue_cents: int
    escrow_cents: int
    owed_to_clippers_cents: int
    clients_available_cents: int
    deposited_cents: int
    paid_out_cents: int
    payouts_waiting: int
    invariants: InvariantReport
    # Stripe's card and dispute fees, which the platform carries (0 without Stripe).
    payment_fees_cents: int = 0


def platform_money(*, session: Session, actor: UserView) -> PlatformMoney:
    """The platform's totals and the ledger's invariant check (admins only)."""
    require_role(actor, Role.ADMIN)
    by_kind = dict(
        session.exec(
            select(
                LedgerAccount.kind, func.coalesce(func.sum(LedgerAccount.balance_cents), 0)
            ).group_by(col(LedgerAccount.kind))
        ).all()
    )

    def total(*kinds: AccountKind) -> int:
        return sum(int(by_kind.get(str(kind), 0)) for kind in kinds)

    return PlatformMoney(
        revenue_cents=total(AccountKind.PLATFORM_REVENUE),
        escrow_cents=total(AccountKind.CAMPAIGN_ESCROW),
        owed_to_clippers_cents=total(
            AccountKind.CLIPPER_PENDING,
            AccountKind.CLIPPER_AVAILABLE,
            AccountKind.CLIPPER_PAYOUT_PENDING,
        ),
        clients_available_cents=total(AccountKind.CLIENT_AVAILABLE),
        deposited_cents=-total(AccountKind.EXTERNAL_DEPOSITS),
        paid_out_cents=total(AccountKind.EXTERNAL_PAYOUTS),
        payouts_waiting=session.exec(
            select(func.count()).select_from(Payout).where(Payout.status == PayoutStatus.REQUESTED)
        ).one(),
        invariants=check_invariants(session),
        payment_fees_cents=total(AccountKind.PAYMENT_FEES),
    )
