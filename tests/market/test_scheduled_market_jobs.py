"""The scheduled marketplace jobs (`workers.market`) on SQLite and PostgreSQL: each changes
things once when its time comes, and running it again changes nothing: no second
notification, no second ledger transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from clipgen.db import session_scope
from clipgen.models import (
    AccountKind,
    Campaign,
    CampaignStatus,
    LedgerTransaction,
    MarketJob,
    MarketJobStatus,
    Notification,
    Role,
    Submission,
    SubmissionStatus,
    utcnow,
)
from clipgen.services.auth.service import UserView
from clipgen.services.market import claims
from clipgen.services.money.ledger import account, balance, check_invariants
from clipgen.services.notification_kinds import Kind
from tests.support.market import clip_of, live_campaign
from tests.support.money import person
from workers import market
from workers.market import (
    auto_approve_submissions,
    close_due_campaigns,
    expire_claims,
    run_auto_approve,
    run_close_due_campaigns,
    run_expire_claims,
    run_warn_expiring_claims,
    warn_expiring_claims,
)


@pytest.fixture(autouse=True)
def _no_worker_messages(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict]]:
    """Activating a campaign asks for its source's analysis: keep that off the broker."""
    from clipgen.services import tasks

    messages: list[tuple[str, dict]] = []
    monkeypatch.setattr(tasks, "send_now", lambda name, **ids: messages.append((name, ids)))
    return messages


class World:
    """A live campaign with an open claim (Ada), a submitted clip (Cy), and a second live
    campaign with an early deadline; the ids and `t0`, when it was all made."""

    def __init__(self, session: Session) -> None:
        admin = person(session, Role.ADMIN)
        self.client = person(session, Role.CLIENT, "brand")
        self.ada = person(session, Role.CLIPPER, "ada")
        self.cy = person(session, Role.CLIPPER, "cy")
        self.t0 = utcnow()
        main = live_campaign(session, admin, self.client, deadline=self.t0 + timedelta(days=30))
        short = live_campaign(
            session, admin, self.client, title="Flash sale", deadline=self.t0 + timedelta(days=5)
        )
        self.campaign_id, self.short_id = main.id, short.id
        self.ada_claim = claims.claim_slot(session=session, actor=self.ada, campaign_id=main.id).id
        cy_claim = claims.claim_slot(session=session, actor=self.cy, campaign_id=main.id).id
        clip = clip_of(session, self.cy, main.source_video_id, market_job_id=cy_claim)
        self.cy_claim = cy_claim
        self.submission = claims.submit_clip(
            session=session, actor=self.cy, job_id=cy_claim, clip_id=clip.id
        ).id
        session.commit()

    def at(self, hours: float) -> datetime:
        return self.t0 + timedelta(hours=hours)


@pytest.fixture
def world(session: Session) -> World:
    return World(session)


def _notifications(user: UserView, kind: str) -> list[str]:
    with session_scope() as session:
        return list(
            session.exec(
                select(Notification.link).where(
                    Notification.user_id == user.id, Notification.kind == kind
                )
            )
        )


def _claim_status(job_id: int) -> tuple[str, datetime | None]:
    with session_scope() as session:
        row = session.get(MarketJob, job_id)
        return row.status, row.expiry_warned_at


def _money(user: UserView) -> dict:
    """The ledger as far as these jobs could change it, checked for consistency."""
    with session_scope() as session:
        report = check_invariants(session)
        assert report.ok, report
        return {
            "transactions": session.exec(select(func.count()).select_from(LedgerTransaction)).one(),
            "pending": balance(
                session, account(session, AccountKind.CLIPPER_PENDING, user_id=user.id)
            ),
        }


def _submission(submission_id: int) -> tuple[str, bool]:
    with session_scope() as session:
        row = session.get(Submission, submission_id)
        return row.status, row.auto_approved


def _campaign_status(campaign_id: int) -> str:
    with session_scope() as session:
        return session.get(Campaign, campaign_id).status


def test_an_expiring_claim_is_warned_once_then_expired_once(world: World) -> None:
    # Nothing is due yet.
    assert run_warn_expiring_claims(now=world.at(1)) == 0
    assert run_expire_claims(now=world.at(1)) == 0

    # Five hours before the claim's 48-hour deadline: one warning, and only one.
    assert run_warn_expiring_claims(now=world.at(43)) == 1
    assert run_warn_expiring_claims(now=world.at(43)) == 0
    assert run_warn_expiring_claims(now=world.at(45)) == 0
    assert _notifications(world.ada, Kind.CLAIM_EXPIRING) == [f"/work/{world.ada_claim}"]
    assert _claim_status(world.ada_claim) == (MarketJobStatus.IN_PROGRESS, world.at(43))
    # Cy handed in a clip: their claim is not warned, however close its deadline.
    assert _notifications(world.cy, Kind.CLAIM_EXPIRING) == []
    assert run_expire_claims(now=world.at(45)) == 0

    # Past the deadline: the claim expires once and Ada is told once.
    assert run_expire_claims(now=world.at(49)) == 1
    assert run_expire_claims(now=world.at(49)) == 0
    assert run_expire_claims(now=world.at(60)) == 0
    assert run_warn_expiring_claims(now=world.at(60)) == 0
    assert _claim_status(world.ada_claim)[0] == MarketJobStatus.EXPIRED
    assert _notifications(world.ada, Kind.CLAIM_EXPIRED) == [f"/work/{world.ada_claim}"]
    assert _notifications(world.ada, Kind.CLAIM_EXPIRING) == [f"/work/{world.ada_claim}"]
    assert _claim_status(world.cy_claim)[0] == MarketJobStatus.SUBMITTED
    assert _notifications(world.cy, Kind.CLAIM_EXPIRED) == []


def test_an_unreviewed_submission_is_approved_and_paid_once(world: World) -> None:
    before = _money(world.cy)
    assert before["pending"] == 0
    assert run_auto_approve(now=world.at(71)) == 0
    assert _submission(world.submission) == (SubmissionStatus.PENDING, False)

    # 72 hours after it was handed in: approved, and the clipper's share is booked once.
    assert run_auto_approve(now=world.at(73)) == 1
    after = _money(world.cy)
    assert after == {"transactions": before["transactions"] + 1, "pending": 700}  # Bronze 70%
    assert _submission(world.submission) == (SubmissionStatus.APPROVED, True)
    assert _claim_status(world.cy_claim)[0] == MarketJobStatus.APPROVED
    assert len(_notifications(world.cy, Kind.SUBMISSION_APPROVED)) == 1

    assert run_auto_approve(now=world.at(73)) == 0
    assert run_auto_approve(now=world.at(200)) == 0
    assert _money(world.cy) == after
    assert len(_notifications(world.cy, Kind.SUBMISSION_APPROVED)) == 1


def test_a_campaign_past_its_deadline_is_completed_once(world: World) -> None:
    assert run_close_due_campaigns(now=world.at(24 * 5 - 1)) == 0
    assert _campaign_status(world.short_id) == CampaignStatus.ACTIVE

    assert run_close_due_campaigns(now=world.at(24 * 5 + 1)) == 1
    assert _campaign_status(world.short_id) == CampaignStatus.COMPLETED
    assert _campaign_status(world.campaign_id) == CampaignStatus.ACTIVE  # 30 days to go
    completed = _notifications(world.client, Kind.CAMPAIGN_COMPLETED)
    assert completed == [f"/campaigns/{world.short_id}"]

    before = _money(world.client)
    assert run_close_due_campaigns(now=world.at(24 * 5 + 1)) == 0
    assert run_close_due_campaigns(now=world.at(24 * 6)) == 0
    assert _notifications(world.client, Kind.CAMPAIGN_COMPLETED) == completed
    assert _money(world.client) == before

    # Later the main campaign's deadline passes too: it closes, Ada's open claim with it.
    assert run_close_due_campaigns(now=world.at(24 * 31)) == 1
    assert _campaign_status(world.campaign_id) == CampaignStatus.COMPLETED
    assert _claim_status(world.ada_claim)[0] == MarketJobStatus.EXPIRED
    assert len(_notifications(world.ada, Kind.CLAIM_CLOSED)) == 1
    assert run_close_due_campaigns(now=world.at(24 * 32)) == 0
    assert len(_notifications(world.client, Kind.CAMPAIGN_COMPLETED)) == 2
    assert len(_notifications(world.ada, Kind.CLAIM_CLOSED)) == 1


def test_the_actors_run_on_the_real_clock_and_twice_is_once(world: World) -> None:
    """What the scheduler sends: each actor, no arguments, its own unit of work."""
    now = utcnow()
    with session_scope() as session:
        # Ada's claim is three hours from its end; Cy's clip waited 73 hours; the short
        # campaign's deadline passed a minute ago.
        session.exec(
            update(MarketJob)
            .where(col(MarketJob.id) == world.ada_claim)
            .values(expires_at=now + timedelta(hours=3))
        )
        session.exec(
            update(Submission)
            .where(col(Submission.id) == world.submission)
            .values(created_at=now - timedelta(hours=73))
        )
        session.exec(
            update(Campaign)
            .where(col(Campaign.id) == world.short_id)
            .values(deadline=now - timedelta(minutes=1))
        )
    for _ in range(2):
        for actor in (
            warn_expiring_claims,
            expire_claims,
            auto_approve_submissions,
            close_due_campaigns,
        ):
            assert actor() is None  # calling an actor runs it here, as a worker would
    assert len(_notifications(world.ada, Kind.CLAIM_EXPIRING)) == 1
    assert _claim_status(world.ada_claim)[0] == MarketJobStatus.IN_PROGRESS
    assert _submission(world.submission) == (SubmissionStatus.APPROVED, True)
    assert _money(world.cy)["pending"] == 700
    assert len(_notifications(world.cy, Kind.SUBMISSION_APPROVED)) == 1
    assert _campaign_status(world.short_id) == CampaignStatus.COMPLETED
    assert len(_notifications(world.client, Kind.CAMPAIGN_COMPLETED)) == 1

    with session_scope() as session:
        session.exec(
            update(MarketJob)
            .where(col(MarketJob.id) == world.ada_claim)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    expire_claims()
    expire_claims()
    assert _claim_status(world.ada_claim)[0] == MarketJobStatus.EXPIRED
    assert len(_notifications(world.ada, Kind.CLAIM_EXPIRED)) == 1
    assert {actor.queue_name for actor in (expire_claims, close_due_campaigns)} == {"maintenance"}
    assert market.run_expire_claims() == 0
