"""The marketplace's state machines (DESIGN §3), on SQLite and PostgreSQL.

Campaigns: draft -> active <-> paused -> completed | cancelled. Every action is tried in
every state: the allowed ones do what they say, every other one is refused in a plain
sentence and changes nothing (the campaign row, the balances, the ledger, the claims).

Claims: every (from, to) pair of states is tried through `claims.move`; only the arrows
of DESIGN §3 succeed. Then the paths the services take along those arrows.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, select

from clipgen.models import (
    AccountKind,
    Campaign,
    LedgerAccount,
    LedgerTransaction,
    MarketJob,
    MarketJobStatus,
    Notification,
    Role,
    Submission,
    SubmissionStatus,
    utcnow,
)
from clipgen.services.errors import InvalidInput
from clipgen.services.market import campaigns, claims, reviews
from clipgen.services.money import earnings
from clipgen.services.money.ledger import account_code, check_invariants
from tests.support.market import (
    DRAFT,
    approved,
    clip_of,
    fund,
    live_campaign,
    quick_password_hashing,
    ready_video,
    submitted,
)
from tests.support.money import campaign as campaign_row
from tests.support.money import person

S = MarketJobStatus
LIVE_IS_FIXED = (
    "Once a campaign is live, its budget, pay, slots, requirements and source are fixed; "
    "only the title, brief, hashtags, don'ts, deadline and claim time limit can change."
)


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


def plain(message: str) -> None:
    """A refusal a user can read: a sentence, no code names, ids or placeholders."""
    assert message[:1].isupper() and message.endswith("."), message
    for leak in ("Error", "Exception", "Status", "_", "{", "None", "<", "id="):
        assert leak not in message, message
    assert not re.search(r"#\d|\bid\b", message), message


def cents(session: Session, code: str) -> int:
    """An account's balance, without opening it (0 when it was never opened)."""
    found = session.exec(
        select(LedgerAccount.balance_cents).where(LedgerAccount.code == code)
    ).first()
    return int(found or 0)


def client_cents(session: Session, client) -> int:
    return cents(session, account_code(AccountKind.CLIENT_AVAILABLE, user_id=client.id))


def escrow_cents(session: Session, campaign_id: int) -> int:
    return cents(session, account_code(AccountKind.CAMPAIGN_ESCROW, campaign_id=campaign_id))


def snapshot(session: Session, campaign_id: int, client) -> tuple:
    """Everything a campaign action could change."""
    row = session.get(Campaign, campaign_id, populate_existing=True)
    jobs = session.exec(
        select(MarketJob.id, MarketJob.status, MarketJob.closed_at).where(
            MarketJob.campaign_id == campaign_id
        )
    ).all()
    return (
        row.model_dump(),
        client_cents(session, client),
        escrow_cents(session, campaign_id),
        session.exec(select(func.count()).select_from(LedgerTransaction)).one(),
        session.exec(select(func.count()).select_from(Notification)).one(),
        sorted(jobs),
    )


def status_of(session: Session, campaign_id: int) -> str:
    return session.get(Campaign, campaign_id, populate_existing=True).status


def job_row(session: Session, job_id: int) -> MarketJob:
    return session.get(MarketJob, job_id, populate_existing=True)


def submission_row(session: Session, submission_id: int) -> Submission:
    return session.get(Submission, submission_id, populate_existing=True)


def notes_of(session: Session, user_id: int, kind: str) -> list[str]:
    return list(
        session.exec(
            select(Notification.message)
            .where(Notification.user_id == user_id, Notification.kind == kind)
            .order_by(Notification.id)
        ).all()
    )


# --- campaigns: every action in every state --------------------------------------------------

STATES = ("draft", "active", "paused", "completed", "cancelled")
ACTIONS = ("activate", "pause", "resume", "cancel", "edit_words", "edit_money")
ALLOWED = {
    ("draft", "activate"): "active",
    ("draft", "cancel"): "cancelled",
    ("draft", "edit_words"): "draft",
    ("draft", "edit_money"): "draft",
    ("active", "pause"): "paused",
    ("active", "cancel"): "cancelled",
    ("active", "edit_words"): "active",
    ("paused", "resume"): "active",
    ("paused", "cancel"): "cancelled",
    ("paused", "edit_words"): "paused",
}
VERB = {"activate": "activated", "pause": "paused", "resume": "resumed", "cancel": "cancelled"}


def refusal(state: str, action: str) -> str:
    """The words a refused action must say."""
    if action in VERB:
        return f"A campaign that is {state} cannot be {VERB[action]}."
    if state in ("completed", "cancelled"):
        return f"This campaign is {state}; it can no longer be changed."
    return LIVE_IS_FIXED


def campaign_in(session: Session, admin, client, clipper, state: str) -> int:
    """A campaign of `client` brought to `state` through the services; its id. The client
    holds exactly the budget, so a draft can be activated."""
    if state == "draft":
        source = ready_video(session, client)
        fund(session, admin, client, DRAFT.budget_cents)
        draft = replace(DRAFT, source_video_id=source.id)
        return campaigns.create_campaign(session=session, actor=client, draft=draft).id
    if state == "completed":
        live = live_campaign(session, admin, client, max_clips=1, budget_cents=1000)
        approved(session, client, clipper, live)
    else:
        live = live_campaign(session, admin, client)
    if state == "paused":
        campaigns.pause_campaign(session=session, actor=client, campaign_id=live.id)
    if state == "cancelled":
        campaigns.cancel_campaign(session=session, actor=client, campaign_id=live.id)
    assert status_of(session, live.id) == state
    return live.id


def act(session: Session, client, campaign_id: int, action: str) -> None:
    if action in VERB:
        do = {
            "activate": campaigns.activate_campaign,
            "pause": campaigns.pause_campaign,
            "resume": campaigns.resume_campaign,
            "cancel": campaigns.cancel_campaign,
        }[action]
        do(session=session, actor=client, campaign_id=campaign_id)
        return
    current = campaigns.get_my_campaign(session=session, actor=client, campaign_id=campaign_id)
    if action == "edit_words":
        draft = replace(current.draft(), title="Launch week, take two", brief="New words.")
    else:
        draft = replace(current.draft(), price_per_clip_cents=current.price_per_clip_cents // 2)
    campaigns.update_campaign(session=session, actor=client, campaign_id=campaign_id, draft=draft)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("state", STATES)
def test_every_campaign_action_in_every_state(
    session: Session, admin, client, clipper, state: str, action: str
) -> None:
    campaign_id = campaign_in(session, admin, client, clipper, state)
    before = snapshot(session, campaign_id, client)
    budget = before[0]["budget_cents"]
    if (state, action) not in ALLOWED:
        with pytest.raises(InvalidInput) as refused:
            act(session, client, campaign_id, action)
        assert str(refused.value) == refusal(state, action)
        plain(str(refused.value))
        assert snapshot(session, campaign_id, client) == before
        return

    act(session, client, campaign_id, action)
    row = session.get(Campaign, campaign_id, populate_existing=True)
    assert row.status == ALLOWED[state, action]
    if action == "activate":
        assert row.activated_at is not None
        assert escrow_cents(session, campaign_id) == budget == 10_000
        assert client_cents(session, client) == 0
    elif action == "cancel":
        assert row.closed_at is not None
        # A draft never took the budget; a live campaign gives all of it back.
        assert escrow_cents(session, campaign_id) == 0
        assert client_cents(session, client) == budget
    elif action == "edit_words":
        assert (row.title, row.brief) == ("Launch week, take two", "New words.")
        assert before[1:3] == (client_cents(session, client), escrow_cents(session, campaign_id))
    elif action == "edit_money":
        assert row.price_per_clip_cents == 500
        assert escrow_cents(session, campaign_id) == 0
    else:  # pause, resume: no money moves, nothing else changes
        assert before[1:4] == snapshot(session, campaign_id, client)[1:4]
    assert check_invariants(session).ok


@pytest.mark.parametrize(
    "change",
    [
        {"budget_cents": 20_000},
        {"price_per_clip_cents": 900},
        {"cpm_cents": 100, "cpm_cap_cents": 500},
        {"max_clips": 5},
        {"platforms": ("youtube",)},
        {"min_length_s": 20},
        {"max_length_s": 90},
        {"aspect": "1:1"},
        {"captions": "plain"},
        {"source_video_id": None, "source_url": "https://example.com/talk"},
    ],
    ids=lambda change: "+".join(change),
)
def test_a_live_campaigns_money_requirements_and_source_are_fixed(
    session: Session, admin, client, change: dict
) -> None:
    live = live_campaign(session, admin, client)
    campaigns.pause_campaign(session=session, actor=client, campaign_id=live.id)
    for state in ("paused", "active"):
        before = snapshot(session, live.id, client)
        with pytest.raises(InvalidInput) as refused:
            campaigns.update_campaign(
                session=session,
                actor=client,
                campaign_id=live.id,
                draft=replace(live.draft(), **change),
            )
        assert str(refused.value) == LIVE_IS_FIXED
        assert snapshot(session, live.id, client) == before
        if state == "paused":
            campaigns.resume_campaign(session=session, actor=client, campaign_id=live.id)


def test_a_live_campaigns_words_deadline_and_time_limit_can_change(
    session: Session, admin, client
) -> None:
    live = live_campaign(session, admin, client)
    deadline = (utcnow() + timedelta(days=9)).replace(microsecond=0)
    changed = replace(
        live.draft(),
        title="  Launch week II ",
        brief="Only the keynote.",
        hashtags="#launch, @brand",
        donts="No swearing.",
        deadline=deadline,
        claim_ttl_hours=24,
    )
    view = campaigns.update_campaign(
        session=session, actor=client, campaign_id=live.id, draft=changed
    )
    assert (view.title, view.brief, view.hashtags, view.donts) == (
        "Launch week II",
        "Only the keynote.",
        "#launch @brand",
        "No swearing.",
    )
    assert (view.deadline, view.claim_ttl_hours, view.status) == (deadline, 24, "active")
    assert (view.budget_cents, view.escrow_cents, view.price_per_clip_cents) == (
        10_000,
        10_000,
        1000,
    )


# --- campaigns: completing by themselves -------------------------------------------------------


def test_a_campaign_completes_when_approvals_fill_its_slots(
    session: Session, admin, client
) -> None:
    live = live_campaign(session, admin, client, max_clips=2, budget_cents=3000)
    first, second = person(session, Role.CLIPPER), person(session, Role.CLIPPER)
    approved(session, client, first, live)
    assert status_of(session, live.id) == "active"
    approved(session, client, second, live)
    row = session.get(Campaign, live.id, populate_existing=True)
    assert row.status == "completed" and row.closed_at is not None and not row.is_exhausted
    # A completed campaign keeps its escrow to pay its clips' views.
    assert escrow_cents(session, live.id) == 1000
    assert notes_of(session, client.id, "campaign_completed") == [
        "Launch week is complete: every slot is filled."
    ]
    late = person(session, Role.CLIPPER)
    with pytest.raises(InvalidInput, match=r"^This campaign is completed, so it takes no new"):
        claims.claim_slot(session=session, actor=late, campaign_id=live.id)
    assert check_invariants(session).ok


def test_a_campaign_completes_when_its_escrow_cannot_pay_another_clip(
    session: Session, admin, client
) -> None:
    # $10 a clip and $10 per 1,000 views (up to $10 a clip): 3 slots, $35 budget.
    live = live_campaign(
        session,
        admin,
        client,
        max_clips=3,
        budget_cents=3500,
        cpm_cents=1000,
        cpm_cap_cents=1000,
    )
    first, second = person(session, Role.CLIPPER), person(session, Role.CLIPPER)
    _, first_sub = approved(session, client, first, live)
    earnings.book_views(session=session, submission_id=first_sub.id, views=1000)
    assert escrow_cents(session, live.id) == 1500  # 3500 - 1000 price - 1000 views
    view = campaigns.get_my_campaign(session=session, actor=client, campaign_id=live.id)
    assert view.slots_left == 1  # 2 slots, but escrow pays only 1 more clip
    approved(session, client, second, live)
    row = session.get(Campaign, live.id, populate_existing=True)
    assert row.status == "completed" and not row.is_exhausted
    assert escrow_cents(session, live.id) == 500
    assert notes_of(session, client.id, "campaign_completed") == [
        "Launch week is complete: its budget is spent."
    ]
    assert check_invariants(session).ok


def test_a_campaign_completes_when_an_approval_exhausts_its_escrow(
    session: Session, admin, client
) -> None:
    live = live_campaign(
        session,
        admin,
        client,
        max_clips=2,
        budget_cents=2000,
        cpm_cents=1000,
        cpm_cap_cents=1500,
    )
    first, second = person(session, Role.CLIPPER), person(session, Role.CLIPPER)
    _, first_sub = approved(session, client, first, live)
    _, second_sub = submitted(session, second, live)
    earnings.book_views(session=session, submission_id=first_sub.id, views=500)
    assert escrow_cents(session, live.id) == 500
    reviews.approve_submission(session=session, actor=client, submission_id=second_sub.id)
    row = session.get(Campaign, live.id, populate_existing=True)
    assert row.status == "completed" and row.is_exhausted
    assert escrow_cents(session, live.id) == 0
    pending = cents(session, account_code(AccountKind.CLIPPER_PENDING, user_id=second.id))
    assert pending == 350  # 70% of the $5 that was left
    assert notes_of(session, client.id, "campaign_exhausted") == [
        "Launch week has spent its budget; it takes no new claims."
    ]
    assert notes_of(session, client.id, "campaign_completed") == [
        "Launch week is complete: every slot is filled and its budget is spent."
    ]
    assert check_invariants(session).ok


def test_campaigns_past_their_deadline_complete_when_due_campaigns_close(
    session: Session, admin, client
) -> None:
    deadline = utcnow() + timedelta(days=1)
    active = live_campaign(session, admin, client, deadline=deadline)
    paused = live_campaign(session, admin, client, deadline=deadline, title="Paused one")
    later = live_campaign(session, admin, client, deadline=deadline + timedelta(days=5))
    no_deadline = live_campaign(session, admin, client)
    source = ready_video(session, client)
    draft = campaigns.create_campaign(
        session=session,
        actor=client,
        draft=replace(DRAFT, source_video_id=source.id, deadline=deadline),
    )
    working = person(session, Role.CLIPPER, "ada")
    waiting = person(session, Role.CLIPPER, "bo")
    open_claim = claims.claim_slot(session=session, actor=working, campaign_id=active.id)
    _, handed_in = submitted(session, waiting, paused)
    campaigns.pause_campaign(session=session, actor=client, campaign_id=paused.id)

    assert campaigns.close_due_campaigns(session=session, now=deadline - timedelta(minutes=1)) == 0
    after = deadline + timedelta(minutes=1)
    assert campaigns.close_due_campaigns(session=session, now=after) == 2
    assert campaigns.close_due_campaigns(session=session, now=after) == 0
    for campaign_id, status in (
        (active.id, "completed"),
        (paused.id, "completed"),
        (later.id, "active"),
        (no_deadline.id, "active"),
        (draft.id, "draft"),
    ):
        assert status_of(session, campaign_id) == status
    # The open claim closes and its clipper is told; a handed-in clip still waits for review.
    assert job_row(session, open_claim.id).status == S.EXPIRED
    assert notes_of(session, working.id, "claim_closed") == [
        "Your claim on Launch week was closed: the campaign is complete."
    ]
    assert submission_row(session, handed_in.id).status == SubmissionStatus.PENDING
    assert sorted(notes_of(session, client.id, "campaign_completed")) == [
        "Launch week is complete: its deadline passed.",
        "Paused one is complete: its deadline passed.",
    ]
    # Escrow stays for the clips' views and the waiting review.
    assert escrow_cents(session, active.id) == escrow_cents(session, paused.id) == 10_000
    assert check_invariants(session).ok


def test_a_paused_campaign_past_its_deadline_resumes_only_after_the_deadline_moves(
    session: Session, admin, client
) -> None:
    live = live_campaign(session, admin, client, deadline=utcnow() + timedelta(days=1))
    campaigns.pause_campaign(session=session, actor=client, campaign_id=live.id)
    session.exec(
        update(Campaign)
        .where(Campaign.id == live.id)
        .values(deadline=utcnow() - timedelta(minutes=5))
    )
    before = snapshot(session, live.id, client)
    with pytest.raises(InvalidInput) as refused:
        campaigns.resume_campaign(session=session, actor=client, campaign_id=live.id)
    assert str(refused.value) == "The deadline has passed; move it later before resuming."
    assert snapshot(session, live.id, client) == before
    later = utcnow() + timedelta(days=3)
    current = campaigns.get_my_campaign(session=session, actor=client, campaign_id=live.id)
    campaigns.update_campaign(
        session=session,
        actor=client,
        campaign_id=live.id,
        draft=replace(current.draft(), deadline=later),
    )
    resumed = campaigns.resume_campaign(session=session, actor=client, campaign_id=live.id)
    assert resumed.status == "active" and resumed.slots_left == 10


def test_a_completed_campaigns_leftover_is_taken_back_once(
    session: Session, admin, client, clipper
) -> None:
    live = live_campaign(session, admin, client, max_clips=1, budget_cents=1500)
    with pytest.raises(InvalidInput) as refused:
        campaigns.return_unspent_budget(session=session, actor=client, campaign_id=live.id)
    assert str(refused.value) == "Only a completed campaign's leftover budget can be taken back."
    approved(session, client, clipper, live)
    assert status_of(session, live.id) == "completed"
    assert client_cents(session, client) == 0
    returned = [
        campaigns.return_unspent_budget(session=session, actor=client, campaign_id=live.id)
        for _ in range(2)
    ]
    assert returned == [500, 0]
    assert client_cents(session, client) == 500 and escrow_cents(session, live.id) == 0
    assert session.get(Campaign, live.id, populate_existing=True).is_exhausted
    assert campaigns.escrow_returned(session, live.id)
    assert check_invariants(session).ok


# --- claims: every pair of states through `move` ----------------------------------------------

ARROWS = {
    (S.IN_PROGRESS, S.SUBMITTED),
    (S.IN_PROGRESS, S.EXPIRED),
    (S.IN_PROGRESS, S.ABANDONED),
    (S.SUBMITTED, S.APPROVED),
    (S.SUBMITTED, S.REJECTED),
    (S.SUBMITTED, S.REVISION_REQUESTED),
    (S.REVISION_REQUESTED, S.IN_PROGRESS),
    (S.REVISION_REQUESTED, S.EXPIRED),
    (S.REVISION_REQUESTED, S.ABANDONED),
    # Not in DESIGN §3: a rejection the client overturned on the clipper's appeal.
    (S.REJECTED, S.APPROVED),
}
STATUS_WORDS = {
    S.IN_PROGRESS: "in progress",
    S.SUBMITTED: "submitted",
    S.REVISION_REQUESTED: "waiting for your revision",
    S.APPROVED: "approved",
    S.REJECTED: "rejected",
    S.EXPIRED: "expired",
    S.ABANDONED: "given up",
}
TO_WORDS = {
    S.IN_PROGRESS: "reopened",
    S.SUBMITTED: "submitted",
    S.REVISION_REQUESTED: "sent back for a revision",
    S.APPROVED: "approved",
    S.REJECTED: "rejected",
    S.EXPIRED: "expired",
    S.ABANDONED: "given up",
}
PAIRS = list(itertools.product(S, repeat=2))


def test_the_allowed_claim_moves_are_exactly_the_designs_arrows() -> None:
    assert set(claims.TRANSITIONS) == ARROWS
    assert len(PAIRS) == 49


def bare_claim(session: Session, status: str) -> MarketJob:
    client = person(session, Role.CLIENT)
    clipper = person(session, Role.CLIPPER)
    row = campaign_row(session, client)
    job = MarketJob(
        campaign_id=row.id,
        clipper_id=clipper.id,
        status=status,
        expires_at=utcnow() + timedelta(hours=48),
    )
    session.add(job)
    session.flush()
    return job


@pytest.mark.parametrize(("start", "to"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_a_claim_moves_only_along_the_arrows(
    session: Session, start: MarketJobStatus, to: MarketJobStatus
) -> None:
    job = bare_claim(session, start)
    closed = utcnow()
    if (start, to) in ARROWS:
        claims.move(session, job, to, closed_at=closed)
        row = job_row(session, job.id)
        assert (row.status, row.closed_at) == (to, closed)
        assert job.status == to  # the caller's object follows the row
        return
    with pytest.raises(InvalidInput) as refused:
        claims.move(session, job, to, closed_at=closed)
    message = str(refused.value)
    assert message == f"A claim that is {STATUS_WORDS[start]} cannot be {TO_WORDS[to]}."
    plain(message)
    row = job_row(session, job.id)
    assert (row.status, row.closed_at) == (start, None)


def test_a_move_is_refused_when_the_claim_changed_meanwhile(session: Session) -> None:
    job = bare_claim(session, S.IN_PROGRESS)
    # Someone else (an expiry, a second tab) moved it after we read it.
    session.exec(
        update(MarketJob)
        .where(MarketJob.id == job.id)
        .values(status=S.ABANDONED)
        .execution_options(synchronize_session=False)
    )
    assert job.status == S.IN_PROGRESS
    with pytest.raises(InvalidInput) as refused:
        claims.move(session, job, S.SUBMITTED)
    assert str(refused.value) == "This claim just changed; reload the page and try again."
    assert job_row(session, job.id).status == S.ABANDONED


# --- claims: the services' paths ---------------------------------------------------------------


def test_a_claim_is_submitted_from_in_progress_and_only_once(
    session: Session, admin, client, clipper
) -> None:
    live = live_campaign(session, admin, client)
    claim = claims.claim_slot(session=session, actor=clipper, campaign_id=live.id)
    assert (claim.status, claim.status_words, claim.revision_count) == (
        "in_progress",
        "in progress",
        0,
    )
    assert claim.expires_at - claim.claimed_at == timedelta(hours=48)
    clip = clip_of(session, clipper, live.source_video_id, market_job_id=claim.id)
    sub = claims.submit_clip(session=session, actor=clipper, job_id=claim.id, clip_id=clip.id)
    row = job_row(session, claim.id)
    assert row.status == S.SUBMITTED and row.submitted_at is not None
    assert (sub.status, sub.clip_id, sub.duration_s) == ("pending", clip.id, 30.0)
    assert notes_of(session, client.id, "submission_received") == [
        "Ada submitted a clip to Launch week."
    ]
    with pytest.raises(InvalidInput) as refused:
        claims.submit_clip(session=session, actor=clipper, job_id=claim.id, clip_id=clip.id)
    assert str(refused.value) == "This claim is submitted, so there is nothing to work on."
    count = session.exec(select(func.count()).select_from(Submission)).one()
    assert count == 1


def test_a_resubmission_after_a_revision_goes_back_through_in_progress(
    session: Session, admin, client, clipper, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = live_campaign(session, admin, client)
    claim, first = submitted(session, clipper, live)
    reviews.request_revision(
        session=session, actor=client, submission_id=first.id, notes="Start on the joke."
    )
    row = job_row(session, claim.id)
    assert (row.status, row.revision_count) == (S.REVISION_REQUESTED, 1)
    moves: list[tuple[str, str]] = []
    real_move = claims.move

    def spy(session, job, to, **values):
        moves.append((job.status, to))
        real_move(session, job, to, **values)

    monkeypatch.setattr(claims, "move", spy)
    clip = clip_of(session, clipper, live.source_video_id, market_job_id=claim.id)
    second = claims.submit_clip(session=session, actor=clipper, job_id=claim.id, clip_id=clip.id)
    assert moves == [(S.REVISION_REQUESTED, S.IN_PROGRESS), (S.IN_PROGRESS, S.SUBMITTED)]
    row = job_row(session, claim.id)
    assert (row.status, row.revision_count) == (S.SUBMITTED, 1)
    old = submission_row(session, first.id)
    assert (old.status, old.feedback) == (SubmissionStatus.REVISION_REQUESTED, "Start on the joke.")
    assert submission_row(session, second.id).status == SubmissionStatus.PENDING


@pytest.mark.parametrize("first_review", ["approve", "reject", "revise"])
def test_a_submission_is_reviewed_only_while_it_waits(
    session: Session, admin, client, clipper, first_review: str
) -> None:
    live = live_campaign(session, admin, client)
    claim, sub = submitted(session, clipper, live)

    def review(how: str) -> None:
        if how == "approve":
            reviews.approve_submission(session=session, actor=client, submission_id=sub.id)
        elif how == "reject":
            reviews.reject_submission(
                session=session, actor=client, submission_id=sub.id, reason="Off brief."
            )
        else:
            reviews.request_revision(
                session=session, actor=client, submission_id=sub.id, notes="Tighter cut."
            )

    review(first_review)
    done = {
        "approve": (S.APPROVED, "approved"),
        "reject": (S.REJECTED, "rejected"),
        "revise": (S.REVISION_REQUESTED, "revision requested"),
    }[first_review]
    job_before = job_row(session, claim.id).model_dump()
    sub_before = submission_row(session, sub.id).model_dump()
    money_before = session.exec(select(func.count()).select_from(LedgerTransaction)).one()
    for how in ("approve", "reject", "revise"):
        with pytest.raises(InvalidInput) as refused:
            review(how)
        assert str(refused.value) == f"This submission was already {done[1]}."
        plain(str(refused.value))
    assert job_row(session, claim.id).model_dump() == job_before
    assert job_before["status"] == done[0]
    assert submission_row(session, sub.id).model_dump() == sub_before
    assert session.exec(select(func.count()).select_from(LedgerTransaction)).one() == money_before


def test_a_claim_gets_at_most_two_revisions(session: Session, admin, client, clipper) -> None:
    live = live_campaign(session, admin, client)
    claim, sub = submitted(session, clipper, live)
    for round_number in (1, 2):
        reviews.request_revision(
            session=session, actor=client, submission_id=sub.id, notes=f"Round {round_number}."
        )
        clip = clip_of(session, clipper, live.source_video_id, market_job_id=claim.id)
        sub = claims.submit_clip(session=session, actor=clipper, job_id=claim.id, clip_id=clip.id)
    assert job_row(session, claim.id).revision_count == 2
    before = (job_row(session, claim.id).model_dump(), submission_row(session, sub.id).model_dump())
    with pytest.raises(InvalidInput) as refused:
        reviews.request_revision(
            session=session, actor=client, submission_id=sub.id, notes="Round three."
        )
    assert str(refused.value) == (
        "This claim has had 2 revisions already; approve or reject the clip."
    )
    after = (job_row(session, claim.id).model_dump(), submission_row(session, sub.id).model_dump())
    assert after == before and after[0]["status"] == S.SUBMITTED
    assert len(notes_of(session, clipper.id, "revision_requested")) == 2
    reviews.approve_submission(session=session, actor=client, submission_id=sub.id)
    assert job_row(session, claim.id).status == S.APPROVED


def test_a_clipper_gives_up_an_unsubmitted_claim_only(
    session: Session, admin, client, clipper
) -> None:
    live = live_campaign(session, admin, client, max_clips=2, budget_cents=2000)
    claim = claims.claim_slot(session=session, actor=clipper, campaign_id=live.id)
    given_up = claims.give_up_claim(session=session, actor=clipper, job_id=claim.id)
    assert given_up.status == "abandoned" and given_up.closed_at is not None
    with pytest.raises(InvalidInput) as refused:
        claims.give_up_claim(session=session, actor=clipper, job_id=claim.id)
    assert str(refused.value) == "A claim that is given up cannot be given up."
    # A claim sent back for a revision can be given up too; a handed-in one cannot.
    other = person(session, Role.CLIPPER)
    claim2, sub2 = submitted(session, other, live)
    with pytest.raises(InvalidInput) as refused:
        claims.give_up_claim(session=session, actor=other, job_id=claim2.id)
    assert str(refused.value) == "A claim that is submitted cannot be given up."
    assert job_row(session, claim2.id).status == S.SUBMITTED
    reviews.request_revision(session=session, actor=client, submission_id=sub2.id, notes="Redo.")
    claims.give_up_claim(session=session, actor=other, job_id=claim2.id)
    assert job_row(session, claim2.id).status == S.ABANDONED
    # Both slots are free again; the clipper who gave up may claim anew.
    assert (
        campaigns.get_my_campaign(session=session, actor=client, campaign_id=live.id).slots_left
        == 2
    )
    again = claims.claim_slot(session=session, actor=clipper, campaign_id=live.id)
    assert again.id != claim.id and again.status == "in_progress"


def test_unsubmitted_claims_expire_after_their_time_limit(
    session: Session, admin, client, clipper
) -> None:
    live = live_campaign(session, admin, client, claim_ttl_hours=24)
    revising, waiting = person(session, Role.CLIPPER), person(session, Role.CLIPPER)
    claim = claims.claim_slot(session=session, actor=clipper, campaign_id=live.id)
    revised, revised_sub = submitted(session, revising, live)
    reviews.request_revision(
        session=session, actor=client, submission_id=revised_sub.id, notes="Redo."
    )
    handed_in, _ = submitted(session, waiting, live)
    assert (
        campaigns.get_my_campaign(session=session, actor=client, campaign_id=live.id).slots_left
        == 7
    )

    soon = utcnow() + timedelta(hours=23)
    assert claims.expire_claims(session=session, now=soon) == 0
    # Past its time limit a claim takes no work, even before the expiry job ran.
    session.exec(
        update(MarketJob)
        .where(MarketJob.id == claim.id)
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    clip = clip_of(session, clipper, live.source_video_id, market_job_id=claim.id)
    with pytest.raises(InvalidInput) as refused:
        claims.submit_clip(session=session, actor=clipper, job_id=claim.id, clip_id=clip.id)
    assert str(refused.value) == "This claim has expired."

    later = utcnow() + timedelta(hours=25)
    assert claims.expire_claims(session=session, now=later) == 2
    assert claims.expire_claims(session=session, now=later) == 0
    assert [job_row(session, j).status for j in (claim.id, revised.id, handed_in.id)] == [
        S.EXPIRED,
        S.EXPIRED,
        S.SUBMITTED,
    ]
    assert notes_of(session, clipper.id, "claim_expired") == [
        "Your claim on Launch week expired before a clip was submitted; its slot is free again."
    ]
    assert len(notes_of(session, revising.id, "claim_expired")) == 1
    assert notes_of(session, waiting.id, "claim_expired") == []
    with pytest.raises(InvalidInput) as refused:
        claims.submit_clip(session=session, actor=clipper, job_id=claim.id, clip_id=clip.id)
    assert str(refused.value) == "This claim is expired, so there is nothing to work on."
    assert (
        campaigns.get_my_campaign(session=session, actor=client, campaign_id=live.id).slots_left
        == 9
    )


def test_a_clipper_is_warned_once_before_a_claim_expires(
    session: Session, admin, client, clipper
) -> None:
    live = live_campaign(session, admin, client, claim_ttl_hours=24)
    claim = claims.claim_slot(session=session, actor=clipper, campaign_id=live.id)
    assert claims.warn_expiring_claims(session=session, now=utcnow()) == 0
    near = claim.expires_at - timedelta(hours=2)
    assert claims.warn_expiring_claims(session=session, now=near) == 1
    assert claims.warn_expiring_claims(session=session, now=near) == 0
    assert notes_of(session, clipper.id, "claim_expiring") == [
        "Your claim on Launch week expires in about 2 hours; submit a clip before then."
    ]
