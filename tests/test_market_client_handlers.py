"""The client's marketplace handlers called directly, as a crafted websocket event would call
them: a client makes, edits, funds and runs a campaign and reviews its clips; bad form
input is refused in words; another user's cookie or ids get nothing and change nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from reflex import constants
from reflex.istate.data import RouterData
from sqlalchemy import func
from sqlmodel import select

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen.db import session_scope
from clipgen.models import (
    AccountKind,
    Campaign,
    LedgerTransaction,
    MarketJob,
    Rating,
    Role,
    Submission,
)
from clipgen.pages.campaigns import CAMPAIGN_ON_LOAD
from clipgen.services.auth import service as auth
from clipgen.services.auth.service import UserView
from clipgen.services.market import claims
from clipgen.services.market.campaigns import CampaignView
from clipgen.services.money.ledger import account, balance
from clipgen.state.campaigns import CampaignFormState, CampaignsState, CampaignState
from clipgen.state.reviews import REJECT, REVISION, ReviewsState
from tests.support.market import clip_of, fund, live_campaign, ready_video
from tests.support.money import PASSWORD, person

CLIENTS_ONLY = "Running campaigns is part of a client account."
NO_CAMPAIGN = "That campaign was not found."
NO_SUBMISSION = "That submission was not found."
NO_CLAIM = "That claim was not found."


@dataclass
class World:
    admin: UserView
    client: UserView
    other_client: UserView
    clipper: UserView
    source_id: int
    tokens: dict[str, str]


def _token(session, user: UserView) -> str:
    token, _ = auth.sign_in(session=session, email=user.email, password=PASSWORD)
    return token


@pytest.fixture
def world(database_url: str) -> World:
    """A client with an uploaded source video and no money, another client, a clipper."""
    with session_scope() as session:
        admin = person(session, Role.ADMIN)
        client = person(session, Role.CLIENT, "brand")
        other = person(session, Role.CLIENT, "rival")
        clipper = person(session, Role.CLIPPER, "ada")
        source = ready_video(session, client, name="launch-talk.mp4")
        tokens = {
            name: _token(session, user)
            for name, user in (("client", client), ("other", other), ("clipper", clipper))
        }
        return World(admin, client, other, clipper, source.id, tokens)


def _state(cls, token: str, path: str = ""):
    from reflex.state import State

    root = State(_reflex_internal_init=True)
    if path:
        root.router = RouterData.from_router_data({constants.RouteVar.ORIGIN: path})
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    state.session_token = token
    return state


def _form(**changes: str) -> dict:
    """The campaign form as a browser submits it: every value text, ticked boxes "on"."""
    form = {
        "title": "Launch week",
        "brief": "Cut the best moments of our launch talk.",
        "source_url": "",
        "platform_youtube": "on",
        "platform_tiktok": "on",
        "min_length_s": "15",
        "max_length_s": "60",
        "aspect": "9:16",
        "captions": "animated",
        "hashtags": "#launch @brand",
        "donts": "No competitor logos.",
        "price": "10.00",
        "cpm": "",
        "cpm_cap": "",
        "budget": "100",
        "max_clips": "10",
        "deadline_date": "",
        "deadline_time": "",
        "claim_ttl_hours": "48",
    }
    form.update(changes)
    return form


def _snapshot() -> dict:
    """Everything a marketplace handler could change, read fresh."""
    with session_scope() as session:
        return {
            "campaigns": sorted(
                session.exec(
                    select(
                        Campaign.id,
                        Campaign.status,
                        Campaign.title,
                        Campaign.budget_cents,
                        Campaign.price_per_clip_cents,
                    )
                ).all()
            ),
            "jobs": sorted(
                session.exec(select(MarketJob.id, MarketJob.status, MarketJob.revision_count)).all()
            ),
            "submissions": sorted(
                session.exec(select(Submission.id, Submission.status, Submission.feedback)).all()
            ),
            "ratings": session.exec(select(func.count()).select_from(Rating)).one(),
            "transactions": session.exec(select(func.count()).select_from(LedgerTransaction)).one(),
        }


def _available(user: UserView) -> int:
    with session_scope() as session:
        return balance(session, account(session, AccountKind.CLIENT_AVAILABLE, user_id=user.id))


def _campaign(campaign_id: int) -> Campaign:
    with session_scope() as session:
        return session.get(Campaign, campaign_id)


def _plain(state, *names: str) -> None:
    """What the page holds is plain data (it goes to the browser as JSON)."""
    for name in names:
        json.dumps(getattr(state, name))


def _live_with_submission(world: World, **terms) -> tuple[CampaignView, int, int]:
    """The client's live campaign and the clipper's pending submission: (campaign, sub, claim)."""
    with session_scope() as session:
        live = live_campaign(session, world.admin, world.client, **terms)
        claim = claims.claim_slot(session=session, actor=world.clipper, campaign_id=live.id)
        clip = clip_of(session, world.clipper, live.source_video_id, market_job_id=claim.id)
        submitted = claims.submit_clip(
            session=session,
            actor=world.clipper,
            job_id=claim.id,
            clip_id=clip.id,
            caption="The best bit of the talk",
            hashtags="#launch",
        )
    return live, submitted.id, claim.id


def _resubmit(world: World, claim_id: int) -> int:
    with session_scope() as session:
        job = session.get(MarketJob, claim_id)
        campaign = session.get(Campaign, job.campaign_id)
        clip = clip_of(session, world.clipper, campaign.source_video_id, market_job_id=claim_id)
        return claims.submit_clip(
            session=session, actor=world.clipper, job_id=claim_id, clip_id=clip.id
        ).id


# --- a client runs a campaign -----------------------------------------------------------------


def test_a_client_makes_a_draft_edits_funds_and_runs_it(world: World) -> None:
    token = world.tokens["client"]
    form = _state(CampaignFormState, token, "/campaigns/new")
    CampaignFormState.open_new.fn(form)
    assert [row["id"] for row in form.my_videos] == [world.source_id]
    CampaignFormState.use_video.fn(form, 999_999)  # not one of theirs: ignored
    assert form.source_video_id == 0
    CampaignFormState.use_video.fn(form, world.source_id)
    deadline = datetime.now(UTC) + timedelta(days=10)
    events = CampaignFormState.save.fn(
        form,
        _form(
            deadline_date=f"{deadline:%Y-%m-%d}",
            deadline_time="18:30",
            cpm="2",
            cpm_cap="50.00",
        ),
    )
    assert form.form_error == "" and events
    with session_scope() as session:
        (made,) = session.exec(select(Campaign)).all()
    assert (made.status, made.client_id, made.source_video_id) == (
        "draft",
        world.client.id,
        world.source_id,
    )
    assert (made.price_per_clip_cents, made.budget_cents, made.max_clips) == (1000, 10_000, 10)
    assert (made.cpm_cents, made.cpm_cap_cents, made.claim_ttl_hours) == (200, 5000, 48)
    assert made.platforms == ["youtube", "tiktok"] and made.hashtags == "#launch @brand"
    assert made.deadline == datetime.combine(
        deadline.date(), datetime.min.time().replace(hour=18, minute=30), tzinfo=UTC
    )

    listing = _state(CampaignsState, token)
    CampaignsState.open_page.fn(listing)
    assert [(r["title"], r["status"], r["escrow"]) for r in listing.rows] == [
        ("Launch week", "draft", "—")
    ]
    assert listing.rows[0]["slots"] == "0 of 10 filled" and listing.balance == "$0.00"
    _plain(listing, "rows")

    page = _state(CampaignState, token, f"/campaigns/{made.id}")
    CampaignState.open_page.fn(page)
    assert [CampaignState.open_page, ReviewsState.open_for_campaign] == CAMPAIGN_ON_LOAD
    assert page.status == "draft" and page.details["title"] == "Launch week"
    assert page.details["source"] == "Uploaded video: launch-talk.mp4"
    assert page.budget_short and page.balance == "$0.00"
    _plain(page, "details", "counts")

    # Edit the draft: everything may change.
    assert CampaignState.edit.fn(page) is not None and page.editing
    CampaignFormState.start_edit.fn(form, made.id)
    assert form.editing_id == made.id and not form.editing_live
    assert form.values["price"] == "10.00" and form.values["deadline_time"] == "18:30"
    assert form.source_video_id == world.source_id
    CampaignFormState.save.fn(form, _form(title="Launch week clips", price="12.50", budget="125"))
    assert form.form_error == "" and form.editing_id == 0
    edited = _campaign(made.id)
    assert (edited.title, edited.price_per_clip_cents, edited.budget_cents) == (
        "Launch week clips",
        1250,
        12_500,
    )
    assert edited.deadline is None and edited.cpm_cents == 0
    CampaignState.finish_edit.fn(page)
    assert not page.editing and page.details["budget"] == "$125.00"

    # Activating with a short balance is refused in words; nothing moves.
    before = _snapshot()
    CampaignState.activate.fn(page)
    assert page.action_error == (
        "Activating this campaign needs its budget of $125.00; your balance is $0.00. "
        "Add funds first."
    )
    assert page.needs_funds and page.status == "draft"
    assert _snapshot() == before and _available(world.client) == 0

    with session_scope() as session:
        fund(session, world.admin, world.client, 20_000)
    CampaignState.activate.fn(page)
    assert page.action_error == "" and not page.needs_funds
    assert page.status == "active" and page.details["escrow"] == "$125.00"
    assert _available(world.client) == 20_000 - 12_500

    # Once live only the words, deadline and claim time limit change.
    CampaignFormState.start_edit.fn(form, made.id)
    assert form.editing_live
    CampaignFormState.set_source_kind.fn(form, "link")
    assert form.source_kind == "video"
    CampaignFormState.save.fn(
        form, {"title": "Launch week, live", "price": "1", "claim_ttl_hours": "24"}
    )
    assert form.form_error == ""
    live = _campaign(made.id)
    assert (live.title, live.claim_ttl_hours, live.price_per_clip_cents) == (
        "Launch week, live",
        24,
        1250,
    )

    CampaignState.pause.fn(page)
    assert page.status == "paused"
    CampaignState.pause.fn(page)
    assert page.action_error == "A campaign that is paused cannot be paused."
    CampaignState.resume.fn(page)
    assert page.status == "active" and page.action_error == ""
    CampaignState.cancel.fn(page)
    assert page.status == "cancelled" and page.action_error == ""
    assert _available(world.client) == 20_000
    assert not page.can_edit
    CampaignState.activate.fn(page)
    assert page.action_error == "A campaign that is cancelled cannot be activated."
    assert _campaign(made.id).status == "cancelled"


def test_a_link_can_be_the_source_and_a_draft_without_one_cannot_go_live(
    world: World,
) -> None:
    token = world.tokens["client"]
    with session_scope() as session:
        fund(session, world.admin, world.client, 50_000)
    form = _state(CampaignFormState, token, "/campaigns/new")
    CampaignFormState.open_new.fn(form)
    CampaignFormState.use_video.fn(form, world.source_id)
    CampaignFormState.set_source_kind.fn(form, "link")
    CampaignFormState.save.fn(form, _form(source_url="https://youtu.be/abc123"))
    CampaignFormState.open_new.fn(form)
    CampaignFormState.save.fn(form, _form(title="No source yet"))
    assert form.form_error == ""
    with session_scope() as session:
        rows = session.exec(select(Campaign).order_by(Campaign.id)).all()
    assert [(r.source_url, r.source_video_id) for r in rows] == [
        ("https://youtu.be/abc123", None),
        ("", None),
    ]
    page = _state(CampaignState, token, f"/campaigns/{rows[1].id}")
    CampaignState.open_page.fn(page)
    CampaignState.activate.fn(page)
    assert page.action_error == (
        "Add the source video (upload it or give a link) before activating."
    )
    assert page.status == "draft" and _available(world.client) == 50_000


# --- what the browser types -------------------------------------------------------------------


BAD_FORMS = [
    ({"price": "ten"}, "The price per clip must be in dollars and cents, like 25.00."),
    ({"budget": "lots"}, "The budget must be in dollars and cents, like 25.00."),
    ({"budget": ""}, "The budget must be in dollars and cents, like 25.00."),
    ({"cpm": "-2"}, "The CPM must be in dollars and cents, like 25.00."),
    ({"title": "   "}, "The title is required."),
    (
        {"budget": "50"},
        "The budget must pay for every clip: 10 × $10.00 = $100.00, more than $50.00.",
    ),
    ({"deadline_date": "2001-01-01"}, "The deadline must be in the future."),
    ({"deadline_date": "31/12/2099"}, "Enter the deadline's date like 2030-12-31."),
    ({"deadline_time": "18:00"}, "Choose the deadline's date too, or clear its time."),
    ({"max_clips": "2.5"}, "The number of clips must be a whole number."),
    ({"max_clips": "0"}, "The number of clips must be between 1 and 1000."),
    ({"min_length_s": "abc"}, "The shortest length must be a whole number."),
    ({"claim_ttl_hours": ""}, "The claim time limit (hours) must be a whole number."),
    ({"platform_youtube": "", "platform_tiktok": ""}, "Choose at least one platform"),
    ({"aspect": "4:3"}, "Choose one of the offered aspect ratios."),
    ({"hashtags": "launch"}, "'launch' is not a hashtag or mention"),
    ({"source_url": "ftp://x"}, "The source link must be a full web address"),
    ({"price": "", "cpm": ""}, "Pay clippers something: a price per clip, a CPM, or both."),
    ({"cpm": "2"}, "Set a cap on what one clip can earn from views (the CPM cap)."),
]


def test_bad_form_input_is_refused_in_words_and_creates_nothing(world: World) -> None:
    form = _state(CampaignFormState, world.tokens["client"], "/campaigns/new")
    CampaignFormState.open_new.fn(form)
    CampaignFormState.set_source_kind.fn(form, "link")
    before = _snapshot()
    for changes, message in BAD_FORMS:
        assert CampaignFormState.save.fn(form, _form(**changes)) is None
        assert form.form_error.startswith(message), (changes, form.form_error)
    for junk in (None, "title=x", 10, ["x"], {"title": {"$ne": ""}, "budget": 100}):
        assert CampaignFormState.save.fn(form, junk) is None
        assert form.form_error.endswith("must be a whole number."), form.form_error
    assert _snapshot() == before and before["campaigns"] == []


def test_another_clients_video_cannot_be_a_source(world: World) -> None:
    form = _state(CampaignFormState, world.tokens["other"], "/campaigns/new")
    CampaignFormState.open_new.fn(form)
    assert form.my_videos == []
    CampaignFormState.use_video.fn(form, world.source_id)
    assert form.source_video_id == 0
    form.source_video_id = world.source_id  # as if the state were tampered with
    CampaignFormState.save.fn(form, _form())
    assert form.form_error == "That video was not found."
    assert _snapshot()["campaigns"] == []


# --- other people's cookies and ids -------------------------------------------------------------


def test_a_clipper_calling_the_client_handlers_is_refused_and_nothing_changes(
    world: World,
) -> None:
    live, submission_id, claim_id = _live_with_submission(world)
    before = _snapshot()
    token = world.tokens["clipper"]

    form = _state(CampaignFormState, token, "/campaigns/new")
    CampaignFormState.save.fn(form, _form())
    assert form.form_error == CLIENTS_ONLY
    CampaignFormState.start_edit.fn(form, live.id)
    assert form.form_error == CLIENTS_ONLY and form.editing_id == 0
    form.editing_id = live.id  # as if the state were tampered with
    CampaignFormState.save.fn(form, _form(title="Mine now"))
    assert form.form_error == CLIENTS_ONLY

    listing = _state(CampaignsState, token)
    CampaignsState.open_page.fn(listing)
    assert listing.load_error == CLIENTS_ONLY and listing.rows == []

    page = _state(CampaignState, token, f"/campaigns/{live.id}")
    assert CampaignState.open_page.fn(page) is None
    assert page.not_found and page.details == {}
    for handler in (
        CampaignState.activate,
        CampaignState.pause,
        CampaignState.resume,
        CampaignState.cancel,
        CampaignState.return_budget,
    ):
        handler.fn(page)
        assert page.action_error == CLIENTS_ONLY, handler

    queue = _state(ReviewsState, token, "/reviews")
    ReviewsState.open_page.fn(queue)
    assert queue.load_error == CLIENTS_ONLY and queue.items == []
    ReviewsState.approve.fn(queue, submission_id)
    assert queue.action_error == CLIENTS_ONLY
    for kind in (REJECT, REVISION):
        queue.dialog_kind, queue.dialog_submission_id = kind, submission_id
        ReviewsState.send_dialog.fn(queue, {"text": "Not good enough"})
        assert queue.dialog_error == CLIENTS_ONLY
    ReviewsState.rate.fn(queue, {"job_id": str(claim_id), "stars": "1"})
    assert queue.rate_error == CLIENTS_ONLY
    assert _snapshot() == before


def test_a_client_cannot_touch_another_clients_campaign_or_submissions(world: World) -> None:
    live, submission_id, claim_id = _live_with_submission(world)
    approved_id = _resubmit_and_approve(world)
    before = _snapshot()
    token = world.tokens["other"]

    page = _state(CampaignState, token, f"/campaigns/{live.id}")
    CampaignState.open_page.fn(page)
    assert page.not_found and page.load_error == NO_CAMPAIGN and page.details == {}
    for handler in (CampaignState.pause, CampaignState.cancel, CampaignState.activate):
        handler.fn(page)
        assert page.action_error == NO_CAMPAIGN
    form = _state(CampaignFormState, token, "/campaigns/new")
    CampaignFormState.start_edit.fn(form, live.id)
    assert form.form_error == NO_CAMPAIGN and form.editing_id == 0

    queue = _state(ReviewsState, token, "/reviews")
    ReviewsState.open_page.fn(queue)
    assert queue.items == [] and queue.load_error == ""
    queue = _state(ReviewsState, token, f"/campaigns/{live.id}")
    ReviewsState.open_for_campaign.fn(queue)
    assert queue.items == []
    ReviewsState.open_dialog.fn(queue, REJECT, submission_id)  # not on their page: ignored
    assert not queue.dialog_open
    ReviewsState.approve.fn(queue, submission_id)
    assert queue.action_error == NO_SUBMISSION
    for kind in (REJECT, REVISION):
        queue.dialog_kind, queue.dialog_submission_id = kind, submission_id
        ReviewsState.send_dialog.fn(queue, {"text": "Not good enough"})
        assert queue.dialog_error == NO_SUBMISSION
    ReviewsState.rate.fn(queue, {"job_id": str(approved_id), "stars": "1"})
    assert queue.rate_error == NO_CLAIM
    assert _snapshot() == before
    assert _campaign(live.id).status == "active"


def _resubmit_and_approve(world: World) -> int:
    """A second clipper's approved clip on a second campaign of the client: its claim id."""
    with session_scope() as session:
        bob = person(session, Role.CLIPPER, "bob")
    bob_world = World(world.admin, world.client, world.other_client, bob, 0, {})
    _live, submission_id, claim_id = _live_with_submission(bob_world)
    client = _state(ReviewsState, world.tokens["client"], "/reviews")
    ReviewsState.approve.fn(client, submission_id)
    assert client.action_error == ""
    return claim_id


# --- reviewing ----------------------------------------------------------------------------------


def test_a_rejection_needs_a_reason(world: World) -> None:
    live, submission_id, _claim = _live_with_submission(world)
    queue = _state(ReviewsState, world.tokens["client"], "/reviews")
    ReviewsState.open_page.fn(queue)
    (card,) = queue.items
    assert card["submission_id"] == submission_id and card["status"] == "pending"
    assert card["clipper_name"] == "Ada" and card["clipper_href"].startswith("/clippers/")
    assert card["video_url"].startswith("http") and "/files/" in card["video_url"]
    assert card["decided"].startswith("Approves automatically at ")
    assert card["requirements"].startswith("15-60 s, 9:16")
    _plain(queue, "items")

    ReviewsState.open_dialog.fn(queue, REJECT, submission_id)
    assert queue.dialog_open and queue.dialog_summary == "The best bit by Ada"
    before = _snapshot()
    for blank in ("", "  ", "no", None):
        ReviewsState.send_dialog.fn(queue, {"text": blank})
        assert queue.dialog_error == "Write the reason so the clipper knows what to change."
    ReviewsState.send_dialog.fn(queue, None)
    assert queue.dialog_error.startswith("Write the reason")
    assert _snapshot() == before and queue.dialog_open

    ReviewsState.send_dialog.fn(queue, {"text": "The audio is out of sync."})
    assert queue.dialog_error == "" and not queue.dialog_open and queue.items == []
    ReviewsState.show_status.fn(queue, "rejected")
    (card,) = queue.items
    assert card["feedback"] == "The audio is out of sync." and card["status"] == "rejected"
    ReviewsState.approve.fn(queue, submission_id)
    assert queue.action_error == "This submission was already rejected."
    ReviewsState.show_status.fn(queue, "nonsense")
    assert queue.status_filter == "rejected"


def test_two_revisions_then_approve_and_rate_on_the_campaign_page(world: World) -> None:
    live, submission_id, claim_id = _live_with_submission(world)
    token = world.tokens["client"]
    page = _state(CampaignState, token, f"/campaigns/{live.id}")
    CampaignState.open_page.fn(page)
    assert page.counts["pending"] == 1 and page.details["pending_reviews"] == "1"
    queue = _state(ReviewsState, token, f"/campaigns/{live.id}")
    ReviewsState.open_for_campaign.fn(queue)

    for round_ in (1, 2):
        (card,) = queue.items
        assert card["can_revise"]
        assert card["next_revision"] == f"Request revision ({round_} of 2)"
        ReviewsState.open_dialog.fn(queue, REVISION, card["submission_id"])
        ReviewsState.send_dialog.fn(queue, {"text": ""})
        assert queue.dialog_error == (
            "Write the revision notes so the clipper knows what to change."
        )
        ReviewsState.send_dialog.fn(queue, {"text": f"Tighter cut, round {round_}"})
        assert queue.dialog_error == "" and queue.items == []
        _resubmit(world, claim_id)
        ReviewsState.show_status.fn(queue, "pending")

    (card,) = queue.items
    assert not card["can_revise"] and card["revisions_text"] == "Revisions used: 2 of 2"
    ReviewsState.open_dialog.fn(queue, REVISION, card["submission_id"])
    assert not queue.dialog_open  # no third revision
    queue.dialog_kind, queue.dialog_submission_id = REVISION, card["submission_id"]
    ReviewsState.send_dialog.fn(queue, {"text": "One more time"})
    assert queue.dialog_error.startswith("This claim has had 2 revisions already")
    ReviewsState.close_dialog.fn(queue, False)

    events = ReviewsState.approve.fn(queue, card["submission_id"])
    assert queue.action_error == "" and any("refresh" in str(e) for e in events)
    CampaignState.refresh.fn(page)
    assert page.details["slots"] == "1 of 10" and page.details["escrow"] == "$90.00"

    ReviewsState.show_status.fn(queue, "approved")
    (card,) = queue.items
    assert card["rated_stars"] == 0 and card["job_id"] == claim_id
    for stars in ("0", "6", "five", ""):
        ReviewsState.rate.fn(queue, {"job_id": str(claim_id), "stars": stars})
        assert queue.rate_error == "Choose 1 to 5 stars."
    ReviewsState.rate.fn(queue, {"job_id": str(claim_id), "stars": "4", "feedback": "Sharp."})
    assert queue.rate_error == ""
    (card,) = queue.items
    assert card["rated_stars"] == 4 and card["rated_text"] == "You rated this clip 4 of 5."
    ReviewsState.rate.fn(queue, {"job_id": str(claim_id), "stars": "5"})
    assert queue.rate_error == "You already rated this clip."
    with session_scope() as session:
        assert session.exec(select(Rating.stars, Rating.feedback)).all() == [(4, "Sharp.")]


@pytest.mark.parametrize("huge", [2**31, 2**63, 10**30])
def test_ids_beyond_any_row_are_not_found(world: World, huge: int) -> None:
    token = world.tokens["client"]
    before = _snapshot()
    page = _state(CampaignState, token, f"/campaigns/{huge}")
    assert CampaignState.open_page.fn(page) is None
    assert page.not_found and page.load_error == NO_CAMPAIGN
    CampaignState.activate.fn(page)
    assert page.action_error == NO_CAMPAIGN
    form = _state(CampaignFormState, token, "/campaigns/new")
    CampaignFormState.start_edit.fn(form, huge)
    assert form.form_error == NO_CAMPAIGN and form.editing_id == 0
    queue = _state(ReviewsState, token, f"/campaigns/{huge}")
    ReviewsState.open_for_campaign.fn(queue)
    assert queue.items == [] and queue.load_error == NO_CAMPAIGN
    ReviewsState.approve.fn(queue, huge)
    assert queue.action_error == NO_SUBMISSION
    ReviewsState.rate.fn(queue, {"job_id": str(huge), "stars": "5"})
    assert queue.rate_error == NO_CLAIM
    assert _snapshot() == before
