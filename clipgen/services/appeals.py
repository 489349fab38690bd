"""Appeals: a clipper may appeal a rejection of their clip, a confirmed fraud flag on their
post, or the suspension of their account, once each, with a message.

The campaign's client decides a rejection appeal; admins decide flag and suspension
appeals. A decision upholds (nothing changes) or overturns with a reason: an overturned
rejection approves the clip (its earnings booked as on approval), an overturned flag books
back what it reversed, an overturned suspension lifts it. Each appeal is decided once,
under a row lock; every step tells the other side and goes to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from clipgen import routes
from clipgen.models import (
    Appeal,
    AppealKind,
    AppealStatus,
    Campaign,
    FlagStatus,
    FraudFlag,
    LedgerTransaction,
    MarketJob,
    Publication,
    Role,
    Submission,
    SubmissionStatus,
    TransactionKind,
    User,
    utcnow,
)
from clipgen.services import admin_users
from clipgen.services.access import as_id, require_role
from clipgen.services.audit import record_audit
from clipgen.services.auth.service import UserView, verify_credentials
from clipgen.services.errors import InvalidInput, NotFound, PermissionDenied
from clipgen.services.market import reviews
from clipgen.services.money import tiers
from clipgen.services.money.amounts import format_cents
from clipgen.services.notification_kinds import Kind
from clipgen.services.notifications import notify, notify_admins
from clipgen.services.publishing import fraud

MAX_MESSAGE = 2000
MAX_REASON = 1000
MIN_TEXT = 3
KIND_WORDS = {
    AppealKind.REJECTION: "rejection",
    AppealKind.FLAG: "fraud flag",
    AppealKind.SUSPENSION: "suspension",
}


@dataclass(frozen=True)
class AppealView:
    """An appeal as the clipper, the client or an admin sees it."""

    id: int
    kind: str
    status: str
    subject: str  # what was appealed, in words: the campaign, the post, the account
    decision: str  # the decision appealed against: the rejection's reason, the flag's, ...
    message: str
    decision_reason: str
    appellant_id: int
    appellant_name: str
    created_at: datetime
    decided_at: datetime | None
    submission_id: int | None
    flag_id: int | None
    link: str  # where the subject is seen


def _text(value: object, what: str, limit: int) -> str:
    cleaned = " ".join(str(value or "").split())
    if len(cleaned) < MIN_TEXT:
        raise InvalidInput(f"Write {what}.")
    if len(cleaned) > limit:
        raise InvalidInput(f"Keep {what} to {limit:,} characters or fewer.")
    return cleaned


# --- what is appealed ------------------------------------------------------------------------


def _rejection(session: Session, actor: UserView, submission_id: object):
    """The actor's rejected submission, its claim and campaign."""
    checked = as_id(submission_id)
    submission = session.get(Submission, checked) if checked is not None else None
    job = session.get(MarketJob, submission.job_id) if submission else None
    if job is None or job.clipper_id != actor.id:
        raise NotFound("That submission was not found.")
    if submission.status != SubmissionStatus.REJECTED:
        raise InvalidInput("Only a rejected clip can be appealed.")
    return submission, job, session.get(Campaign, job.campaign_id)


def _confirmed_flag(session: Session, actor: UserView, flag_id: object):
    """A confirmed flag on the actor's post, and the post."""
    checked = as_id(flag_id)
    flag = session.get(FraudFlag, checked) if checked is not None else None
    post = session.get(Publication, flag.publication_id) if flag else None
    if post is None or post.clipper_id != actor.id:
        raise NotFound("That flag was not found.")
    if flag.status != FlagStatus.CONFIRMED:
        raise InvalidInput("Only a confirmed fraud flag can be appealed.")
    return flag, post


def _suspension_key(user: User) -> str:
    return f"suspension:{user.id}:{user.suspended_at:%Y%m%dT%H%M%S%f}"


def _save(session: Session, appeal: Appeal) -> Appeal:
    """Store a new appeal; a second one of the same decision is refused."""
    if session.exec(select(Appeal.id).where(Appeal.subject_key == appeal.subject_key)).first():
        raise InvalidInput("You already appealed this decision; each one can be appealed once.")
    try:
        with session.begin_nested():
            session.add(appeal)
            session.flush()
    except IntegrityError:
        raise InvalidInput(
            "You already appealed this decision; each one can be appealed once."
        ) from None
    record_audit(
        session=session,
        action="appeal.filed",
        actor_id=appeal.appellant_id,
        target_type="appeal",
        target_id=appeal.id,
        kind=appeal.kind,
        subject=appeal.subject_key,
    )
    return appeal


def file_appeal(
    *, session: Session, actor: UserView, kind: str, subject_id: int, message: str
) -> AppealView:
    """A clipper appeals the rejection of their clip (`subject_id`: the submission) or a
    confirmed fraud flag on their post (`subject_id`: the flag), once, with a message.
    The client (rejection) or the admins (flag) are told."""
    require_role(actor, Role.CLIPPER)
    if kind not in (AppealKind.REJECTION, AppealKind.FLAG):
        raise InvalidInput("Choose a rejection or a fraud flag to appeal.")
    if kind == AppealKind.REJECTION:
        submission, job, campaign = _rejection(session, actor, subject_id)
        text = _text(message, "why the rejection should be overturned", MAX_MESSAGE)
        appeal = _save(
            session,
            Appeal(
                appellant_id=actor.id,
                kind=AppealKind.REJECTION,
                subject_key=f"rejection:{submission.id}",
                submission_id=submission.id,
                decider_client_id=campaign.client_id,
                message=text,
            ),
        )
        notify(
            session,
            campaign.client_id,
            Kind.APPEAL_FILED,
            f"{actor.display_name} appealed the rejection of their clip for {campaign.title}: "
            f"{text}",
            routes.REVIEWS,
        )
    else:
        flag, post = _confirmed_flag(session, actor, subject_id)
        text = _text(message, "why the views are genuine", MAX_MESSAGE)
        appeal = _save(
            session,
            Appeal(
                appellant_id=actor.id,
                kind=AppealKind.FLAG,
                subject_key=f"flag:{flag.id}",
                submission_id=post.submission_id,
                flag_id=flag.id,
                message=text,
            ),
        )
        notify_admins(
            session,
            Kind.APPEAL_FILED,
            f"{actor.display_name} appealed a confirmed fraud flag on {post.url}: {text}",
            routes.ADMIN_FLAGS,
        )
    session.flush()
    return _view(session, appeal)


def file_suspension_appeal(
    *, session: Session, email: str, password: str, message: str, client_ip: str = ""
) -> AppealView:
    """A suspended account (which cannot sign in) appeals its suspension, once, proving who
    it is with its email and password (failures count like sign-ins). Admins are told."""
    user = _suspended(session, email, password, client_ip)
    text = _text(message, "why the suspension should be lifted", MAX_MESSAGE)
    appeal = _save(
        session,
        Appeal(
            appellant_id=user.id,
            kind=AppealKind.SUSPENSION,
            subject_key=_suspension_key(user),
            user_id=user.id,
            message=text,
        ),
    )
    notify_admins(
        session,
        Kind.APPEAL_FILED,
        f"{user.display_name} ({user.email}) appealed the suspension of their account: {text}",
        routes.ADMIN_FLAGS,
    )
    session.flush()
    return _view(session, appeal)


def _suspended(session: Session, email: str, password: str, client_ip: str) -> User:
    who = verify_credentials(session=session, email=email, password=password, client_ip=client_ip)
    user = session.get(User, who.id, populate_existing=True)
    if user.suspended_at is None:
        raise InvalidInput("This account is not suspended: sign in instead.")
    return user


@dataclass(frozen=True)
class SuspensionStatus:
    """What the /appeal page shows a suspended account that proved who it is."""

    reason: str
    suspended_at: datetime
    appeal: AppealView | None


def suspension_status(
    *, session: Session, email: str, password: str, client_ip: str = ""
) -> SuspensionStatus:
    """Why the account is suspended and its appeal of this suspension, if it filed one."""
    user = _suspended(session, email, password, client_ip)
    appeal = session.exec(select(Appeal).where(Appeal.subject_key == _suspension_key(user))).first()
    return SuspensionStatus(
        reason=user.suspension_reason or "",
        suspended_at=user.suspended_at,
        appeal=_view(session, appeal) if appeal else None,
    )


# --- deciding -------------------------------------------------------------------------------


def _open_appeal(session: Session, actor: UserView, appeal_id: object) -> Appeal:
    """The appeal (locked, so that it is decided once) if `actor` decides it; refused unless
    it is still open."""
    checked = as_id(appeal_id)
    appeal = (
        session.exec(
            select(Appeal)
            .where(Appeal.id == checked)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if checked is not None
        else None
    )
    if appeal is None:
        raise NotFound("That appeal was not found.")
    if appeal.kind == AppealKind.REJECTION:
        if not actor.has_role(Role.CLIENT) or appeal.decider_client_id != actor.id:
            raise NotFound("That appeal was not found.")
    elif not actor.has_role(Role.ADMIN):
        raise PermissionDenied("Only admins decide appeals of fraud flags and suspensions.")
    if appeal.status != AppealStatus.OPEN:
        raise InvalidInput(f"This appeal was already {appeal.status}.")
    return appeal


def decide_appeal(
    *, session: Session, actor: UserView, appeal_id: int, overturn: bool, reason: str
) -> AppealView:
    """Uphold (the decision stands) or overturn an appeal, with a reason the clipper is
    told. Overturning a rejection approves the clip; a flag, its reversed earnings are booked
    back; a suspension, it is lifted."""
    require_role(actor, Role.CLIENT, Role.ADMIN)
    why = _text(reason, "the reason for your decision", MAX_REASON)
    appeal = _open_appeal(session, actor, appeal_id)
    outcome = ""
    if overturn:
        outcome = _overturn(session, actor, appeal, why)
    appeal.status = AppealStatus.OVERTURNED if overturn else AppealStatus.UPHELD
    appeal.decided_by_id = actor.id
    appeal.decision_reason = why
    appeal.decided_at = utcnow()
    session.add(appeal)
    session.flush()
    record_audit(
        session=session,
        action=f"appeal.{appeal.status}",
        actor_id=actor.id,
        target_type="appeal",
        target_id=appeal.id,
        kind=appeal.kind,
        subject=appeal.subject_key,
        reason=why,
    )
    view = _view(session, appeal)
    what = KIND_WORDS[AppealKind(appeal.kind)]
    if overturn:
        message = f"Your appeal of the {what} ({view.subject}) was accepted: {why.rstrip('.')}."
        message += outcome
    else:
        message = f"Your appeal of the {what} ({view.subject}) was turned down: {why}"
    notify(
        session,
        appeal.appellant_id,
        Kind.APPEAL_OVERTURNED if overturn else Kind.APPEAL_UPHELD,
        message,
        routes.APPEAL if appeal.kind == AppealKind.SUSPENSION else view.link,
    )
    session.flush()
    return view


def _overturn(session: Session, actor: UserView, appeal: Appeal, why: str) -> str:
    """Undo the appealed decision; what the clipper is told it did."""
    if appeal.kind == AppealKind.REJECTION:
        reviews.approve_rejected_on_appeal(
            session=session, actor=actor, submission_id=appeal.submission_id
        )
        return " Your clip is approved."
    if appeal.kind == AppealKind.FLAG:
        fraud.overturn_flag(session=session, actor=actor, flag_id=appeal.flag_id, reason=why)
        tiers.refresh_cached_tier(session, appeal.appellant_id)
        restored = session.exec(
            select(LedgerTransaction).where(
                LedgerTransaction.submission_id == appeal.submission_id,
                col(LedgerTransaction.kind).in_([TransactionKind.CPM, TransactionKind.BONUS]),
            )
        ).all()
        cents = sum(
            int(t.details.get("clipper_cents", 0))
            for t in restored
            if t.details.get("flag_id") == appeal.flag_id and t.details.get("restores")
        )
        return f" {format_cents(cents)} of earnings were booked back and the post earns again."
    admin_users.lift_suspension(
        session=session, actor=actor, user_id=appeal.user_id, reason=f"appeal accepted: {why}"
    )
    return " You can sign in again."


# --- lists ----------------------------------------------------------------------------------


def _view(session: Session, appeal: Appeal) -> AppealView:
    appellant = session.get(User, appeal.appellant_id)
    subject, decision, link = "", "", ""
    if appeal.kind == AppealKind.REJECTION:
        submission = session.get(Submission, appeal.submission_id)
        job = session.get(MarketJob, submission.job_id)
        campaign = session.get(Campaign, job.campaign_id)
        subject = f"clip for {campaign.title}"
        decision = submission.feedback
        link = routes.claim(job.id)
    elif appeal.kind == AppealKind.FLAG:
        flag = session.get(FraudFlag, appeal.flag_id)
        post = session.get(Publication, flag.publication_id)
        subject = f"post {post.url}"
        decision = flag.resolution_note or flag.reason
        link = routes.clip_performance(post.submission_id) if post.submission_id else ""
    else:
        subject = "your account"
        decision = (appellant.suspension_reason or "") if appellant else ""
    return AppealView(
        id=appeal.id,
        kind=appeal.kind,
        status=appeal.status,
        subject=subject,
        decision=decision,
        message=appeal.message,
        decision_reason=appeal.decision_reason,
        appellant_id=appeal.appellant_id,
        appellant_name=appellant.display_name if appellant else "",
        created_at=appeal.created_at,
        decided_at=appeal.decided_at,
        submission_id=appeal.submission_id,
        flag_id=appeal.flag_id,
        link=link,
    )


def _listed(session: Session, query, status: str) -> list[AppealView]:
    if status not in {s.value for s in AppealStatus}:
        raise InvalidInput("Choose open, upheld or overturned appeals.")
    rows = session.exec(
        query.where(Appeal.status == status)
        .order_by(col(Appeal.created_at).desc(), col(Appeal.id).desc())
        .limit(200)
        .execution_options(populate_existing=True)
    ).all()
    return [_view(session, row) for row in rows]


def client_appeals(
    *, session: Session, actor: UserView, status: str = AppealStatus.OPEN
) -> list[AppealView]:
    """Appeals of the client's rejections, in one state, newest first."""
    require_role(actor, Role.CLIENT)
    return _listed(session, select(Appeal).where(Appeal.decider_client_id == actor.id), status)


def admin_appeals(
    *, session: Session, actor: UserView, status: str = AppealStatus.OPEN
) -> list[AppealView]:
    """Appeals of confirmed fraud flags and of suspensions, in one state, newest first."""
    require_role(actor, Role.ADMIN)
    query = select(Appeal).where(
        col(Appeal.kind).in_([AppealKind.FLAG.value, AppealKind.SUSPENSION.value])
    )
    return _listed(session, query, status)


def my_appeals(*, session: Session, actor: UserView) -> dict[str, AppealView]:
    """The clipper's appeals by subject ("rejection:<submission id>", "flag:<flag id>"), so a
    page can show each decision's appeal or an Appeal button."""
    require_role(actor, Role.CLIPPER)
    rows = session.exec(
        select(Appeal)
        .where(Appeal.appellant_id == actor.id)
        .execution_options(populate_existing=True)
    ).all()
    return {row.subject_key: _view(session, row) for row in rows}


@dataclass(frozen=True)
class AppealTarget:
    """A decision on a page the clipper may appeal (or did): what its Appeal button sends."""

    kind: str
    subject_id: int
    appeal: AppealView | None  # None: not appealed yet


def _target(session: Session, kind: AppealKind, subject_id: int) -> AppealTarget:
    appeal = session.exec(
        select(Appeal)
        .where(Appeal.subject_key == f"{kind}:{subject_id}")
        .execution_options(populate_existing=True)
    ).first()
    return AppealTarget(kind, subject_id, _view(session, appeal) if appeal else None)


def claim_appeal_target(*, session: Session, actor: UserView, job_id: int) -> AppealTarget | None:
    """The rejection of the clipper's claim they may appeal (or appealed); None if none."""
    require_role(actor, Role.CLIPPER)
    checked = as_id(job_id)
    job = session.get(MarketJob, checked) if checked is not None else None
    if job is None or job.clipper_id != actor.id:
        raise NotFound("That claim was not found.")
    latest = session.exec(
        select(Submission)
        .where(Submission.job_id == job.id)
        .order_by(col(Submission.id).desc())
        .execution_options(populate_existing=True)
    ).first()
    if latest is None:
        return None
    target = _target(session, AppealKind.REJECTION, latest.id)
    if target.appeal is None and latest.status != SubmissionStatus.REJECTED:
        return None
    return target


def flag_appeal_target(
    *, session: Session, actor: UserView, submission_id: int
) -> AppealTarget | None:
    """The latest confirmed (or overturned) fraud flag on a post of the clipper's clip,
    which they may appeal (or appealed); None if none."""
    require_role(actor, Role.CLIPPER)
    checked = as_id(submission_id)
    if checked is None:
        return None
    flag_id = session.exec(
        select(FraudFlag.id)
        .join(Publication, col(Publication.id) == FraudFlag.publication_id)
        .where(
            Publication.submission_id == checked,
            Publication.clipper_id == actor.id,
            col(FraudFlag.status).in_([FlagStatus.CONFIRMED.value, FlagStatus.OVERTURNED.value]),
        )
        .order_by(col(FraudFlag.id).desc())
    ).first()
    return _target(session, AppealKind.FLAG, flag_id) if flag_id is not None else None
