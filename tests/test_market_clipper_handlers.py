"""The clipper's marketplace handlers called directly, as a crafted websocket event would
call them: filters are read as untrusted text, a claim is taken once, only the claim's
clipper can work on it, a clip that does not fit is refused in words, and a refused call
changes nothing."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen import routes
from clipgen.db import session_scope
from clipgen.models import MarketJob, ProcessingJob, Role, Submission
from clipgen.services.auth import service as auth
from clipgen.services.market import claims, reviews
from clipgen.state.marketplace import MarketCampaignState, MarketplaceState
from clipgen.state.profile import ProfileState
from clipgen.state.work import ClaimState, WorkListState, length_defaults
from tests.support.market import clip_of, live_campaign, ready_video
from tests.support.money import PASSWORD, person

CLIPPERS_ONLY = "Making clips is part of a clipper account."
NO_CLAIM = "That claim was not found."


def _token(session: Session, user: auth.UserView) -> str:
    token, _ = auth.sign_in(session=session, email=user.email, password=PASSWORD)
    return token


@pytest.fixture
def world(database_url: str) -> dict:
    """A client with two live campaigns; Ada and Bob are clippers, Bob holds a claim."""
    with session_scope() as session:
        admin = person(session, Role.ADMIN)
        client = person(session, Role.CLIENT, "brand")
        ada = person(session, Role.CLIPPER, "ada")
        bob = person(session, Role.CLIPPER, "bob")
        launch = live_campaign(session, admin, client, hashtags="#launch")
        podcast = live_campaign(
            session,
            admin,
            client,
            title="Podcast highlights",
            brief="Funny moments from episode 12.",
            platforms=("tiktok",),
            min_length_s=60,
            max_length_s=90,
            aspect="1:1",
            captions="plain",
            price_per_clip_cents=2500,
            budget_cents=25_000,
        )
        bobs = claims.claim_slot(session=session, actor=bob, campaign_id=launch.id)
        bobs_clip = clip_of(session, bob, launch.source_video_id, market_job_id=bobs.id)
        tokens = {
            name: _token(session, user)
            for name, user in (("client", client), ("ada", ada), ("bob", bob))
        }
    return {
        "tokens": tokens,
        "admin": admin,
        "client": client,
        "ada": ada,
        "bob": bob,
        "launch": launch,
        "podcast": podcast,
        "bobs_claim": bobs.id,
        "bobs_clip": bobs_clip.id,
    }


def _state(cls, token: str, path: str = "", route: str = ""):
    """The handler's state as one browser tab holds it, on page `path` (with its query)."""
    from reflex.istate.data import RouterData
    from reflex.state import State

    root = State(_reflex_internal_init=True)
    if path:
        root.router = RouterData.from_router_data(
            {
                "pathname": route or path.split("?")[0],
                "asPath": path,
                "headers": {"origin": "http://localhost:3000"},
            }
        )
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    state.session_token = token
    return state


def _counts(session: Session) -> dict:
    """Everything a clipper's handler could create, and every claim's status."""
    session.expire_all()
    return {
        "claims": sorted(session.exec(select(MarketJob.id, MarketJob.status)).all()),
        "submissions": session.exec(select(func.count()).select_from(Submission)).one(),
        "generations": session.exec(select(func.count()).select_from(ProcessingJob)).one(),
    }


def _titles(state) -> list[str]:
    return [card["title"] for card in state.cards]


def _market(token: str, **query: str):
    state = _state(MarketplaceState, token, f"{routes.MARKETPLACE}?{urlencode(query)}")
    MarketplaceState.open_page.fn(state)
    return state


# --- browsing --------------------------------------------------------------------------------


def test_browse_reads_filters_and_sort_from_the_url_and_the_controls(world) -> None:
    token = world["tokens"]["ada"]
    everything = _market(token)
    assert everything.error == "" and everything.total == 2
    assert set(_titles(everything)) == {"Launch week", "Podcast highlights"}
    card = next(c for c in everything.cards if c["title"] == "Podcast highlights")
    assert card["pay"] == "$25.00 per clip" and card["platforms"] == "TikTok"
    assert card["slots_left"] == "10 of 10" and card["budget_left"] == "$250.00"
    assert card["length"] == "60-90 s" and card["deadline"] == "No deadline"
    assert card["client"] == "Brand" and card["href"] == routes.market_campaign(world["podcast"].id)

    assert _titles(_market(token, platform="youtube")) == ["Launch week"]
    assert _titles(_market(token, sort="pay")) == ["Podcast highlights", "Launch week"]
    assert _titles(_market(token, length="short")) == ["Launch week"]
    assert _titles(_market(token, q="FUNNY")) == ["Podcast highlights"]

    state = _market(token)
    MarketplaceState.search.fn(state, {"query": "  launch  ", "min_price": ""})
    assert _titles(state) == ["Launch week"] and state.query == "launch"
    MarketplaceState.search.fn(state, {"query": "", "min_price": "20"})
    assert _titles(state) == ["Podcast highlights"]
    MarketplaceState.clear_filters.fn(state)
    MarketplaceState.set_filter.fn(state, "sort", "pay")
    assert _titles(state) == ["Podcast highlights", "Launch week"]
    MarketplaceState.set_filter.fn(state, "platform", "youtube")
    assert _titles(state) == ["Launch week"] and state.filtered
    MarketplaceState.set_filter.fn(state, "ending", "7")  # neither has a deadline
    assert state.cards == [] and state.error == "" and state.loaded


def test_bad_filter_values_get_a_clear_message_and_no_crash(world) -> None:
    token = world["tokens"]["ada"]
    refusals = {
        "platform": ("myspace", "Choose one of the listed platforms."),
        "length": ("tiny", "Choose one of the listed clip lengths."),
        "ending": ("soon", "Choose one of the listed deadlines."),
        "sort": ("random", "Choose one of the listed sort orders."),
        "min_price": ("lots", "The lowest price must be in dollars and cents, like 25.00."),
    }
    for name, (value, message) in refusals.items():
        state = _market(token, **{name: value})
        assert state.error == message, name
        assert state.cards == [] and state.total == 0
    state = _market(token, page="x")
    assert state.error == "" and state.page == 1 and state.total == 2
    state = _market(token, page="999")
    assert state.page == 1 and state.total == 2
    MarketplaceState.set_filter.fn(state, "ending", "-3")
    assert state.error == "Choose one of the listed deadlines."
    MarketplaceState.clear_filters.fn(state)
    assert state.error == "" and state.total == 2
    # Names and values a page never sends are ignored.
    assert MarketplaceState.set_filter.fn(state, "session_token", "x") is None
    assert MarketplaceState.set_filter.fn(state, "platform", ["youtube"]) is None
    assert MarketplaceState.go_to_page.fn(state, "2") is None
    MarketplaceState.search.fn(state, "not a form")
    assert state.error == "" and state.total == 2


# --- claiming --------------------------------------------------------------------------------


def _campaign_page(token: str, campaign_id: int):
    state = _state(
        MarketCampaignState, token, routes.market_campaign(campaign_id), routes.MARKET_CAMPAIGN
    )
    MarketCampaignState.open_page.fn(state)
    return state


def test_claiming_takes_one_slot_and_a_second_claim_returns_the_same_claim(
    session: Session, world
) -> None:
    token = world["tokens"]["ada"]
    page = _campaign_page(token, world["podcast"].id)
    assert page.shown and page.cannot_claim == "" and page.my_claim_href == ""
    assert page.campaign["title"] == "Podcast highlights"
    assert page.campaign["price"] == "$25.00" and page.campaign["aspect"] == "1:1 square"
    MarketCampaignState.claim.fn(page)
    assert page.claim_error == ""
    mine = session.exec(select(MarketJob).where(MarketJob.clipper_id == world["ada"].id)).all()
    assert len(mine) == 1 and mine[0].status == "in_progress"
    assert page.my_claim_href == routes.claim(mine[0].id)
    MarketCampaignState.claim.fn(page)
    assert page.claim_error == "" and page.my_claim_href == routes.claim(mine[0].id)
    session.expire_all()
    assert (
        session.exec(
            select(func.count())
            .select_from(MarketJob)
            .where(MarketJob.clipper_id == world["ada"].id)
        ).one()
        == 1
    )
    again = _campaign_page(token, world["podcast"].id)
    assert again.my_claim_href == routes.claim(mine[0].id)


def test_claim_is_disabled_with_a_reason_when_no_slot_is_left(session: Session, world) -> None:
    with session_scope() as db:
        full = live_campaign(
            db, world["admin"], world["client"], title="One slot", max_clips=1, budget_cents=1000
        )
        claims.claim_slot(session=db, actor=world["bob"], campaign_id=full.id)
    before = _counts(session)
    page = _campaign_page(world["tokens"]["ada"], full.id)
    assert page.cannot_claim == claims.ALL_SLOTS_TAKEN
    assert page.campaign["slots_left"] == "0 of 1"
    MarketCampaignState.claim.fn(page)
    assert page.claim_error.startswith("Every slot of this campaign is taken.")
    assert _counts(session) == before


def test_unknown_campaigns_are_not_found(world) -> None:
    page = _campaign_page(world["tokens"]["ada"], 987654)
    assert page.not_found and page.load_error == "That campaign was not found."
    state = _state(
        MarketCampaignState, world["tokens"]["ada"], "/marketplace/abc", routes.MARKET_CAMPAIGN
    )
    MarketCampaignState.open_page.fn(state)
    assert state.not_found and not state.shown


# --- who may work on a claim -----------------------------------------------------------------


def _claim_page(token: str, claim_id: int):
    state = _state(ClaimState, token, routes.claim(claim_id), routes.CLAIM)
    ClaimState.open_page.fn(state)
    return state


def test_a_client_calling_the_claim_and_submit_handlers_is_refused(session: Session, world) -> None:
    before = _counts(session)
    token = world["tokens"]["client"]
    page = _campaign_page(token, world["podcast"].id)
    assert page.cannot_claim == "Claiming is part of a clipper account."
    MarketCampaignState.claim.fn(page)
    assert page.claim_error == CLIPPERS_ONLY
    work = _claim_page(token, world["bobs_claim"])
    assert work.load_error == CLIPPERS_ONLY and work.claim == {}
    work.claim_id, work.picked = world["bobs_claim"], f"clip:{world['bobs_clip']}"
    ClaimState.submit.fn(work, {"caption": "mine now", "hashtags": "#launch"})
    assert work.submit_error == CLIPPERS_ONLY
    ClaimState.make_clips.fn(work)
    assert work.generate_error == CLIPPERS_ONLY
    ClaimState.give_up.fn(work)
    assert work.action_error == CLIPPERS_ONLY
    listing = _state(WorkListState, token)
    WorkListState.open_page.fn(listing)
    assert listing.error == CLIPPERS_ONLY and listing.rows == []
    assert _counts(session) == before


def test_another_clippers_claim_is_not_found_and_nothing_changes(session: Session, world) -> None:
    before = _counts(session)
    token = world["tokens"]["ada"]
    work = _claim_page(token, world["bobs_claim"])
    assert work.not_found and work.load_error == NO_CLAIM
    assert work.claim == {} and work.candidates == [] and work.submissions == []
    # A crafted event with Bob's claim and clip in the tab's state still gets nothing.
    work.claim_id, work.picked = world["bobs_claim"], f"clip:{world['bobs_clip']}"
    ClaimState.submit.fn(work, {"caption": "stolen", "hashtags": "#launch"})
    assert work.submit_error == NO_CLAIM
    ClaimState.make_clips.fn(work)
    assert work.generate_error == NO_CLAIM
    ClaimState.give_up.fn(work)
    assert work.action_error == NO_CLAIM
    ClaimState.pick.fn(work, f"clip:{world['bobs_clip']}")  # not in Ada's list: ignored
    assert _counts(session) == before
    not_a_claim = _state(ClaimState, token, "/work/abc", routes.CLAIM)
    ClaimState.open_page.fn(not_a_claim)
    assert not_a_claim.not_found and not_a_claim.load_error == NO_CLAIM


def test_a_handler_without_a_live_session_changes_nothing(session: Session, world) -> None:
    before = _counts(session)
    page = _campaign_page("forged-token", world["podcast"].id)
    assert not page.shown
    MarketCampaignState.claim.fn(page)
    work = _state(ClaimState, "forged-token")
    work.claim_id, work.picked = world["bobs_claim"], f"clip:{world['bobs_clip']}"
    ClaimState.submit.fn(work, {"caption": "x", "hashtags": "#launch"})
    ClaimState.give_up.fn(work)
    assert _counts(session) == before


# --- working on a claim ----------------------------------------------------------------------


@pytest.fixture
def adas_claim(world) -> dict:
    """Ada's claim on Launch week (15-60 s, 9:16, #launch) with a fitting and a long clip."""
    with session_scope() as session:
        claim = claims.claim_slot(
            session=session, actor=world["ada"], campaign_id=world["launch"].id
        )
        fits = clip_of(
            session, world["ada"], world["launch"].source_video_id, market_job_id=claim.id
        )
        too_long = clip_of(session, world["ada"], world["launch"].source_video_id, seconds=90.0)
    return {"claim": claim.id, "fits": fits.id, "too_long": too_long.id}


def test_the_claim_page_shows_the_requirements_and_the_clips_that_fit(world, adas_claim) -> None:
    work = _claim_page(world["tokens"]["ada"], adas_claim["claim"])
    assert work.load_error == "" and work.workable and work.can_generate
    assert work.claim["status"] == "in_progress" and work.claim["expires"].endswith(
        "left to submit"
    )
    assert work.campaign["length"] == "15-60 seconds" and work.required_hashtags == "#launch"
    cards = {card["key"]: card for card in work.candidates}
    fits, too_long = cards[f"clip:{adas_claim['fits']}"], cards[f"clip:{adas_claim['too_long']}"]
    assert fits["fits"] and fits["video_url"].startswith("http://localhost:8000/files/")
    assert not too_long["fits"]
    assert too_long["why_not"] == "It is 90 s long; the campaign asks for 15-60 s."
    assert work.candidates[0]["fits"]  # fitting ones first
    assert work.picked == f"clip:{adas_claim['fits']}"  # the first fitting clip is preselected
    assert work.generation_jobs[0]["href"] == routes.job(int(work.generation_jobs[0]["id"]))
    # Generation defaults follow the campaign: the widest preset inside 15-60 s.
    assert (work.length, work.aspect, work.captions) == ("30-60", "9:16", "animated")


def test_a_clip_that_does_not_fit_shows_why_and_is_not_submitted(
    session: Session, world, adas_claim
) -> None:
    work = _claim_page(world["tokens"]["ada"], adas_claim["claim"])
    before = _counts(session)
    ClaimState.pick.fn(work, f"clip:{adas_claim['too_long']}")
    assert work.picked == f"clip:{adas_claim['too_long']}"
    ClaimState.submit.fn(work, {"caption": "Watch this", "hashtags": "#launch"})
    assert work.submit_error == (
        "This clip does not meet the campaign's requirements. It is 90 s long; the campaign "
        "asks for 15-60 s."
    )
    assert _counts(session) == before


def test_submitting_a_fitting_clip_then_a_revision(session: Session, world, adas_claim) -> None:
    token = world["tokens"]["ada"]
    work = _claim_page(token, adas_claim["claim"])
    ClaimState.submit.fn(work, {"caption": "Watch this", "hashtags": ""})
    assert work.submit_error == "Add the campaign's required hashtags: #launch."
    key = work.submit_form_key
    ClaimState.submit.fn(work, {"caption": "Watch this", "hashtags": "#launch #tech"})
    assert work.submit_error == "" and work.submit_form_key == key + 1
    assert work.claim["status"] == "submitted" and not work.workable
    assert [row["status"] for row in work.submissions] == ["pending"]
    assert work.submissions[0]["hashtags"] == "#launch #tech"
    submission_id = int(work.submissions[0]["id"])

    with session_scope() as db:
        reviews.request_revision(
            session=db, actor=world["client"], submission_id=submission_id, notes="Cut the intro"
        )
    work = _claim_page(token, adas_claim["claim"])
    assert work.claim["status"] == "revision_requested" and work.workable
    assert work.revision_notes == "Cut the intro" and work.claim["revisions"] == "1 of 2"
    assert work.submissions[0]["feedback"] == "Cut the intro"
    assert work.submissions[0]["feedback_label"] == "Revision notes"
    ClaimState.submit.fn(work, {"caption": "Shorter now #launch", "hashtags": ""})
    assert work.submit_error == "" and work.claim["status"] == "submitted"
    assert [row["status"] for row in work.submissions] == ["pending", "revision_requested"]

    listing = _state(WorkListState, token)
    WorkListState.open_page.fn(listing)
    row = next(r for r in listing.rows if r["id"] == str(adas_claim["claim"]))
    assert row["status_words"] == "Submitted" and row["revisions"] == "1 of 2 revisions"
    assert row["href"] == routes.claim(adas_claim["claim"])


def test_an_own_edit_is_listed_and_submitted_by_video(session: Session, world, adas_claim) -> None:
    with session_scope() as db:
        edit = ready_video(
            db, world["ada"], duration_s=40.0, width=1080, height=1920, name="cut.mp4"
        )
        wide = ready_video(db, world["ada"], duration_s=40.0, name="wide.mp4")
    work = _claim_page(world["tokens"]["ada"], adas_claim["claim"])
    cards = {card["key"]: card for card in work.candidates}
    assert cards[f"video:{edit.id}"]["fits"] and cards[f"video:{edit.id}"]["kind"] == "Own edit"
    assert cards[f"video:{wide.id}"]["why_not"] == "It is 16:9; the campaign asks for 9:16."
    ClaimState.pick.fn(work, f"video:{edit.id}")
    ClaimState.submit.fn(work, {"caption": "My cut", "hashtags": "#launch"})
    assert work.submit_error == ""
    session.expire_all()
    submission = session.exec(select(Submission)).one()
    assert (submission.video_id, submission.clip_id) == (edit.id, None)


def test_make_clips_starts_a_generation_for_the_claim(session: Session, world, adas_claim) -> None:
    work = _claim_page(world["tokens"]["ada"], adas_claim["claim"])
    before = len(work.generation_jobs)
    ClaimState.set_option.fn(work, "clip_count", "3")
    ClaimState.set_option.fn(work, "session_token", "x")  # ignored
    ClaimState.make_clips.fn(work)
    assert work.generate_error == ""
    assert len(work.generation_jobs) == before + 1 and work.has_active_jobs
    session.expire_all()
    job = session.get(ProcessingJob, int(work.generation_jobs[0]["id"]))
    assert job.market_job_id == adas_claim["claim"] and job.options["clips"] == 3
    ClaimState.set_option.fn(work, "clip_count", "many")
    ClaimState.make_clips.fn(work)
    assert work.generate_error == "Enter whole numbers for the clip count and lengths."


def test_giving_up_frees_the_slot_and_a_second_time_is_refused(
    session: Session, world, adas_claim
) -> None:
    work = _claim_page(world["tokens"]["ada"], adas_claim["claim"])
    ClaimState.give_up.fn(work)
    assert work.action_error == ""
    session.expire_all()
    assert session.get(MarketJob, adas_claim["claim"]).status == "abandoned"
    ClaimState.give_up.fn(work)
    assert work.action_error == "A claim that is given up cannot be given up."


def test_length_defaults_match_the_campaign_range() -> None:
    assert length_defaults(15, 60) == ("30-60", "15", "60")
    assert length_defaults(15, 30) == ("15-30", "15", "30")
    assert length_defaults(60, 90) == ("60-90", "60", "90")
    assert length_defaults(20, 45) == ("custom", "20", "45")


# --- the public profile ---------------------------------------------------------------------


def _profile(path: str):
    state = _state(ProfileState, "", path, routes.PROFILE)
    ProfileState.open_page.fn(state)
    return state


def test_an_unknown_profile_says_not_found(world) -> None:
    for path in ("/clippers/987654", "/clippers/abc", routes.profile(world["client"].id)):
        state = _profile(path)
        assert state.not_found and state.loaded and state.name == "", path


def test_a_profile_is_public_and_shows_approved_work(session: Session, world, adas_claim) -> None:
    with session_scope() as db:
        submitted = claims.submit_clip(
            session=db,
            actor=world["ada"],
            job_id=adas_claim["claim"],
            clip_id=adas_claim["fits"],
            hashtags="#launch",
        )
        reviews.approve_submission(session=db, actor=world["client"], submission_id=submitted.id)
        reviews.rate_clipper(
            session=db, actor=world["client"], job_id=adas_claim["claim"], stars=4, feedback="Tidy"
        )
    state = _profile(routes.profile(world["ada"].id))  # no session cookie at all
    assert not state.not_found and state.name == "Ada"
    assert state.tier["name"] == "Bronze" and state.tier["split"] == "70% / 30%"
    assert (state.rating_average, state.rating_count) == ("4.0", 1)
    assert (state.approved_clips, state.total_views, state.campaigns_worked) == ("1", "0", "1")
    assert [clip["title"] for clip in state.clips] == ["The best bit"]
    assert state.clips[0]["campaign"] == "Launch week" and state.clips[0]["video_url"]
    assert state.ratings[0]["feedback"] == "Tidy" and state.ratings[0]["label"] == "4 of 5"
