"""Admin Flags' handlers called directly, as a crafted websocket event would call them: only
admins see flags, decide them or ask for a sync; confirming needs a reason; clearing lets
the held earnings go; a flag is decided once; a refused call changes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen.db import session_scope
from clipgen.models import (
    AccountKind,
    AuditLog,
    CampaignStatus,
    FlagStatus,
    FraudFlag,
    LedgerTransaction,
    Notification,
    Publication,
    PublicationStatus,
    Role,
    Verification,
    ViewSource,
    utcnow,
)
from clipgen.services import tasks
from clipgen.services.auth import service as auth
from clipgen.services.auth.service import UserView
from clipgen.services.money import earnings, funds, holds
from clipgen.services.money.ledger import account, balance
from clipgen.services.publishing.sync import Counts, record_reading
from clipgen.state.flags import CLEAR, CONFIRM, AdminFlagsState
from tests.support.market import quick_password_hashing
from tests.support.money import PASSWORD, approved_submission, campaign, person

ONLY_ADMINS = "Only admins can do that."
NO_REASON = "Say why the views are not genuine; the clipper will be told."
# $10 a clip, $2 CPM up to $50 a clip: 3,000 honest views earned $6.00; the jump to 203,000
# books the rest of the cap ($44.00) and the 100k bonus ($2.00) held: $46.00, of which the
# Bronze clipper's 70 % is $32.20.
HELD = "$46.00"
HELD_CLIPPER_CENTS = 3_220


def flagged_post(
    session: Session,
    client_id: int,
    clipper_id: int,
    *,
    title: str = "Launch week",
    video: str = "abc123",
) -> tuple[int, int]:
    """A funded CPM campaign of the client with the clipper's approved clip posted on YouTube:
    three daily readings growing about 1,000 a day, then a jump of 200,000 that flags it.
    (publication id, flag id); the client must have $200 available."""
    row = campaign(
        session,
        SimpleNamespace(id=client_id),
        price_cents=1_000,
        budget_cents=20_000,
        cpm_cents=200,
        cpm_cap_cents=5_000,
        title=title,
    )
    funds.reserve_campaign_budget(session=session, campaign_id=row.id)
    row.status = CampaignStatus.ACTIVE
    session.add(row)
    submission = approved_submission(session, row, SimpleNamespace(id=clipper_id))
    earnings.book_approval(session=session, submission_id=submission.id)
    post = Publication(
        submission_id=submission.id,
        clipper_id=clipper_id,
        platform="youtube",
        url=f"https://www.youtube.com/shorts/{video}",
        external_id=video,
        verification=Verification.VERIFIED,
    )
    session.add(post)
    session.flush()
    start = utcnow() - timedelta(days=4)
    for day, views in enumerate((1_000, 2_000, 3_000)):
        record_reading(
            session,
            post.id,
            Counts(views, likes=views // 20, comments=views // 200),
            source=ViewSource.YOUTUBE_API,
            taken_at=start + timedelta(days=day),
        )
    _snapshot, _booked, flagged = record_reading(
        session,
        post.id,
        Counts(203_000, likes=180, comments=17),
        source=ViewSource.YOUTUBE_API,
        taken_at=start + timedelta(days=3),
    )
    assert flagged
    flag = session.exec(select(FraudFlag).where(FraudFlag.publication_id == post.id)).one()
    return post.id, flag.id


@dataclass
class World:
    admin: UserView
    clipper: UserView
    tokens: dict[str, str]
    post: int
    flag: int


def _token(session: Session, user: UserView) -> str:
    token, _ = auth.sign_in(session=session, email=user.email, password=PASSWORD)
    return token


@pytest.fixture
def world(database_url: str, monkeypatch: pytest.MonkeyPatch) -> World:
    """Two admins, a funded client, and a clipper whose post was flagged."""
    quick_password_hashing(monkeypatch)
    with session_scope() as session:
        admin = person(session, Role.ADMIN)
        other_admin = person(session, Role.ADMIN)
        client = person(session, Role.CLIENT, "brand")
        clipper = person(session, Role.CLIPPER, "ada")
        funds.record_deposit(
            session=session, actor=admin, client_id=client.id, amount_cents=20_000, reference="w"
        )
        post, flag = flagged_post(session, client.id, clipper.id)
        tokens = {
            name: _token(session, user)
            for name, user in (
                ("admin", admin),
                ("other_admin", other_admin),
                ("client", client),
                ("clipper", clipper),
            )
        }
    return World(admin, clipper, tokens, post, flag)


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list:
    """Tasks sent after commit, kept off the broker."""
    messages: list = []
    monkeypatch.setattr(tasks, "send_now", lambda name, **ids: messages.append((name, ids)))
    return messages


def _state(token: str) -> AdminFlagsState:
    from reflex.state import State

    root = State(_reflex_internal_init=True)
    state = root.get_substate(AdminFlagsState.get_full_name().split(".")[1:])
    state.session_token = token
    return state


def _opened(token: str) -> AdminFlagsState:
    state = _state(token)
    AdminFlagsState.open_page.fn(state)
    return state


def _everything(session: Session) -> dict:
    """All a flag handler could change, read fresh."""
    session.expire_all()
    return {
        "flags": sorted(session.exec(select(FraudFlag.id, FraudFlag.status)).all()),
        "posts": sorted(
            session.exec(
                select(Publication.id, Publication.status, Publication.earnings_held)
            ).all()
        ),
        "transactions": session.exec(select(func.count()).select_from(LedgerTransaction)).one(),
        "audits": session.exec(select(func.count()).select_from(AuditLog)).one(),
        "notifications": session.exec(select(func.count()).select_from(Notification)).one(),
    }


def _pending_and_available(session: Session, user: UserView) -> tuple[int, int]:
    session.expire_all()
    balances = (
        balance(session, account(session, AccountKind.CLIPPER_PENDING, user_id=user.id)),
        balance(session, account(session, AccountKind.CLIPPER_AVAILABLE, user_id=user.id)),
    )
    session.rollback()  # reading may have opened an account row: keep SQLite unlocked
    return balances


def _decide(state: AdminFlagsState, kind: str, flag_id: int, text: str):
    """Open the dialog on a listed flag and submit it."""
    AdminFlagsState.start_decision.fn(state, kind, flag_id)
    assert state.dialog_open, "the flag is listed on the page"
    return AdminFlagsState.decide.fn(state, {"text": text})


# --- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["clipper", "client"])
def test_a_clipper_or_client_calling_the_flag_handlers_is_refused_and_nothing_changes(
    session: Session, world: World, queued: list, who: str
) -> None:
    before = _everything(session)
    state = _opened(world.tokens[who])
    assert state.load_error == ONLY_ADMINS
    assert state.flags == [] and state.runs == [] and state.open_count == 0
    # A crafted call skips the page: the dialog's flag is set as if it had been opened.
    for kind, text in ((CONFIRM, "bought views"), (CLEAR, "fine")):
        state.dialog_kind, state.dialog_flag_id = kind, world.flag
        AdminFlagsState.decide.fn(state, {"text": text})
        assert state.dialog_error == ONLY_ADMINS
    AdminFlagsState.request_sync.fn(state)
    assert state.sync_error == ONLY_ADMINS
    assert queued == []
    assert _everything(session) == before


def test_a_signed_out_visitor_is_sent_to_sign_in_and_nothing_changes(
    session: Session, world: World, queued: list
) -> None:
    before = _everything(session)
    state = _state("forged-token")
    assert AdminFlagsState.open_page.fn(state) is not None  # a redirect to sign in
    assert state.flags == [] and state.open_count == 0
    state.dialog_kind, state.dialog_flag_id = CONFIRM, world.flag
    assert AdminFlagsState.decide.fn(state, {"text": "bought views"}) is not None
    assert AdminFlagsState.request_sync.fn(state) is not None
    assert queued == []
    assert _everything(session) == before


# --- what an admin sees -----------------------------------------------------------------------


def test_an_admin_sees_the_open_flag_with_its_evidence_readings_and_held_money(
    world: World,
) -> None:
    state = _opened(world.tokens["admin"])
    assert state.load_error == "" and state.open_count == 1
    (card,) = state.flags
    assert card["id"] == world.flag and card["status"] == "open"
    assert card["reason"].startswith("Views jumped by 200,000 in 24 h")
    assert card["platform"] == "YouTube" and card["url"].endswith("/abc123")
    assert card["clipper"] == "Ada" and card["clipper_href"] == f"/clippers/{world.clipper.id}"
    assert card["campaign"] == "Launch week" and card["held"] == HELD
    evidence = {row["label"]: row["value"] for row in card["evidence"]}
    assert evidence["Views before"] == "3,000" and evidence["Views now"] == "203,000"
    assert evidence["Jump"] == "+200,000" and evidence["Hours between readings"] == "24 h"
    assert evidence["Likes"] == "180" and evidence["Comments"] == "17"
    assert evidence["Engagement"] == "0.097 %"
    assert [point["views"] for point in card["series"]] == [1_000, 2_000, 3_000, 203_000]
    assert [point["likes"] for point in card["series"]] == [50, 100, 150, 180]
    json.dumps([state.flags, state.runs])  # plain data: it goes to the browser as JSON

    AdminFlagsState.show_tab.fn(state, "confirmed")
    assert state.tab == "confirmed" and state.flags == []
    AdminFlagsState.show_tab.fn(state, "everything")  # not a tab: ignored
    assert state.tab == "confirmed"


def test_the_dialog_opens_only_for_an_open_flag_listed_on_the_page(world: World) -> None:
    state = _opened(world.tokens["admin"])
    for kind, flag_id in (("delete", world.flag), (CONFIRM, world.flag + 1), (CLEAR, "1; --")):
        AdminFlagsState.start_decision.fn(state, kind, flag_id)
        assert not state.dialog_open
    AdminFlagsState.start_decision.fn(state, CONFIRM, world.flag)
    assert state.dialog_open and state.dialog_held == HELD
    assert state.dialog_summary == "YouTube post by Ada (Launch week)"
    AdminFlagsState.close_dialog.fn(state, False)
    assert not state.dialog_open


# --- decisions ---------------------------------------------------------------------------------


def test_confirming_without_a_reason_shows_the_services_message_and_changes_nothing(
    session: Session, world: World
) -> None:
    before = _everything(session)
    state = _opened(world.tokens["admin"])
    for blank in ("", "   \n ", None, ["bought"]):
        AdminFlagsState.start_decision.fn(state, CONFIRM, world.flag)
        AdminFlagsState.decide.fn(state, {"text": blank})
        assert state.dialog_error == NO_REASON
        assert state.dialog_open  # the dialog stays, with what was typed
    assert _everything(session) == before


def test_clearing_lets_the_held_earnings_go_and_moves_the_card(
    session: Session, world: World
) -> None:
    # Past the usual hold, only what was earned before the flag becomes available.
    with session_scope() as db:
        holds.release_matured_earnings(session=db, now=utcnow() + timedelta(days=8))
    pending, available = _pending_and_available(session, world.clipper)
    assert pending == HELD_CLIPPER_CENTS

    state = _opened(world.tokens["admin"])
    events = _decide(state, CLEAR, world.flag, "  Featured by a big channel;  checked. ")
    assert state.dialog_error == "" and not state.dialog_open
    assert "Flag cleared" in str(events)
    assert state.flags == [] and state.open_count == 0
    AdminFlagsState.show_tab.fn(state, "cleared")
    (card,) = state.flags
    assert card["status"] == "cleared" and card["note"] == "Featured by a big channel; checked."
    session.expire_all()
    assert session.get(Publication, world.post).earnings_held is False

    with session_scope() as db:
        holds.release_matured_earnings(session=db, now=utcnow() + timedelta(days=8))
    assert _pending_and_available(session, world.clipper) == (
        0,
        available + HELD_CLIPPER_CENTS,
    )
    told = session.exec(
        select(Notification.message).where(Notification.user_id == world.clipper.id)
    ).all()
    assert any("views and they are fine" in message for message in told)


def test_confirming_reverses_the_held_earnings_and_tells_the_clipper_why(
    session: Session, world: World
) -> None:
    pending_before, _ = _pending_and_available(session, world.clipper)
    state = _opened(world.tokens["admin"])
    _decide(state, CONFIRM, world.flag, "Bought views from a view farm")
    assert state.dialog_error == "" and state.flags == [] and state.open_count == 0
    AdminFlagsState.show_tab.fn(state, "confirmed")
    (card,) = state.flags
    assert card["status"] == "confirmed" and card["note"] == "Bought views from a view farm"
    pending, _ = _pending_and_available(session, world.clipper)
    assert pending == pending_before - HELD_CLIPPER_CENTS
    post = session.get(Publication, world.post)
    assert post.status == PublicationStatus.DISQUALIFIED and post.earnings_held is False
    told = session.exec(
        select(Notification.message).where(Notification.user_id == world.clipper.id)
    ).all()
    assert any("Bought views from a view farm" in message for message in told)


@pytest.mark.parametrize("first", [CLEAR, CONFIRM])
def test_a_second_decision_on_the_same_flag_is_refused(
    session: Session, world: World, first: str
) -> None:
    # Two admins have the page open; the first decides, the second's dialog is stale.
    late = _opened(world.tokens["other_admin"])
    AdminFlagsState.start_decision.fn(late, CLEAR if first == CONFIRM else CONFIRM, world.flag)
    _decide(_opened(world.tokens["admin"]), first, world.flag, "Looked at the traffic sources")
    before = _everything(session)
    AdminFlagsState.decide.fn(late, {"text": "Bought views"})
    done = "cleared" if first == CLEAR else "confirmed"
    assert late.dialog_error == f"That flag was already {done}."
    assert _everything(session) == before
    assert session.get(FraudFlag, world.flag).status == FlagStatus(done)


def test_a_flag_that_does_not_exist_is_not_found(session: Session, world: World) -> None:
    before = _everything(session)
    state = _opened(world.tokens["admin"])
    for bogus in (world.flag + 100, 0, -1, 2**40):
        state.dialog_kind, state.dialog_flag_id = CLEAR, bogus
        AdminFlagsState.decide.fn(state, {"text": ""})
        assert state.dialog_error == "That flag was not found."
    assert _everything(session) == before


# --- the view sync ----------------------------------------------------------------------------


def test_sync_now_queues_one_sync_for_the_admin(world: World, queued: list) -> None:
    state = _opened(world.tokens["admin"])
    events = AdminFlagsState.request_sync.fn(state)
    assert state.sync_error == "" and "Sync queued" in str(events)
    assert queued == [("sync_views", {"triggered_by": world.admin.id})]
