"""The marketplace under concurrency, on a real PostgreSQL: threads that start together (a
barrier), each in its own unit of work (`session_scope()`), race for the same slots and the
same submission. Each scenario runs a few rounds, each round with new people.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select

from clipgen.db import session_scope
from clipgen.models import (
    AccountKind,
    Campaign,
    LedgerTransaction,
    MarketJob,
    MarketJobStatus,
    Role,
    Submission,
    TransactionKind,
)
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput
from clipgen.services.market import campaigns, claims, reviews
from clipgen.services.market.claims import ClaimView
from clipgen.services.market.reviews import ReviewItem
from tests.support.concurrency import balance_of, books_are_sound, race
from tests.support.market import (
    DRAFT,
    clip_of,
    fund,
    live_campaign,
    quick_password_hashing,
    ready_video,
    submitted,
)
from tests.support.money import person

pytestmark = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)

ROUNDS = 3
ALL_TAKEN = "Every slot of this campaign is taken. Try again later: claims expire."


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_password_hashing(monkeypatch)


def _messages(outcomes: list[Any]) -> list[str]:
    return [str(o) for o in outcomes if isinstance(o, InvalidInput)]


@pytest.fixture
def admin(database_url: str) -> UserView:
    with session_scope() as session:
        return person(session, Role.ADMIN)


def _open_claims(campaign_id: int) -> list[MarketJob]:
    with session_scope() as session:
        return list(
            session.exec(
                select(MarketJob).where(
                    MarketJob.campaign_id == campaign_id,
                    MarketJob.status == MarketJobStatus.IN_PROGRESS,
                )
            ).all()
        )


def test_twenty_clippers_racing_for_the_last_three_slots_get_three(admin) -> None:
    for _ in range(ROUNDS):
        with session_scope() as session:
            client = person(session, Role.CLIENT, "brand")
            live = live_campaign(session, admin, client, max_clips=5, budget_cents=5000)
            for _early in range(2):
                early = person(session, Role.CLIPPER, "early")
                claims.claim_slot(session=session, actor=early, campaign_id=live.id)
            racers = [person(session, Role.CLIPPER, "racer") for _ in range(20)]
        outcomes = race(
            20,
            lambda session, n, racers=racers, live=live: claims.claim_slot(
                session=session, actor=racers[n], campaign_id=live.id
            ),
        )
        won = [o for o in outcomes if isinstance(o, ClaimView)]
        assert len(won) == 3, outcomes
        assert _messages(outcomes) == [ALL_TAKEN] * 17, outcomes
        rows = _open_claims(live.id)
        assert len(rows) == 5
        racer_ids = {r.id for r in racers}
        assert sorted(r.id for r in rows if r.clipper_id in racer_ids) == sorted(w.id for w in won)
        assert {w.clipper_id for w in won} <= racer_ids and len({w.clipper_id for w in won}) == 3
        with session_scope() as session:
            view = campaigns.get_my_campaign(session=session, actor=client, campaign_id=live.id)
        assert (view.open_claims, view.slots_left, view.escrow_cents) == (5, 0, 5000)
        books_are_sound()


def test_a_clipper_double_clicking_claim_gets_one_claim(admin) -> None:
    for _ in range(ROUNDS):
        with session_scope() as session:
            client = person(session, Role.CLIENT, "brand")
            live = live_campaign(session, admin, client)
            clipper = person(session, Role.CLIPPER, "ada")
        outcomes = race(
            5,
            lambda session, _n, clipper=clipper, live=live: claims.claim_slot(
                session=session, actor=clipper, campaign_id=live.id
            ),
        )
        assert all(isinstance(o, ClaimView) for o in outcomes), outcomes
        rows = _open_claims(live.id)
        assert len(rows) == 1 and rows[0].clipper_id == clipper.id
        assert {o.id for o in outcomes} == {rows[0].id}
        with session_scope() as session:
            view = campaigns.get_my_campaign(session=session, actor=client, campaign_id=live.id)
        assert view.slots_left == 9


def _waiting_submission(admin: UserView) -> tuple[UserView, UserView, int, int]:
    """A new client's live campaign ($10 a clip, $100 budget) with one clip waiting for
    review: (client, clipper, campaign id, submission id)."""
    with session_scope() as session:
        client = person(session, Role.CLIENT, "brand")
        clipper = person(session, Role.CLIPPER, "ada")
        live = live_campaign(session, admin, client)
        _, sub = submitted(session, clipper, live)
    return client, clipper, live.id, sub.id


def _approvals(submission_id: int) -> int:
    with session_scope() as session:
        return session.exec(
            select(func.count())
            .select_from(LedgerTransaction)
            .where(
                LedgerTransaction.submission_id == submission_id,
                LedgerTransaction.kind == TransactionKind.APPROVAL,
            )
        ).one()


def test_approving_one_submission_twice_at_once_pays_it_once(admin) -> None:
    for _ in range(ROUNDS):
        client, clipper, campaign_id, submission_id = _waiting_submission(admin)
        outcomes = race(
            4,
            lambda session, _n, client=client, sid=submission_id: reviews.approve_submission(
                session=session, actor=client, submission_id=sid
            ),
        )
        assert len([o for o in outcomes if isinstance(o, ReviewItem)]) == 1, outcomes
        assert _messages(outcomes) == ["This submission was already approved."] * 3, outcomes
        assert _approvals(submission_id) == 1
        assert balance_of(AccountKind.CLIPPER_PENDING, user_id=clipper.id) == 700
        assert balance_of(AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign_id) == 9_000
        with session_scope() as session:
            done = reviews.review_queue(session=session, actor=client, status="approved")
        assert [item.submission_id for item in done] == [submission_id]
        books_are_sound()


REVIEWS: dict[str, Callable[..., Any]] = {
    "approved": lambda session, client, sid: reviews.approve_submission(
        session=session, actor=client, submission_id=sid
    ),
    "rejected": lambda session, client, sid: reviews.reject_submission(
        session=session, actor=client, submission_id=sid, reason="Off brief."
    ),
    "revision_requested": lambda session, client, sid: reviews.request_revision(
        session=session, actor=client, submission_id=sid, notes="Shorter please."
    ),
}


@pytest.mark.parametrize(
    "contenders", [("approved", "rejected"), ("approved", "rejected", "revision_requested")]
)
def test_racing_reviews_of_one_submission_have_one_winner(admin, contenders) -> None:
    for _ in range(ROUNDS):
        client, clipper, campaign_id, submission_id = _waiting_submission(admin)
        outcomes = race(
            len(contenders),
            lambda session, n, client=client, sid=submission_id: REVIEWS[contenders[n]](
                session, client, sid
            ),
        )
        winners = [contenders[n] for n, o in enumerate(outcomes) if isinstance(o, ReviewItem)]
        assert len(winners) == 1, outcomes
        (winner,) = winners
        words = winner.replace("_", " ")
        expected = [f"This submission was already {words}."] * (len(contenders) - 1)
        assert _messages(outcomes) == expected, outcomes
        with session_scope() as session:
            sub = session.get(Submission, submission_id)
            job = session.get(MarketJob, sub.job_id)
        assert sub.status == winner and job.status == winner
        paid = winner == "approved"
        assert _approvals(submission_id) == int(paid)
        assert balance_of(AccountKind.CLIPPER_PENDING, user_id=clipper.id) == (700 if paid else 0)
        assert balance_of(AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign_id) == (
            9_000 if paid else 10_000
        )
        books_are_sound()


def _hand_in_and_cancel(first: str, clipper, claim_id, clip_id, client, campaign_id) -> dict:
    """The clipper hands a clip in and the client cancels the campaign; `first` ("submit"
    or "cancel") goes first and holds its unit of work open a moment while the other
    starts. What each call returned or raised."""
    started = threading.Event()
    outcomes: dict[str, Any] = {}
    calls = {
        "submit": lambda session: claims.submit_clip(
            session=session, actor=clipper, job_id=claim_id, clip_id=clip_id
        ),
        "cancel": lambda session: campaigns.cancel_campaign(
            session=session, actor=client, campaign_id=campaign_id
        ),
    }

    def run(name: str) -> None:
        if name != first:
            started.wait(30)
        try:
            with session_scope() as session:
                outcomes[name] = calls[name](session)
                if name == first:
                    started.set()
                    time.sleep(0.5)  # the other call starts before this commits
        except Exception as error:  # noqa: BLE001 - an outcome like any other
            outcomes[name] = error
        finally:
            started.set()

    threads = [threading.Thread(target=run, args=(name,)) for name in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (a deadlock?)"
    return outcomes


@pytest.mark.parametrize("first", ["submit", "cancel"])
def test_a_campaign_is_never_cancelled_under_a_clip_being_handed_in(admin, first: str) -> None:
    """Never a cancelled campaign, its escrow returned, with a clip left waiting for review
    (it could then only be approved unpaid): whichever comes first wins, the other is
    refused."""
    for _ in range(ROUNDS):
        with session_scope() as session:
            client = person(session, Role.CLIENT, "brand")
            clipper = person(session, Role.CLIPPER, "ada")
            live = live_campaign(session, admin, client)
            claim = claims.claim_slot(session=session, actor=clipper, campaign_id=live.id)
            clip = clip_of(session, clipper, live.source_video_id, market_job_id=claim.id)
        outcomes = _hand_in_and_cancel(first, clipper, claim.id, clip.id, client, live.id)
        with session_scope() as session:
            status = session.get(Campaign, live.id).status
            job_status = session.get(MarketJob, claim.id).status
            waiting = session.exec(
                select(func.count())
                .select_from(Submission)
                .where(Submission.job_id == claim.id, Submission.status == "pending")
            ).one()
        assert not (status == "cancelled" and waiting), outcomes
        escrow = balance_of(AccountKind.CAMPAIGN_ESCROW, campaign_id=live.id)
        returned = balance_of(AccountKind.CLIENT_AVAILABLE, user_id=client.id)
        if first == "submit":
            assert isinstance(outcomes["submit"], claims.SubmissionView), outcomes
            assert str(outcomes["cancel"]) == (
                "1 submitted clip is waiting for your review; approve or reject them first."
            )
            assert (status, job_status, waiting, escrow, returned) == (
                "active",
                "submitted",
                1,
                10_000,
                0,
            )
        else:
            assert isinstance(outcomes["cancel"], campaigns.CampaignView), outcomes
            assert str(outcomes["submit"]) == "This campaign was cancelled.", outcomes
            assert (status, job_status, waiting, escrow, returned) == (
                "cancelled",
                "expired",
                0,
                0,
                10_000,
            )
        books_are_sound()


def test_double_clicking_activate_or_cancel_moves_the_budget_once(admin) -> None:
    for _ in range(ROUNDS):
        with session_scope() as session:
            client = person(session, Role.CLIENT, "brand")
            source = ready_video(session, client)
            fund(session, admin, client, 10_000)
            draft = campaigns.create_campaign(
                session=session, actor=client, draft=replace(DRAFT, source_video_id=source.id)
            )
        for verb, call in (
            ("activated", campaigns.activate_campaign),
            ("cancelled", campaigns.cancel_campaign),
        ):
            outcomes = race(
                3,
                lambda session, _n, call=call, client=client, draft=draft: call(
                    session=session, actor=client, campaign_id=draft.id
                ),
            )
            done = [o for o in outcomes if isinstance(o, campaigns.CampaignView)]
            assert len(done) == 1, outcomes
            status = "active" if verb == "activated" else "cancelled"
            assert _messages(outcomes) == [f"A campaign that is {status} cannot be {verb}."] * 2, (
                outcomes
            )
            with session_scope() as session:
                kinds = session.exec(
                    select(LedgerTransaction.kind).where(LedgerTransaction.campaign_id == draft.id)
                ).all()
            expected = [TransactionKind.CAMPAIGN_RESERVE]
            if verb == "cancelled":
                expected.append(TransactionKind.CAMPAIGN_RELEASE)
            assert sorted(kinds) == sorted(expected)
            left = 0 if verb == "activated" else 10_000
            assert balance_of(AccountKind.CLIENT_AVAILABLE, user_id=client.id) == left
            assert balance_of(AccountKind.CAMPAIGN_ESCROW, campaign_id=draft.id) == 10_000 - left
        books_are_sound()
