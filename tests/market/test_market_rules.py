"""The marketplace rules of DESIGN §3-4 with worked numbers, on SQLite and PostgreSQL.

Money moves through the real services; after every test that moves money the ledger's
invariants are checked.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, update
from sqlmodel import Session, select

from clipgen.models import (
    AccountKind,
    AuditLog,
    Campaign,
    CampaignStatus,
    LedgerAccount,
    LedgerTransaction,
    MarketJob,
    MarketJobStatus,
    Notification,
    Rating,
    Role,
    Submission,
    TransactionKind,
    utcnow,
)
from clipgen.services.errors import InvalidInput, NotFound
from clipgen.services.market import campaigns, claims, profiles, reviews
from clipgen.services.market.campaigns import CampaignDraft
from clipgen.services.money import earnings
from clipgen.services.money.ledger import InsufficientFunds, account_code, check_invariants
from tests.support.market import (
    DRAFT,
    approved,
    both_roles,
    clip_of,
    fund,
    live_campaign,
    quick_password_hashing,
    ready_video,
    submitted,
)
from tests.support.money import approved_submission, person
from tests.support.money import campaign as campaign_row

S = MarketJobStatus


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


def cents(session: Session, kind: AccountKind, **owner: int) -> int:
    """An account's balance, without opening it (0 when it was never opened)."""
    found = session.exec(
        select(LedgerAccount.balance_cents).where(LedgerAccount.code == account_code(kind, **owner))
    ).first()
    return int(found or 0)


def transactions(session: Session, kind: str | None = None) -> list[LedgerTransaction]:
    query = select(LedgerTransaction).order_by(LedgerTransaction.id)
    if kind is not None:
        query = query.where(LedgerTransaction.kind == kind)
    return list(session.exec(query).all())


def notes_of(session: Session, user_id: int, kind: str) -> list[str]:
    return list(
        session.exec(
            select(Notification.message)
            .where(Notification.user_id == user_id, Notification.kind == kind)
            .order_by(Notification.id)
        ).all()
    )


def job_row(session: Session, job_id: int) -> MarketJob:
    return session.get(MarketJob, job_id, populate_existing=True)


def books_are_sound(session: Session) -> None:
    report = check_invariants(session)
    assert report.ok, report


def slots_left(session: Session, client, campaign_id: int) -> int:
    return campaigns.get_my_campaign(
        session=session, actor=client, campaign_id=campaign_id
    ).slots_left


# --- activation and cancelling -------------------------------------------------------------


def test_activation_moves_the_whole_budget_into_escrow(session: Session, admin, client) -> None:
    source = ready_video(session, client)
    fund(session, admin, client, 15_000)
    draft = campaigns.create_campaign(
        session=session, actor=client, draft=replace(DRAFT, source_video_id=source.id)
    )
    assert (draft.status, draft.escrow_cents, draft.slots_left) == ("draft", 0, 0)
    assert transactions(session, TransactionKind.CAMPAIGN_RESERVE) == []
    live = campaigns.activate_campaign(session=session, actor=client, campaign_id=draft.id)
    assert (live.status, live.escrow_cents, live.slots_left) == ("active", 10_000, 10)
    assert cents(session, AccountKind.CLIENT_AVAILABLE, user_id=client.id) == 5_000
    assert cents(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=live.id) == 10_000
    (reserve,) = transactions(session, TransactionKind.CAMPAIGN_RESERVE)
    assert reserve.campaign_id == live.id and reserve.details == {"budget_cents": 10_000}
    assert notes_of(session, client.id, "campaign_funded") == [
        "Launch week is live: $100.00 moved into its escrow."
    ]
    books_are_sound(session)


def test_a_short_balance_is_refused_naming_both_amounts(session: Session, admin, client) -> None:
    source = ready_video(session, client)
    fund(session, admin, client, 4_550)
    draft = campaigns.create_campaign(
        session=session, actor=client, draft=replace(DRAFT, source_video_id=source.id)
    )
    before = transactions(session)
    with pytest.raises(InsufficientFunds) as refused:
        campaigns.activate_campaign(session=session, actor=client, campaign_id=draft.id)
    assert str(refused.value) == (
        "Activating this campaign needs its budget of $100.00; your balance is $45.50. "
        "Add funds first."
    )
    row = session.get(Campaign, draft.id, populate_existing=True)
    assert (row.status, row.activated_at) == (CampaignStatus.DRAFT, None)
    assert cents(session, AccountKind.CLIENT_AVAILABLE, user_id=client.id) == 4_550
    assert cents(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=draft.id) == 0
    assert [t.id for t in transactions(session)] == [t.id for t in before]
    assert notes_of(session, client.id, "campaign_funded") == []
    # Topped up, the same draft activates.
    fund(session, admin, client, 5_450)
    live = campaigns.activate_campaign(session=session, actor=client, campaign_id=draft.id)
    assert live.escrow_cents == 10_000
    assert cents(session, AccountKind.CLIENT_AVAILABLE, user_id=client.id) == 0
    books_are_sound(session)


def test_a_draft_without_a_source_cannot_be_activated(session: Session, admin, client) -> None:
    fund(session, admin, client, 10_000)
    draft = campaigns.create_campaign(session=session, actor=client, draft=DRAFT)
    with pytest.raises(InvalidInput) as refused:
        campaigns.activate_campaign(session=session, actor=client, campaign_id=draft.id)
    assert str(refused.value) == (
        "Add the source video (upload it or give a link) before activating."
    )
    assert session.get(Campaign, draft.id, populate_existing=True).status == "draft"
    assert cents(session, AccountKind.CLIENT_AVAILABLE, user_id=client.id) == 10_000
    linked = campaigns.create_campaign(
        session=session, actor=client, draft=replace(DRAFT, source_url="https://example.com/v")
    )
    live = campaigns.activate_campaign(session=session, actor=client, campaign_id=linked.id)
    assert live.status == "active" and not live.can_generate
    books_are_sound(session)


def test_cancelling_returns_exactly_the_unspent_escrow_and_closes_open_claims(
    session: Session, admin, client
) -> None:
    live = live_campaign(session, admin, client)  # $100 budget, $10 a clip
    paid, working, revising, waiting = (person(session, Role.CLIPPER) for _ in range(4))
    paid_claim, _ = approved(session, client, paid, live)
    working_claim = claims.claim_slot(session=session, actor=working, campaign_id=live.id)
    revising_claim, revising_sub = submitted(session, revising, live)
    reviews.request_revision(
        session=session, actor=client, submission_id=revising_sub.id, notes="Shorter."
    )
    _, waiting_sub = submitted(session, waiting, live)
    assert cents(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=live.id) == 9_000

    # A clip waiting for review must be reviewed first.
    with pytest.raises(InvalidInput) as refused:
        campaigns.cancel_campaign(session=session, actor=client, campaign_id=live.id)
    assert str(refused.value) == (
        "1 submitted clip is waiting for your review; approve or reject them first."
    )
    assert session.get(Campaign, live.id, populate_existing=True).status == "active"
    assert cents(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=live.id) == 9_000
    reviews.reject_submission(
        session=session, actor=client, submission_id=waiting_sub.id, reason="Off brief."
    )

    view = campaigns.cancel_campaign(session=session, actor=client, campaign_id=live.id)
    assert (view.status, view.escrow_cents, view.slots_left) == ("cancelled", 0, 0)
    assert cents(session, AccountKind.CLIENT_AVAILABLE, user_id=client.id) == 9_000
    assert cents(session, AccountKind.CLIPPER_PENDING, user_id=paid.id) == 700
    assert cents(session, AccountKind.PLATFORM_REVENUE) == 300
    (release,) = transactions(session, TransactionKind.CAMPAIGN_RELEASE)
    assert release.details == {"released_cents": 9_000}
    audit = session.exec(select(AuditLog).where(AuditLog.action == "campaign.cancelled")).one()
    assert audit.details["returned_cents"] == 9_000
    # The open claims are closed and their clippers told; finished ones stay as they were.
    closed = "Your claim on Launch week was closed: the client cancelled the campaign."
    for clipper_row, claim_id in ((working, working_claim.id), (revising, revising_claim.id)):
        row = job_row(session, claim_id)
        assert row.status == S.EXPIRED and row.closed_at is not None
        assert notes_of(session, clipper_row.id, "claim_closed") == [closed]
    assert job_row(session, paid_claim.id).status == S.APPROVED
    assert notes_of(session, paid.id, "claim_closed") == []
    books_are_sound(session)


# --- free slots --------------------------------------------------------------------------------


def test_free_slots_count_open_claims_and_approvals(session: Session, admin, client) -> None:
    live = live_campaign(session, admin, client, max_clips=3, budget_cents=3000)
    first, second, third, fourth = (person(session, Role.CLIPPER) for _ in range(4))
    assert slots_left(session, client, live.id) == 3
    approved(session, client, first, live)
    assert slots_left(session, client, live.id) == 2
    claims.claim_slot(session=session, actor=second, campaign_id=live.id)
    assert slots_left(session, client, live.id) == 1
    third_claim = claims.claim_slot(session=session, actor=third, campaign_id=live.id)
    assert slots_left(session, client, live.id) == 0
    with pytest.raises(InvalidInput) as refused:
        claims.claim_slot(session=session, actor=fourth, campaign_id=live.id)
    assert (
        str(refused.value)
        == "Every slot of this campaign is taken. Try again later: claims expire."
    )
    claims.give_up_claim(session=session, actor=third, job_id=third_claim.id)
    assert slots_left(session, client, live.id) == 1
    claims.claim_slot(session=session, actor=fourth, campaign_id=live.id)
    assert slots_left(session, client, live.id) == 0
    count = session.exec(
        select(func.count()).select_from(MarketJob).where(MarketJob.campaign_id == live.id)
    ).one()
    assert count == 4  # first (approved), second, third (given up), fourth
    books_are_sound(session)


def test_free_slots_are_limited_by_what_escrow_can_still_pay(
    session: Session, admin, client
) -> None:
    # $10 a clip plus $10 per 1,000 views up to $20 a clip; 4 slots, $40 budget.
    live = live_campaign(
        session,
        admin,
        client,
        max_clips=4,
        budget_cents=4000,
        cpm_cents=1000,
        cpm_cap_cents=2000,
    )
    first, second, third = (person(session, Role.CLIPPER) for _ in range(3))
    _, sub = approved(session, client, first, live)
    assert slots_left(session, client, live.id) == 3  # 3 slots, $30 pays 3 clips
    earnings.book_views(session=session, submission_id=sub.id, views=2_000)
    assert cents(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=live.id) == 1000
    assert slots_left(session, client, live.id) == 1  # 3 slots, but $10 pays 1 clip
    claims.claim_slot(session=session, actor=second, campaign_id=live.id)
    assert slots_left(session, client, live.id) == 0
    with pytest.raises(InvalidInput, match=r"^Every slot of this campaign is taken\."):
        claims.claim_slot(session=session, actor=third, campaign_id=live.id)
    books_are_sound(session)


def _campaign(status=CampaignStatus.ACTIVE, **terms) -> Campaign:
    values = {"client_id": 1, "title": "x", "max_clips": 10, "price_per_clip_cents": 1000}
    return Campaign(status=status, **(values | terms))


@pytest.mark.parametrize(
    ("row", "escrow", "open_claims", "approved_clips", "expected"),
    [
        (_campaign(), 10_000, 0, 0, 10),
        (_campaign(), 10_000, 2, 1, 7),  # slots: 10 - 1 approved - 2 open
        (_campaign(), 3_500, 2, 1, 1),  # escrow pays 3 clips, 2 are claimed
        (_campaign(), 1_500, 2, 0, 0),  # never negative
        (_campaign(max_clips=3), 10_000, 1, 2, 0),
        (_campaign(status=CampaignStatus.PAUSED), 10_000, 0, 0, 0),
        (_campaign(status=CampaignStatus.DRAFT), 10_000, 0, 0, 0),
        (_campaign(is_exhausted=True), 10_000, 0, 0, 0),
        (_campaign(deadline=datetime(2000, 1, 1, tzinfo=utcnow().tzinfo)), 10_000, 0, 0, 0),
        (_campaign(price_per_clip_cents=0, cpm_cents=100), 1, 4, 1, 5),  # CPM only
        (_campaign(price_per_clip_cents=0, cpm_cents=100), 0, 0, 0, 0),
    ],
)
def test_the_free_slot_formula(row, escrow, open_claims, approved_clips, expected) -> None:
    assert campaigns.free_slots(row, escrow, open_claims, approved_clips, utcnow()) == expected


# --- approvals, rejections, revisions -----------------------------------------------------------


def test_an_approval_pays_the_bronze_split_rounded_down_for_the_clipper(
    session: Session, admin, client, clipper
) -> None:
    live = live_campaign(session, admin, client, price_per_clip_cents=999, budget_cents=9_990)
    claim, sub = approved(session, client, clipper, live)
    assert cents(session, AccountKind.CLIPPER_PENDING, user_id=clipper.id) == 699  # 70% of 999
    assert cents(session, AccountKind.PLATFORM_REVENUE) == 300
    assert cents(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=live.id) == 8_991
    assert cents(session, AccountKind.CLIPPER_AVAILABLE, user_id=clipper.id) == 0
    (paid,) = transactions(session, TransactionKind.APPROVAL)
    assert paid.submission_id == sub.id and paid.release_at is not None
    assert {
        k: paid.details[k] for k in ("tier", "gross_cents", "clipper_cents", "platform_cents")
    } == {
        "tier": "bronze",
        "gross_cents": 999,
        "clipper_cents": 699,
        "platform_cents": 300,
    }
    row = session.get(Submission, sub.id, populate_existing=True)
    assert (row.status, row.reviewer_id, row.auto_approved) == ("approved", client.id, False)
    assert job_row(session, claim.id).status == S.APPROVED
    assert notes_of(session, clipper.id, "submission_approved") == [
        "Your clip for Launch week was approved. $6.99 is pending in your earnings (70% of $9.99)."
    ]
    books_are_sound(session)


def test_a_clipper_with_ten_approved_clips_is_paid_the_silver_split(
    session: Session, admin, client, clipper
) -> None:
    earlier = campaign_row(session, client, title="Earlier work")
    for _ in range(10):
        approved_submission(session, earlier, clipper)
    live = live_campaign(session, admin, client)
    approved(session, client, clipper, live)
    assert cents(session, AccountKind.CLIPPER_PENDING, user_id=clipper.id) == 750
    assert cents(session, AccountKind.PLATFORM_REVENUE) == 250
    (paid,) = transactions(session, TransactionKind.APPROVAL)
    assert (paid.details["tier"], paid.details["clipper_percent"]) == ("silver", 75)
    books_are_sound(session)


def test_an_unreviewed_submission_is_approved_after_72_hours(
    session: Session, admin, client, clipper
) -> None:
    live = live_campaign(session, admin, client)
    _, sub = submitted(session, clipper, live)
    created = session.get(Submission, sub.id).created_at
    assert reviews.auto_approve_overdue(session=session, now=created + timedelta(hours=71)) == 0
    due = created + timedelta(hours=72, seconds=1)
    assert reviews.auto_approve_overdue(session=session, now=due) == 1
    assert reviews.auto_approve_overdue(session=session, now=due) == 0
    row = session.get(Submission, sub.id, populate_existing=True)
    assert (row.status, row.auto_approved, row.reviewer_id) == ("approved", True, None)
    assert cents(session, AccountKind.CLIPPER_PENDING, user_id=clipper.id) == 700
    assert notes_of(session, clipper.id, "submission_approved") == [
        "Your clip for Launch week was approved automatically after 72 hours. $7.00 is pending "
        "in your earnings (70% of $10.00)."
    ]
    assert len(transactions(session, TransactionKind.APPROVAL)) == 1
    books_are_sound(session)


def test_a_rejection_frees_the_slot_for_another_clipper(
    session: Session, admin, client, clipper
) -> None:
    live = live_campaign(session, admin, client, max_clips=1, budget_cents=1000)
    other = person(session, Role.CLIPPER, "bo")
    claim, sub = submitted(session, clipper, live)
    with pytest.raises(InvalidInput, match=r"^Every slot of this campaign is taken\."):
        claims.claim_slot(session=session, actor=other, campaign_id=live.id)
    with pytest.raises(InvalidInput) as refused:
        reviews.reject_submission(session=session, actor=client, submission_id=sub.id, reason=" x ")
    assert str(refused.value) == "Write the reason so the clipper knows what to change."
    assert job_row(session, claim.id).status == S.SUBMITTED
    before = transactions(session)
    item = reviews.reject_submission(
        session=session, actor=client, submission_id=sub.id, reason="  Off   brief: no logo. "
    )
    assert (item.status, item.feedback) == ("rejected", "Off brief: no logo.")
    row = job_row(session, claim.id)
    assert row.status == S.REJECTED and row.closed_at is not None
    assert notes_of(session, clipper.id, "submission_rejected") == [
        "Your clip for Launch week was rejected: Off brief: no logo."
    ]
    # No money moved; the slot is free again.
    assert transactions(session) == before
    assert cents(session, AccountKind.CAMPAIGN_ESCROW, campaign_id=live.id) == 1000
    assert slots_left(session, client, live.id) == 1
    taken = claims.claim_slot(session=session, actor=other, campaign_id=live.id)
    assert taken.status == "in_progress"
    books_are_sound(session)


def test_a_revision_gives_the_clipper_the_claims_time_limit_again(
    session: Session, admin, client, clipper
) -> None:
    live = live_campaign(session, admin, client, claim_ttl_hours=24)
    claim, sub = submitted(session, clipper, live)
    # Most of the time limit went by before the clip was handed in.
    session.exec(
        update(MarketJob)
        .where(MarketJob.id == claim.id)
        .values(expires_at=utcnow() + timedelta(hours=1), expiry_warned_at=utcnow())
    )
    with pytest.raises(InvalidInput) as refused:
        reviews.request_revision(session=session, actor=client, submission_id=sub.id, notes="")
    assert str(refused.value) == "Write the revision notes so the clipper knows what to change."
    start = utcnow()
    reviews.request_revision(
        session=session, actor=client, submission_id=sub.id, notes="Add the logo at the end."
    )
    end = utcnow()
    row = job_row(session, claim.id)
    assert row.status == S.REVISION_REQUESTED and row.revision_count == 1
    assert start + timedelta(hours=24) <= row.expires_at <= end + timedelta(hours=24)
    assert row.expiry_warned_at is None
    assert notes_of(session, clipper.id, "revision_requested") == [
        "The client asked for a revision of your clip for Launch week: Add the logo at the end."
    ]
    assert claims.expire_claims(session=session, now=start + timedelta(hours=2)) == 0
    assert job_row(session, claim.id).status == S.REVISION_REQUESTED


def test_a_revision_is_refused_once_the_campaign_has_ended_and_never_outlasts_the_deadline(
    session: Session, admin, client, clipper
) -> None:
    deadline = utcnow() + timedelta(hours=5)
    live = live_campaign(session, admin, client, claim_ttl_hours=48, deadline=deadline)
    claim, sub = submitted(session, clipper, live)
    reviews.request_revision(
        session=session, actor=client, submission_id=sub.id, notes="Add the logo at the end."
    )
    # The claim time would run 48 hours; the campaign ends in 5.
    assert job_row(session, claim.id).expires_at == deadline
    again = claims.submit_clip(
        session=session,
        actor=clipper,
        job_id=claim.id,
        clip_id=clip_of(session, clipper, live.source_video_id).id,
        hashtags=live.hashtags,
    )
    assert again.status == "pending"
    # The deadline passes while the clip waits: it can be approved or rejected, not sent back.
    session.exec(update(Campaign).where(Campaign.id == live.id).values(deadline=utcnow()))
    with pytest.raises(InvalidInput) as refused:
        reviews.request_revision(
            session=session, actor=client, submission_id=again.id, notes="Shorter, please."
        )
    assert str(refused.value) == (
        "The campaign has ended, so the clip cannot be sent back; approve or reject it."
    )
    assert job_row(session, claim.id).status == S.SUBMITTED
    reviews.approve_submission(session=session, actor=client, submission_id=again.id)
    assert job_row(session, claim.id).status == S.APPROVED
    books_are_sound(session)


# --- what a submission must meet --------------------------------------------------------------


def test_a_submission_must_carry_the_required_hashtags(
    session: Session, admin, client, clipper
) -> None:
    live = live_campaign(session, admin, client, hashtags="#launch @brand")
    claim = claims.claim_slot(session=session, actor=clipper, campaign_id=live.id)
    clip = clip_of(session, clipper, live.source_video_id, market_job_id=claim.id)

    def submit(**words):
        return claims.submit_clip(
            session=session, actor=clipper, job_id=claim.id, clip_id=clip.id, **words
        )

    for words, message in (
        ({}, "Add the campaign's required hashtags: #launch @brand."),
        ({"hashtags": "#launch"}, "Add the campaign's required hashtags: @brand."),
        ({"hashtags": "#launch #brand"}, "Add the campaign's required hashtags: @brand."),
        (
            {"hashtags": "@brand", "caption": "Big #launchday!"},
            "Add the campaign's required hashtags: #launch.",
        ),
        (
            {"hashtags": "launch"},
            "'launch' is not a hashtag or mention; write them like #podcast or @brand.",
        ),
        ({"caption": "x" * 2201}, "Keep the caption to 2200 characters."),
    ):
        with pytest.raises(InvalidInput) as refused:
            submit(**words)
        assert str(refused.value) == message
    assert job_row(session, claim.id).status == S.IN_PROGRESS
    assert session.exec(select(func.count()).select_from(Submission)).one() == 0
    # Case does not matter, and a mention in the caption counts, punctuation and all.
    sub = submit(hashtags="#LAUNCH, #extra", caption="Thanks @Brand!  ")
    assert (sub.hashtags, sub.caption) == ("#LAUNCH #extra", "Thanks @Brand!")


def test_a_submission_must_meet_the_length_and_aspect(
    session: Session, admin, client, clipper
) -> None:
    live = live_campaign(session, admin, client)  # 15-60 s, 9:16
    claim = claims.claim_slot(session=session, actor=clipper, campaign_id=live.id)
    short = clip_of(session, clipper, live.source_video_id, seconds=13.9)
    long = clip_of(session, clipper, live.source_video_id, seconds=61.5)
    wide = clip_of(session, clipper, live.source_video_id, aspect="16:9")
    wide_edit = ready_video(session, clipper, duration_s=30.0, width=1920, height=1080)
    long_edit = ready_video(session, clipper, duration_s=95.0, width=1080, height=1920)
    other_source = ready_video(session, clipper)
    foreign = clip_of(session, clipper, other_source.id)
    requirement = "This clip does not meet the campaign's requirements. "
    for chosen, message in (
        ({"clip_id": short.id}, requirement + "It is 14 s long; the campaign asks for 15-60 s."),
        ({"clip_id": long.id}, requirement + "It is 62 s long; the campaign asks for 15-60 s."),
        ({"clip_id": wide.id}, requirement + "It is 16:9; the campaign asks for 9:16."),
        ({"video_id": wide_edit.id}, requirement + "It is 16:9; the campaign asks for 9:16."),
        (
            {"video_id": long_edit.id},
            requirement + "It is 95 s long; the campaign asks for 15-60 s.",
        ),
        ({"clip_id": foreign.id}, "That clip was not made from this campaign's source video."),
        ({}, "Pick one clip to submit."),
        ({"clip_id": short.id, "video_id": wide_edit.id}, "Pick one clip to submit."),
    ):
        with pytest.raises(InvalidInput) as refused:
            claims.submit_clip(session=session, actor=clipper, job_id=claim.id, **chosen)
        assert str(refused.value) == message
    assert job_row(session, claim.id).status == S.IN_PROGRESS
    assert session.exec(select(func.count()).select_from(Submission)).one() == 0
    # Within a second of the range counts; an own vertical edit is accepted.
    edge = clip_of(session, clipper, live.source_video_id, seconds=14.0)
    detail = claims.claim_detail(session=session, actor=clipper, job_id=claim.id)
    fits = {clip.id: clip.fits for clip in detail.clips}
    assert fits[edge.id] and not fits[short.id] and not fits[wide.id]
    edit = ready_video(session, clipper, duration_s=45.0, width=1080, height=1920)
    sub = claims.submit_clip(session=session, actor=clipper, job_id=claim.id, video_id=edit.id)
    assert (sub.video_id, sub.clip_id, sub.duration_s) == (edit.id, None, 45.0)


def test_the_campaigns_source_itself_is_not_a_submission(
    session: Session, admin, client, clipper
) -> None:
    live = live_campaign(session, admin, client)
    claim = claims.claim_slot(session=session, actor=clipper, campaign_id=live.id)
    with pytest.raises(NotFound):  # the client's upload is not the clipper's video
        claims.submit_clip(
            session=session, actor=clipper, job_id=claim.id, video_id=live.source_video_id
        )
    assert job_row(session, claim.id).status == S.IN_PROGRESS


# --- who may claim ---------------------------------------------------------------------------


def test_an_account_holding_both_roles_cannot_claim_its_own_campaign(
    session: Session, admin, client
) -> None:
    # `auth.register` opens an account with one role; the second is set on the row.
    both = both_roles(session, person(session, Role.CLIPPER, "sam"))
    assert set(both.roles) == {"clipper", "client"}
    mine = live_campaign(session, admin, both)
    with pytest.raises(InvalidInput) as refused:
        claims.claim_slot(session=session, actor=both, campaign_id=mine.id)
    assert str(refused.value) == "This is your own campaign; another clipper has to claim it."
    assert session.exec(select(func.count()).select_from(MarketJob)).one() == 0
    theirs = live_campaign(session, admin, client)
    claim = claims.claim_slot(session=session, actor=both, campaign_id=theirs.id)
    assert claim.clipper_id == both.id and claim.campaign_id == theirs.id
    books_are_sound(session)


def test_one_open_claim_per_clipper_per_campaign(session: Session, admin, client, clipper) -> None:
    live = live_campaign(session, admin, client)
    first = claims.claim_slot(session=session, actor=clipper, campaign_id=live.id)
    again = claims.claim_slot(session=session, actor=clipper, campaign_id=str(live.id))
    assert again.id == first.id
    assert slots_left(session, client, live.id) == 9
    assert claims.my_claim_on(session=session, actor=clipper, campaign_id=live.id).id == first.id


# --- rating ------------------------------------------------------------------------------------


def test_the_client_rates_an_approved_clipper_once(
    session: Session, admin, client, clipper
) -> None:
    live = live_campaign(session, admin, client)
    claim, sub = submitted(session, clipper, live)
    with pytest.raises(InvalidInput) as refused:
        reviews.rate_clipper(session=session, actor=client, job_id=claim.id, stars=5)
    assert str(refused.value) == "You can rate a clipper once their clip is approved."
    reviews.approve_submission(session=session, actor=client, submission_id=sub.id)
    for bad in (0, 6, "five", None):
        with pytest.raises(InvalidInput, match=r"^Choose 1 to 5 stars\.$"):
            reviews.rate_clipper(session=session, actor=client, job_id=claim.id, stars=bad)
    with pytest.raises(InvalidInput, match=r"^Keep the feedback to 1000 characters\.$"):
        reviews.rate_clipper(
            session=session, actor=client, job_id=claim.id, stars=4, feedback="x" * 1001
        )
    assert session.exec(select(func.count()).select_from(Rating)).one() == 0
    reviews.rate_clipper(
        session=session, actor=client, job_id=claim.id, stars="4", feedback=" Quick  and clean "
    )
    with pytest.raises(InvalidInput, match=r"^You already rated this clip\.$"):
        reviews.rate_clipper(session=session, actor=client, job_id=claim.id, stars=1)
    rating = session.exec(select(Rating)).one()
    assert (rating.stars, rating.feedback, rating.clipper_id) == (4, "Quick and clean", clipper.id)
    assert notes_of(session, clipper.id, "rated") == [
        "You were rated 4/5 for your clip for Launch week."
    ]
    profile = profiles.public_profile(session=session, clipper_id=clipper.id)
    assert (profile.rating_average, profile.rating_count, profile.campaigns_worked) == (4.0, 1, 1)
    assert [c.submission_id for c in profile.clips] == [sub.id]
    assert [(r.stars, r.feedback) for r in profile.ratings] == [(4, "Quick and clean")]
    assert profile.standing.tier == "bronze" and profile.standing.approved_clips == 1


# --- browsing ----------------------------------------------------------------------------------


@pytest.fixture
def market(session: Session, admin, client) -> dict[str, int]:
    """Four claimable campaigns (a-d) among ones a clipper must not see; name -> id."""
    now = utcnow()

    def live(title: str, **terms) -> int:
        price = terms.get("price_per_clip_cents", 1000)
        return live_campaign(
            session, admin, client, title=title, max_clips=2, budget_cents=2 * price, **terms
        ).id

    ids = {
        "a": live(
            "Podcast highlights",
            brief="Funny moments.",
            platforms=("youtube",),
            price_per_clip_cents=500,
            min_length_s=15,
            max_length_s=30,
            deadline=now + timedelta(days=3),
        ),
        "b": live(
            "Gaming montage",
            brief="A podcast crossover.",
            platforms=("tiktok",),
            price_per_clip_cents=2000,
            min_length_s=30,
            max_length_s=60,
            deadline=now + timedelta(days=20),
        ),
        "c": live(
            "Cooking tips",
            brief="Knife skills.",
            platforms=("instagram", "youtube"),
            price_per_clip_cents=1000,
            min_length_s=60,
            max_length_s=90,
        ),
        "d": live(
            "Launch week",  # DRAFT's brief: "Cut the best moments of our launch talk."
            price_per_clip_cents=1500,
            deadline=now + timedelta(days=10),
        ),
    }
    # Never listed: a draft, a paused, a cancelled, an exhausted, an overdue and a
    # completed campaign (all matching the "podcast" search).
    campaigns.create_campaign(
        session=session, actor=client, draft=replace(DRAFT, title="Podcast draft")
    )
    paused = live("Podcast paused")
    campaigns.pause_campaign(session=session, actor=client, campaign_id=paused)
    cancelled = live("Podcast cancelled")
    campaigns.cancel_campaign(session=session, actor=client, campaign_id=cancelled)
    exhausted = live("Podcast exhausted")
    session.exec(update(Campaign).where(Campaign.id == exhausted).values(is_exhausted=True))
    done = live("Podcast done", deadline=now + timedelta(days=1))
    assert campaigns.close_due_campaigns(session=session, now=now + timedelta(days=2)) == 1
    assert session.get(Campaign, done, populate_existing=True).status == "completed"
    # Past its deadline but not yet closed by the scheduler: still active, never listed.
    overdue = live("Podcast overdue", deadline=now + timedelta(days=1))
    session.exec(
        update(Campaign).where(Campaign.id == overdue).values(deadline=now - timedelta(minutes=1))
    )
    return ids


def _browse(session: Session, actor, market: dict[str, int], **filters) -> list[str]:
    names = {campaign_id: name for name, campaign_id in market.items()}
    page = campaigns.browse(session=session, actor=actor, **filters)
    return [names.get(item.id, f"unexpected {item.title}") for item in page.items]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["d", "c", "b", "a"]),
        ({"sort": "newest"}, ["d", "c", "b", "a"]),
        ({"sort": "pay"}, ["b", "d", "c", "a"]),
        ({"sort": "ending"}, ["a", "d", "b", "c"]),
        ({"query": "podcast"}, ["b", "a"]),  # title or brief
        ({"query": "  PODCAST  "}, ["b", "a"]),
        ({"query": "moments"}, ["d", "a"]),
        ({"query": "%"}, []),
        ({"query": "_"}, []),
        ({"platform": "youtube"}, ["d", "c", "a"]),
        ({"platform": "tiktok"}, ["d", "b"]),
        ({"platform": "instagram"}, ["c"]),
        ({"min_price_cents": 1000}, ["d", "c", "b"]),
        ({"min_price_cents": 1500, "sort": "pay"}, ["b", "d"]),
        ({"min_price_cents": -5}, ["d", "c", "b", "a"]),
        ({"length": "short"}, ["d", "a"]),
        ({"length": "medium"}, ["d", "b"]),
        ({"length": "long"}, ["c"]),
        ({"ending_within_days": 5}, ["a"]),
        ({"ending_within_days": 15}, ["d", "a"]),
        ({"ending_within_days": "30", "sort": "ending"}, ["a", "d", "b"]),
        ({"platform": "youtube", "min_price_cents": 1000, "sort": "pay"}, ["d", "c"]),
        ({"query": "podcast", "platform": "youtube"}, ["a"]),
    ],
    ids=lambda value: repr(value) if isinstance(value, dict) else None,
)
def test_browse_filters_and_sorts(
    session: Session, clipper, market, filters: dict, expected: list[str]
) -> None:
    assert _browse(session, clipper, market, **filters) == expected


def test_browse_pages(session: Session, admin, client, clipper, market) -> None:
    first = campaigns.browse(session=session, actor=clipper, per_page=3)
    assert [i.id for i in first.items] == [market[n] for n in ("d", "c", "b")]
    assert (first.page, first.per_page, first.total, first.pages) == (1, 3, 4, 2)
    second = campaigns.browse(session=session, actor=clipper, per_page=3, page=2)
    assert [i.id for i in second.items] == [market["a"]] and second.page == 2
    beyond = campaigns.browse(session=session, actor=clipper, per_page=3, page=99)
    assert [i.id for i in beyond.items] == [market["a"]] and beyond.page == 2
    before = campaigns.browse(session=session, actor=clipper, per_page=3, page=0)
    assert before.page == 1 and len(before.items) == 3
    assert campaigns.browse(session=session, actor=clipper, per_page=0).per_page == 1
    assert campaigns.browse(session=session, actor=clipper, per_page=500).per_page == 50
    nothing = campaigns.browse(session=session, actor=clipper, query="no such thing")
    assert (nothing.items, nothing.total, nothing.page, nothing.pages) == ((), 0, 1, 1)
    # Clients and admins see the same market.
    for actor in (client, admin):
        assert len(campaigns.browse(session=session, actor=actor).items) == 4
    view = campaigns.browse(session=session, actor=clipper, query="cooking").items[0]
    assert (view.slots_left, view.escrow_cents, view.client_name) == (2, 2000, "Brand")


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"platform": "myspace"}, "Choose one of the listed platforms."),
        ({"length": "tiny"}, "Choose one of the listed clip lengths."),
        ({"ending_within_days": "soon"}, "Choose one of the listed deadlines."),
        ({"ending_within_days": 400}, "Choose one of the listed deadlines."),
        ({"ending_within_days": -1}, "Choose one of the listed deadlines."),
        ({"min_price_cents": "cheap"}, "The lowest price must be an amount in dollars."),
        ({"sort": "random"}, "Choose one of the listed sort orders."),
        ({"page": "two"}, "Choose one of the listed pages."),
        ({"per_page": "lots"}, "Choose one of the listed pages."),
    ],
    ids=lambda value: repr(value) if isinstance(value, dict) else None,
)
def test_browse_refuses_bad_filter_values(
    session: Session, clipper, filters: dict, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        campaigns.browse(session=session, actor=clipper, **filters)
    assert str(refused.value) == message


# --- what a draft must say ----------------------------------------------------------------------

LATER = utcnow() + timedelta(days=30)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "The title is required."),
        ({"title": "   "}, "The title is required."),
        ({"title": "ab"}, "The title needs at least 3 characters."),
        ({"title": "x" * 121}, "Keep the title to 120 characters."),
        ({"brief": "x" * 5001}, "Keep the brief to 5000 characters."),
        ({"platforms": ()}, "Choose at least one platform the clips are for."),
        ({"platforms": ("myspace",)}, "'myspace' is not a platform we support."),
        ({"min_length_s": "short"}, "The shortest length must be a whole number."),
        ({"min_length_s": 2}, "The shortest length must be between 5 and 180."),
        ({"max_length_s": 500}, "The longest length must be between 5 and 180."),
        (
            {"min_length_s": 30, "max_length_s": 32},
            "The longest length must be at least 5 s more than the shortest.",
        ),
        ({"aspect": "4:3"}, "Choose one of the offered aspect ratios."),
        ({"captions": "comic sans"}, "Choose one of the offered caption styles."),
        ({"price_per_clip_cents": -1}, "The price per clip cannot be negative."),
        ({"price_per_clip_cents": "ten"}, "The price per clip must be an amount in dollars."),
        ({"price_per_clip_cents": True}, "The price per clip must be an amount in dollars."),
        (
            {"price_per_clip_cents": 100_000_001},
            "The price per clip can be at most $1,000,000.00.",
        ),
        (
            {"price_per_clip_cents": 0},
            "Pay clippers something: a price per clip, a CPM, or both.",
        ),
        (
            {"cpm_cents": 100},
            "Set a cap on what one clip can earn from views (the CPM cap).",
        ),
        ({"cpm_cap_cents": 100}, "A CPM cap needs a CPM."),
        ({"max_clips": 0}, "The number of clips must be between 1 and 1000."),
        ({"max_clips": "ten"}, "The number of clips must be a whole number."),
        ({"budget_cents": 0}, "Set the campaign's budget."),
        (
            {"budget_cents": 9_999},
            "The budget must pay for every clip: 10 × $10.00 = $100.00, more than $99.99.",
        ),
        ({"claim_ttl_hours": 0}, "The claim time limit (hours) must be between 1 and 336."),
        ({"deadline": utcnow() - timedelta(minutes=1)}, "The deadline must be in the future."),
        ({"deadline": LATER.replace(tzinfo=None)}, "Choose the deadline again."),
        ({"deadline": "tomorrow"}, "Choose the deadline again."),
        (
            {"source_url": "ftp://example.com/v"},
            "The source link must be a full web address starting with https://.",
        ),
        (
            {"source_url": "example.com/v"},
            "The source link must be a full web address starting with https://.",
        ),
        (
            {"source_video_id": 1, "source_url": "https://example.com/v"},
            "Give either an uploaded source video or a link, not both.",
        ),
        (
            {"hashtags": "launch"},
            "'launch' is not a hashtag or mention; write them like #podcast or @brand.",
        ),
        ({"donts": "x" * 2001}, "Keep the don'ts to 2000 characters."),
    ],
    ids=lambda value: "+".join(value) if isinstance(value, dict) else None,
)
def test_each_bad_draft_field_is_refused_with_its_message(
    session: Session, client, change: dict, message: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        campaigns.create_campaign(session=session, actor=client, draft=replace(DRAFT, **change))
    assert str(refused.value) == message
    assert session.exec(select(func.count()).select_from(Campaign)).one() == 0


def test_a_draft_is_cleaned_and_its_source_checked(session: Session, client) -> None:
    with pytest.raises(InvalidInput, match=r"^Fill in the campaign form again\.$"):
        campaigns.create_campaign(session=session, actor=client, draft={"title": "Launch"})
    uploading = ready_video(session, client)
    uploading.status = "uploading"
    session.add(uploading)
    session.flush()
    with pytest.raises(InvalidInput) as refused:
        campaigns.create_campaign(
            session=session, actor=client, draft=replace(DRAFT, source_video_id=uploading.id)
        )
    assert str(refused.value) == (
        "The source video is not ready yet; wait until its upload finishes."
    )
    assert session.exec(select(func.count()).select_from(Campaign)).one() == 0
    made = campaigns.create_campaign(
        session=session,
        actor=client,
        draft=CampaignDraft(
            title="  Spring   sale ",
            platforms=("tiktok", "tiktok", "youtube"),
            hashtags="#sale,#sale @shop",
            cpm_cents=250,
            cpm_cap_cents=5_000,
            budget_cents=50_000,
            max_clips=20,
            deadline=LATER,
        ),
    )
    assert (made.title, made.platforms, made.hashtags) == (
        "Spring   sale",
        ("tiktok", "youtube"),
        "#sale @shop",
    )
    assert (made.status, made.price_per_clip_cents, made.cpm_cents, made.deadline) == (
        "draft",
        0,
        250,
        LATER,
    )
    assert transactions(session) == []


def test_a_clients_campaign_page_says_what_they_may_do_next(
    session: Session, admin, client
) -> None:
    """The service, not the page, decides: edit while not closed, the budget short while
    a draft's balance cannot fund it, the leftover returnable once completed."""
    source = ready_video(session, client)
    draft = campaigns.create_campaign(
        session=session, actor=client, draft=replace(DRAFT, source_video_id=source.id)
    )

    def page():
        return campaigns.client_campaign_page(session=session, actor=client, campaign_id=draft.id)

    first = page()
    assert (first.can_edit, first.budget_short, first.can_return_budget) == (True, True, False)
    assert first.balance_cents == 0 and first.submissions["pending"] == 0
    fund(session, admin, client, draft.budget_cents)
    assert not page().budget_short and page().balance_cents == draft.budget_cents
    campaigns.activate_campaign(session=session, actor=client, campaign_id=draft.id)
    live = page()
    assert (live.can_edit, live.budget_short, live.can_return_budget) == (True, False, False)
    assert campaigns.campaign_to_edit(session=session, actor=client, campaign_id=draft.id).id

    row = session.get(Campaign, draft.id)
    row.deadline = utcnow() - timedelta(minutes=1)  # the deadline passed, the budget unspent
    assert campaigns.complete_if_done(session, row)
    done = page()
    assert (done.can_edit, done.can_return_budget, done.budget_returned) == (False, True, False)
    with pytest.raises(InvalidInput, match="This campaign is completed; it can no longer be"):
        campaigns.campaign_to_edit(session=session, actor=client, campaign_id=draft.id)
    campaigns.return_unspent_budget(session=session, actor=client, campaign_id=draft.id)
    returned = page()
    assert (returned.can_return_budget, returned.budget_returned) == (False, True)
    assert returned.balance_cents == draft.budget_cents

    rival = person(session, Role.CLIENT, "rival")
    for service in (campaigns.client_campaign_page, campaigns.campaign_to_edit):
        with pytest.raises(NotFound):
            service(session=session, actor=rival, campaign_id=draft.id)
