"""Appeals (issue 21): a clipper appeals a rejection, a confirmed fraud flag or a suspension
once, with a message; the client (rejection) or an admin (flag, suspension) upholds or
overturns it with a reason. Overturning approves the clip, books back what the flag
reversed, or lifts the suspension. On SQLite and PostgreSQL, through the real services."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import Session, col, select

from clipgen.models import (
    AccountKind,
    Appeal,
    AppealStatus,
    AuditLog,
    FlagStatus,
    FraudFlag,
    LedgerTransaction,
    LoginFailure,
    MarketJob,
    MarketJobStatus,
    Notification,
    Publication,
    PublicationStatus,
    Role,
    Submission,
    SubmissionStatus,
    TransactionKind,
    User,
    ViewSource,
    utcnow,
)
from clipgen.services import admin_users, appeals
from clipgen.services.auth import service as auth
from clipgen.services.auth.service import WrongCredentials
from clipgen.services.errors import InvalidInput, NotFound, PermissionDenied
from clipgen.services.market import campaigns, reviews
from clipgen.services.money import holds
from clipgen.services.money.ledger import account, balance, check_invariants
from clipgen.services.notification_kinds import Kind
from clipgen.services.publishing import fraud, publications, sync
from clipgen.services.publishing.sync import Counts
from tests.support.market import (
    DRAFT,
    approved,
    live_campaign,
    quick_password_hashing,
    ready_video,
    submitted,
)
from tests.support.money import PASSWORD, person, verified

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_password_hashing(monkeypatch)


@pytest.fixture
def admin(session: Session):
    return person(session, Role.ADMIN)


@pytest.fixture
def client(session: Session):
    return person(session, Role.CLIENT, "brand")


@pytest.fixture
def clipper(session: Session):
    return person(session, Role.CLIPPER, "ada")


def _told(session: Session, user_id: int, kind: str) -> list[Notification]:
    return list(
        session.exec(
            select(Notification).where(Notification.user_id == user_id, Notification.kind == kind)
        ).all()
    )


def _audited(session: Session, action: str) -> list[AuditLog]:
    return list(session.exec(select(AuditLog).where(AuditLog.action == action)).all())


def _rejected(session, admin, client, clipper):
    live = live_campaign(session, admin, client)
    claim, submission = submitted(session, clipper, live)
    reviews.reject_submission(
        session=session, actor=client, submission_id=submission.id, reason="Wrong aspect ratio"
    )
    return live, claim, submission


def _pending(session, user_id: int) -> int:
    return balance(session, account(session, AccountKind.CLIPPER_PENDING, user_id=user_id))


def _escrow(session, campaign_id: int) -> int:
    return balance(session, account(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign_id))


# --- rejections ---------------------------------------------------------------------------


def test_an_overturned_rejection_approves_the_clip_and_books_its_earnings(
    session: Session, admin, client, clipper
) -> None:
    live, claim, submission = _rejected(session, admin, client, clipper)
    assert _pending(session, clipper.id) == 0
    filed = appeals.file_appeal(
        session=session,
        actor=clipper,
        kind="rejection",
        subject_id=submission.id,
        message="The campaign asked for 9:16 and my clip is 9:16.",
    )
    assert filed.status == AppealStatus.OPEN and filed.decision == "Wrong aspect ratio"
    assert "appealed the rejection" in _told(session, client.id, Kind.APPEAL_FILED)[0].message
    assert [a.id for a in appeals.client_appeals(session=session, actor=client)] == [filed.id]

    decided = appeals.decide_appeal(
        session=session,
        actor=client,
        appeal_id=filed.id,
        overturn=True,
        reason="You are right, my mistake",
    )
    assert decided.status == AppealStatus.OVERTURNED
    row = session.get(Submission, submission.id, populate_existing=True)
    assert row.status == SubmissionStatus.APPROVED
    assert session.get(MarketJob, claim.id, populate_existing=True).status == (
        MarketJobStatus.APPROVED
    )
    approval = session.exec(
        select(LedgerTransaction).where(
            LedgerTransaction.submission_id == submission.id,
            LedgerTransaction.kind == TransactionKind.APPROVAL,
        )
    ).one()
    assert approval.details["gross_cents"] == 1000  # the campaign's price, as on approval
    assert _pending(session, clipper.id) == approval.details["clipper_cents"] == 700
    assert _escrow(session, live.id) == 9_000
    told = _told(session, clipper.id, Kind.APPEAL_OVERTURNED)
    assert len(told) == 1 and "my mistake" in told[0].message
    assert len(_audited(session, "appeal.filed")) == 1
    assert len(_audited(session, "appeal.overturned")) == 1
    assert _audited(session, "submission.approved")[0].details["on_appeal"] is True

    with pytest.raises(InvalidInput, match="already overturned"):
        appeals.decide_appeal(
            session=session, actor=client, appeal_id=filed.id, overturn=False, reason="nope"
        )
    assert appeals.client_appeals(session=session, actor=client) == []
    assert check_invariants(session).ok


def test_an_upheld_rejection_changes_nothing_and_cannot_be_appealed_again(
    session: Session, admin, client, clipper
) -> None:
    _live, _claim, submission = _rejected(session, admin, client, clipper)
    filed = appeals.file_appeal(
        session=session, actor=clipper, kind="rejection", subject_id=submission.id, message="pls"
    )
    with pytest.raises(InvalidInput, match="already appealed"):
        appeals.file_appeal(
            session=session,
            actor=clipper,
            kind="rejection",
            subject_id=submission.id,
            message="x2x",
        )
    appeals.decide_appeal(
        session=session,
        actor=client,
        appeal_id=filed.id,
        overturn=False,
        reason="The clip has a watermark",
    )
    assert session.get(Submission, submission.id).status == SubmissionStatus.REJECTED
    assert not session.exec(
        select(LedgerTransaction).where(LedgerTransaction.submission_id == submission.id)
    ).all()
    told = _told(session, clipper.id, Kind.APPEAL_UPHELD)
    assert len(told) == 1 and "watermark" in told[0].message
    assert len(_audited(session, "appeal.upheld")) == 1
    with pytest.raises(InvalidInput, match="already appealed"):
        appeals.file_appeal(
            session=session,
            actor=clipper,
            kind="rejection",
            subject_id=submission.id,
            message="again",
        )
    mine = appeals.my_appeals(session=session, actor=clipper)
    assert mine[f"rejection:{submission.id}"].status == AppealStatus.UPHELD


def test_only_the_clipper_appeals_and_only_the_campaigns_client_decides(
    session: Session, admin, client, clipper
) -> None:
    _live, _claim, submission = _rejected(session, admin, client, clipper)
    other_clipper = person(session, Role.CLIPPER, "eve")
    other_client = person(session, Role.CLIENT, "rival")
    args = {"kind": "rejection", "subject_id": submission.id, "message": "please look again"}
    with pytest.raises(NotFound):
        appeals.file_appeal(session=session, actor=other_clipper, **args)
    with pytest.raises(PermissionDenied):
        appeals.file_appeal(session=session, actor=client, **args)
    with pytest.raises(InvalidInput, match="Write why"):
        appeals.file_appeal(session=session, actor=clipper, **{**args, "message": "  "})
    with pytest.raises(InvalidInput, match="2,000"):
        appeals.file_appeal(session=session, actor=clipper, **{**args, "message": "x" * 2001})
    with pytest.raises(InvalidInput, match="rejection or a fraud flag"):
        appeals.file_appeal(session=session, actor=clipper, **{**args, "kind": "suspension"})
    for bad in ("abc", None, -1, 2**40, True):
        with pytest.raises(NotFound):
            appeals.file_appeal(session=session, actor=clipper, **{**args, "subject_id": bad})
    assert session.exec(select(Appeal)).all() == []

    filed = appeals.file_appeal(session=session, actor=clipper, **args)
    for wrong in (other_client, admin):
        with pytest.raises(NotFound):
            appeals.decide_appeal(
                session=session, actor=wrong, appeal_id=filed.id, overturn=True, reason="ok then"
            )
    with pytest.raises(PermissionDenied):
        appeals.decide_appeal(
            session=session, actor=clipper, appeal_id=filed.id, overturn=True, reason="ok then"
        )
    with pytest.raises(InvalidInput, match="reason"):
        appeals.decide_appeal(
            session=session, actor=client, appeal_id=filed.id, overturn=True, reason=" "
        )
    with pytest.raises(PermissionDenied):
        appeals.admin_appeals(session=session, actor=client)
    with pytest.raises(PermissionDenied):
        appeals.client_appeals(session=session, actor=clipper)
    assert session.get(Appeal, filed.id).status == AppealStatus.OPEN
    assert session.get(Submission, submission.id).status == SubmissionStatus.REJECTED


def test_a_clip_that_was_not_rejected_cannot_be_appealed(
    session: Session, admin, client, clipper
) -> None:
    live = live_campaign(session, admin, client)
    _claim, pending = submitted(session, clipper, live)
    bob = person(session, Role.CLIPPER, "bob")
    _claim2, done = approved(session, client, bob, live)
    for owner, submission in ((clipper, pending), (bob, done)):
        with pytest.raises(InvalidInput, match="Only a rejected clip"):
            appeals.file_appeal(
                session=session,
                actor=owner,
                kind="rejection",
                subject_id=submission.id,
                message="why not",
            )


# --- confirmed fraud flags ------------------------------------------------------------------


def _read(session, post: Publication, views: int, at):
    return sync.record_reading(
        session, post.id, Counts(views, views // 25, 0), source=ViewSource.YOUTUBE_API, taken_at=at
    )


def _confirmed(session, admin, client, clipper, url="https://youtu.be/FFFFFFFFFFF", **terms):
    """An approved clip whose post spiked, was flagged and the flag confirmed: (campaign,
    submission, post, flag, balances before the spike)."""
    terms = {"cpm_cents": 100, "cpm_cap_cents": 100_000, "budget_cents": 100_000, **terms}
    live = live_campaign(session, admin, client, **terms)
    _claim, submission = approved(session, client, clipper, live)
    post = verified(
        session,
        publications.add_post_url(
            session=session, actor=clipper, submission_id=submission.id, url=url
        ),
    )
    start = utcnow() - 6 * DAY
    for day in range(4):
        _read(session, post, 1_000 + day * 1_000, start + day * DAY)
    _read(session, post, 250_000, start + 4 * DAY)  # CPM and a bonus, held by the flag
    flag = session.exec(select(FraudFlag).where(FraudFlag.publication_id == post.id)).one()
    fraud.confirm_flag(session=session, actor=admin, flag_id=flag.id, reason="bots")
    return live, submission, post, flag


def _money(session, clipper, live) -> tuple[int, int, int]:
    revenue = account(session, AccountKind.PLATFORM_REVENUE)
    return _pending(session, clipper.id), _escrow(session, live.id), balance(session, revenue)


def test_an_overturned_flag_books_back_exactly_what_it_reversed(
    session: Session, admin, client, clipper
) -> None:
    live, submission, post, flag = _confirmed(session, admin, client, clipper)
    held = session.exec(
        select(LedgerTransaction).where(LedgerTransaction.held_by_flag_id == flag.id)
    ).all()
    assert held
    held_gross = sum(int(t.details["gross_cents"]) for t in held)
    held_clipper = sum(int(t.details["clipper_cents"]) for t in held)
    pending, escrow, revenue = _money(session, clipper, live)

    with pytest.raises(NotFound):
        appeals.file_appeal(
            session=session,
            actor=person(session, Role.CLIPPER, "eve"),
            kind="flag",
            subject_id=flag.id,
            message="not mine",
        )
    filed = appeals.file_appeal(
        session=session,
        actor=clipper,
        kind="flag",
        subject_id=flag.id,
        message="My video was featured by a big channel that day.",
    )
    assert (
        "appealed a confirmed fraud flag" in _told(session, admin.id, Kind.APPEAL_FILED)[0].message
    )
    assert [a.id for a in appeals.admin_appeals(session=session, actor=admin)] == [filed.id]
    with pytest.raises(PermissionDenied):  # a client decides only rejections of their campaigns
        appeals.decide_appeal(
            session=session, actor=client, appeal_id=filed.id, overturn=True, reason="fine"
        )

    appeals.decide_appeal(
        session=session,
        actor=admin,
        appeal_id=filed.id,
        overturn=True,
        reason="The spike came from a real feature",
    )
    assert _money(session, clipper, live) == (
        pending + held_clipper,
        escrow - held_gross,
        revenue + (held_gross - held_clipper),
    )
    flag_row = session.get(FraudFlag, flag.id, populate_existing=True)
    assert flag_row.status == FlagStatus.OVERTURNED
    post_row = session.get(Publication, post.id, populate_existing=True)
    assert post_row.status == PublicationStatus.LIVE
    restored = session.exec(
        select(LedgerTransaction).where(
            col(LedgerTransaction.idempotency_key).startswith("restoration:")
        )
    ).all()
    assert sorted(t.kind for t in restored) == sorted(t.kind for t in held)
    told = _told(session, clipper.id, Kind.APPEAL_OVERTURNED)
    assert len(told) == 1 and "booked back" in told[0].message
    assert len(_audited(session, "fraud.flag_overturned")) == 1
    assert len(_audited(session, "appeal.overturned")) == 1
    # Once only: the appeal is decided, and the flag is no longer confirmed.
    with pytest.raises(InvalidInput, match="already overturned"):
        appeals.decide_appeal(
            session=session, actor=admin, appeal_id=filed.id, overturn=True, reason="again"
        )
    with pytest.raises(InvalidInput, match="Only a confirmed flag"):
        fraud.overturn_flag(session=session, actor=admin, flag_id=flag.id, reason="again")
    assert _money(session, clipper, live)[0] == pending + held_clipper
    # The restored earnings follow the normal hold, then become available.
    holds.release_matured_earnings(session=session, now=utcnow() + 30 * DAY)
    released = session.exec(
        select(LedgerTransaction.release_of).where(
            col(LedgerTransaction.release_of).in_([t.id for t in restored])
        )
    ).all()
    assert len(released) == len(restored)
    assert check_invariants(session).ok


def test_a_flag_overturn_the_money_no_longer_covers_is_refused_and_changes_nothing(
    session: Session, admin, client, clipper
) -> None:
    live, submission, _post, flag = _confirmed(session, admin, client, clipper, max_clips=1)
    # The campaign gave its budget back, and the client spent it on a new campaign.
    returned = campaigns.return_unspent_budget(session=session, actor=client, campaign_id=live.id)
    wallet = account(session, AccountKind.CLIENT_AVAILABLE, user_id=client.id)
    assert returned > 0 and balance(session, wallet) >= returned
    spend = balance(session, wallet)
    draft = replace(DRAFT, source_video_id=ready_video(session, client).id, budget_cents=spend)
    made = campaigns.create_campaign(session=session, actor=client, draft=draft)
    campaigns.activate_campaign(session=session, actor=client, campaign_id=made.id)
    assert balance(session, wallet) == 0
    filed = appeals.file_appeal(
        session=session, actor=clipper, kind="flag", subject_id=flag.id, message="real views"
    )
    before = _money(session, clipper, live)
    with pytest.raises(InvalidInput, match=r"client's balance holds \$0\.00 of the .* short"):
        appeals.decide_appeal(
            session=session, actor=admin, appeal_id=filed.id, overturn=True, reason="genuine"
        )
    assert session.get(Appeal, filed.id, populate_existing=True).status == AppealStatus.OPEN
    assert session.get(FraudFlag, flag.id, populate_existing=True).status == FlagStatus.CONFIRMED
    assert _money(session, clipper, live) == before
    assert not session.exec(
        select(LedgerTransaction).where(
            col(LedgerTransaction.idempotency_key).startswith("restoration:")
        )
    ).all()
    # Upholding is still possible.
    appeals.decide_appeal(
        session=session, actor=admin, appeal_id=filed.id, overturn=False, reason="bots after all"
    )
    assert _told(session, clipper.id, Kind.APPEAL_UPHELD)
    assert check_invariants(session).ok


def test_an_open_or_cleared_flag_cannot_be_appealed(
    session: Session, admin, client, clipper
) -> None:
    _live, _submission, _post, flag = _confirmed(session, admin, client, clipper)
    row = session.get(FraudFlag, flag.id)
    row.status = FlagStatus.CLEARED
    session.add(row)
    session.flush()
    with pytest.raises(InvalidInput, match="Only a confirmed fraud flag"):
        appeals.file_appeal(
            session=session, actor=clipper, kind="flag", subject_id=flag.id, message="hm hm"
        )


# --- suspensions ------------------------------------------------------------------------


def _suspend(session, admin, who, reason="Copied other clippers' posts"):
    admin_users.suspend_user(session=session, actor=admin, user_id=who.id, reason=reason)


def test_a_suspended_account_appeals_with_its_password_and_an_overturn_lifts_it(
    session: Session, admin, clipper
) -> None:
    _suspend(session, admin, clipper)
    with pytest.raises(WrongCredentials):
        appeals.file_suspension_appeal(
            session=session, email=clipper.email, password="wrong one!", message="let me in"
        )
    assert session.exec(select(LoginFailure).where(LoginFailure.email == clipper.email)).all()
    status = appeals.suspension_status(session=session, email=clipper.email, password=PASSWORD)
    assert status.appeal is None and "Copied" in status.reason
    filed = appeals.file_suspension_appeal(
        session=session,
        email=clipper.email,
        password=PASSWORD,
        message="Those posts are my own; here are the project files.",
    )
    assert filed.kind == "suspension" and filed.status == AppealStatus.OPEN
    assert _told(session, admin.id, Kind.APPEAL_FILED)
    with pytest.raises(InvalidInput, match="already appealed"):
        appeals.file_suspension_appeal(
            session=session, email=clipper.email, password=PASSWORD, message="again"
        )
    shown = appeals.suspension_status(session=session, email=clipper.email, password=PASSWORD)
    assert shown.appeal is not None and shown.appeal.id == filed.id

    appeals.decide_appeal(
        session=session, actor=admin, appeal_id=filed.id, overturn=True, reason="Files check out"
    )
    assert session.get(User, clipper.id, populate_existing=True).suspended_at is None
    assert len(_audited(session, "user.suspension_lifted")) == 1
    assert _told(session, clipper.id, Kind.APPEAL_OVERTURNED)
    token, _user = auth.sign_in(session=session, email=clipper.email, password=PASSWORD)
    assert token
    with pytest.raises(InvalidInput, match="not suspended"):
        appeals.suspension_status(session=session, email=clipper.email, password=PASSWORD)


def test_an_upheld_suspension_stays_and_only_admins_decide_it(
    session: Session, admin, client, clipper
) -> None:
    _suspend(session, admin, clipper)
    filed = appeals.file_suspension_appeal(
        session=session, email=clipper.email, password=PASSWORD, message="please"
    )
    with pytest.raises(PermissionDenied):
        appeals.decide_appeal(
            session=session, actor=client, appeal_id=filed.id, overturn=True, reason="fine"
        )
    appeals.decide_appeal(
        session=session, actor=admin, appeal_id=filed.id, overturn=False, reason="Proof is clear"
    )
    assert session.get(User, clipper.id, populate_existing=True).suspended_at is not None
    shown = appeals.suspension_status(session=session, email=clipper.email, password=PASSWORD)
    assert shown.appeal.status == AppealStatus.UPHELD and shown.appeal.decision_reason
    with pytest.raises(InvalidInput, match="not suspended"):
        appeals.file_suspension_appeal(
            session=session, email=client.email, password=PASSWORD, message="me too"
        )


def test_a_suspended_appellant_is_emailed_the_decision(
    session: Session, admin, clipper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A suspended account cannot sign in to read a notification: the decision of its
    appeal comes by email too."""
    from clipgen.config import get_settings
    from clipgen.models import EmailDelivery
    from clipgen.services import tasks

    monkeypatch.setenv("SMTP_URL", "smtp://127.0.0.1:2525")
    monkeypatch.setenv("APP_URL", "https://clips.example.com")
    get_settings.cache_clear()
    monkeypatch.setattr(tasks, "send_now", lambda name, **ids: None)
    _suspend(session, admin, clipper)
    filed = appeals.file_suspension_appeal(
        session=session, email=clipper.email, password=PASSWORD, message="please"
    )
    appeals.decide_appeal(
        session=session, actor=admin, appeal_id=filed.id, overturn=False, reason="Proof is clear"
    )
    session.commit()
    sent = session.exec(
        select(EmailDelivery).where(
            EmailDelivery.user_id == clipper.id, EmailDelivery.kind == Kind.APPEAL_UPHELD
        )
    ).all()
    assert len(sent) == 1
    assert sent[0].subject == "ClipGen: Your appeal was decided: the decision stands"
    assert "Proof is clear" in sent[0].body


# --- at once --------------------------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_decisions_of_one_appeal_at_once_apply_one(database_url) -> None:
    from clipgen.db import session_scope
    from tests.support.concurrency import books_are_sound, race

    with session_scope() as session:
        admin = person(session, Role.ADMIN)
        client = person(session, Role.CLIENT, "brand")
        clipper = person(session, Role.CLIPPER, "ada")
        _live, _claim, submission = _rejected(session, admin, client, clipper)
        filed = appeals.file_appeal(
            session=session,
            actor=clipper,
            kind="rejection",
            subject_id=submission.id,
            message="look again",
        )
        submission_id, appeal_id = submission.id, filed.id

    def decide(session, n):
        return appeals.decide_appeal(
            session=session, actor=client, appeal_id=appeal_id, overturn=n % 2 == 0, reason="ok!"
        )

    outcomes = race(4, decide)
    decided = [o for o in outcomes if not isinstance(o, Exception)]
    refused = [o for o in outcomes if isinstance(o, InvalidInput)]
    assert len(decided) == 1 and len(refused) == 3, outcomes
    with session_scope() as session:
        approvals = session.exec(
            select(LedgerTransaction).where(
                LedgerTransaction.submission_id == submission_id,
                LedgerTransaction.kind == TransactionKind.APPROVAL,
            )
        ).all()
        assert len(approvals) == (1 if decided[0].status == AppealStatus.OVERTURNED else 0)
    books_are_sound()
