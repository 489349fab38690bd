"""Who may do what in the marketplace, at the service level, on SQLite and PostgreSQL.

Every service takes the acting user: a signed-out caller (None) is refused everywhere, a
missing role is refused (PermissionDenied), and another user's campaign, claim, clip or
submission is indistinguishable from a missing one (NotFound). A refusal changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from clipgen.models import (
    Campaign,
    LedgerTransaction,
    MarketJob,
    Notification,
    ProcessingJob,
    Rating,
    Role,
    Submission,
)
from clipgen.pipeline.types import GenerateOptions
from clipgen.services import notifications
from clipgen.services.auth.service import UserView
from clipgen.services.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from clipgen.services.market import campaigns, claims, profiles, reviews
from clipgen.services.money.ledger import check_invariants
from tests.support.market import (
    DRAFT,
    approved,
    clip_of,
    live_campaign,
    quick_password_hashing,
    ready_video,
    submitted,
)
from tests.support.money import person


@pytest.fixture(autouse=True)
def _quick_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    quick_password_hashing(monkeypatch)


@dataclass(frozen=True)
class World:
    """A client's live campaign and draft, and clippers' claims on the campaign."""

    admin: UserView
    client: UserView
    other_client: UserView
    clipper: UserView  # holds `claim_id` (in progress) with `clip_id` made for it
    other_clipper: UserView  # holds `submitted_job_id` and the approved `approved_job_id`
    campaign_id: int
    draft_id: int
    claim_id: int
    clip_id: int
    own_edit_id: int
    submitted_job_id: int
    submission_id: int
    approved_job_id: int
    notification_id: int


@pytest.fixture
def world(session: Session) -> World:
    admin = person(session, Role.ADMIN)
    client = person(session, Role.CLIENT, "brand")
    other_client = person(session, Role.CLIENT, "rival")
    clipper = person(session, Role.CLIPPER, "ada")
    other_clipper = person(session, Role.CLIPPER, "bo")
    live = live_campaign(session, admin, client)
    second = live_campaign(session, admin, client, title="Second launch")
    source = ready_video(session, client)
    draft = campaigns.create_campaign(
        session=session, actor=client, draft=replace(DRAFT, source_video_id=source.id)
    )
    claim = claims.claim_slot(session=session, actor=clipper, campaign_id=live.id)
    clip = clip_of(session, clipper, live.source_video_id, market_job_id=claim.id)
    edit = ready_video(session, clipper, duration_s=30.0, width=1080, height=1920)
    approved_claim, _ = approved(session, client, other_clipper, second)
    waiting_claim, waiting = submitted(session, other_clipper, live)
    note = session.exec(
        select(Notification.id).where(Notification.user_id == other_clipper.id)
    ).first()
    return World(
        admin=admin,
        client=client,
        other_client=other_client,
        clipper=clipper,
        other_clipper=other_clipper,
        campaign_id=live.id,
        draft_id=draft.id,
        claim_id=claim.id,
        clip_id=clip.id,
        own_edit_id=edit.id,
        submitted_job_id=waiting_claim.id,
        submission_id=waiting.id,
        approved_job_id=approved_claim.id,
        notification_id=note,
    )


def state(session: Session) -> tuple:
    """Everything a marketplace call could change."""

    def rows(*columns):
        return sorted(session.exec(select(*columns)).all())

    return (
        rows(Campaign.id, Campaign.status, Campaign.title, Campaign.is_exhausted),
        rows(MarketJob.id, MarketJob.status, MarketJob.revision_count, MarketJob.expires_at),
        rows(Submission.id, Submission.status, Submission.feedback),
        session.exec(select(func.count()).select_from(LedgerTransaction)).one(),
        session.exec(select(func.count()).select_from(Rating)).one(),
        session.exec(select(func.count()).select_from(ProcessingJob)).one(),
        rows(Notification.id, Notification.read_at),
    )


Call = Callable[[Session, UserView | None, World], object]

# Every marketplace call a signed-in user makes, with the ids of real rows.
CALLS: dict[str, Call] = {
    "create_campaign": lambda s, a, w: campaigns.create_campaign(session=s, actor=a, draft=DRAFT),
    "update_campaign": lambda s, a, w: campaigns.update_campaign(
        session=s, actor=a, campaign_id=w.draft_id, draft=replace(DRAFT, title="Renamed")
    ),
    "activate_campaign": lambda s, a, w: campaigns.activate_campaign(
        session=s, actor=a, campaign_id=w.draft_id
    ),
    "pause_campaign": lambda s, a, w: campaigns.pause_campaign(
        session=s, actor=a, campaign_id=w.campaign_id
    ),
    "resume_campaign": lambda s, a, w: campaigns.resume_campaign(
        session=s, actor=a, campaign_id=w.campaign_id
    ),
    "cancel_campaign": lambda s, a, w: campaigns.cancel_campaign(
        session=s, actor=a, campaign_id=w.draft_id
    ),
    "return_unspent_budget": lambda s, a, w: campaigns.return_unspent_budget(
        session=s, actor=a, campaign_id=w.campaign_id
    ),
    "get_my_campaign": lambda s, a, w: campaigns.get_my_campaign(
        session=s, actor=a, campaign_id=w.campaign_id
    ),
    "list_my_campaigns": lambda s, a, w: campaigns.list_my_campaigns(session=s, actor=a),
    "browse": lambda s, a, w: campaigns.browse(session=s, actor=a),
    "market_campaign": lambda s, a, w: campaigns.market_campaign(
        session=s, actor=a, campaign_id=w.campaign_id
    ),
    "claim_slot": lambda s, a, w: claims.claim_slot(session=s, actor=a, campaign_id=w.campaign_id),
    "give_up_claim": lambda s, a, w: claims.give_up_claim(session=s, actor=a, job_id=w.claim_id),
    "my_claims": lambda s, a, w: claims.my_claims(session=s, actor=a),
    "my_claim_on": lambda s, a, w: claims.my_claim_on(
        session=s, actor=a, campaign_id=w.campaign_id
    ),
    "claim_detail": lambda s, a, w: claims.claim_detail(session=s, actor=a, job_id=w.claim_id),
    "generate_for_claim": lambda s, a, w: claims.generate_for_claim(
        session=s, actor=a, job_id=w.claim_id, options=GenerateOptions()
    ),
    "submit_clip": lambda s, a, w: claims.submit_clip(
        session=s, actor=a, job_id=w.claim_id, clip_id=w.clip_id
    ),
    "review_queue": lambda s, a, w: reviews.review_queue(session=s, actor=a),
    "approve_submission": lambda s, a, w: reviews.approve_submission(
        session=s, actor=a, submission_id=w.submission_id
    ),
    "reject_submission": lambda s, a, w: reviews.reject_submission(
        session=s, actor=a, submission_id=w.submission_id, reason="Off brief."
    ),
    "request_revision": lambda s, a, w: reviews.request_revision(
        session=s, actor=a, submission_id=w.submission_id, notes="Shorter please."
    ),
    "rate_clipper": lambda s, a, w: reviews.rate_clipper(
        session=s, actor=a, job_id=w.approved_job_id, stars=5
    ),
    "list_notifications": lambda s, a, w: notifications.list_notifications(session=s, actor=a),
    "unread_count": lambda s, a, w: notifications.unread_count(session=s, actor=a),
    "mark_read": lambda s, a, w: notifications.mark_read(
        session=s, actor=a, notification_id=w.notification_id
    ),
    "mark_all_read": lambda s, a, w: notifications.mark_all_read(session=s, actor=a),
}


@pytest.mark.parametrize("name", sorted(CALLS))
def test_a_signed_out_caller_is_refused_everywhere(session: Session, world: World, name: str):
    before = state(session)
    with pytest.raises(NotAuthenticated) as refused:
        CALLS[name](session, None, world)
    assert str(refused.value) == "Please sign in to continue."
    assert state(session) == before


CLIENT_ONLY = (
    "create_campaign",
    "update_campaign",
    "activate_campaign",
    "pause_campaign",
    "resume_campaign",
    "cancel_campaign",
    "return_unspent_budget",
    "get_my_campaign",
    "list_my_campaigns",
    "review_queue",
    "approve_submission",
    "reject_submission",
    "request_revision",
    "rate_clipper",
)
CLIPPER_ONLY = (
    "claim_slot",
    "give_up_claim",
    "my_claims",
    "claim_detail",
    "generate_for_claim",
    "submit_clip",
)


@pytest.mark.parametrize("name", CLIENT_ONLY)
def test_a_clipper_cannot_run_or_review_campaigns(session: Session, world: World, name: str):
    before = state(session)
    for actor in (world.clipper, world.other_clipper, world.admin):
        with pytest.raises(PermissionDenied) as refused:
            CALLS[name](session, actor, world)
        expected = "Running campaigns is part of a client account."
        assert str(refused.value) == expected
    assert state(session) == before


@pytest.mark.parametrize("name", CLIPPER_ONLY)
def test_a_client_cannot_claim_or_work_on_claims(session: Session, world: World, name: str):
    before = state(session)
    for actor in (world.client, world.other_client, world.admin):
        with pytest.raises(PermissionDenied) as refused:
            CALLS[name](session, actor, world)
        assert str(refused.value) == "Making clips is part of a clipper account."
    assert state(session) == before


@pytest.mark.parametrize(
    "name",
    [
        "update_campaign",
        "activate_campaign",
        "pause_campaign",
        "resume_campaign",
        "cancel_campaign",
        "return_unspent_budget",
        "get_my_campaign",
        "approve_submission",
        "reject_submission",
        "request_revision",
        "rate_clipper",
    ],
)
def test_a_client_cannot_touch_another_clients_campaign(
    session: Session, world: World, name: str
) -> None:
    before = state(session)
    with pytest.raises(NotFound) as refused:
        CALLS[name](session, world.other_client, world)
    assert str(refused.value) in {
        "That campaign was not found.",
        "That submission was not found.",
        "That claim was not found.",
    }
    assert state(session) == before
    assert reviews.review_queue(session=session, actor=world.other_client) == []
    assert campaigns.list_my_campaigns(session=session, actor=world.other_client) == []


@pytest.mark.parametrize(
    "name", ["give_up_claim", "claim_detail", "generate_for_claim", "submit_clip"]
)
def test_nobody_works_on_someone_elses_claim(session: Session, world: World, name: str) -> None:
    before = state(session)
    with pytest.raises(NotFound) as refused:
        CALLS[name](session, world.other_clipper, world)
    assert str(refused.value) == "That claim was not found."
    assert state(session) == before
    # The owner may.
    CALLS[name](session, world.clipper, world)


def test_a_clipper_submits_only_their_own_clip_of_the_campaigns_source(
    session: Session, world: World
) -> None:
    stranger = person(session, Role.CLIPPER, "cy")
    mine = claims.claim_slot(session=session, actor=stranger, campaign_id=world.campaign_id)
    before = state(session)
    with pytest.raises(NotFound) as refused:
        claims.submit_clip(session=session, actor=stranger, job_id=mine.id, clip_id=world.clip_id)
    assert str(refused.value) == "That clip was not found."
    with pytest.raises(NotFound) as refused:
        claims.submit_clip(
            session=session, actor=stranger, job_id=mine.id, video_id=world.own_edit_id
        )
    assert str(refused.value) == "That video was not found."
    elsewhere = ready_video(session, stranger)
    foreign = clip_of(session, stranger, elsewhere.id)
    with pytest.raises(InvalidInput) as refused:
        claims.submit_clip(session=session, actor=stranger, job_id=mine.id, clip_id=foreign.id)
    assert str(refused.value) == "That clip was not made from this campaign's source video."
    assert state(session)[1:3] == before[1:3]


def test_a_client_cannot_use_another_users_video_as_a_source(
    session: Session, world: World
) -> None:
    theirs = ready_video(session, world.clipper)
    with pytest.raises(NotFound) as refused:
        campaigns.create_campaign(
            session=session,
            actor=world.other_client,
            draft=replace(DRAFT, source_video_id=theirs.id),
        )
    assert str(refused.value) == "That video was not found."
    count = session.exec(
        select(func.count())
        .select_from(Campaign)
        .where(Campaign.client_id == world.other_client.id)
    ).one()
    assert count == 0


def test_market_campaign_hides_drafts_and_cancelled_campaigns_of_others(
    session: Session, world: World
) -> None:
    for actor in (world.clipper, world.other_client):
        with pytest.raises(NotFound) as refused:
            campaigns.market_campaign(session=session, actor=actor, campaign_id=world.draft_id)
        assert str(refused.value) == "That campaign was not found."
    own = campaigns.market_campaign(session=session, actor=world.client, campaign_id=world.draft_id)
    assert own.status == "draft"
    for bad in ("abc", None, 10**9):
        with pytest.raises(NotFound):
            campaigns.market_campaign(session=session, actor=world.clipper, campaign_id=bad)
    # Live campaigns are public to signed-in users; a cancelled one only to those involved.
    seen = campaigns.market_campaign(
        session=session, actor=world.other_client, campaign_id=world.campaign_id
    )
    assert seen.id == world.campaign_id
    reviews.reject_submission(
        session=session, actor=world.client, submission_id=world.submission_id, reason="No."
    )
    campaigns.cancel_campaign(session=session, actor=world.client, campaign_id=world.campaign_id)
    outsider = person(session, Role.CLIPPER, "di")
    with pytest.raises(NotFound):
        campaigns.market_campaign(session=session, actor=outsider, campaign_id=world.campaign_id)
    held = campaigns.market_campaign(
        session=session, actor=world.clipper, campaign_id=world.campaign_id
    )
    assert held.status == "cancelled"
    # Claiming a draft is the same as claiming nothing.
    with pytest.raises(NotFound):
        claims.claim_slot(session=session, actor=outsider, campaign_id=world.draft_id)
    assert check_invariants(session).ok


def test_a_clipper_sees_only_their_own_claims_and_notifications(
    session: Session, world: World
) -> None:
    assert [c.id for c in claims.my_claims(session=session, actor=world.clipper)] == [
        world.claim_id
    ]
    assert (
        claims.my_claim_on(session=session, actor=world.client, campaign_id=world.campaign_id)
        is None
    )
    with pytest.raises(NotFound) as refused:
        notifications.mark_read(
            session=session, actor=world.clipper, notification_id=world.notification_id
        )
    assert str(refused.value) == "That notification was not found."
    unread = notifications.unread_count(session=session, actor=world.other_clipper)
    assert unread >= 1
    assert notifications.mark_all_read(session=session, actor=world.clipper) == 0
    assert notifications.unread_count(session=session, actor=world.other_clipper) == unread


JUNK_IDS = ("abc", None, "1; drop table campaigns", "", 3.5j)
# name -> (a call with a junk id, the refusal it must give)
JUNK_CALLS: dict[str, tuple[Callable[[Session, World, object], object], str]] = {
    "market_campaign": (
        lambda s, w, junk: campaigns.market_campaign(session=s, actor=w.clipper, campaign_id=junk),
        "That campaign was not found.",
    ),
    "get_my_campaign": (
        lambda s, w, junk: campaigns.get_my_campaign(session=s, actor=w.client, campaign_id=junk),
        "That campaign was not found.",
    ),
    "claim_slot": (
        lambda s, w, junk: claims.claim_slot(session=s, actor=w.clipper, campaign_id=junk),
        "That campaign was not found.",
    ),
    "claim_detail": (
        lambda s, w, junk: claims.claim_detail(session=s, actor=w.clipper, job_id=junk),
        "That claim was not found.",
    ),
    "give_up_claim": (
        lambda s, w, junk: claims.give_up_claim(session=s, actor=w.clipper, job_id=junk),
        "That claim was not found.",
    ),
    "approve_submission": (
        lambda s, w, junk: reviews.approve_submission(
            session=s, actor=w.client, submission_id=junk
        ),
        "That submission was not found.",
    ),
    "rate_clipper": (
        lambda s, w, junk: reviews.rate_clipper(session=s, actor=w.client, job_id=junk, stars=5),
        "That claim was not found.",
    ),
    "review_queue": (  # None there means every campaign
        lambda s, w, junk: reviews.review_queue(
            session=s, actor=w.client, campaign_id="" if junk is None else junk
        ),
        "That campaign was not found.",
    ),
    "mark_read": (
        lambda s, w, junk: notifications.mark_read(
            session=s, actor=w.other_clipper, notification_id=junk
        ),
        "That notification was not found.",
    ),
    "public_profile": (
        lambda s, w, junk: profiles.public_profile(session=s, clipper_id=junk),
        "That clipper was not found.",
    ),
}


@pytest.mark.parametrize("name", sorted(JUNK_CALLS))
def test_a_junk_id_is_not_found(session: Session, world: World, name: str) -> None:
    call, message = JUNK_CALLS[name]
    before = state(session)
    for junk in JUNK_IDS:
        with pytest.raises(NotFound) as refused:
            call(session, world, junk)
        assert str(refused.value) == message, junk
    assert state(session) == before


@pytest.mark.parametrize("name", sorted(JUNK_CALLS))
def test_an_id_beyond_the_databases_integers_is_not_found(
    session: Session, world: World, name: str
) -> None:
    # PostgreSQL refuses a parameter above 2**31 - 1 for an integer column (DataError).
    call, message = JUNK_CALLS[name]
    with pytest.raises(NotFound) as refused:
        call(session, world, 2**40)
    assert str(refused.value) == message


def test_my_claim_on_a_junk_campaign_is_none(session: Session, world: World) -> None:
    for junk in JUNK_IDS:
        assert claims.my_claim_on(session=session, actor=world.clipper, campaign_id=junk) is None
    mine = claims.my_claim_on(session=session, actor=world.clipper, campaign_id=world.campaign_id)
    assert mine is not None and mine.id == world.claim_id
