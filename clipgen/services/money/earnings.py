"""What clippers earn: the price of an approved clip, CPM as views grow, and performance
bonuses at view thresholds (DESIGN §4), each booked from the campaign's escrow.

Every booking is split by the clipper's tier at approval (kept on the approval's
transaction, so the clip's later CPM and bonuses split the same way): the clipper's
share, rounded down to the cent, goes to their pending balance and the rest to platform
revenue. Escrow never goes negative: a booking larger than what is left pays what is
left and marks the campaign exhausted. Calls are idempotent and may come in any order:
views that were already paid for book nothing.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import and_, exists, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from clipgen.config import get_settings
from clipgen.models import (
    AccountKind,
    Campaign,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    MarketJob,
    Submission,
    SubmissionStatus,
    TransactionKind,
    utcnow,
)
from clipgen.services.errors import InvalidInput, NotFound
from clipgen.services.money.amounts import format_cents
from clipgen.services.money.ledger import (
    Posting,
    Purpose,
    account,
    find_transaction,
    locked_balance,
    post_transaction,
)
from clipgen.services.money.tiers import clipper_standing, split, standing

# (views, percent of the clip's base price), lowest first.
BONUS_THRESHOLDS: tuple[tuple[int, int], ...] = (
    (100_000, 20),
    (500_000, 50),
    (1_000_000, 100),
    (5_000_000, 200),
)
EARNING_KINDS = (TransactionKind.APPROVAL, TransactionKind.CPM, TransactionKind.BONUS)


def _approval_key(submission_id: int) -> str:
    return f"approval:{submission_id}"


def _locked_submission(
    session: Session, submission_id: int
) -> tuple[Submission, MarketJob, Campaign]:
    """The submission (locked: one booking per submission at a time), its job and campaign."""
    submission = session.exec(
        select(Submission).where(Submission.id == submission_id).with_for_update()
    ).first()
    if submission is None:
        raise NotFound("That submission was not found.")
    job = session.get(MarketJob, submission.job_id)
    campaign = session.get(Campaign, job.campaign_id)
    return submission, job, campaign


def _book(
    session: Session,
    *,
    key: str,
    kind: TransactionKind,
    wanted_cents: int,
    campaign: Campaign,
    submission: Submission,
    clipper_id: int,
    clipper_percent: int,
    details: dict,
    held_by_flag_id: int | None = None,
) -> LedgerTransaction | None:
    """Move up to `wanted_cents` from escrow, split; None when escrow had nothing."""
    earlier = find_transaction(session, key)
    if earlier is not None:
        return earlier
    escrow = account(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign.id)
    left = locked_balance(session, escrow)
    gross = min(wanted_cents, max(0, left))
    if gross < wanted_cents and not campaign.is_exhausted:
        campaign.is_exhausted = True
        session.add(campaign)
    if gross <= 0:
        return None
    clipper_cents, platform_cents = split(gross, clipper_percent)
    return post_transaction(
        session,
        key=key,
        purpose=Purpose(
            kind=kind,
            campaign_id=campaign.id,
            submission_id=submission.id,
            details={
                **details,
                "gross_cents": gross,
                "clipper_cents": clipper_cents,
                "platform_cents": platform_cents,
                "clipper_percent": clipper_percent,
                "clipper_id": clipper_id,
                "short_cents": wanted_cents - gross,
            },
            release_at=utcnow() + timedelta(days=get_settings().earnings_hold_days),
            held_by_flag_id=held_by_flag_id,
        ),
        postings=[
            Posting(escrow, -gross),
            Posting(
                account(session, AccountKind.CLIPPER_PENDING, user_id=clipper_id), clipper_cents
            ),
            Posting(account(session, AccountKind.PLATFORM_REVENUE), platform_cents),
        ],
    )


def book_approval(*, session: Session, submission_id: int) -> LedgerTransaction | None:
    """Pay an approved submission its campaign's price per clip, split by the clipper's
    tier now (their approvals before this one, and their views); once per submission.

    None when the campaign's escrow was already empty (the campaign is then exhausted).
    """
    existing = find_transaction(session, _approval_key(submission_id))
    if existing is not None:
        return existing
    submission, job, campaign = _locked_submission(session, submission_id)
    if submission.status != SubmissionStatus.APPROVED:
        raise InvalidInput("Only an approved submission is paid.")
    before = _standing_at_approval(session, job.clipper_id)
    return _book(
        session,
        key=_approval_key(submission.id),
        kind=TransactionKind.APPROVAL,
        wanted_cents=campaign.price_per_clip_cents,
        campaign=campaign,
        submission=submission,
        clipper_id=job.clipper_id,
        clipper_percent=before.clipper_percent,
        details={"tier": before.tier, "price_cents": campaign.price_per_clip_cents},
    )


def _standing_at_approval(session: Session, clipper_id: int):
    """The clipper's tier at the moment of an approval: that approval does not count yet."""
    now = clipper_standing(session, clipper_id)
    return standing(max(0, now.approved_clips - 1), now.total_views)


def _booked_gross(
    session: Session, submission_id: int, kind: TransactionKind, escrow_id: int
) -> int:
    """How much a submission has taken from escrow for one kind of earning so far, net of
    what confirmed fraud reversed."""
    original = aliased(LedgerTransaction)
    taken = session.exec(
        select(func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
        .join(LedgerTransaction, col(LedgerTransaction.id) == LedgerEntry.transaction_id)
        .outerjoin(original, col(original.id) == LedgerTransaction.reversal_of)
        .where(
            LedgerTransaction.submission_id == submission_id,
            LedgerEntry.account_id == escrow_id,
            or_(
                LedgerTransaction.kind == kind,
                and_(
                    LedgerTransaction.kind == TransactionKind.FRAUD_REVERSAL,
                    original.kind == kind,
                ),
            ),
        )
    ).one()
    return -int(taken)


def _generation(session: Session, submission_id: int) -> str:
    """A suffix for view-earning keys that changes after each fraud reversal, so a
    reversed booking's key never stops a later, honest one of the same amount."""
    reversals = session.exec(
        select(func.count())
        .select_from(LedgerTransaction)
        .where(
            LedgerTransaction.submission_id == submission_id,
            LedgerTransaction.kind == TransactionKind.FRAUD_REVERSAL,
        )
    ).one()
    return f":r{reversals}" if reversals else ""


def bonus_percent(views: int) -> tuple[int, int]:
    """(threshold, percent) of the highest bonus threshold `views` reached; (0, 0) if none."""
    reached = [
        (threshold, percent) for threshold, percent in BONUS_THRESHOLDS if views >= threshold
    ]
    return reached[-1] if reached else (0, 0)


def _view_targets(campaign: Campaign, views: int) -> tuple[int, int]:
    """What `views` earn a clip in all: (CPM gross, bonus gross) in cents."""
    cpm = views * campaign.cpm_cents // 1000
    if campaign.cpm_cap_cents > 0:
        cpm = min(cpm, campaign.cpm_cap_cents)
    return cpm, campaign.price_per_clip_cents * bonus_percent(views)[1] // 100


def booked_beyond(session: Session, submission_id: int, views: int) -> bool:
    """Whether the clip took more from escrow for views (CPM or bonus) than `views` earn
    (its counted views fell: a post it was paid for was refused)."""
    submission = session.get(Submission, submission_id)
    job = session.get(MarketJob, submission.job_id)
    campaign = session.get(Campaign, job.campaign_id)
    escrow = account(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign.id)
    cpm, bonus = _view_targets(campaign, views)
    return (
        _booked_gross(session, submission_id, TransactionKind.CPM, escrow.id) > cpm
        or _booked_gross(session, submission_id, TransactionKind.BONUS, escrow.id) > bonus
    )


def book_views(
    *, session: Session, submission_id: int, views: int, held_by_flag_id: int | None = None
) -> list[LedgerTransaction]:
    """Bring a submission's CPM earnings and bonus up to date with its view count.

    CPM: `cpm_cents` per 1,000 views, up to the campaign's per-clip cap. Bonus: a share
    of the base price at the highest threshold reached, booking only the difference
    from what was booked before, each threshold once. A lower or repeated count books
    nothing; only an approved submission whose approval was booked (or whose campaign pays
    per view only) earns from views. `held_by_flag_id`: the clip is flagged; what is booked
    now stays pending until that flag is cleared (or is reversed if it is confirmed).
    """
    if isinstance(views, bool) or not isinstance(views, int) or views < 0:
        raise InvalidInput("A view count is a whole number, zero or more.")
    submission, job, campaign = _locked_submission(session, submission_id)
    if submission.status != SubmissionStatus.APPROVED:
        return []
    approval = find_transaction(session, _approval_key(submission_id))
    if approval is not None:
        percent = int(approval.details["clipper_percent"])
    elif campaign.price_per_clip_cents == 0:
        # A CPM-only campaign: its approval books nothing, its views split by the tier.
        percent = _standing_at_approval(session, job.clipper_id).clipper_percent
    else:
        return []  # views earn once the approval is paid
    escrow = account(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign.id)
    booked: list[LedgerTransaction] = []
    common = {
        "campaign": campaign,
        "submission": submission,
        "clipper_id": job.clipper_id,
        "clipper_percent": percent,
        "held_by_flag_id": held_by_flag_id,
    }
    generation = _generation(session, submission.id)

    cpm_target, bonus_target = _view_targets(campaign, views)
    if campaign.cpm_cents > 0:
        target = cpm_target
        already = _booked_gross(session, submission.id, TransactionKind.CPM, escrow.id)
        if target > already:
            posted = _book(
                session,
                key=f"cpm:{submission.id}:{target}{generation}",
                kind=TransactionKind.CPM,
                wanted_cents=target - already,
                details={"views": views, "cpm_cents": campaign.cpm_cents, "target_cents": target},
                **common,
            )
            if posted is not None:
                booked.append(posted)

    threshold, bonus = bonus_percent(views)
    if bonus:
        target = bonus_target
        already = _booked_gross(session, submission.id, TransactionKind.BONUS, escrow.id)
        if target > already:
            posted = _book(
                session,
                key=f"bonus:{submission.id}:{threshold}{generation}",
                kind=TransactionKind.BONUS,
                wanted_cents=target - already,
                details={"views": views, "threshold": threshold, "bonus_percent": bonus},
                **common,
            )
            if posted is not None:
                booked.append(posted)
    return booked


def reverse_flagged_earnings(
    *, session: Session, flag_id: int, actor_id: int | None, reason: str
) -> list[LedgerTransaction]:
    """Undo every earning booked while `flag_id` was open (confirmed fraud): the clipper's
    pending share and the platform's cut go back where the money came from, the campaign's
    escrow, or straight to the client when the campaign already gave its budget back. Once
    per earning. The earnings were never released (the flag held them), so the clipper's
    pending balance still holds them."""
    held = session.exec(
        select(LedgerTransaction)
        .where(LedgerTransaction.held_by_flag_id == flag_id)
        .order_by(col(LedgerTransaction.id))
    ).all()
    lock_earnings(session, [earning.id for earning in held])
    reversed_ = [
        _reverse(session, earning, actor_id=actor_id, reason=reason, why={"flag_id": flag_id})
        for earning in held
    ]
    return [done for done in reversed_ if done is not None]


def reverse_unverified_view_earnings(
    *, session: Session, submission_id: int, actor_id: int | None, reason: str, post_id: int
) -> tuple[list[LedgerTransaction], int]:
    """Undo a clip's view earnings (CPM and bonus) that are still pending, because a post
    they were counted from was refused; the caller then books again from the verified
    posts alone. Earnings already released to the clipper are left (they are theirs to
    pay out); (reversals, cents left because they were released)."""
    release = aliased(LedgerTransaction)
    reversal = aliased(LedgerTransaction)
    rows = session.exec(
        select(LedgerTransaction)
        .where(
            LedgerTransaction.submission_id == submission_id,
            col(LedgerTransaction.kind).in_([TransactionKind.CPM, TransactionKind.BONUS]),
            ~exists().where(reversal.reversal_of == LedgerTransaction.id),
        )
        .order_by(col(LedgerTransaction.id))
    ).all()
    lock_earnings(session, [row.id for row in rows])
    released = set(
        session.exec(
            select(release.release_of).where(
                col(release.release_of).in_([row.id for row in rows] or [0])
            )
        ).all()
    )
    reversed_, kept = [], 0
    for earning in rows:
        done = None
        if earning.id not in released:
            done = _reverse(
                session, earning, actor_id=actor_id, reason=reason, why={"post_refused": post_id}
            )
        if done is None:  # released to the clipper, maybe a moment ago
            kept += int(earning.details.get("gross_cents", 0))
        else:
            reversed_.append(done)
    return reversed_, kept


def lock_earnings(session: Session, earning_ids: list[int]) -> None:
    """Hold earnings' rows until the unit of work ends. Release and reversal both take them
    this way, every one they will touch, in id order, before any account: so an earning is
    never both released and reversed, and the two never wait on each other in a circle."""
    if earning_ids:
        session.exec(
            select(LedgerTransaction.id)
            .where(col(LedgerTransaction.id).in_(sorted(set(earning_ids))))
            .order_by(col(LedgerTransaction.id))
            .with_for_update()
        ).all()


def _reverse(
    session: Session,
    earning: LedgerTransaction,
    *,
    actor_id: int | None,
    reason: str,
    why: dict,
) -> LedgerTransaction | None:
    """Post the exact opposite of `earning` (once), its escrow share going back to the
    campaign's escrow, or to the client once the campaign gave its budget back; None when
    the earning was released to the clipper. The earning's row is locked, and the release
    job takes the same lock, so an earning is never both released and reversed."""
    lock_earnings(session, [earning.id])  # (the callers hold it already)
    if find_transaction(session, f"release:{earning.id}") is not None:
        return None
    campaign = session.get(Campaign, earning.campaign_id)
    budget_returned = find_transaction(session, f"campaign-release:{campaign.id}")
    refund_to = (
        account(session, AccountKind.CLIENT_AVAILABLE, user_id=campaign.client_id)
        if budget_returned is not None
        else account(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign.id)
    )
    escrow = account(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign.id)
    postings = [
        Posting(refund_to if line.id == escrow.id else line, -amount)
        for line, amount in session.exec(
            select(LedgerAccount, LedgerEntry.amount_cents)
            .join(LedgerEntry, col(LedgerEntry.account_id) == LedgerAccount.id)
            .where(LedgerEntry.transaction_id == earning.id)
        ).all()
    ]
    return post_transaction(
        session,
        key=f"reversal:{earning.id}",
        purpose=Purpose(
            kind=TransactionKind.FRAUD_REVERSAL,
            memo=reason[:500],
            actor_id=actor_id,
            campaign_id=earning.campaign_id,
            submission_id=earning.submission_id,
            reversal_of=earning.id,
            details={
                "clipper_id": earning.details.get("clipper_id"),
                "reversed_kind": earning.kind,
                "gross_cents": earning.details.get("gross_cents", 0),
                "clipper_cents": earning.details.get("clipper_cents", 0),
                "to_client": budget_returned is not None,
                **why,
            },
        ),
        postings=postings,
    )


def restore_flag_reversals(
    *, session: Session, flag_id: int, actor_id: int | None, reason: str
) -> list[LedgerTransaction]:
    """Book back exactly what confirming `flag_id` reversed (its fraud was overturned on
    appeal): each reversed earning again, once, of the same kind and split, from the
    campaign's escrow, or from the client once the campaign gave its budget back. Refused,
    naming the shortfall, when that balance no longer holds it all; then nothing changes.
    The restored earnings follow the original's hold (those past it can be released now)."""
    reversal = aliased(LedgerTransaction)
    rows = session.exec(
        select(LedgerTransaction, reversal)
        .join(reversal, col(reversal.reversal_of) == LedgerTransaction.id)
        .where(LedgerTransaction.held_by_flag_id == flag_id)
        .order_by(col(LedgerTransaction.id))
    ).all()
    # Only what the flag's confirmation reversed (not a refused post's reversal).
    held = [earning for earning, undone in rows if (undone.details or {}).get("flag_id") == flag_id]
    lock_earnings(session, [earning.id for earning in held])
    todo = [e for e in held if find_transaction(session, f"restoration:{e.id}") is None]
    if not todo:
        return []
    campaign = session.get(Campaign, todo[0].campaign_id)
    budget_returned = find_transaction(session, f"campaign-release:{campaign.id}") is not None
    source = (
        account(session, AccountKind.CLIENT_AVAILABLE, user_id=campaign.client_id)
        if budget_returned
        else account(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign.id)
    )
    wanted = sum(int(earning.details.get("gross_cents", 0)) for earning in todo)
    left = locked_balance(session, source)
    if left < wanted:
        where = "the client's balance" if budget_returned else "the campaign's escrow"
        raise InvalidInput(
            f"{where.capitalize()} holds {format_cents(left)} of the {format_cents(wanted)} "
            f"to restore ({format_cents(wanted - left)} short), so the earnings cannot be "
            "booked back; nothing was changed."
        )
    escrow = account(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign.id)
    restored = []
    for earning in todo:
        postings = [
            Posting(source if line.id == escrow.id else line, amount)
            for line, amount in session.exec(
                select(LedgerAccount, LedgerEntry.amount_cents)
                .join(LedgerEntry, col(LedgerEntry.account_id) == LedgerAccount.id)
                .where(LedgerEntry.transaction_id == earning.id)
            ).all()
        ]
        restored.append(
            post_transaction(
                session,
                key=f"restoration:{earning.id}",
                purpose=Purpose(
                    kind=TransactionKind(earning.kind),
                    memo=reason[:500],
                    actor_id=actor_id,
                    campaign_id=earning.campaign_id,
                    submission_id=earning.submission_id,
                    release_at=earning.release_at,
                    details={
                        **earning.details,
                        "restores": earning.id,
                        "flag_id": flag_id,
                        "from_client": budget_returned,
                    },
                ),
                postings=postings,
            )
        )
    return restored
