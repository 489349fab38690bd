"""Admin Users: finding accounts, an account's whole picture, suspending and lifting a
suspension, and adding the clipper or client role (admins only, everything audited).

A suspension, in one unit of work:
- ends every session of the account at once and refuses its sign-in (saying why and
  where to appeal, see `auth.service.suspension_message`);
- gives up its claims not handed in, so their slots are free (a clip already handed in
  stays for its client to review);
- pauses its active campaigns, marked so lifting resumes exactly those;
- holds its money: nothing is taken from its balances, but no payout is requested,
  approved or approved automatically while it lasts (`payouts.suspension_hold`).
Lifting it lets the account sign in again, resumes the campaigns the suspension paused and
releases the money; the claims it gave up are not reopened (their slots went back to the
campaigns and other clippers may have taken them).

No path here makes an admin: `create_admin` (the command line) is the only one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from clipgen import routes
from clipgen.models import (
    AuditLog,
    AuthSession,
    Campaign,
    FraudFlag,
    MarketJob,
    Publication,
    Role,
    Submission,
    User,
    utcnow,
)
from clipgen.services.access import as_id, require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotFound, PermissionDenied
from clipgen.services.market.campaigns import (
    like_pattern,
    pause_for_suspension,
    resume_after_suspension,
)
from clipgen.services.market.claims import STATUS_WORDS, release_claims_of
from clipgen.services.money.payouts import PayoutView, my_payouts
from clipgen.services.money.reports import ClipperBalances, client_balance, clipper_balances
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify
from clipgen.services.paging import Page, fetch_page

PER_PAGE = 25
MAX_PER_PAGE = 100
MAX_REASON = 500
MAX_QUERY = 100
LIST_LIMIT = 50
STANDINGS = {"active": "Active", "suspended": "Suspended"}
# The roles an admin may add from the browser; the admin role is not one of them.
GRANTABLE_ROLES = {Role.CLIPPER.value: "is_clipper", Role.CLIENT.value: "is_client"}


# --- finding accounts ------------------------------------------------------------------------


@dataclass(frozen=True)
class UserRow:
    """One account in the Admin Users list."""

    id: int
    email: str
    display_name: str
    roles: tuple[str, ...]
    created_at: datetime
    suspended_at: datetime | None
    suspension_reason: str


UserPage = Page[UserRow]


def _row(user: User) -> UserRow:
    return UserRow(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        roles=tuple(role.value for role in user.roles),
        created_at=user.created_at,
        suspended_at=user.suspended_at,
        suspension_reason=user.suspension_reason or "",
    )


def search_users(
    *,
    session: Session,
    actor: UserView,
    query: str = "",
    role: str = "",
    standing: str = "",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> UserPage:
    """Accounts whose email or name contains `query`, holding `role`, in `standing`
    ("active" or "suspended"), newest first, one page at a time (admins only)."""
    require_role(actor, Role.ADMIN)
    conditions = []
    term = " ".join(str(query or "").split())[:MAX_QUERY]
    if term:
        pattern = like_pattern(term)
        conditions.append(
            or_(
                func.lower(User.email).like(pattern, escape="\\"),
                func.lower(User.display_name).like(pattern, escape="\\"),
            )
        )
    if role:
        flag = {"clipper": User.is_clipper, "client": User.is_client, "admin": User.is_admin}
        if role not in flag:
            raise InvalidInput("Choose one of the listed roles.")
        conditions.append(col(flag[role]).is_(True))
    if standing:
        if standing not in STANDINGS:
            raise InvalidInput("Choose active or suspended.")
        suspended = col(User.suspended_at)
        conditions.append(suspended.is_(None) if standing == "active" else suspended.is_not(None))
    rows, page, per_page, total = fetch_page(
        session,
        User,
        conditions,
        [col(User.created_at).desc(), col(User.id).desc()],
        page=page,
        per_page=per_page,
        max_per_page=MAX_PER_PAGE,
    )
    return UserPage(tuple(_row(user) for user in rows), page, per_page, total)


# --- one account -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInRow:
    at: datetime
    last_seen_at: datetime
    address: str
    user_agent: str
    ended: bool


@dataclass(frozen=True)
class WorkRow:
    """A campaign (client) or a claim (clipper), in a line."""

    id: int
    title: str
    status: str
    at: datetime


@dataclass(frozen=True)
class SubmissionRow:
    id: int
    campaign_title: str
    status: str
    at: datetime


@dataclass(frozen=True)
class FlagRow:
    id: int
    reason: str
    status: str
    at: datetime


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    action: str
    by: str
    address: str
    details: str


@dataclass(frozen=True)
class AccountDetail:
    user: UserRow
    suspended_by: str
    sign_ins: tuple[SignInRow, ...]
    campaigns: tuple[WorkRow, ...]
    claims: tuple[WorkRow, ...]
    submissions: tuple[SubmissionRow, ...]
    flags: tuple[FlagRow, ...]
    clipper_money: ClipperBalances | None
    client_balance_cents: int | None
    payouts: tuple[PayoutView, ...]
    audit: tuple[AuditRow, ...]


def _target(session: Session, user_id: object, *, lock: bool = False) -> User:
    number = as_id(user_id)
    if number is None:
        raise NotFound("That account was not found.")
    query = select(User).where(User.id == number).execution_options(populate_existing=True)
    user = session.exec(query.with_for_update() if lock else query).first()
    if user is None:
        raise NotFound("That account was not found.")
    return user


def _details_text(details: dict) -> str:
    parts = [f"{key}: {value}" for key, value in (details or {}).items()]
    return "; ".join(parts)[:300]


def _audit_trail(session: Session, user_id: int) -> tuple[AuditRow, ...]:
    """What the account did and what was done to it, newest first."""
    rows = session.exec(
        select(AuditLog, User.email)
        .join(User, col(User.id) == AuditLog.actor_id, isouter=True)
        .where(
            or_(
                AuditLog.actor_id == user_id,
                (col(AuditLog.target_type) == "user") & (col(AuditLog.target_id) == user_id),
            )
        )
        .order_by(col(AuditLog.created_at).desc(), col(AuditLog.id).desc())
        .limit(LIST_LIMIT)
    ).all()
    return tuple(
        AuditRow(
            at=row.created_at,
            action=row.action,
            by=email or "the system",
            address=row.client_ip,
            details=_details_text(row.details),
        )
        for row, email in rows
    )


def user_detail(*, session: Session, actor: UserView, user_id: int) -> AccountDetail:
    """Everything an admin needs to judge an account (admins only)."""
    require_role(actor, Role.ADMIN)
    user = _target(session, user_id)
    view = UserView.of(user)
    suspended_by = ""
    if user.suspended_by_id is not None:
        by = session.get(User, user.suspended_by_id)
        suspended_by = by.email if by else ""
    sign_ins = session.exec(
        select(AuthSession)
        .where(AuthSession.user_id == user.id)
        .order_by(col(AuthSession.created_at).desc(), col(AuthSession.id).desc())
        .limit(LIST_LIMIT)
    ).all()
    campaigns = session.exec(
        select(Campaign)
        .where(Campaign.client_id == user.id)
        .order_by(col(Campaign.created_at).desc(), col(Campaign.id).desc())
        .limit(LIST_LIMIT)
    ).all()
    claims = session.exec(
        select(MarketJob, Campaign.title)
        .join(Campaign, col(Campaign.id) == MarketJob.campaign_id)
        .where(MarketJob.clipper_id == user.id)
        .order_by(col(MarketJob.claimed_at).desc(), col(MarketJob.id).desc())
        .limit(LIST_LIMIT)
    ).all()
    submissions = session.exec(
        select(Submission, Campaign.title)
        .join(MarketJob, col(MarketJob.id) == Submission.job_id)
        .join(Campaign, col(Campaign.id) == MarketJob.campaign_id)
        .where(MarketJob.clipper_id == user.id)
        .order_by(col(Submission.created_at).desc(), col(Submission.id).desc())
        .limit(LIST_LIMIT)
    ).all()
    flags = session.exec(
        select(FraudFlag)
        .join(Publication, col(Publication.id) == FraudFlag.publication_id)
        .where(Publication.clipper_id == user.id)
        .order_by(col(FraudFlag.created_at).desc(), col(FraudFlag.id).desc())
        .limit(LIST_LIMIT)
    ).all()
    is_clipper = view.has_role(Role.CLIPPER)
    is_client = view.has_role(Role.CLIENT)
    # The money figures are the account's own reports, read as that account would see them.
    return AccountDetail(
        user=_row(user),
        suspended_by=suspended_by,
        sign_ins=tuple(
            SignInRow(
                at=row.created_at,
                last_seen_at=row.last_seen_at,
                address=row.client_ip,
                user_agent=row.user_agent,
                ended=row.revoked_at is not None or row.expires_at <= utcnow(),
            )
            for row in sign_ins
        ),
        campaigns=tuple(
            WorkRow(row.id, row.title, row.status, row.created_at) for row in campaigns
        ),
        claims=tuple(
            WorkRow(job.id, title, STATUS_WORDS.get(job.status, job.status), job.claimed_at)
            for job, title in claims
        ),
        submissions=tuple(
            SubmissionRow(row.id, title, row.status, row.created_at) for row, title in submissions
        ),
        flags=tuple(FlagRow(row.id, row.reason, row.status, row.created_at) for row in flags),
        clipper_money=clipper_balances(session=session, actor=view) if is_clipper else None,
        client_balance_cents=client_balance(session=session, actor=view) if is_client else None,
        payouts=tuple(my_payouts(session=session, actor=view)) if is_clipper else (),
        audit=_audit_trail(session, user.id),
    )


# --- suspending ------------------------------------------------------------------------------


def _reason(reason: object, what: str) -> str:
    cleaned = " ".join(str(reason or "").split())
    if not cleaned:
        raise InvalidInput(f"Give the reason for {what}; the account is told it.")
    if len(cleaned) > MAX_REASON:
        raise InvalidInput(f"Keep the reason to {MAX_REASON} characters or fewer.")
    return cleaned


def suspend_user(
    *, session: Session, actor: UserView, user_id: int, reason: str, client_ip: str = ""
) -> UserRow:
    """Suspend an account (admins only; never yourself or another admin): its sessions
    end, its open claims close, its active campaigns pause and its money is held."""
    require_role(actor, Role.ADMIN)
    cleaned = _reason(reason, "the suspension")
    user = _target(session, user_id, lock=True)
    if user.id == actor.id:
        raise PermissionDenied("You cannot suspend your own account.")
    if user.is_admin:
        raise PermissionDenied("An admin account cannot be suspended from here.")
    if user.suspended_at is not None:
        raise InvalidInput("This account is already suspended; lift the suspension first.")
    now = utcnow()
    user.suspended_at = now
    user.suspension_reason = cleaned
    user.suspended_by_id = actor.id
    session.add(user)
    live = session.exec(
        select(AuthSession).where(
            AuthSession.user_id == user.id, col(AuthSession.revoked_at).is_(None)
        )
    ).all()
    for row in live:
        row.revoked_at = now
        session.add(row)
    session.flush()
    claims = release_claims_of(
        session=session, clipper_id=user.id, actor_id=actor.id, why="account suspended"
    )
    campaigns = pause_for_suspension(session=session, client_id=user.id, actor_id=actor.id)
    record_audit(
        session=session,
        action="user.suspended",
        actor_id=actor.id,
        target_type="user",
        target_id=user.id,
        client_ip=client_ip,
        reason=cleaned,
        sessions_ended=len(live),
        claims_closed=claims,
        campaigns_paused=campaigns,
    )
    notify(
        session,
        user.id,
        Kind.ACCOUNT_SUSPENDED,
        f"Your account was suspended. Reason: {cleaned.rstrip('.')}. You can appeal at "
        f"{routes.APPEAL}.",
        routes.APPEAL,
    )
    session.flush()
    return _row(user)


def lift_suspension(
    *, session: Session, actor: UserView, user_id: int, reason: str, client_ip: str = ""
) -> UserRow:
    """Lift a suspension (admins only): the account may sign in again, the campaigns the
    suspension paused resume and its money may be paid out; claims stay closed."""
    require_role(actor, Role.ADMIN)
    cleaned = _reason(reason, "lifting the suspension")
    user = _target(session, user_id, lock=True)
    if user.suspended_at is None:
        raise InvalidInput("This account is not suspended.")
    suspended_at = user.suspended_at
    user.suspended_at = None
    user.suspension_reason = None
    user.suspended_by_id = None
    session.add(user)
    session.flush()
    campaigns = resume_after_suspension(session=session, client_id=user.id, actor_id=actor.id)
    record_audit(
        session=session,
        action="user.suspension_lifted",
        actor_id=actor.id,
        target_type="user",
        target_id=user.id,
        client_ip=client_ip,
        reason=cleaned,
        suspended_at=suspended_at.isoformat(),
        campaigns_resumed=campaigns,
    )
    notify(
        session,
        user.id,
        Kind.SUSPENSION_LIFTED,
        f"The suspension of your account was lifted ({cleaned.rstrip('.')}). You can sign in "
        "again.",
        routes.LOGIN,
    )
    session.flush()
    return _row(user)


# --- roles -----------------------------------------------------------------------------------


def add_role(
    *, session: Session, actor: UserView, user_id: int, role: str, client_ip: str = ""
) -> UserRow:
    """Give an account the clipper or the client role (admins only). The admin role is
    never given here: only the command line makes an admin."""
    require_role(actor, Role.ADMIN)
    attr = GRANTABLE_ROLES.get(str(role or ""))
    if attr is None:
        raise PermissionDenied("Only the clipper or the client role can be added here.")
    user = _target(session, user_id, lock=True)
    if getattr(user, attr):
        raise InvalidInput(f"This account already has the {role} role.")
    setattr(user, attr, True)
    session.add(user)
    record_audit(
        session=session,
        action="user.role_added",
        actor_id=actor.id,
        target_type="user",
        target_id=user.id,
        client_ip=client_ip,
        role=role,
    )
    session.flush()
    return _row(user)
