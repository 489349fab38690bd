"""Appeal handlers called directly, as a crafted websocket event would call them: only the
clipper appeals their own rejection, only the campaign's client decides it, a suspended
account appeals from the public /appeal page with its password, and a refused call
changes nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from sqlalchemy import func
from sqlmodel import Session, col, select

import clipgen.clipgen  # noqa: F401  (registers every state)
from clipgen.db import session_scope
from clipgen.models import (
    Appeal,
    AppealStatus,
    AuditLog,
    LedgerTransaction,
    LoginFailure,
    Notification,
    Role,
    Submission,
    SubmissionStatus,
    User,
)
from clipgen.services import admin_users
from clipgen.services.auth import service as auth
from clipgen.services.auth.service import WRONG_CREDENTIALS, UserView
from clipgen.services.market import reviews
from clipgen.state.appeals import (
    OVERTURN,
    UPHOLD,
    AppealDecisionsState,
    AppealState,
    PublicAppealState,
)
from tests.support.handlers import redirect_path, state_on
from tests.support.market import live_campaign, quick_password_hashing, submitted
from tests.support.money import PASSWORD, person


@dataclass
class World:
    clipper: UserView
    other_clipper: UserView
    client: UserView
    admin: UserView
    tokens: dict[str, str]
    claim_id: int
    submission_id: int


def _token(session: Session, user: UserView) -> str:
    token, _ = auth.sign_in(session=session, email=user.email, password=PASSWORD)
    return token


@pytest.fixture
def world(database_url: str, monkeypatch: pytest.MonkeyPatch) -> World:
    """A client's campaign where the clipper's clip was rejected; another clipper, another
    client and an admin, each signed in."""
    quick_password_hashing(monkeypatch)
    with session_scope() as session:
        admin = person(session, Role.ADMIN)
        client = person(session, Role.CLIENT, "brand")
        other_client = person(session, Role.CLIENT, "rival")
        clipper = person(session, Role.CLIPPER, "ada")
        other_clipper = person(session, Role.CLIPPER, "eve")
        live = live_campaign(session, admin, client)
        claim, submission = submitted(session, clipper, live)
        reviews.reject_submission(
            session=session, actor=client, submission_id=submission.id, reason="Too blurry"
        )
        tokens = {
            name: _token(session, user)
            for name, user in (
                ("admin", admin),
                ("client", client),
                ("other_client", other_client),
                ("clipper", clipper),
                ("other_clipper", other_clipper),
            )
        }
    return World(clipper, other_clipper, client, admin, tokens, claim.id, submission.id)


def _everything(session: Session) -> dict:
    """All an appeal handler could change, read fresh."""
    session.expire_all()
    counted = {
        table.__name__: session.exec(select(func.count()).select_from(table)).one()
        for table in (Appeal, AuditLog, Notification, LedgerTransaction)
    }
    counted["submissions"] = sorted(session.exec(select(Submission.id, Submission.status)).all())
    counted["suspended"] = sorted(
        session.exec(select(User.id).where(col(User.suspended_at).is_not(None))).all()
    )
    session.rollback()
    return counted


def _claim_page(world: World, who: str) -> AppealState:
    state = state_on(AppealState, world.tokens[who], f"/work/{world.claim_id}")
    state.roles = ["clipper"] if "clipper" in who else ["client"]
    AppealState.open_for_claim.fn(state)
    return state


# --- the clipper's Appeal button -------------------------------------------------------------


def test_the_clipper_appeals_a_rejection_from_the_claim_page(
    session: Session, world: World
) -> None:
    state = _claim_page(world, "clipper")
    assert state.target_kind == "rejection" and state.target_id == world.submission_id
    assert state.appeal == {} and state.dialog_error == ""
    AppealState.set_dialog.fn(state, True)
    assert state.dialog_open
    AppealState.send.fn(state, {"message": "  "})
    assert "Write why" in state.dialog_error and state.dialog_open
    AppealState.send.fn(state, {"message": "It is sharp at 1080p; the preview was small."})
    assert state.dialog_error == "" and not state.dialog_open
    assert state.appeal["status"] == "open" and state.appeal["decision"] == "Too blurry"
    json.dumps(state.appeal)
    again = _claim_page(world, "clipper")
    assert again.appeal["status"] == "open" and not again.can_appeal
    AppealState.send.fn(again, {"message": "once more"})
    assert "already appealed" in again.dialog_error
    session.expire_all()
    assert len(session.exec(select(Appeal)).all()) == 1


def test_another_clipper_cannot_see_or_appeal_the_rejection(session: Session, world: World) -> None:
    before = _everything(session)
    state = _claim_page(world, "other_clipper")
    assert state.target_id == 0 and state.dialog_error == "That claim was not found."
    # A crafted call: the target set as if the page had found it.
    state.target_kind, state.target_id = "rejection", world.submission_id
    AppealState.send.fn(state, {"message": "let me appeal it"})
    assert state.dialog_error == "That submission was not found."
    state.target_kind = "suspension"
    AppealState.send.fn(state, {"message": "let me appeal it"})
    assert state.dialog_error == "There is nothing on this page to appeal."
    client = _claim_page(world, "client")
    assert client.target_id == 0
    client.target_kind, client.target_id = "rejection", world.submission_id
    AppealState.send.fn(client, {"message": "as the client"})
    assert client.dialog_error == "Making clips is part of a clipper account."
    assert _everything(session) == before


def test_a_signed_out_visitor_is_sent_to_sign_in_and_nothing_changes(
    session: Session, world: World
) -> None:
    before = _everything(session)
    state = state_on(AppealState, "forged", f"/work/{world.claim_id}")
    state.target_kind, state.target_id = "rejection", world.submission_id
    event = AppealState.send.fn(state, {"message": "let me appeal it"})
    assert redirect_path(event).startswith("/login")
    decisions = state_on(AppealDecisionsState, "forged", "/reviews")
    decisions.dialog_kind, decisions.dialog_appeal_id = OVERTURN, 1
    assert redirect_path(AppealDecisionsState.decide.fn(decisions, {"reason": "ok then"}))
    assert _everything(session) == before


# --- the client decides ---------------------------------------------------------------------


def _filed(world: World) -> int:
    state = _claim_page(world, "clipper")
    AppealState.send.fn(state, {"message": "It is sharp at 1080p."})
    return state.appeal["id"]


def _decisions(world: World, who: str, path: str = "/reviews") -> AppealDecisionsState:
    state = state_on(AppealDecisionsState, world.tokens[who], path)
    state.roles = [{"admin": "admin"}.get(who, "client")]
    if who == "admin":
        AppealDecisionsState.open_admin.fn(state)
    else:
        AppealDecisionsState.open_client.fn(state)
    return state


def test_the_campaigns_client_overturns_and_the_clip_is_approved(
    session: Session, world: World
) -> None:
    appeal_id = _filed(world)
    state = _decisions(world, "client")
    (card,) = state.items
    assert card["id"] == appeal_id and card["appellant"] == "Ada" and card["status"] == "open"
    json.dumps(state.items)
    AppealDecisionsState.open_dialog.fn(state, OVERTURN, appeal_id)
    assert state.dialog_open
    AppealDecisionsState.decide.fn(state, {"reason": ""})
    assert "reason" in state.dialog_error and state.dialog_open
    AppealDecisionsState.decide.fn(state, {"reason": "Checked the full file, it is sharp"})
    assert state.dialog_error == "" and not state.dialog_open and state.items == []
    session.expire_all()
    assert session.get(Submission, world.submission_id).status == SubmissionStatus.APPROVED
    assert session.get(Appeal, appeal_id).status == AppealStatus.OVERTURNED
    page = _claim_page(world, "clipper")
    assert page.appeal["status"] == "overturned" and "sharp" in page.appeal["decision_reason"]


def test_others_cannot_decide_the_rejection_appeal_and_nothing_changes(
    session: Session, world: World
) -> None:
    appeal_id = _filed(world)
    before = _everything(session)
    rival = _decisions(world, "other_client")
    assert rival.items == []
    admin = _decisions(world, "admin", "/admin/flags")
    assert admin.items == []  # rejections are the client's to decide
    for state, refusal in (
        (rival, "That appeal was not found."),
        (admin, "That appeal was not found."),
    ):
        AppealDecisionsState.open_dialog.fn(state, OVERTURN, appeal_id)
        assert not state.dialog_open  # not on their page
        state.dialog_kind, state.dialog_appeal_id = OVERTURN, appeal_id  # crafted
        AppealDecisionsState.decide.fn(state, {"reason": "overturn it"})
        assert state.dialog_error == refusal
    clipper = state_on(AppealDecisionsState, world.tokens["clipper"], "/reviews")
    clipper.dialog_kind, clipper.dialog_appeal_id = UPHOLD, appeal_id
    AppealDecisionsState.decide.fn(clipper, {"reason": "uphold it"})
    assert clipper.dialog_error == "Running campaigns is part of a client account."
    client = _decisions(world, "client")
    client.dialog_kind, client.dialog_appeal_id = "approve", appeal_id
    AppealDecisionsState.decide.fn(client, {"reason": "whatever"})
    assert "Choose whether" in client.dialog_error
    assert _everything(session) == before


# --- the public /appeal page ----------------------------------------------------------------


def test_a_suspended_account_appeals_on_the_public_page_and_an_admin_lifts_it(
    session: Session, world: World
) -> None:
    with session_scope() as db:
        admin_users.suspend_user(
            session=db, actor=world.admin, user_id=world.clipper.id, reason="Reused others' clips"
        )
    page = state_on(PublicAppealState, "", "/appeal", client_ip="203.0.113.9")
    PublicAppealState.open_page.fn(page)
    email = world.clipper.email
    PublicAppealState.submit.fn(page, {"email": email, "password": "not it at all", "message": ""})
    assert page.error == WRONG_CREDENTIALS and not page.checked
    session.expire_all()
    assert session.exec(select(LoginFailure).where(LoginFailure.email == email)).all()
    PublicAppealState.submit.fn(page, {"email": email, "password": PASSWORD, "message": ""})
    assert page.error == "" and page.checked and "Reused" in page.reason and page.appeal == {}
    PublicAppealState.submit.fn(
        page, {"email": email, "password": PASSWORD, "message": "They are my own edits."}
    )
    assert page.error == "" and page.appeal["status"] == "open"
    PublicAppealState.submit.fn(
        page, {"email": email, "password": PASSWORD, "message": "Second try"}
    )
    assert "already appealed" in page.error
    other = state_on(PublicAppealState, "", "/appeal")
    PublicAppealState.submit.fn(
        other, {"email": world.other_clipper.email, "password": PASSWORD, "message": "hi there"}
    )
    assert "not suspended" in other.error

    admin = _decisions(world, "admin", "/admin/flags")
    (card,) = admin.items
    assert card["kind"] == "suspension" and card["decision"].startswith("Reused")
    client = _decisions(world, "client")
    client.dialog_kind, client.dialog_appeal_id = OVERTURN, card["id"]
    AppealDecisionsState.decide.fn(client, {"reason": "lift it"})
    assert client.dialog_error == "Only admins decide appeals of fraud flags and suspensions."
    AppealDecisionsState.open_dialog.fn(admin, OVERTURN, card["id"])
    AppealDecisionsState.decide.fn(admin, {"reason": "The edits are theirs"})
    assert admin.dialog_error == ""
    session.expire_all()
    assert session.get(User, world.clipper.id).suspended_at is None
    PublicAppealState.submit.fn(page, {"email": email, "password": PASSWORD, "message": ""})
    assert "not suspended" in page.error
